//! Seed 000's direct health queries: pull, not broadcast. Every component and instance exposes a
//! read-only `HealthStatus`; a sender asks its direct downstream through `HealthQueries` (the
//! seed's three questions) only when it routes, and keeps the answer in its own cache for a
//! time-to-live set by its class. An asker has a limited number of query slots (no storms), and a
//! small breaker per target stops it asking one that keeps failing to answer (a crashed instance,
//! a component with no live instance). With `backpressure.broadcast` on, the broadcast design the
//! seed argues against is simulated instead: every status is pushed to everyone every cycle and
//! the senders read the last push.

use crate::scenario::BackpressureSpec;
pub use crate::sim::control::answers::{Answer, QueryStats, TargetView};
use crate::sim::control::health::{HealthBand, HealthStatus};
use crate::sim::schedule::dist::{MS, Nanos, SEC};
use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use std::collections::VecDeque;

/// The seed's three questions, asked of a component or an instance entity.
#[derive(SystemParam)]
pub struct HealthQueries<'w, 's> {
    statuses: Query<'w, 's, &'static HealthStatus>,
}

impl HealthQueries<'_, '_> {
    /// `GetHealthStatus()`: the target's read-only status, or `None` when it does not answer
    /// (an instance that is down, a component with no live instance, not an entity with health).
    pub fn get_health_status(&self, target: Entity) -> Option<&HealthStatus> {
        self.statuses.get(target).ok().filter(|h| h.answering)
    }

    /// `IsHealthy()`: GREEN or YELLOW; one that does not answer is not healthy.
    pub fn is_healthy(&self, target: Entity) -> bool {
        self.get_health_status(target)
            .is_some_and(HealthStatus::is_healthy)
    }

    /// `CanAcceptLoad(estimatedLoad)`, the load in % of the target's capacity.
    pub fn can_accept_load(&self, target: Entity, estimated_load_pct: f64) -> bool {
        self.get_health_status(target)
            .is_some_and(|h| h.can_accept_load(estimated_load_pct))
    }

    /// The last published status whether or not the target answers (what a broadcast carried).
    pub fn published(&self, target: Entity) -> Option<&HealthStatus> {
        self.statuses.get(target).ok()
    }
}

impl Answer {
    /// The answer an asker keeps from a status.
    pub fn from_status(h: &HealthStatus, now: Nanos, spec: &BackpressureSpec) -> Self {
        let mut filling = h.queue_length as f64 >= spec.filling_above * h.queue_capacity
            && h.time_to_full_s < spec.filling_within_s;
        let mut status = h.status;
        if spec.predictive {
            // Predictive: act on where the queue is heading, not where it is.
            filling |= h.forecast_queue >= spec.filling_above * h.queue_capacity;
            if h.forecast_queue >= h.queue_capacity {
                status = status.max(HealthBand::Red);
            }
        }
        Self {
            at: now,
            status,
            health: h.health,
            filling,
            accepting: h.accepting_load,
            error_rate: h.error_rate,
        }
    }
}

/// How the asker came by the view it acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// A fresh answer to a query (or, in broadcast mode, the last push).
    Fresh,
    /// From the cache, within its time-to-live.
    Cached,
    /// The query failed or no query slot was free: the last answer, past its time-to-live.
    Stale,
    /// Nothing known: the query failed with nothing cached, or the health-check breaker is
    /// open. The asker assumes the worst.
    Unknown,
}

/// A change of a health-check breaker, for the decision log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckEvent {
    /// It opened after repeated failures.
    Opened,
    /// A query got through again.
    Closed,
}

/// Query slots of every asker (component): completion times of its queries in flight.
#[derive(Resource, Debug, Clone, Default)]
pub struct QuerySlots {
    busy: Vec<VecDeque<Nanos>>,
}

impl QuerySlots {
    /// Takes a slot of `asker` at `now` for `hold` ns if one is free.
    pub fn try_take(&mut self, asker: usize, now: Nanos, hold: Nanos, max: u32) -> bool {
        if self.busy.len() <= asker {
            self.busy.resize_with(asker + 1, VecDeque::new);
        }
        let q = &mut self.busy[asker];
        while q.front().is_some_and(|&t| t <= now) {
            q.pop_front();
        }
        if q.len() >= max as usize {
            return false;
        }
        q.push_back(now + hold);
        true
    }
}

/// Everything one query needs besides the target.
pub struct Asking<'a> {
    /// The asker's query slots.
    pub slots: &'a mut QuerySlots,
    /// Asker's component index.
    pub asker: usize,
    /// Now (ns).
    pub now: Nanos,
    /// The asker's cache time-to-live (ns).
    pub ttl: Nanos,
    /// Parameters.
    pub spec: &'a BackpressureSpec,
}

impl Asking<'_> {
    /// Asks through the cache: a fresh cached answer is used as is; else, unless the
    /// health-check breaker is open or no slot is free, the target is queried (`answer` gives
    /// `None` when it does not answer). Returns the view to act on, how it was come by, and a
    /// breaker change if any.
    pub fn ask(
        &mut self,
        view: &mut TargetView,
        stats: &mut QueryStats,
        answer: impl FnOnce() -> Option<Answer>,
    ) -> (Option<Answer>, Freshness, Option<CheckEvent>) {
        let spec = self.spec;
        if spec.broadcast {
            // Pushed every cycle by the target; a target that is down pushes nothing.
            if let Some(a) = answer() {
                view.answer = Some(a);
                return (Some(a), Freshness::Fresh, None);
            }
            return (view.answer, Freshness::Stale, None);
        }
        if let Some(a) = view.answer
            && self.now.saturating_sub(a.at) < self.ttl
        {
            stats.cache_hits += 1;
            return (Some(a), Freshness::Cached, None);
        }
        if view.open_until.is_some_and(|t| self.now < t) {
            stats.skipped += 1;
            return (None, Freshness::Unknown, None);
        }
        if self.now < view.retry_at {
            // A check failed less than a TTL ago: go by what was known.
            return (view.answer, Freshness::Stale, None);
        }
        let hold = (spec.query_time_ms * MS) as Nanos;
        if !self
            .slots
            .try_take(self.asker, self.now, hold, spec.max_concurrent_queries)
        {
            stats.limited += 1;
            return (view.answer, Freshness::Stale, None);
        }
        stats.queries += 1;
        match answer() {
            Some(a) => {
                view.answer = Some(a);
                view.failures = 0;
                let closed = view.open_until.take().map(|_| CheckEvent::Closed);
                (Some(a), Freshness::Fresh, closed)
            }
            None => {
                stats.failures += 1;
                view.failures += 1;
                view.retry_at = self.now + self.ttl;
                let reopen = view.open_until.is_some();
                if reopen || view.failures >= spec.check_failures_to_open {
                    view.open_until = Some(self.now + (spec.check_open_s * SEC) as Nanos);
                    stats.breaker_opens += 1;
                    return (
                        None,
                        Freshness::Unknown,
                        (!reopen).then_some(CheckEvent::Opened),
                    );
                }
                (view.answer, Freshness::Stale, None)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> BackpressureSpec {
        BackpressureSpec {
            max_concurrent_queries: 2,
            query_time_ms: 1.0,
            check_failures_to_open: 3,
            check_open_s: 5.0,
            ..Default::default()
        }
    }

    fn green(at: Nanos) -> Answer {
        Answer {
            at,
            status: HealthBand::Green,
            health: 1.0,
            filling: false,
            accepting: true,
            error_rate: 0.0,
        }
    }

    fn asking<'a>(slots: &'a mut QuerySlots, spec: &'a BackpressureSpec, now: Nanos) -> Asking<'a> {
        Asking {
            slots,
            asker: 0,
            now,
            ttl: 100 * MS as Nanos,
            spec,
        }
    }

    #[test]
    fn cached_answers_are_used_until_their_ttl_and_slots_limit_concurrent_queries() {
        let spec = spec();
        let mut slots = QuerySlots::default();
        let mut stats = QueryStats::default();
        let mut views = vec![TargetView::default(); 3];
        // Three targets asked at once with two slots: the third gets nothing fresh.
        let sources: Vec<Freshness> = views
            .iter_mut()
            .map(|v| {
                asking(&mut slots, &spec, 0)
                    .ask(v, &mut stats, || Some(green(0)))
                    .1
            })
            .collect();
        assert_eq!(
            sources,
            [Freshness::Fresh, Freshness::Fresh, Freshness::Stale]
        );
        assert_eq!((stats.queries, stats.limited), (2, 1));
        // Within the TTL the cache answers; the slots are free again after the query time.
        let later =
            asking(&mut slots, &spec, 50 * MS as Nanos).ask(&mut views[0], &mut stats, || None);
        assert_eq!(later.1, Freshness::Cached);
        let t = 2 * MS as Nanos;
        let third = asking(&mut slots, &spec, t).ask(&mut views[2], &mut stats, || Some(green(t)));
        assert_eq!(third.1, Freshness::Fresh);
        assert_eq!((stats.queries, stats.cache_hits), (3, 1));
    }

    #[test]
    fn a_target_that_keeps_failing_is_not_asked_until_the_breaker_times_out() {
        let spec = spec();
        let mut slots = QuerySlots::default();
        let mut stats = QueryStats::default();
        let mut view = TargetView::default();
        let mut events = vec![];
        for k in 0..5u64 {
            let now = k * SEC as Nanos;
            let (_, src, ev) = asking(&mut slots, &spec, now).ask(&mut view, &mut stats, || None);
            events.push((src, ev));
        }
        // Two failures fall back to what was known (nothing), the third opens the breaker,
        // then the target is not asked at all.
        assert_eq!(events[0], (Freshness::Stale, None));
        assert_eq!(events[2], (Freshness::Unknown, Some(CheckEvent::Opened)));
        assert_eq!(events[3], (Freshness::Unknown, None));
        assert_eq!((stats.queries, stats.failures, stats.skipped), (3, 3, 2));
        // After the open time one query goes through; an answer closes the breaker.
        let now = 8 * SEC as Nanos;
        let (got, src, ev) =
            asking(&mut slots, &spec, now).ask(&mut view, &mut stats, || Some(green(now)));
        assert_eq!((src, ev), (Freshness::Fresh, Some(CheckEvent::Closed)));
        assert!(got.is_some_and(|g| g.accepting));
        assert_eq!(view.failures, 0);
    }
}
