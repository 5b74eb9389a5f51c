//! The simulation: every plugin in this tree works without rendering, under `MinimalPlugins` or
//! with no plugins at all. Presentation reads this state; it never writes it.
//!
//! Its rooms, one folder a concern, in the order a tick visits them ([`SimSystems`]):
//! - [`door`]: the command door. What-ifs, faults, loads and strategy swaps due in the tick are
//!   applied first (`Commands`).
//! - [`schedule`]: the clock advances (`Clock`) and the cadences decide whether this tick is a
//!   health cycle or an engine update; a tick with nothing due is skipped (`schedule::idle`), a
//!   run of plain ticks goes in one system (`schedule::stretch`); loading, spawning, the index
//!   tables, the memory guard and conservation (`Verify`) live here too.
//! - [`flow`]: the flow phase. Sources emit, links deliver, instances queue and serve, in one
//!   exact discrete-event sweep of the tick (`Flow`), then the engines' utilisation (`Engines`).
//! - [`strategies`]: what plugs into the flow phase without touching it: queue policies,
//!   admission (rate limiters, breakers), concurrency limits, per-cycle link control.
//! - [`control`]: seed 000's cycle. Every component scores its health (`Health`), then senders
//!   query downstream health and adjust their rates, with breakers, fallbacks and autoscaling
//!   (`RateControl`).
//! - [`read`]: what is recorded and read. Metrics and series (`Metrics`), typed events into the
//!   journal and decision log (`Record`), and [`read::view::SimView`], the one seam everything
//!   outside reads through.

pub mod control;
pub mod door;
pub mod flow;
pub mod read;
pub mod schedule;
pub mod strategies;
pub mod timeline;

use crate::scenario::Scenario;
use bevy::ecs::message::Messages;
use bevy::ecs::schedule::{LogLevel, ScheduleBuildSettings, ScheduleLabel, SingleThreadedExecutor};
use bevy::prelude::*;
use schedule::dist::Nanos;

/// The schedule that advances the simulation by exactly one fixed tick. The desktop app runs it
/// from `Update` as often as the speed asks; headless runs call it in a loop.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct SimTick;

/// A stretch of ticks in which no command, health cycle or metrics sample is due: the clock,
/// flow, engine update and finished requests of every tick in one system (`stretch`), then the
/// record and verify phases. `idle` picks it for such ticks; the outputs are those of running
/// each through `SimTick`.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct SimFlowTick;

/// The load schedule: run once by `schedule::load::load_scenario`, after the scenario is in
/// `SimConfig`; each plugin fills its stages ([`LoadSystems`]) with what it puts back to t = 0.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct SimLoad;

/// The load schedule's stages, chained (`schedule::load` chains them).
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoadSystems {
    /// Nothing scheduled, on the wire or decided yet (`flow::sweep`: the agenda;
    /// `read::decisions`: the decision log).
    Clear,
    /// The scenario's entities, the topology, the routes and the flow's core (`schedule::load`).
    Spawn,
    /// Each plugin's state derived from the scenario and its topology, back to t = 0
    /// (`control`, `read::metrics`, `schedule::verify`).
    Reset,
}

/// Phases of one tick, in order. Chained once, here; ambiguity detection is an error, so any two
/// systems touching the same data have a declared order.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimSystems {
    /// The command door: what-ifs, scheduled faults, loads and resets due in the coming tick
    /// (filled by `door`).
    Commands,
    /// Advance the integer clock: the tick covers `[start, now)`; decide the cadences (here and
    /// `schedule::cadence`).
    Clock,
    /// Sources emit, links deliver, components route to instances, instances serve; one
    /// topological sweep so a request may cross several hops in one tick (`flow`, with the
    /// `strategies` it plugs in).
    Flow,
    /// Engine utilization from busy workers and memory held (`flow::engines`).
    Engines,
    /// Seed 000's cycle, step 1: every component updates its own health (score, status,
    /// aggregated health, trends); instances and the system too (`control::health`).
    Health,
    /// Seed 000's cycle, step 2: senders check downstream health (direct queries, cached) and
    /// adjust their allowed rates; receivers recommend rates. Steps 3 and 4 (process within the
    /// limits, forward with fallbacks) happen in `Flow` (`control`).
    RateControl,
    /// Metrics: latency histograms, sampling, CSV rows (`read::metrics`).
    Metrics,
    /// The tick's typed events into the journal and the decision log (`read::events`,
    /// `read::decisions`, `read::watch`).
    Record,
    /// Conservation check (tests and debug builds; `schedule::verify`).
    Verify,
}

/// The simulation clock, in integer nanoseconds.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimClock {
    /// Start of the tick being simulated.
    pub start: Nanos,
    /// End of the tick being simulated; the current simulation time between ticks.
    pub now: Nanos,
    /// Tick length.
    pub tick: Nanos,
    /// Ticks simulated.
    pub ticks: u64,
}

impl SimClock {
    /// On to the next tick: it covers `[start, now)`.
    pub fn advance(&mut self) {
        self.start = self.now;
        self.now += self.tick;
        self.ticks += 1;
    }

    /// Current simulation time in seconds.
    pub fn seconds(&self) -> f64 {
        self.now as f64 / 1e9
    }
}

/// Run settings taken from the scenario (after command-line overrides).
#[derive(Resource, Debug, Clone)]
pub struct SimConfig {
    /// The scenario as it runs now: as loaded, with the changes commands made to it.
    /// Shared with `loaded` until a command changes it (`Arc::make_mut` copies it then).
    pub scenario: std::sync::Arc<Scenario>,
    /// The scenario as loaded: what `Reset` starts again (shared, not copied: a branch and a
    /// timeline keep it too).
    pub loaded: std::sync::Arc<Scenario>,
}

/// Pause, single step and speed: what the desktop app's controls drive.
#[derive(Resource, Debug, Clone, Copy, PartialEq)]
pub struct SimControl {
    /// No ticks run while paused, except requested steps.
    pub paused: bool,
    /// Ticks to run while paused (one per press of "step").
    pub pending_steps: u32,
    /// Simulated seconds per wall-clock second.
    pub speed: f64,
    /// Upper bound on ticks per frame, so a slow machine degrades to slow motion, not a stall.
    pub max_ticks_per_frame: u32,
    /// Wall-clock budget for the ticks of one frame (ms); the rest is dropped (slow motion).
    pub max_frame_ms: f64,
    /// Pause when the clock reaches this time (ns), never running past it (a lesson's step
    /// ends exactly where its check ended it).
    pub stop_at: Option<Nanos>,
    /// Run as fast as the machine allows, paused or not, until the clock reaches this time
    /// (ns): an edited system re-simulated to the moment the user was looking at.
    pub catch_up: Option<Nanos>,
}

impl Default for SimControl {
    fn default() -> Self {
        Self {
            paused: false,
            pending_steps: 0,
            speed: 1.0,
            max_ticks_per_frame: 5_000,
            max_frame_ms: 25.0,
            stop_at: None,
            catch_up: None,
        }
    }
}

/// Simulation time owed to the clock by the wall clock (ns), carried between frames.
#[derive(Resource, Debug, Default, Clone, Copy)]
pub struct SimDebt(pub f64);

/// Builds the simulation into an app: the `SimTick` schedule with its phases, every module's
/// systems and resources. It spawns nothing: a scenario is loaded with `load::load_scenario`
/// (or the command door's `Load`), and can be reloaded or reset in the same app.
pub struct SimPlugin {
    /// Scenario to load at once, if any.
    pub scenario: Option<Scenario>,
}

impl Plugin for SimPlugin {
    fn build(&self, app: &mut App) {
        for label in [SimTick.intern(), SimFlowTick.intern()] {
            app.init_schedule(label);
            app.edit_schedule(label, |schedule| {
                schedule.set_build_settings(ScheduleBuildSettings {
                    ambiguity_detection: LogLevel::Error,
                    ..default()
                });
                // The phases are chained: threads would only add overhead to every tick, even
                // when the desktop app brings Bevy's multi-threaded executor along.
                schedule.set_executor(SingleThreadedExecutor::default());
            });
            app.configure_sets(
                label,
                (
                    SimSystems::Commands,
                    SimSystems::Clock,
                    SimSystems::Flow,
                    SimSystems::Engines,
                    SimSystems::Health,
                    SimSystems::RateControl,
                    SimSystems::Metrics,
                    SimSystems::Record,
                    SimSystems::Verify,
                )
                    .chain(),
            );
        }
        app.init_resource::<SimControl>()
            .init_resource::<SimDebt>()
            .init_resource::<Runs>()
            .init_resource::<Messages<read::events::SimEvent>>()
            .init_resource::<read::events::Journal>()
            .init_resource::<door::command::CommandQueue>()
            .init_resource::<schedule::cadence::Cadence>()
            .add_systems(
                SimTick,
                door::phase::apply_commands
                    .run_if(door::command::commands_due)
                    .in_set(SimSystems::Commands),
            )
            .add_systems(
                SimTick,
                (advance_clock, schedule::cadence::tick_cadence)
                    .chain()
                    .in_set(SimSystems::Clock),
            );
        schedule::load::plugin(app);
        flow::sweep::plugin(app);
        flow::engines::plugin(app);
        schedule::guard::plugin(app);
        schedule::idle::plugin(app);
        schedule::stretch::plugin(app);
        control::health::plugin(app);
        control::cycle::plugin(app);
        read::metrics::plugin(app);
        read::decisions::plugin(app);
        schedule::verify::plugin(app);
        if let Some(s) = &self.scenario {
            schedule::load::load_scenario(app.world_mut(), s.clone());
        }
    }
}

fn advance_clock(mut clock: ResMut<SimClock>) {
    clock.advance();
}

/// Lets the app's frame loop drive the simulation with pause, step and speed (`SimControl`),
/// keeping its timeline for rewinding (`timeline::TimelinePlugin`). Not used by headless runs,
/// which call `SimTick` directly.
pub struct SimDriverPlugin;

/// The driver's systems in `Update` (the app draws after them).
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SimDriveSystems;

/// Scenarios loaded into this app so far (a load or reset starts a new run; the app redraws).
#[derive(Resource, Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Runs(pub u64);

/// Systems that only run while the simulation is not paused.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PausableSystems;

impl Plugin for SimDriverPlugin {
    fn build(&self, app: &mut App) {
        // What the frame loop has gone through can be shown again (the scrub bar).
        app.add_plugins(timeline::TimelinePlugin);
        app.configure_sets(
            Update,
            PausableSystems.run_if(|c: Res<SimControl>| !c.paused),
        )
        .add_systems(
            Update,
            (
                catch_up_simulation,
                drive_simulation.in_set(PausableSystems),
                step_simulation,
            )
                .chain()
                .in_set(SimDriveSystems),
        );
    }
}

/// Runs as many ticks as the elapsed wall time times the speed asks for.
fn drive_simulation(world: &mut World) {
    if halted(world) {
        return;
    }
    let dt = world.resource::<Time>().delta_secs_f64();
    let control = *world.resource::<SimControl>();
    let tick = world.resource::<SimClock>().tick as f64;
    let mut debt = world.resource::<SimDebt>().0 + dt * control.speed.max(0.0) * 1e9;
    let mut ran = 0;
    let started = std::time::Instant::now();
    let mut checked = 0;
    while debt >= tick && ran < control.max_ticks_per_frame {
        // Idle stretches and stretches of plain ticks go in one step (`idle`).
        let mut most = ((debt / tick) as u64).min((control.max_ticks_per_frame - ran) as u64);
        if let Some(stop) = control.stop_at {
            let now = world.resource::<SimClock>().now;
            let left = stop.saturating_sub(now).div_ceil(tick as Nanos);
            if left == 0 {
                let mut c = world.resource_mut::<SimControl>();
                c.paused = true;
                c.stop_at = None;
                debt = 0.0;
                break;
            }
            most = most.min(left);
        }
        let k = schedule::idle::move_on(world, most);
        debt -= k as f64 * tick;
        ran += k as u32;
        // A heavy scenario at high speed: keep the window responsive, run slower instead.
        if ran - checked >= 16 {
            checked = ran;
            if started.elapsed().as_secs_f64() * 1e3 > control.max_frame_ms {
                break;
            }
        }
    }
    // Whatever could not be run this frame is dropped rather than owed forever.
    world.resource_mut::<SimDebt>().0 = debt.min(tick);
}

/// The run has stopped (`guard::Halt`): the clock does not move until a reset or a load, which
/// a tick still applies.
pub fn halted(world: &World) -> bool {
    world
        .get_resource::<schedule::guard::Halt>()
        .is_some_and(|h| h.reason.is_some())
        && !world
            .get_resource::<door::command::CommandQueue>()
            .is_some_and(|q| q.restart_pending())
}

/// Longest a frame spends catching up (ms): the window stays responsive and shows progress.
const CATCH_UP_FRAME_MS: f64 = 120.0;

/// Runs towards `SimControl::catch_up` (a load still pending is applied first), as fast as
/// the frame's time allows; clears it on arrival.
fn catch_up_simulation(world: &mut World) {
    let Some(target) = world.resource::<SimControl>().catch_up else {
        return;
    };
    let started = std::time::Instant::now();
    if world
        .get_resource::<door::command::CommandQueue>()
        .is_some_and(|q| q.restart_pending())
    {
        schedule::idle::tick(world);
    }
    let tick = world.resource::<SimClock>().tick.max(1);
    loop {
        let now = world.resource::<SimClock>().now;
        if now >= target || halted(world) {
            world.resource_mut::<SimControl>().catch_up = None;
            world.resource_mut::<SimDebt>().0 = 0.0;
            return;
        }
        let left = (target - now).div_ceil(tick);
        schedule::idle::move_on(world, left.min(2_000));
        if started.elapsed().as_secs_f64() * 1e3 > CATCH_UP_FRAME_MS {
            return;
        }
    }
}

/// Runs the single steps requested while paused.
fn step_simulation(world: &mut World) {
    let control = *world.resource::<SimControl>();
    if halted(world) {
        world.resource_mut::<SimControl>().pending_steps = 0;
        return;
    }
    if control.paused && control.pending_steps > 0 {
        world.resource_mut::<SimControl>().pending_steps = 0;
        for _ in 0..control.pending_steps {
            schedule::idle::tick(world);
        }
    }
}
