//! Idle time is free: a tick in which nothing is due (no event in the agenda, nothing arriving
//! on a wire, no source arrival, retry or deadline, no instance action or command, no health
//! cycle or metrics sample) changes nothing but the clock and, every 10 ms of simulated time,
//! the engines' smoothed utilization. Such ticks are not run through the schedule: the clock
//! moves over the whole stretch in one step, running only the engine update (and the memory
//! guard after it) at the ticks where the schedule would have, so every output stays
//! byte-identical (`skipping_idle_ticks_changes_no_output`). The runner here (`move_on`,
//! `run_until`) also runs stretches of plain ticks through `SimFlowTick` (`stretch`).

use crate::sim::SimClock;
use crate::sim::door::command::CommandQueue;
use crate::sim::flow::core::FlowCore;
use crate::sim::flow::sweep;
use crate::sim::read::metrics::Recorder;
use crate::sim::schedule::cadence::{Cadence, ENGINE_UPDATE_NS};
use crate::sim::schedule::dist::Nanos;
use crate::sim::schedule::guard;
use crate::sim::schedule::stretch::Stretch;
use crate::sim::schedule::verify::Conservation;
use bevy::ecs::system::SystemId;
use bevy::prelude::*;

/// Whether idle ticks are skipped and stretches of plain ticks run through `SimFlowTick` (on by
/// default; off runs every tick through `SimTick`, to compare), and how many ticks were skipped.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkipIdle {
    /// Skip them.
    pub on: bool,
    /// Ticks skipped so far.
    pub skipped: u64,
    /// Ticks run in stretches of plain ticks (`SimFlowTick`) so far.
    pub stretched: u64,
}

impl Default for SkipIdle {
    fn default() -> Self {
        Self {
            on: true,
            skipped: 0,
            stretched: 0,
        }
    }
}

/// The engine update and the memory guard, to run at an engine tick inside a skipped stretch.
#[derive(Resource, Debug, Clone, Copy)]
pub struct EngineTick {
    update: SystemId,
    guard: SystemId,
}

/// Registers the systems a skipped stretch runs at its engine ticks.
pub(in crate::sim) fn plugin(app: &mut App) {
    let update = app
        .world_mut()
        .register_system(crate::sim::flow::engines::update_engines);
    let guard = app.world_mut().register_system(guard::guard_held);
    app.insert_resource(EngineTick { update, guard })
        .init_resource::<SkipIdle>();
}

/// Ticks ending at or before `t` (from `now`, ticks of `tick` ns): an event at `t` is handled
/// in the tick after them.
fn before(now: Nanos, tick: Nanos, t: Nanos) -> u64 {
    t.saturating_sub(now) / tick
}

/// Ticks ending strictly before `t`: a cadence due at `t` fires in the tick ending at it.
fn strictly(now: Nanos, tick: Nanos, t: Nanos) -> u64 {
    t.saturating_sub(now).div_ceil(tick).saturating_sub(1)
}

/// Of the next `most` ticks, how many come before a health cycle, a metrics sample or a command
/// falls due (shortcuts off or a halted run: none).
fn before_periodic(world: &World, most: u64) -> u64 {
    if most == 0 || !world.resource::<SkipIdle>().on || crate::sim::halted(world) {
        return 0;
    }
    let clock = world.resource::<SimClock>();
    let (now, tick) = (clock.now, clock.tick.max(1));
    let mut k = most.min(strictly(now, tick, world.resource::<Cadence>().health_next));
    k = k.min(strictly(now, tick, world.resource::<Recorder>().next));
    if let Some(at) = world.resource::<CommandQueue>().next_at() {
        k = k.min(before(now, tick, at));
    }
    k
}

/// How many of the next ticks (at most `most`) can run as a stretch (`SimFlowTick`): no command
/// due, no health cycle or metrics sample ending in them. The same tests as those systems' run
/// conditions, made before the ticks instead of in them. At most one while conservation is
/// checked, so it is checked after every tick.
pub fn plain_ticks(world: &World, most: u64) -> u64 {
    let k = before_periodic(world, most);
    if k == 0 {
        return 0;
    }
    match world.get_resource::<Conservation>() {
        Some(c) if c.enabled => k.min(1),
        _ => k,
    }
}

/// How many of the next ticks (at most `most`) would change nothing but the clock and the
/// engines' smoothed utilization.
pub fn quiet_ticks(world: &World, most: u64) -> u64 {
    let mut k = before_periodic(world, most);
    if k == 0 {
        return 0;
    }
    let clock = world.resource::<SimClock>();
    let (now, tick) = (clock.now, clock.tick.max(1));
    k = sweep::quiet_flow(world, now, tick, k);
    if k == 0 {
        return 0;
    }
    let core = world.resource::<FlowCore>();
    // Across an engine update, an instance that comes back would be an event.
    let every = (ENGINE_UPDATE_NS / tick).max(1);
    if k > every - 1 - clock.ticks % every {
        for i in &core.instances {
            if i.provisioned && !i.up {
                k = k.min(strictly(now, tick, i.down_until));
            }
        }
    }
    k
}

/// Moves the clock over `k` quiet ticks, leaving everything as running them would have: at each
/// engine tick on the way the engine update and the memory guard run (a guard that stops the
/// run stops the stretch there, as it would stop the ticks). Returns the ticks moved over.
pub fn skip(world: &mut World, k: u64) -> u64 {
    let (start_ticks, tick) = {
        let c = world.resource::<SimClock>();
        (c.ticks, c.tick.max(1))
    };
    let every = (ENGINE_UPDATE_NS / tick).max(1);
    let systems = *world.resource::<EngineTick>();
    let mut done = 0;
    while done < k {
        // The next engine tick in the stretch, or its end.
        let next = every - (start_ticks + done) % every;
        let step = next.min(k - done);
        advance(world, step);
        done += step;
        if (start_ticks + done).is_multiple_of(every) {
            let _ = world.run_system(systems.update);
            let _ = world.run_system(systems.guard);
            if crate::sim::halted(world) {
                break;
            }
        }
    }
    world.resource_mut::<Cadence>().health_due = false;
    world.resource_mut::<SkipIdle>().skipped += done;
    // Each skipped tick would have checked the same state the ticks before it left.
    if let Some(mut c) = world.get_resource_mut::<Conservation>()
        && c.enabled
    {
        c.checks += done;
    }
    done
}

fn advance(world: &mut World, n: u64) {
    let mut clock = world.resource_mut::<SimClock>();
    clock.now += n * clock.tick;
    clock.start = clock.now - clock.tick;
    clock.ticks += n;
}

/// Moves the run on by at most `most` ticks (at least one), the cheapest way that gives the same
/// outputs: skips an idle stretch, runs a stretch of plain ticks through `SimFlowTick`, or runs
/// one tick through `SimTick`; `run(world, plain)` runs the schedule. Returns the ticks moved.
fn move_on_with(world: &mut World, most: u64, mut run: impl FnMut(&mut World, bool)) -> u64 {
    let k = quiet_ticks(world, most);
    if k > 0 {
        return skip(world, k);
    }
    let plain = plain_ticks(world, most);
    if plain > 0 {
        world.resource_mut::<Stretch>().ticks = plain;
        run(world, true);
        let done = world.resource::<Stretch>().done;
        world.resource_mut::<SkipIdle>().stretched += done;
        done
    } else {
        run(world, false);
        1
    }
}

/// `move_on_with` through the world's schedules.
pub fn move_on(world: &mut World, most: u64) -> u64 {
    move_on_with(world, most, |world, plain| {
        if plain {
            world.run_schedule(crate::sim::SimFlowTick);
        } else {
            world.run_schedule(crate::sim::SimTick);
        }
    })
}

/// Runs exactly one tick (as `SimTick` would).
pub fn tick(world: &mut World) {
    move_on(world, 1);
}

/// Runs the ticks up to `until` (ns): idle stretches skipped, stretches of plain ticks through
/// `SimFlowTick`, the rest through `SimTick`. Calls `each` after every tick run through
/// `SimTick` and every stretch. The two schedules are taken out of the world once for the run.
pub fn run_until(world: &mut World, until: Nanos, mut each: impl FnMut(&World)) {
    world.schedule_scope(crate::sim::SimTick, |world, full| {
        world.schedule_scope(crate::sim::SimFlowTick, |world, flow| {
            while world.resource::<SimClock>().now < until && !crate::sim::halted(world) {
                let clock = world.resource::<SimClock>();
                let left = (until - clock.now).div_ceil(clock.tick.max(1));
                move_on_with(world, left, |world, plain| {
                    if plain {
                        flow.run(world);
                    } else {
                        full.run(world);
                    }
                });
                each(world);
            }
        })
    });
}
