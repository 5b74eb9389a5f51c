//! Per-cycle control of a link, once per health cycle: today seed 000's (in `sim::control::cycle`:
//! health query, breaker, backpressure delay, adaptive rate), or none, or a controller plugged
//! in from outside that sets the link's allowed rate from what it observes.

use crate::sim::control::health::HealthStatus;
use crate::sim::read::events::RateReason;
use crate::sim::schedule::dist::Nanos;
use std::fmt::Debug;

/// What a controller sees of its link once per cycle.
#[derive(Debug, Clone, Copy)]
pub struct CycleInput<'a> {
    /// Now (ns).
    pub now: Nanos,
    /// Requests offered to the link over the last cycle (real requests/s).
    pub demand: f64,
    /// The allowed rate now (real requests/s; `None`: unlimited).
    pub limit: Option<f64>,
    /// The receiver's published status, if it answers.
    pub receiver: Option<&'a HealthStatus>,
}

/// A per-cycle controller plugged in from outside (tests, experiments).
pub trait LinkController: Debug + Send + Sync {
    /// The allowed rate for the next cycle (`None`: unlimited), and why.
    fn cycle(&mut self, input: &CycleInput) -> (Option<f64>, RateReason);
    /// A copy of this controller with its state (a timeline snapshot).
    fn clone_box(&self) -> Box<dyn LinkController>;
}

impl Clone for Box<dyn LinkController> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// Who runs a link's per-cycle control.
#[derive(Debug, Default, Clone)]
pub enum LinkControl {
    /// Seed 000's adaptive rate control and circuit breaker.
    #[default]
    Seed000,
    /// No control: no limit, no breaker, no delay.
    Off,
    /// Anything else, plugged in from outside.
    Custom(Box<dyn LinkController>),
}

impl LinkControl {
    /// The control a scenario's `links[].control` names.
    pub fn of(spec: crate::scenario::LinkControlSpec) -> Self {
        match spec {
            crate::scenario::LinkControlSpec::Seed000 => LinkControl::Seed000,
            crate::scenario::LinkControlSpec::Off => LinkControl::Off,
        }
    }
}
