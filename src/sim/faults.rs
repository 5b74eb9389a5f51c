//! Instance actions of the command door (down, back, slow, retired), handed from the commands
//! phase to the flow phase, which applies each at its exact time inside the tick.

use super::dist::Nanos;
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
}

impl Faults {
    /// Adds an action, keeping the next one (by time, then instance) last.
    pub fn add(&mut self, f: TimedFault) {
        self.pending.push(f);
        self.pending
            .sort_by_key(|p| std::cmp::Reverse((p.at, p.instance)));
    }
}
