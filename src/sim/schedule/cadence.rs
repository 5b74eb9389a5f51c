//! Cadences as run conditions: "every health cycle" (seed 000, "Health Check Architecture": each
//! component updates its health, then senders adjust their rates, once per cycle) and "every
//! engine update" (10 ms). Decided once per tick in the clock phase; systems say
//! `.run_if(on_health_cycle)` instead of checking the time themselves.

use crate::sim::SimClock;
use crate::sim::schedule::dist::{Nanos, SEC};
use bevy::prelude::*;

/// Engines are updated every this many ns of simulated time (or every tick, if longer).
pub const ENGINE_UPDATE_NS: u64 = 10_000_000;

/// When the periodic phases run next, and whether they run in this tick.
#[derive(Resource, Debug, Clone, Copy, Default)]
pub struct Cadence {
    /// The health cycle as configured (`health.cycle_s`, ns).
    pub health_cycle: Nanos,
    /// Next health cycle (ns).
    pub health_next: Nanos,
    /// This tick ends a health cycle.
    pub health_due: bool,
    /// Length of the cycle that ends in this tick (ns), for rates per cycle.
    pub cycle: Nanos,
}

/// Decides which cadences fire in this tick (runs right after the clock advances).
pub fn tick_cadence(clock: Res<SimClock>, mut c: ResMut<Cadence>) {
    c.decide(&clock);
}

impl Cadence {
    /// Whether the tick that just ended (`clock`) ends a health cycle; if so, when the next does.
    pub fn decide(&mut self, clock: &SimClock) {
        let c = self;
        c.health_due = clock.now >= c.health_next;
        if c.health_due {
            c.cycle = c.health_cycle.max(clock.tick);
            c.health_next = clock.now + c.cycle;
        }
    }

    /// A cadence for a health cycle of `cycle_s` seconds, starting at t = 0.
    pub fn new(cycle_s: f64) -> Self {
        Self {
            health_cycle: (cycle_s * SEC) as Nanos,
            ..default()
        }
    }
}

/// Run condition: this tick ends a health cycle.
pub fn on_health_cycle(c: Res<Cadence>) -> bool {
    c.health_due
}

/// Run condition: engines are updated in this tick (every 10 ms of simulated time).
pub fn on_engine_update(clock: Res<SimClock>) -> bool {
    clock
        .ticks
        .is_multiple_of((ENGINE_UPDATE_NS / clock.tick).max(1))
}
