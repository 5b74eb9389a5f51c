//! Instance actions of the command door (down, back, slow, retired), handed from the commands
//! phase to the flow phase, which applies each at its exact time inside the tick.

use crate::sim::schedule::dist::Nanos;
use bevy::prelude::*;

/// What the command door does to an instance, at an exact time inside a tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultAction {
    /// Down for `duration` (what it holds fails, as in a crash); `scheduled` when it comes from
    /// the scenario's `faults`.
    Down {
        /// How long (ns).
        duration: Nanos,
        /// From the scenario's `faults`.
        scheduled: bool,
    },
    /// Back up now, if down.
    Up,
    /// Service times multiplied by `factor` for `duration`.
    Slow {
        /// How long (ns).
        duration: Nanos,
        /// Multiplier.
        factor: f64,
    },
    /// Fails `share` of the requests it serves for `duration`.
    Errors {
        /// How long (ns).
        duration: Nanos,
        /// Share failed (0-1].
        share: f64,
    },
    /// Taken out of service for good (fewer instances); what it holds fails.
    Retire,
}

/// An instance action due at an exact time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimedFault {
    /// When (ns).
    pub at: Nanos,
    /// Global instance index.
    pub instance: u32,
    /// What.
    pub action: FaultAction,
}

/// Instance actions the command door has made due and the flow phase has not begun yet,
/// latest first.
#[derive(Resource, Debug, Default, Clone)]
pub struct Faults {
    /// Pending actions, sorted so the next one is last.
    pub pending: Vec<TimedFault>,
    /// Actions added so far: ties at the same time and instance keep the order they came in.
    added: u64,
    order: Vec<u64>,
}

impl Faults {
    /// Adds an action, keeping the next one (by time, then instance) last.
    pub fn add(&mut self, f: TimedFault) {
        self.added += 1;
        let mut all: Vec<(TimedFault, u64)> = self
            .pending
            .drain(..)
            .zip(self.order.drain(..))
            .chain([(f, self.added)])
            .collect();
        all.sort_by_key(|(p, n)| std::cmp::Reverse((p.at, p.instance, *n)));
        (self.pending, self.order) = all.into_iter().unzip();
    }

    /// Takes the next action if it is due before `until`.
    pub fn next_before(&mut self, until: Nanos) -> Option<TimedFault> {
        if self.pending.last()?.at >= until {
            return None;
        }
        self.order.pop();
        self.pending.pop()
    }
}
