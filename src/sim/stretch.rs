//! A stretch of plain ticks in one system run. A tick in which nothing periodic is due (no
//! command, engine update, health cycle or metrics sample: `idle::plain_ticks`) runs only the
//! clock, the flow phase and the collection of finished requests before the record and verify
//! phases. `SimFlowTick` runs a whole stretch of such ticks in one system, each tick exactly as
//! `SimTick` would run it (the same clock, cadence, flow and `Ended` event per tick), so the
//! executor and the system parameters are paid once per stretch, not once per tick. The record
//! phase then takes the stretch's events in the order they were written.

use super::cadence::Cadence;
use super::classes::ClassStats;
use super::metrics::{self, SystemLatency};
use super::sweep::{Flow, Scratch};
use super::{SimClock, SimFlowTick, SimSystems};
use bevy::prelude::*;

/// How many ticks the next run of `SimFlowTick` covers (set by `idle` before it runs it).
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stretch(pub u64);

impl Default for Stretch {
    fn default() -> Self {
        Self(1)
    }
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Stretch>()
        .add_systems(SimFlowTick, run_stretch.in_set(SimSystems::Flow));
}

/// The clock, cadence, flow and finished-request phases of every tick of the stretch.
fn run_stretch(
    stretch: Res<Stretch>,
    mut clock: ResMut<SimClock>,
    mut cadence: ResMut<Cadence>,
    mut flow: Flow,
    mut latency: ResMut<SystemLatency>,
    mut classes: ResMut<ClassStats>,
    mut scratch: Local<Scratch>,
) {
    for _ in 0..stretch.0.max(1) {
        clock.advance();
        cadence.decide(&clock);
        flow.tick(&mut scratch, clock.start, clock.now);
        let (unit, sources, events) = flow.sources();
        let sinks = (&mut *latency, &mut *classes);
        metrics::collect(clock.now, unit, sources, sinks, events);
    }
}
