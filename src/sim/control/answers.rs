//! What an asker keeps of its health queries, per target: the answer, the breaker on its checks
//! and the counts. Plain records a link holds (`FlowControl`), apart from the queries
//! themselves (`queries`), so the flow's state does not depend on the health model's systems.

use crate::sim::schedule::dist::Nanos;
use crate::sim::schedule::states::HealthBand;

/// What an asker keeps of one answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Answer {
    /// When it was received (ns).
    pub at: Nanos,
    /// Status band.
    pub status: HealthBand,
    /// Aggregated health (0-1).
    pub health: f64,
    /// The target's queue is filling (see `BackpressureSpec::filling_within_s`).
    pub filling: bool,
    /// The target accepted load.
    pub accepting: bool,
    /// The target's own error rate over its error window (0-1).
    pub error_rate: f64,
}

/// The asker's view of one target: its cached answer and the breaker on its health checks.
#[derive(Debug, Clone, Default)]
pub struct TargetView {
    /// Last answer received.
    pub answer: Option<Answer>,
    /// Health checks failed in a row.
    pub failures: u32,
    /// While set and in the future, the target is not asked (health-check breaker open).
    pub open_until: Option<Nanos>,
    /// After a failed check the target is not asked again before this (one TTL later).
    pub retry_at: Nanos,
}

impl TargetView {
    /// As the asker last heard it, the target cannot be counted on: its health-check breaker is
    /// open, or it answered RED or CRITICAL.
    pub fn heard_red(&self) -> bool {
        self.open_until.is_some() || self.answer.is_some_and(|a| a.status >= HealthBand::Red)
    }
}

/// Query counts of one asker-target pair (a link).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryStats {
    /// Queries sent.
    pub queries: u64,
    /// Answers taken from the cache.
    pub cache_hits: u64,
    /// Queries that got no answer.
    pub failures: u64,
    /// Queries not sent because every query slot of the asker was busy.
    pub limited: u64,
    /// Queries not sent because the health-check breaker was open.
    pub skipped: u64,
    /// Times the health-check breaker opened.
    pub breaker_opens: u64,
}
