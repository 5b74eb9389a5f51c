//! Typed events: what happened in the simulation, emitted where it happens as Bevy messages
//! (`SimEvent`), and collected at the end of every tick into the `Journal`. The decision log,
//! the `--events` JSON Lines, the summary, the tests and the desktop app all read from there;
//! nothing is recovered after the fact by diffing counters.

use crate::sim::flow::request::Outcome;
use crate::sim::schedule::dist::Nanos;
pub use crate::sim::schedule::states::RateReason;
use crate::sim::schedule::states::{BreakerState, HealthBand, Urgency};
use bevy::ecs::message::Messages;
use bevy::prelude::*;

/// Why a circuit breaker changed state (seed 000, "Circuit Breaker Integration").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BreakerReason {
    /// CLOSED -> OPEN: the error rate stayed above the threshold.
    ErrorRate,
    /// OPEN -> HALF-OPEN: a probe found the receiver healthy.
    ProbeHealthy,
    /// HALF-OPEN -> OPEN: errors came back.
    ProblemsReturned,
    /// HALF-OPEN -> CLOSED.
    Stable,
    /// HALF-OPEN -> OPEN at the end of the trial.
    NotStable,
    /// CLOSED -> OPEN: slow calls reached `slow_call_rate`.
    SlowCalls,
    /// HALF-OPEN -> CLOSED: the `half_open_calls` trial calls passed.
    TrialPassed,
    /// HALF-OPEN -> OPEN: too many of the trial calls failed or were slow.
    TrialFailed,
}

impl BreakerReason {
    /// Words for the decision log.
    pub fn text(self) -> &'static str {
        match self {
            BreakerReason::ErrorRate => "error rate above threshold",
            BreakerReason::ProbeHealthy => "probe: receiver healthy",
            BreakerReason::ProblemsReturned => "problems returned",
            BreakerReason::Stable => "stable and healthy",
            BreakerReason::NotStable => "not stable",
            BreakerReason::SlowCalls => "slow-call rate at threshold",
            BreakerReason::TrialPassed => "half-open trial calls passed",
            BreakerReason::TrialFailed => "half-open trial calls failed",
        }
    }
}

/// A change inside a strategy, seen once a cycle (`sim::read::watch`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mechanism {
    /// A source's retry budget cannot pay for a retry any more.
    BudgetSpent,
    /// It can again.
    BudgetRefilled,
    /// The SRE client throttle started rejecting attempts locally, with this probability.
    ThrottleOn {
        /// Rejection probability now.
        p: f64,
    },
    /// It stopped.
    ThrottleOff,
    /// CoDel entered its dropping state.
    CodelDropping,
    /// CoDel left it, after a spell that reached this count.
    CodelStopped {
        /// The control law's count.
        count: u32,
    },
    /// An adaptive concurrency limit fell by a tenth or more since the last cycle.
    LimitCut {
        /// Last cycle's limit (real requests).
        from: u64,
        /// The limit now.
        to: u64,
    },
}

impl Mechanism {
    /// The decision log's kind and words.
    pub fn text(self) -> (&'static str, String) {
        match self {
            Mechanism::BudgetSpent => (
                "retry_budget",
                "retry budget spent: failures end without a retry".into(),
            ),
            Mechanism::BudgetRefilled => ("retry_budget", "retry budget refilled".into()),
            Mechanism::ThrottleOn { p } => (
                "throttle",
                format!(
                    "client throttle rejects {:.0}% of attempts locally",
                    p * 100.0
                ),
            ),
            Mechanism::ThrottleOff => ("throttle", "client throttle stopped rejecting".into()),
            Mechanism::CodelDropping => (
                "codel",
                "CoDel dropping: delay above target for an interval".into(),
            ),
            Mechanism::CodelStopped { count } => {
                ("codel", format!("CoDel stopped dropping (count {count})"))
            }
            Mechanism::LimitCut { from, to } => (
                "concurrency_limit",
                format!("concurrency limit cut {from} -> {to}"),
            ),
        }
    }
}

/// A fallback taken or given up (seed 000, "Fallback Behavior").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fallback {
    /// A cache answers its misses with stale data: what it protects is RED or CRITICAL.
    StaleOn,
    /// A cache sends its misses back gradually.
    StaleReturning,
    /// A cache serves fresh data again.
    Fresh,
    /// A link's requests go to its alternative route (component index).
    Reroute {
        /// The alternative component.
        to: u32,
    },
    /// A link's requests go to its own target again.
    RouteBack,
}

/// Where a command came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Origin {
    /// The scenario's `faults`.
    Scenario,
    /// From outside: the app, a lesson, a test, a replay.
    Live,
}

/// What an event concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    /// The whole system.
    System,
    /// A source, by index.
    Source(u32),
    /// A component, by index.
    Component(u32),
    /// An instance, by global index.
    Instance(u32),
    /// A link, by index.
    Link(u32),
    /// One instance of a link's receiver, as that link's sender sees it (health checks).
    LinkInstance(u32, u32),
}

/// Something that happened.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// An instance ran out of memory and crashed.
    Crash,
    /// An instance was taken down (a scheduled fault or a command) until `until`.
    Outage {
        /// When it comes back (ns).
        until: Nanos,
        /// From the scenario's `faults` (else a command from outside).
        scheduled: bool,
    },
    /// An instance is back up after a crash or an outage.
    Restart,
    /// An instance serves `factor` times slower until `until`.
    Slowdown {
        /// Service-time multiplier.
        factor: f64,
        /// End of the slowdown (ns).
        until: Nanos,
    },
    /// An instance fails `share` of the requests it serves until `until` (an error fault).
    Errors {
        /// Share failed (0-1].
        share: f64,
        /// End of the fault (ns).
        until: Nanos,
    },
    /// A link is degraded until `until` (a link fault): more latency, a share lost.
    LinkFault {
        /// Added one-way latency (ms).
        added_ms: f64,
        /// Share of requests lost (0-1).
        loss: f64,
        /// End of the fault (ns).
        until: Nanos,
    },
    /// Autoscaling provisioned or handed back an instance.
    Scale {
        /// Live instances before.
        from: u32,
        /// Live instances after.
        to: u32,
        /// The health below which every instance was (scale up), or `None` (scale down).
        below: Option<f64>,
    },
    /// A link's allowed rate changed (real requests/s; `None`: unlimited).
    RateChange {
        /// Before.
        old: Option<f64>,
        /// After.
        new: Option<f64>,
        /// Why.
        reason: RateReason,
        /// How urgently.
        urgency: Urgency,
        /// The receiver's status as the sender heard it.
        status: HealthBand,
        /// The receiver's status as it stood at that moment (its badge).
        actual: HealthBand,
    },
    /// A circuit breaker changed state.
    Breaker {
        /// Before.
        from: BreakerState,
        /// After.
        to: BreakerState,
        /// Why.
        reason: BreakerReason,
    },
    /// A strategy's inner state changed (seen once a cycle).
    Mechanism(Mechanism),
    /// A fallback was taken or given up.
    Fallback(Fallback),
    /// Health checks to a target keep failing: not asked for `open_s` (opened), or answered
    /// again (closed).
    HealthCheck {
        /// Opened (true) or closed.
        opened: bool,
        /// How long an open check breaker waits (s).
        open_s: f64,
    },
    /// A queue far off its forecast.
    Anomaly {
        /// Queue length (real requests).
        queue: u64,
    },
    /// A command was applied (see `command`).
    Command {
        /// What it did, in words.
        text: String,
        /// From the scenario's `faults` or from outside.
        origin: Origin,
    },
    /// Logical requests that ended in this tick, by outcome (`Outcome as usize`).
    Ended {
        /// Counts (real requests).
        counts: [u64; 5],
    },
}

/// A typed event, stamped with its exact simulation time.
#[derive(Message, Debug, Clone, PartialEq)]
pub struct SimEvent {
    /// When it happened (ns).
    pub at: Nanos,
    /// What it concerns.
    pub subject: Subject,
    /// What happened.
    pub kind: EventKind,
}

impl SimEvent {
    /// An event at `at` about `subject`.
    pub fn new(at: Nanos, subject: Subject, kind: EventKind) -> Self {
        Self { at, subject, kind }
    }

    /// Time in seconds.
    pub fn seconds(&self) -> f64 {
        self.at as f64 / 1e9
    }
}

/// Everything that happened so far, in time order (outcome counts are totalled, not kept).
#[derive(Resource, Debug, Default, Clone)]
pub struct Journal {
    /// Events other than `Ended`, in time order.
    pub events: Vec<SimEvent>,
    /// Logical requests ended so far, by outcome (real requests).
    pub ended: [u64; 5],
}

impl Journal {
    /// Logical requests ended with `o` so far.
    pub fn ended(&self, o: Outcome) -> u64 {
        self.ended[o as usize]
    }

    /// Events about `subject`.
    pub fn about(&self, subject: Subject) -> impl Iterator<Item = &SimEvent> {
        self.events.iter().filter(move |e| e.subject == subject)
    }
}

/// Moves this tick's events into the journal; returns the index of the first new one, or `None`
/// when some came out of time order (a restart noticed after later events) and the journal was
/// put back in time order (events at the same instant keep their order).
pub fn collect(messages: &mut Messages<SimEvent>, journal: &mut Journal) -> Option<usize> {
    let first = journal.events.len();
    let mut sorted = true;
    for e in messages.drain() {
        if let EventKind::Ended { counts } = e.kind {
            for (total, n) in journal.ended.iter_mut().zip(counts) {
                *total += n;
            }
            continue;
        }
        sorted &= journal.events.last().is_none_or(|l| l.at <= e.at);
        journal.events.push(e);
    }
    if !sorted {
        journal.events.sort_by_key(|e| e.at);
        return None;
    }
    Some(first)
}
