//! The simulation: every plugin in this tree works without rendering, under `MinimalPlugins` or
//! with no plugins at all. Presentation reads this state; it never writes it.

pub mod decisions;
pub mod dist;
pub mod engines;
pub mod health;
pub mod instance;
pub mod link;
pub mod metrics;
pub mod query;
pub mod rate;
pub mod request;
pub mod series;
pub mod source;
pub mod sweep;
pub mod topology;
pub mod verify;
pub mod view;

use crate::scenario::Scenario;
use bevy::ecs::schedule::{LogLevel, ScheduleBuildSettings, ScheduleLabel};
use bevy::prelude::*;
use dist::{MS, Nanos};

/// The schedule that advances the simulation by exactly one fixed tick. The desktop app runs it
/// from `Update` as often as the speed asks; headless runs call it in a loop.
#[derive(ScheduleLabel, Debug, Clone, PartialEq, Eq, Hash)]
pub struct SimTick;

/// Phases of one tick, in order. Chained once, here; ambiguity detection is an error, so any two
/// systems touching the same data have a declared order.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SimSystems {
    /// Advance the integer clock: the tick covers `[start, now)`.
    Clock,
    /// Sources emit, links deliver, components route to instances, instances serve; one
    /// topological sweep so a request may cross several hops in one tick.
    Flow,
    /// Engine utilization from busy workers and memory held.
    Engines,
    /// Seed 000's cycle, step 1: every component updates its own health (score, status,
    /// aggregated health, trends); instances and the system too.
    Health,
    /// Seed 000's cycle, step 2: senders check downstream health (direct queries, cached) and
    /// adjust their allowed rates; receivers recommend rates. Steps 3 and 4 (process within the
    /// limits, forward with fallbacks) happen in `Flow`.
    RateControl,
    /// Metrics: latency histograms, sampling, CSV rows.
    Metrics,
    /// Conservation check (tests and debug builds).
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
    /// Current simulation time in seconds.
    pub fn seconds(&self) -> f64 {
        self.now as f64 / 1e9
    }
}

/// Run settings taken from the scenario (after command-line overrides).
#[derive(Resource, Debug, Clone)]
pub struct SimConfig {
    /// The scenario as loaded.
    pub scenario: Scenario,
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
}

impl Default for SimControl {
    fn default() -> Self {
        Self {
            paused: false,
            pending_steps: 0,
            speed: 1.0,
            max_ticks_per_frame: 5_000,
        }
    }
}

/// Simulation time owed to the clock by the wall clock (ns), carried between frames.
#[derive(Resource, Debug, Default, Clone, Copy)]
pub struct SimDebt(pub f64);

/// Builds the simulation of one scenario into an app.
pub struct SimPlugin {
    /// Scenario to spawn.
    pub scenario: Scenario,
}

impl Plugin for SimPlugin {
    fn build(&self, app: &mut App) {
        app.init_schedule(SimTick);
        app.edit_schedule(SimTick, |schedule| {
            schedule.set_build_settings(ScheduleBuildSettings {
                ambiguity_detection: LogLevel::Error,
                ..default()
            });
        });
        app.configure_sets(
            SimTick,
            (
                SimSystems::Clock,
                SimSystems::Flow,
                SimSystems::Engines,
                SimSystems::Health,
                SimSystems::RateControl,
                SimSystems::Metrics,
                SimSystems::Verify,
            )
                .chain(),
        );
        let tick = ((self.scenario.sim.tick_ms * MS).round() as Nanos).max(1);
        app.insert_resource(SimClock {
            start: 0,
            now: 0,
            tick,
            ticks: 0,
        })
        .insert_resource(SimConfig {
            scenario: self.scenario.clone(),
        })
        .init_resource::<SimControl>()
        .init_resource::<SimDebt>()
        .init_resource::<sweep::Agenda>()
        .init_resource::<sweep::QueuePeaks>()
        .insert_resource(faults_of(&self.scenario))
        .add_systems(SimTick, advance_clock.in_set(SimSystems::Clock))
        .add_systems(SimTick, sweep::sweep.in_set(SimSystems::Flow))
        .add_systems(SimTick, engines::update_engines.in_set(SimSystems::Engines));
        topology::spawn_scenario(app.world_mut(), &self.scenario);
        health_plugin(app, &self.scenario);
        metrics::plugin(app);
        verify::plugin(app);
    }
}

fn health_plugin(app: &mut App, scenario: &Scenario) {
    let topo = app.world().resource::<topology::Topology>().clone();
    let per_component = scenario
        .components
        .iter()
        .map(|c| {
            let plan = engines::plan(c);
            (plan.mean_ms, c.workers as f64 / (plan.mean_ms / 1000.0))
        })
        .collect();
    for c in &topo.components {
        app.world_mut().entity_mut(c.entity).insert((
            health::HealthStatus::initial(),
            health::HealthTracker::default(),
        ));
        for &e in &c.instances {
            app.world_mut().entity_mut(e).insert((
                health::InstanceHealth(1.0),
                health::HealthStatus::initial(),
                health::InstanceTracker::default(),
            ));
        }
    }
    app.insert_resource(health::HealthConfig {
        spec: scenario.health.clone(),
        next: 0,
    })
    .insert_resource(health::Capacities { per_component })
    .init_resource::<health::SystemHealth>()
    .insert_resource(rate::FlowConfig {
        spec: scenario.backpressure.clone(),
        next: 0,
        broadcast_messages: 0,
        capacity: vec![rate::CapacityMemory::default(); scenario.components.len()],
        incoming: vec![health::Holt::default(); scenario.components.len()],
    })
    .init_resource::<decisions::DecisionLog>()
    .init_resource::<query::QuerySlots>()
    .insert_resource(sweep::Fallbacks {
        stale: vec![0.0; topo.components.len()],
        better_since: vec![None; topo.components.len()],
        reroute: vec![None; topo.links.len()],
    })
    .add_systems(
        SimTick,
        (health::update_health, log_crashes)
            .chain()
            .in_set(SimSystems::Health),
    )
    .add_systems(
        SimTick,
        (rate::control_rates, rate::stamp_headers, rate::autoscale)
            .chain()
            .in_set(SimSystems::RateControl),
    );
}

/// Notes crashes, outages and restarts in the decision log at their exact times. Runs once per
/// health cycle: looking at every instance every tick costs too much at scale.
fn log_crashes(
    config: Res<health::HealthConfig>,
    instances: Query<&instance::Instance>,
    topo: Res<topology::Topology>,
    mut seen: Local<(Vec<(u64, u64, bool, Nanos)>, Nanos)>,
    mut log: ResMut<decisions::DecisionLog>,
) {
    // `update_health` has just moved `config.next` if this tick is a health cycle.
    if seen.1 == config.next {
        return;
    }
    seen.1 = config.next;
    seen.0.resize(topo.instances.len(), (0, 0, true, 0));
    let before = log.events.len();
    for (i, &e) in topo.instances.iter().enumerate() {
        let Ok(inst) = instances.get(e) else { continue };
        let (crashes, downs, was_up, slow_from) = seen.0[i];
        if inst.slow_from != slow_from {
            let (t, until) = (inst.slow_from as f64 / 1e9, inst.slow_until as f64 / 1e9);
            let what = format!("slowed down {}x until t = {until} s", inst.slowdown);
            log.note(t, "slowdown", &inst.name, what, None, 3);
        }
        if inst.downs > downs {
            let t = inst.down_at as f64 / 1e9;
            if inst.counters.crashes > crashes {
                log.note(t, "crash", &inst.name, "out of memory".into(), None, 3);
            } else {
                log.note(t, "outage", &inst.name, "scheduled fault".into(), None, 3);
            }
        }
        // Back up after a crash or outage (not a spare being provisioned: that resets the time).
        if inst.up && (!was_up || inst.downs > downs) && inst.downs > 0 && inst.down_until > 0 {
            let t = inst.down_until as f64 / 1e9;
            log.note(t, "restart", &inst.name, "back up".into(), None, 1);
        }
        seen.0[i] = (inst.counters.crashes, inst.downs, inst.up, inst.slow_from);
    }
    if log.events.len() > before {
        log.events.sort_by(|a, b| a.t.total_cmp(&b.t));
    }
}

/// The scenario's outages as (time, global instance, duration), next one last.
fn faults_of(s: &Scenario) -> sweep::Faults {
    let mut first = 0u32;
    let mut firsts = vec![];
    for c in &s.components {
        firsts.push(first);
        first += c.instances;
    }
    let mut pending: Vec<(Nanos, u32, Nanos, f64)> = s
        .faults
        .iter()
        .filter_map(|f| {
            let ci = s.components.iter().position(|c| c.name == f.component)?;
            Some((
                (f.at_s * 1e9) as Nanos,
                firsts[ci] + f.instance,
                (f.for_s * 1e9) as Nanos,
                f.slowdown.unwrap_or(0.0),
            ))
        })
        .collect();
    pending.sort_unstable_by_key(|p| std::cmp::Reverse((p.0, p.1)));
    sweep::Faults { pending }
}

fn advance_clock(mut clock: ResMut<SimClock>) {
    clock.start = clock.now;
    clock.now += clock.tick;
    clock.ticks += 1;
}

/// Lets the app's frame loop drive the simulation with pause, step and speed (`SimControl`).
/// Not used by headless runs, which call `SimTick` directly.
pub struct SimDriverPlugin;

/// Systems that only run while the simulation is not paused.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PausableSystems;

impl Plugin for SimDriverPlugin {
    fn build(&self, app: &mut App) {
        app.configure_sets(
            Update,
            PausableSystems.run_if(|c: Res<SimControl>| !c.paused),
        )
        .add_systems(
            Update,
            (drive_simulation.in_set(PausableSystems), step_simulation).chain(),
        );
    }
}

/// Runs as many ticks as the elapsed wall time times the speed asks for.
fn drive_simulation(world: &mut World) {
    let dt = world.resource::<Time>().delta_secs_f64();
    let control = *world.resource::<SimControl>();
    let tick = world.resource::<SimClock>().tick as f64;
    let mut debt = world.resource::<SimDebt>().0 + dt * control.speed.max(0.0) * 1e9;
    let mut ran = 0;
    while debt >= tick && ran < control.max_ticks_per_frame {
        world.run_schedule(SimTick);
        debt -= tick;
        ran += 1;
    }
    // Whatever could not be run this frame is dropped rather than owed forever.
    world.resource_mut::<SimDebt>().0 = debt.min(tick);
}

/// Runs the single steps requested while paused.
fn step_simulation(world: &mut World) {
    let control = *world.resource::<SimControl>();
    if control.paused && control.pending_steps > 0 {
        world.resource_mut::<SimControl>().pending_steps = 0;
        for _ in 0..control.pending_steps {
            world.run_schedule(SimTick);
        }
    }
}
