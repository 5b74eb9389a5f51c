//! What a client does beyond timeouts and backoff (seeds 002-004): a retry budget (retries at
//! most a share of the first attempts of the last `ttl` seconds plus a floor per second, as
//! Finagle's `RetryBudget` does) and
//! client-side adaptive throttling (the Google SRE book's: reject locally with probability
//! max(0, (requests - k·accepts) / (requests + 1)) over a sliding window).

use crate::scenario::{RetryBudgetSpec, ThrottleSpec};
use crate::sim::schedule::dist::{Nanos, SEC};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// Slices a retry budget's `ttl` is cut into (Finagle's `WindowedAdder` uses ten).
const BUDGET_SLICES: u64 = 10;

/// Fixed-point scale of budget amounts: a retry costs this much, a first attempt deposits
/// `ratio` times it (Finagle's `ScaleFactor`), so the account is exact integer arithmetic.
const BUDGET_SCALE: f64 = 1_000.0;

/// A retry budget's account, as Finagle's `RetryBudget` keeps it: a fixed reserve of
/// `min_per_s × ttl` retries, plus what first attempts deposited minus what retries withdrew
/// over the last `ttl` (in slices of `ttl / 10`). Deposits and withdrawals older than `ttl`
/// expire, so a long healthy spell saves up at most `ratio × (first attempts in one ttl)`.
#[derive(Debug, Clone)]
struct Budget {
    /// One slice of the window (ns).
    slice: Nanos,
    /// The reserve, scaled.
    reserve: i64,
    /// A first attempt's deposit, scaled.
    deposit: i64,
    /// (slice index, deposits - withdrawals in it), oldest first; at most `BUDGET_SLICES`.
    slices: VecDeque<(u64, i64)>,
}

impl Budget {
    fn new(spec: RetryBudgetSpec) -> Self {
        let ttl = (spec.ttl_s * SEC) as Nanos;
        Self {
            slice: (ttl / BUDGET_SLICES).max(1),
            reserve: (spec.min_per_s * spec.ttl_s * BUDGET_SCALE).round() as i64,
            deposit: (spec.ratio * BUDGET_SCALE).round() as i64,
            slices: VecDeque::new(),
        }
    }

    /// The window's running sum at `now`, expired slices dropped.
    fn sum(&mut self, now: Nanos) -> i64 {
        let cur = now / self.slice;
        while self
            .slices
            .front()
            .is_some_and(|s| s.0 + BUDGET_SLICES <= cur)
        {
            self.slices.pop_front();
        }
        self.slices.iter().map(|s| s.1).sum()
    }

    fn add(&mut self, now: Nanos, amount: i64) {
        let cur = now / self.slice;
        self.sum(now);
        match self.slices.back_mut() {
            Some(s) if s.0 == cur => s.1 += amount,
            _ => self.slices.push_back((cur, amount)),
        }
    }

    /// Retries the budget could pay for at `now` (expired slices left out, none dropped).
    fn balance(&self, now: Nanos) -> f64 {
        let cur = now / self.slice;
        let live: i64 = (self.slices.iter())
            .filter(|s| s.0 + BUDGET_SLICES > cur)
            .map(|s| s.1)
            .sum();
        (self.reserve + live) as f64 / BUDGET_SCALE
    }
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
}

impl ClientPolicy {
    /// The behaviours of a source's `client` section; `rng` is the source's own throttle stream.
    pub fn new(
        budget: Option<RetryBudgetSpec>,
        throttle: Option<ThrottleSpec>,
        rng: ChaCha8Rng,
    ) -> Self {
        Self {
            budget: budget.map(Budget::new),
            throttle: throttle.map(|spec| Throttle {
                spec,
                seconds: VecDeque::new(),
                totals: (0, 0),
            }),
            rng,
        }
    }

    /// A first attempt deposits its share of a retry in the budget.
    pub fn first_attempt(&mut self, now: Nanos) {
        if let Some(b) = &mut self.budget {
            let d = b.deposit;
            b.add(now, d);
        }
    }

    /// Whether a retry may go now (withdrawing one retry from the budget if it can pay).
    pub fn may_retry(&mut self, now: Nanos) -> bool {
        let Some(b) = &mut self.budget else {
            return true;
        };
        let cost = BUDGET_SCALE as i64;
        let ok = b.reserve + b.sum(now) >= cost;
        if ok {
            b.add(now, -cost);
        }
        ok
    }

    /// The retries the budget could pay for at `now` (`None` without a budget).
    pub fn budget_balance(&self, now: Nanos) -> Option<f64> {
        self.budget.as_ref().map(|b| b.balance(now))
    }

    /// The throttle's probability of rejecting an attempt locally now, from its window's
    /// requests and accepts (`None` without a throttle).
    pub fn throttle_probability(&self) -> Option<f64> {
        self.throttle.as_ref().map(|t| {
            let (requests, accepts) = (t.totals.0 as f64, t.totals.1 as f64);
            ((requests - t.spec.k * accepts) / (requests + 1.0)).max(0.0)
        })
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
        p > 0.0 && self.rng.random::<f64>() < p
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
    use crate::sim::schedule::dist::{Stream, stream};

    #[test]
    fn a_retry_budget_keeps_retries_within_its_share_and_floor() {
        let spec = RetryBudgetSpec {
            ratio: 0.1,
            min_per_s: 10.0,
            ttl_s: 10.0,
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
