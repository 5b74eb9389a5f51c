//! A comparison opened side by side: the app's own simulation runs the comparison's first
//! variant (everything interactive works on it), and up to three more variants run as shadow
//! simulations on the same seed, stepped in lockstep with it, so pause, step, speed and the
//! timeline are shared. Each variant is drawn in its own cell with the same layout and scale
//! (the same camera), with its headline figures. A reset or a reload restarts them all.

use crate::compare::{self, Comparison};
use crate::picture::{Picture, Rates, picture};
use crate::runner::Simulation;
use crate::scenario::Scenario;
use crate::sim::read::view::SimView;
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

/// A variant that is not the app's own simulation.
pub struct Shadow {
    world: World,
    rates: Rates,
    particles: Option<crate::picture::particles::Particles>,
    /// Its particles now, with the share of the way each has travelled (0-1, in the
    /// direction the picture draws it: a response runs back).
    pub dots: Vec<(crate::picture::particles::Particle, f32)>,
    /// What it looks like now.
    pub picture: Picture,
    /// Its figures now.
    pub headline: Headline,
}

/// The comparison on screen.
#[derive(Resource)]
pub struct SideBySide {
    /// The comparison file as loaded.
    pub c: Comparison,
    /// Its base scenario.
    pub base: Scenario,
    /// The offered-load multiplier every variant runs at.
    pub load: f64,
    /// Variants 1.. (variant 0 is the app's own simulation).
    pub shadows: Vec<Shadow>,
    /// Variant 0's figures now.
    pub headline: Headline,
    /// The grid is shown (else the app's usual single view of variant 0).
    pub on: bool,
    run: Option<u64>,
}

impl SideBySide {
    /// The comparison `c` on `base`, at `load`.
    pub fn new(c: Comparison, base: Scenario, load: f64) -> Self {
        Self {
            c,
            base,
            load,
            shadows: vec![],
            headline: Headline::default(),
            on: true,
            run: None,
        }
    }

    /// The scenario variant `v` runs.
    pub fn scenario(&self, v: usize) -> Scenario {
        compare::prepared(&self.c, &self.base, v, self.load, 0)
    }

    /// Names of the variants shown, in order.
    pub fn names(&self) -> Vec<&str> {
        self.c
            .variants
            .iter()
            .take(MOST)
            .map(|v| v.name.as_str())
            .collect()
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

/// Keeps every shadow at the app's simulated time: a new run (load, reset, reload) starts them
/// again; then each runs the ticks the app's simulation ran this frame.
pub fn lockstep(world: &mut World) {
    let Some(mut side) = world.remove_resource::<SideBySide>() else {
        return;
    };
    let run = world.resource::<Runs>().0;
    let now = world.resource::<SimClock>().now;
    let behind = |w: &World| w.resource::<SimClock>().now;
    if side.run != Some(run) || side.shadows.iter().any(|s| behind(&s.world) > now) {
        side.shadows = (1..side.c.variants.len().min(MOST))
            .map(|v| Shadow {
                world: Simulation::new(side.scenario(v)).into_world(),
                rates: Rates::default(),
                particles: None,
                dots: vec![],
                picture: Picture::default(),
                headline: Headline::default(),
            })
            .collect();
        side.run = Some(run);
    }
    // The app's layout for every cell: nodes dragged in the app move in every cell.
    let layout = &world.resource::<crate::app::state::Scene>().layout;
    let speed = world.resource::<crate::sim::SimControl>().speed;
    for s in &mut side.shadows {
        crate::sim::schedule::idle::run_until(&mut s.world, now, |_| {});
        let mut state = SystemState::<SimView>::new(&mut s.world);
        let Ok(v) = state.get(&s.world) else { continue };
        s.rates.update(&v, 1.0);
        s.picture = picture(&v, layout, &s.rates);
        // The same particle scale as the app's own cell, so the cells compare dot for dot.
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
    let mut state = SystemState::<SimView>::new(world);
    if let Ok(v) = state.get(world) {
        side.headline = headline(&v, |m| last(world, m));
    }
    world.insert_resource(side);
}
