//! A stretch of plain ticks in one system run. A tick in which no command, health cycle or
//! metrics sample is due (`idle::plain_ticks`) runs only the clock, the flow phase, at every
//! 10 ms the engine update and the memory guard, and the collection of finished requests,
//! before the record and verify phases. `SimFlowTick` runs a stretch of such ticks in one
//! system (up to a run of idle ticks, which the runner skips instead), each tick exactly
//! as `SimTick` would run it (the same clock, cadence, flow, engine update and `Ended` event
//! per tick, in the same order), so the executor and most system parameters are paid once per
//! stretch, not once per tick. The record phase then takes the stretch's events in the order
//! they were written. A guard that stops the run ends the stretch after that tick, as it would
//! end the ticks.

use crate::sim::SimClock;
use crate::sim::SimFlowTick;
use crate::sim::SimSystems;
use crate::sim::flow::engines::EngineUpdate;
use crate::sim::flow::sweep::{Flow, Scratch};
use crate::sim::read::classes::ClassStats;
use crate::sim::read::metrics::{self, SystemLatency};
use crate::sim::schedule::cadence::{Cadence, ENGINE_UPDATE_NS};
use crate::sim::schedule::guard::HeldGuard;
use bevy::prelude::*;

/// How many ticks the next run of `SimFlowTick` covers (set by `idle` before it runs it), and
/// how many the last run did (fewer when the memory guard stopped the run).
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stretch {
    /// Ticks to run.
    pub ticks: u64,
    /// Ticks run.
    pub done: u64,
}

pub(in crate::sim) fn plugin(app: &mut App) {
    app.init_resource::<Stretch>()
        .add_systems(SimFlowTick, run_stretch.in_set(SimSystems::Flow));
}

/// The clock, cadence, flow, engine and finished-request phases of every tick of the stretch.
fn run_stretch(
    mut stretch: ResMut<Stretch>,
    mut clock: ResMut<SimClock>,
    mut cadence: ResMut<Cadence>,
    mut set: ParamSet<(Flow, EngineUpdate, HeldGuard)>,
    mut latency: ResMut<SystemLatency>,
    mut classes: ResMut<ClassStats>,
    mut scratch: Local<Scratch>,
) {
    let every = (ENGINE_UPDATE_NS / clock.tick.max(1)).max(1);
    let mut sinks = (&mut *latency, &mut *classes);
    let (ticks, mut done, mut go_on) = (stretch.ticks.max(1), 0, true);
    while go_on {
        // The ticks up to the next engine update run with the flow's parameters fetched once.
        let mut flow = set.p0();
        let mut engine_tick = false;
        while go_on && !engine_tick {
            clock.advance();
            cadence.decide(&clock);
            done += 1;
            flow.tick(&mut scratch, clock.start, clock.now);
            engine_tick = clock.ticks.is_multiple_of(every);
            if !engine_tick {
                let idle = end_tick(&mut flow, &clock, &mut sinks);
                go_on = done < ticks && !idle;
            }
        }
        if engine_tick {
            set.p1().run(&clock);
            let halted = set.p2().check(&clock);
            let idle = end_tick(&mut set.p0(), &clock, &mut sinks);
            go_on = !halted && done < ticks && !idle;
        }
    }
    stretch.done = done;
}

/// Idle ticks (at least this many in a row) end a stretch, for the runner to skip: fewer cost
/// less to run than to stop the stretch, skip them and start another.
const IDLE_RUN: u64 = 8;

/// The end of the tick that just ended (`clock`): the requests that ended in it (`metrics::collect`).
/// Returns whether at least `IDLE_RUN` idle ticks follow it.
fn end_tick(
    flow: &mut Flow,
    clock: &SimClock,
    sinks: &mut (&mut SystemLatency, &mut ClassStats),
) -> bool {
    let (unit, sources, events) = flow.sources();
    metrics::collect(
        clock.now,
        unit,
        sources,
        (&mut *sinks.0, &mut *sinks.1),
        events,
    );
    flow.idle_ahead(clock.now, clock.tick.max(1), IDLE_RUN) >= IDLE_RUN
}
