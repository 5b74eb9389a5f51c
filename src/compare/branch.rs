//! Branches: "what if, from here?". A branch is the run itself up to the moment shown (the
//! scenario as loaded, with every live command of the run at its time, those still to come
//! included), re-simulated from t = 0 in a world of its own: the simulation is deterministic, so
//! it reaches the moment in exactly the state the run is in, on the same random numbers. From
//! there it takes its own what-ifs. What differs between a branch and the original is then
//! only what those what-ifs changed, and `differs` names the components where it shows.
//!
//! A snapshot of the run cannot be moved into another world (entity ids are the world's own),
//! so a branch pays for re-simulating the past once, in slices (`catch_up`) so the app stays
//! responsive; saved (`Simulation::session`), it is a scenario that `flowlab run` replays byte
//! for byte.

use crate::runner::Simulation;
use crate::scenario::Scenario;
use crate::sim::door::command::{CommandQueue, session_scenario};
use crate::sim::read::view::SimView;
use crate::sim::schedule::dist::Nanos;
use crate::sim::{SimClock, SimConfig};
use bevy::prelude::*;
use std::time::{Duration, Instant};

/// The scenario a branch of the run in `world` starts from: as loaded, with every live command
/// of the run (applied or still to come) at its time.
pub fn scenario_of(world: &World) -> Scenario {
    session_scenario(
        &world.resource::<SimConfig>().loaded,
        world.resource::<CommandQueue>(),
    )
}

/// A branch of the run in `world`, as a world of its own at t = 0 (`catch_up` brings it to the
/// moment).
pub fn start(world: &World) -> World {
    let mut branch = Simulation::new(scenario_of(world)).into_world();
    adopt(&mut branch, world);
    branch
}

/// Gives a branch the original's scenario as loaded and its list of the file's commands: the
/// run's commands are queued in the branch as live commands (so they are its own, and saved
/// with it); the file it came from is the original's.
pub fn adopt(branch: &mut World, original: &World) {
    let config = original.resource::<SimConfig>();
    let (loaded, commands) = (config.loaded.clone(), config.scenario.commands.clone());
    let mut here = branch.resource_mut::<SimConfig>();
    here.loaded = loaded;
    std::sync::Arc::make_mut(&mut here.scenario).commands = commands;
}

/// Runs `world` toward `to` for about `budget` of wall time, a simulated second at a time;
/// true once it is there.
pub fn catch_up(world: &mut World, to: Nanos, budget: Duration) -> bool {
    let started = Instant::now();
    loop {
        let now = world.resource::<SimClock>().now;
        if now >= to || crate::sim::halted(world) {
            return true;
        }
        if started.elapsed() >= budget {
            return false;
        }
        crate::sim::schedule::idle::run_until(world, (now + 1_000_000_000).min(to), |_| {});
    }
}

/// A component's figures at a moment: what a branch is compared by.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Standing {
    /// The component's name.
    pub name: String,
    /// Local services completed so far.
    pub served: u64,
    /// Requests dropped so far (queue full, shed).
    pub dropped: u64,
    /// Requests queued now.
    pub queued: u64,
}

/// Every component's figures now.
pub fn standings(v: &SimView) -> Vec<Standing> {
    v.components()
        .map(|c| Standing {
            name: c.name.to_string(),
            served: c.served,
            dropped: c.dropped,
            queued: c.queued,
        })
        .collect()
}

/// Where a branch's figures part from the original's.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// The component.
    pub component: String,
    /// In words: "served -12%", "dropped +3.2K", "queue 3.2K vs 40".
    pub what: String,
    /// How large, for ordering (a share of the original's figure).
    pub size: f64,
}

/// The components whose figures in `b` part from those in `a` since the branch was made
/// (`from`: the figures then), largest first: served or dropped since `from` apart by more
/// than 2% (and 10 requests), or a queue now apart by more than a quarter (and 20 requests).
pub fn differs(from: &[Standing], a: &[Standing], b: &[Standing]) -> Vec<Difference> {
    let mut out = Vec::new();
    for ((f, x), y) in from.iter().zip(a).zip(b) {
        let (sa, sb) = (
            x.served - f.served.min(x.served),
            y.served - f.served.min(y.served),
        );
        let (da, db) = (
            x.dropped - f.dropped.min(x.dropped),
            y.dropped - f.dropped.min(y.dropped),
        );
        let apart = |p: u64, q: u64, share: f64, floor: u64| {
            let gap = p.abs_diff(q);
            (gap > floor && gap as f64 > share * p.max(q) as f64)
                .then(|| gap as f64 / p.max(q).max(1) as f64)
        };
        let mut found: Option<(String, f64)> = None;
        let mut keep = |what: String, size: f64| {
            if found.as_ref().is_none_or(|f| size > f.1) {
                found = Some((what, size));
            }
        };
        if let Some(size) = apart(sa, sb, 0.02, 10) {
            let pct = 100.0 * (sb as f64 - sa as f64) / sa.max(1) as f64;
            keep(format!("served {pct:+.0}%"), size);
        }
        if let Some(size) =
            apart(da, db, 0.02, 10).map(|s| s.max(db.abs_diff(da) as f64 / sa.max(1) as f64))
        {
            let sign = if db >= da { "+" } else { "-" };
            keep(
                format!(
                    "dropped {sign}{}",
                    crate::picture::style::short(db.abs_diff(da) as f64)
                ),
                size,
            );
        }
        if let Some(size) = apart(x.queued, y.queued, 0.25, 20) {
            keep(
                format!(
                    "queue {} vs {}",
                    crate::picture::style::short(y.queued as f64),
                    crate::picture::style::short(x.queued as f64)
                ),
                size,
            );
        }
        if let Some((what, size)) = found {
            out.push(Difference {
                component: x.name.clone(),
                what,
                size,
            });
        }
    }
    out.sort_by(|p, q| q.size.total_cmp(&p.size));
    out
}
