//! What a client does beyond timeouts and backoff (seeds 002-004): a retry budget (retries at
//! most a share of first attempts plus a floor per second, as Finagle and gRPC do) and
//! client-side adaptive throttling (the Google SRE book's: reject locally with probability
//! max(0, (requests - k·accepts) / (requests + 1)) over a sliding window).

use super::dist::{Nanos, SEC};
use crate::scenario::{RetryBudgetSpec, ThrottleSpec};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// A retry budget's account: tokens earned by first attempts and by time, spent by retries.
#[derive(Debug, Clone)]
struct Budget {
    spec: RetryBudgetSpec,
    tokens: f64,
    last: Nanos,
}

/// Requests and accepts per second over the throttle's window.
#[derive(Debug, Clone)]
struct Throttle {
    spec: ThrottleSpec,
    /// (second, requests, accepts), oldest first.
    seconds: VecDeque<(u64, u64, u64)>,
    totals: (u64, u64),
}

impl Throttle {
    fn bucket(&mut self, now: Nanos) -> &mut (u64, u64, u64) {
        let sec = now / SEC as Nanos;
        let keep = self.spec.window_s.ceil().max(1.0) as u64;
        while self.seconds.front().is_some_and(|b| b.0 + keep <= sec) {
            if let Some(b) = self.seconds.pop_front() {
                self.totals.0 -= b.1;
                self.totals.1 -= b.2;
            }
        }
        if self.seconds.back().is_none_or(|b| b.0 != sec) {
            self.seconds.push_back((sec, 0, 0));
        }
        self.seconds.back_mut().expect("just pushed")
    }
}

/// A source's client behaviours beyond timeouts and backoff.
#[derive(Debug, Clone)]
pub struct ClientPolicy {
    budget: Option<Budget>,
    throttle: Option<Throttle>,
    rng: ChaCha8Rng,
    /// Attempts rejected locally by the throttle.
    pub throttled: u64,
    /// Retries the budget did not allow.
    pub over_budget: u64,
}

impl ClientPolicy {
    /// The behaviours of a source's `client` section; `rng` is the source's own throttle stream.
    pub fn new(
        budget: Option<RetryBudgetSpec>,
        throttle: Option<ThrottleSpec>,
        rng: ChaCha8Rng,
    ) -> Self {
        Self {
            budget: budget.map(|spec| Budget {
                spec,
                tokens: 0.0,
                last: 0,
            }),
            throttle: throttle.map(|spec| Throttle {
                spec,
                seconds: VecDeque::new(),
                totals: (0, 0),
            }),
            rng,
            throttled: 0,
            over_budget: 0,
        }
    }

    /// A first attempt earns the budget its share of a retry.
    pub fn first_attempt(&mut self, now: Nanos) {
        if let Some(b) = &mut self.budget {
            Self::refill(b, now);
            b.tokens += b.spec.ratio;
        }
    }

    fn refill(b: &mut Budget, now: Nanos) {
        let dt = now.saturating_sub(b.last) as f64 / SEC;
        b.last = now;
        // At most ten seconds' worth of floor and share saved up.
        let cap = 10.0 * b.spec.min_per_s.max(1.0);
        b.tokens = (b.tokens + dt * b.spec.min_per_s).min(cap.max(b.tokens));
    }

    /// Whether a retry may go now (spending the budget's token if there is one).
    pub fn may_retry(&mut self, now: Nanos) -> bool {
        let Some(b) = &mut self.budget else {
            return true;
        };
        Self::refill(b, now);
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            true
        } else {
            self.over_budget += 1;
            false
        }
    }

    /// Whether the throttle rejects an attempt at `now` locally (it counts as a request).
    pub fn throttles(&mut self, now: Nanos) -> bool {
        let Some(t) = &mut self.throttle else {
            return false;
        };
        t.bucket(now).1 += 1;
        t.totals.0 += 1;
        let (requests, accepts) = (t.totals.0 as f64, t.totals.1 as f64);
        let p = ((requests - t.spec.k * accepts) / (requests + 1.0)).max(0.0);
        if p > 0.0 && self.rng.random::<f64>() < p {
            self.throttled += 1;
            true
        } else {
            false
        }
    }

    /// The backend accepted an attempt (answered it without a refusal or a failure).
    pub fn accepted(&mut self, now: Nanos) {
        if let Some(t) = &mut self.throttle {
            t.bucket(now).2 += 1;
            t.totals.1 += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::dist::{Stream, stream};

    #[test]
    fn a_retry_budget_keeps_retries_within_its_share_and_floor() {
        let spec = RetryBudgetSpec {
            ratio: 0.1,
            min_per_s: 10.0,
        };
        let mut c = ClientPolicy::new(Some(spec), None, stream(1, Stream::Retry, 0));
        // 1,000 first attempts a second for 10 s, every one failing and asking to retry.
        let mut retries = 0;
        for ms in 0..10_000u64 {
            let now = ms * 1_000_000;
            c.first_attempt(now);
            if c.may_retry(now) {
                retries += 1;
            }
        }
        // At most 10% of 10,000 first attempts plus 10 a second for 10 s.
        assert!(retries <= 1_000 + 100, "{retries}");
        assert!(
            retries >= 1_000,
            "the budget is spent, not hoarded: {retries}"
        );
    }

    #[test]
    fn the_throttle_rejects_when_requests_outrun_k_times_accepts() {
        let mut c = ClientPolicy::new(
            None,
            Some(ThrottleSpec::default()),
            stream(1, Stream::Retry, 0),
        );
        // A backend that accepts nothing: after a while almost everything is rejected locally.
        let mut rejected = 0;
        for ms in 0..10_000u64 {
            if c.throttles(ms * 1_000_000) {
                rejected += 1;
            }
        }
        assert!(rejected > 9_000, "{rejected}");
        // One that accepts everything: none but possibly the very first (no history yet).
        let mut ok = ClientPolicy::new(
            None,
            Some(ThrottleSpec::default()),
            stream(1, Stream::Retry, 0),
        );
        let mut rejected = 0;
        for ms in 0..10_000u64 {
            if ok.throttles(ms * 1_000_000) {
                rejected += 1;
            } else {
                ok.accepted(ms * 1_000_000);
            }
        }
        assert!(rejected <= 2, "{rejected}");
    }
}
