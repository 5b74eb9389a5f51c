//! Cells side by side. A comparison opened side by side: the app's own simulation runs the
//! comparison's first variant (everything interactive works on it), and up to three more
//! variants run as shadow simulations on the same seed, stepped in lockstep with it, so pause,
//! step, speed and the timeline are shared; a reset or a reload restarts them all. Branches
//! ("what if, from here?"): the app's own simulation is the original, and each branch is a
//! shadow made at a moment of it (`compare::branch`), re-simulated to that moment, then in
//! lockstep, taking the what-ifs sent to it; a reset or a reload ends them. Each cell is drawn
//! with the same layout and scale (the same camera), with its headline figures.

use crate::compare::branch::{Difference, Standing, differs, standings};
use crate::compare::{self, Comparison};
use crate::picture::{Picture, Rates, picture};
use crate::runner::Simulation;
use crate::scenario::Scenario;
use crate::sim::read::view::SimView;
use crate::sim::schedule::dist::Nanos;
use crate::sim::{Runs, SimClock};
use bevy::ecs::system::SystemState;
use bevy::prelude::*;

/// Most variants shown at once.
pub const MOST: usize = 4;

/// One variant's headline figures, from its latest metrics sample.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Headline {
    /// Completed per second.
    pub goodput: f64,
    /// p99 end-to-end latency, ms.
    pub p99_ms: f64,
    /// Share of requests that ended without completing.
    pub lost: f64,
    /// Requests held anywhere (memory).
    pub held: f64,
    /// Work left behind at hand-offs so far: (share that ended without completing, messages
    /// dead-lettered); `None` when nothing was handed off.
    pub work: Option<(f64, u64)>,
}

/// A cell that is not the app's own simulation.
pub struct Shadow {
    world: World,
    rates: Rates,
    particles: Option<crate::picture::particles::Particles>,
    /// Its name in the grid.
    pub name: String,
    /// Its particles now, with the share of the way each has travelled (0-1, in the
    /// direction the picture draws it: a response runs back).
    pub dots: Vec<(crate::picture::particles::Particle, f32)>,
    /// What it looks like now.
    pub picture: Picture,
    /// Its figures now.
    pub headline: Headline,
    /// A branch: every component's figures when it was made, and where it parts from the
    /// original now (largest first).
    pub branch: Option<(Vec<Standing>, Vec<Difference>)>,
    /// A branch that has re-simulated its past and now runs in step with the original.
    pub in_step: bool,
    /// A branch: the moment it was made (ns), and the what-ifs sent to it since.
    made: Nanos,
    sent: Vec<String>,
}

impl Shadow {
    fn new(world: World, name: String) -> Self {
        Self {
            world,
            rates: Rates::default(),
            particles: None,
            name,
            dots: vec![],
            picture: Picture::default(),
            headline: Headline::default(),
            branch: None,
            in_step: false,
            made: 0,
            sent: vec![],
        }
    }

    /// Its simulated time (ns).
    pub fn now(&self) -> Nanos {
        self.world.resource::<SimClock>().now
    }

    /// A branch: what its own what-ifs did, in the words of the decision feed ("flow control
    /// off"), in the order they applied (the original's commands it replays are not its own).
    pub fn what_ifs(&self) -> Vec<String> {
        let queue = self
            .world
            .resource::<crate::sim::door::command::CommandQueue>();
        (queue.applied.iter())
            .filter(|a| a.at >= self.made && self.sent.contains(&format!("{:?}", a.cmd)))
            .map(|a| {
                a.result
                    .clone()
                    .unwrap_or_else(|e| format!("not applied: {e}"))
            })
            .collect()
    }

    /// Its settings now.
    pub fn config(&self) -> &crate::sim::SimConfig {
        self.world.resource::<crate::sim::SimConfig>()
    }

    /// What replays it: the scenario it runs with every live command at its time.
    pub fn session(&self) -> Scenario {
        crate::compare::branch::scenario_of(&self.world)
    }
}

/// What the cells are.
pub enum Kind {
    /// A comparison file's variants on its base scenario at an offered-load multiplier: the
    /// app's own simulation runs variant 0.
    Compare {
        /// The comparison file as loaded.
        c: Box<Comparison>,
        /// Its base scenario.
        base: Box<Scenario>,
        /// The offered-load multiplier every variant runs at.
        load: f64,
    },
    /// Branches of the app's run ("what if, from here?"): the app's own simulation is the
    /// original, each shadow a branch made at a moment of it.
    Branches,
}

/// The comparison on screen.
#[derive(Resource)]
pub struct SideBySide {
    /// What the cells are.
    pub kind: Kind,
    /// The cells after the first (the first is the app's own simulation).
    pub shadows: Vec<Shadow>,
    /// The app's own figures now.
    pub headline: Headline,
    /// The grid is shown (else the app's usual single view of the first cell).
    pub on: bool,
    run: Option<u64>,
    /// Branches: the cell the what-ifs go to (0: the original, the app's own).
    pub target: usize,
    /// What-ifs for a branch, made at its clock once it has caught up.
    pub outbox: Vec<(usize, crate::sim::door::command::SimCommand)>,
    /// While a branch re-simulates the past: the app's pause to give back when it is there.
    resume: Option<bool>,
}

impl SideBySide {
    /// The comparison `c` on `base`, at `load`.
    pub fn new(c: Comparison, base: Scenario, load: f64) -> Self {
        Self::with(Kind::Compare {
            c: Box::new(c),
            base: Box::new(base),
            load,
        })
    }

    fn with(kind: Kind) -> Self {
        Self {
            kind,
            shadows: vec![],
            headline: Headline::default(),
            on: true,
            run: None,
            target: 0,
            outbox: vec![],
            resume: None,
        }
    }

    /// A comparison's scenario for variant `v` (`None`: these are branches).
    pub fn scenario(&self, v: usize) -> Option<Scenario> {
        match &self.kind {
            Kind::Compare { c, base, load } => Some(compare::prepared(c, base, v, *load, 0)),
            Kind::Branches => None,
        }
    }

    /// A comparison's offered-load multiplier.
    pub fn load(&self) -> Option<f64> {
        match &self.kind {
            Kind::Compare { load, .. } => Some(*load),
            Kind::Branches => None,
        }
    }

    /// These cells are branches of the app's run.
    pub fn branches(&self) -> bool {
        matches!(self.kind, Kind::Branches)
    }

    /// Names of the cells shown, in order.
    pub fn names(&self) -> Vec<&str> {
        match &self.kind {
            Kind::Compare { c, .. } => c
                .variants
                .iter()
                .take(MOST)
                .map(|v| v.name.as_str())
                .collect(),
            Kind::Branches => std::iter::once("original")
                .chain(self.shadows.iter().map(|s| s.name.as_str()))
                .collect(),
        }
    }

    /// Adds a branch of the run in `world` at the moment it shows (`None` when the grid is
    /// full); what-ifs go to it from now on. Its past re-simulates in slices (`lockstep`).
    pub fn branch(&mut self, world: &mut World) -> Option<usize> {
        if !self.branches() || self.shadows.len() + 1 >= MOST {
            return None;
        }
        let now = world.resource::<SimClock>().now;
        let from = {
            let mut state = SystemState::<SimView>::new(world);
            state
                .get(world)
                .ok()
                .map(|v| standings(&v))
                .unwrap_or_default()
        };
        let name = format!("branch at {:.0} s", now as f64 / 1e9);
        let mut s = Shadow::new(crate::compare::branch::start(world), name);
        s.branch = Some((from, vec![]));
        s.made = now;
        self.shadows.push(s);
        self.run = Some(world.resource::<Runs>().0);
        self.target = self.shadows.len();
        Some(self.target)
    }

    /// Branches of the run in `world`, with one branch made at the moment it shows.
    pub fn first_branch(world: &mut World) -> Self {
        let mut side = Self::with(Kind::Branches);
        side.branch(world);
        side
    }

    /// The branch being re-simulated to the app's moment, and where it is (ns).
    pub fn catching_up(&self, now: Nanos) -> Option<(usize, Nanos)> {
        (self.shadows.iter().enumerate())
            .find(|(_, s)| !s.in_step && s.now() < now)
            .map(|(k, s)| (k + 1, s.now()))
    }
}

/// The figures of a simulation now.
fn headline(v: &SimView, series: impl Fn(&str) -> Option<f64>) -> Headline {
    Headline {
        goodput: series("goodput").unwrap_or(0.0),
        p99_ms: series("latency_p99").unwrap_or(0.0),
        lost: series("error_rate").unwrap_or(0.0),
        held: compare::held(v),
        work: work(v),
    }
}

/// How the work left behind at hand-offs has ended so far (real requests).
fn work(v: &SimView) -> Option<(f64, u64)> {
    let (mut done, mut ended, mut dlq) = (0u64, 0u64, 0u64);
    for s in v.sources() {
        let c = &s.counters;
        done += c.background[0];
        ended += c.background.iter().sum::<u64>() + c.dead_lettered;
        dlq += c.dead_lettered;
    }
    (ended > 0).then(|| (1.0 - done as f64 / ended as f64, dlq * v.unit()))
}

/// The latest system-wide sample of metric `name` in `world`.
fn last(world: &World, name: &str) -> Option<f64> {
    use crate::sim::read::series::{Metric, Series, SeriesEntity};
    let metric = Metric::ALL.iter().copied().find(|m| m.name() == name)?;
    let series = world.get_resource::<Series>()?;
    series.get(SeriesEntity::System, metric).last().map(|x| x.1)
}

/// The picture follows the simulation, then a branch asked for is made, then every shadow
/// (a comparison's variants, or the branches) follows the app's clock; a comparison opened
/// from the command line (`Comparison`, base scenario, load) starts side by side.
pub fn plugin(app: &mut App, compare: Option<(Comparison, Scenario, f64)>) {
    use crate::app::AppSystems;
    app.add_systems(
        Update,
        (super::refresh_picture, make_branch, lockstep)
            .chain()
            .in_set(AppSystems::Picture),
    );
    if let Some((c, base, load)) = compare {
        app.insert_resource(SideBySide::new(c, base, load));
    }
}

/// Wall time a frame gives branches re-simulating the past.
const CATCH_UP: std::time::Duration = std::time::Duration::from_millis(40);

/// The most simulated time (ns) a branch in step runs in one frame without slices: more is a
/// jump ahead (a seek forward), re-simulated like the past.
const IN_STEP: Nanos = 2_000_000_000;

/// Keeps every shadow at the app's simulated time. A comparison: a new run (load, reset,
/// reload) starts them again; then each runs the ticks the app's simulation ran this frame.
/// Branches: a new run ends them; one re-simulating the past runs for a slice of every frame
/// while the app waits, paused, then each takes its what-ifs and runs in step.
pub fn lockstep(world: &mut World) {
    let Some(mut side) = world.remove_resource::<SideBySide>() else {
        return;
    };
    let run = world.resource::<Runs>().0;
    let now = world.resource::<SimClock>().now;
    let ahead = side.shadows.iter().any(|s| s.now() > now);
    if side.branches() {
        if side.run != Some(run) || ahead {
            if let Some(paused) = side.resume {
                world.resource_mut::<crate::sim::SimControl>().paused = paused;
            }
            return;
        }
        catch_up(world, &mut side, now);
    } else if side.run != Some(run) || ahead {
        side.shadows = (1..side.names().len())
            .filter_map(|v| side.scenario(v))
            .map(|s| Shadow::new(Simulation::new(s).into_world(), String::new()))
            .collect();
        side.run = Some(run);
    }
    let layout = world.resource::<crate::app::state::Scene>().layout.clone();
    let speed = world.resource::<crate::sim::SimControl>().speed;
    let own = {
        let mut state = SystemState::<SimView>::new(world);
        state.get(world).ok().map(|v| {
            side.headline = headline(&v, |m| last(world, m));
            standings(&v)
        })
    };
    for s in &mut side.shadows {
        if s.branch.is_none() {
            crate::sim::schedule::idle::run_until(&mut s.world, now, |_| {});
        }
        draw_shadow(s, &layout, speed);
        if let (Some((from, diff)), Some(own)) = (s.branch.as_mut(), own.as_ref()) {
            let mut state = SystemState::<SimView>::new(&mut s.world);
            if let Ok(v) = state.get(&s.world) {
                *diff = differs(from, own, &standings(&v));
            }
        }
    }
    world.insert_resource(side);
}

/// Branches: re-simulates the past of those behind for a slice of wall time (the app paused
/// meanwhile), sends the what-ifs of those there, and runs them to the app's moment.
fn catch_up(world: &mut World, side: &mut SideBySide, now: Nanos) {
    let started = std::time::Instant::now();
    for s in &mut side.shadows {
        // In step, a branch runs the frame's ticks whatever they cost (the app's own run is
        // bounded per frame, and a branch costs what it does); a jump ahead (a seek forward)
        // is a past to re-simulate again, in slices.
        if s.in_step && now.saturating_sub(s.now()) > IN_STEP {
            s.in_step = false;
        }
        let left = if s.in_step {
            std::time::Duration::MAX
        } else {
            CATCH_UP.saturating_sub(started.elapsed())
        };
        if crate::compare::branch::catch_up(&mut s.world, now, left) {
            s.in_step = true;
        }
    }
    for (k, cmd) in std::mem::take(&mut side.outbox) {
        match side.shadows.get_mut(k.wrapping_sub(1)) {
            Some(s) if s.now() >= now => {
                let at = s.now();
                s.sent.push(format!("{cmd:?}"));
                s.world
                    .resource_mut::<crate::sim::door::command::CommandQueue>()
                    .schedule(at, cmd);
            }
            Some(_) => side.outbox.push((k, cmd)),
            None => {}
        }
    }
    let behind = side.catching_up(now).is_some();
    let mut control = world.resource_mut::<crate::sim::SimControl>();
    match (behind, side.resume) {
        (true, None) => {
            side.resume = Some(control.paused);
            control.paused = true;
        }
        (false, Some(paused)) => {
            control.paused = paused;
            side.resume = None;
        }
        _ => {}
    }
}

/// A shadow's picture, particles and headline now, in the app's layout (nodes dragged in the
/// app move in every cell) and at the app's particle scale (so cells compare dot for dot).
fn draw_shadow(s: &mut Shadow, layout: &crate::picture::layout::Layout, speed: f64) {
    let mut state = SystemState::<SimView>::new(&mut s.world);
    let Ok(v) = state.get(&s.world) else { return };
    s.rates.update(&v, 1.0);
    s.picture = picture(&v, layout, &s.rates);
    let p = s.particles.get_or_insert_with(|| {
        let routes = s.world.resource::<crate::sim::schedule::topology::Routes>();
        let config = s.world.resource::<crate::sim::SimConfig>();
        let peak = crate::app::state::peak_rate(config);
        let mut p = crate::picture::particles::Particles::new(
            &v,
            routes,
            peak,
            crate::app::state::PARTICLES,
        );
        p.set_speed(speed, &v);
        p
    });
    p.update(&v);
    let now = v.now();
    s.dots = p
        .visible(&v)
        .into_iter()
        .map(|d| (d, crate::app::particles::along(&d, now)))
        .collect();
    s.headline = headline(&v, |m| last(&s.world, m));
}

/// "What if, from here?": a branch of the app's run at the moment it shows, beside the
/// original (the grid opens on it); refused, with a notice, beside a comparison, while the
/// system is unfinished or when the grid is full.
pub fn make_branch(world: &mut World) {
    let mut panels = world.resource_mut::<crate::app::state::Panels>();
    if std::mem::take(&mut panels.close_branches) {
        match world.remove_resource::<SideBySide>() {
            Some(side) if !side.branches() => world.insert_resource(side),
            Some(SideBySide {
                resume: Some(paused),
                ..
            }) => world.resource_mut::<crate::sim::SimControl>().paused = paused,
            _ => {}
        }
        return;
    }
    if !std::mem::take(&mut panels.branch_requested) {
        return;
    }
    let refusal = if world.resource::<crate::app::state::Edits>().draft.is_some() {
        Some("no branch: the system is unfinished")
    } else {
        match world.get_resource::<SideBySide>() {
            Some(s) if !s.branches() => Some("no branch beside a comparison: open a scenario"),
            Some(s) if s.shadows.len() + 1 >= MOST => Some("no branch: four cells at most"),
            _ => None,
        }
    };
    if let Some(why) = refusal {
        let at = world.resource::<Time<Real>>().elapsed_secs_f64();
        world.resource_mut::<crate::app::state::OpenFile>().notice = Some((why.into(), at));
        return;
    }
    // The what-ifs are what a branch is for: their panel opens on it.
    world.resource_mut::<crate::app::state::Panels>().left_open = true;
    match world.remove_resource::<SideBySide>() {
        Some(mut side) => {
            side.branch(world);
            side.on = true;
            world.insert_resource(side);
        }
        None => {
            let side = SideBySide::first_branch(world);
            world.insert_resource(side);
        }
    }
}
