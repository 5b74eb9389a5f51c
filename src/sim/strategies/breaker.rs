//! A link's circuit breaker as a plain state machine: `Breaker` (its state and what it counts),
//! `Breaker::cycle` (seed 000's per-cycle transitions, unit-tested below through what it
//! returns), and `CallLog`, what it remembers of each call for the settings resilience4j users
//! reach for, beside seed 000's per-cycle error rate: a count-based window (the last `n` answered
//! calls, judged at every answer), slow calls (answered more than `slow_call_ms` after they were
//! sent), and a half-open trial of exactly `half_open_calls` calls. With none of them set
//! (the default) it records nothing and decides nothing.

use crate::scenario::{BreakerSpec, BreakerWindow};
use crate::sim::flow::request::Request;
use crate::sim::read::events::BreakerReason;
use crate::sim::schedule::dist::{MS, Nanos, SEC};
use crate::sim::schedule::states::BreakerState;
use std::collections::{HashMap, VecDeque};

/// A circuit breaker's state; the transitions are made once per cycle by the rate controller.
#[derive(Debug, Clone, Default)]
pub struct Breaker {
    /// Current state.
    pub state: BreakerState,
    /// When the state was entered (ns).
    pub since: Nanos,
    /// Since when the error rate has been over the threshold, while CLOSED.
    pub over_since: Option<Nanos>,
    /// Last probe of the receiver's health, while OPEN.
    pub probed: Nanos,
    /// (responses, errors) at the last cycle and at the start of HALF-OPEN.
    pub seen: (u64, u64),
    /// (responses, errors) when HALF-OPEN began.
    pub half_open_base: (u64, u64),
    /// When the last cycle ran: the start of the window the next one judges.
    pub last_cycle: Nanos,
    /// Requests refused by the breaker (simulated units).
    pub refused: u64,
    /// Share of requests refused in the current state.
    pub block: f64,
    /// Whether HIGH and CRITICAL requests always pass (OPEN).
    pub priority_passes: bool,
    /// Per-call memory for count windows, slow calls and fixed half-open trials.
    pub calls: CallLog,
    /// Slow answers counted at the last cycle.
    pub slow_seen: u64,
}

impl Breaker {
    /// Enters `state` at `now` with the shares of the spec.
    pub fn enter(&mut self, state: BreakerState, now: Nanos, open_block: f64, half_open_pass: f64) {
        self.state = state;
        self.since = now;
        self.probed = now;
        self.over_since = None;
        (self.block, self.priority_passes) = match state {
            BreakerState::Closed => (0.0, false),
            BreakerState::Open => (open_block, true),
            // A fixed trial lets its permits through and refuses the rest, without a draw.
            BreakerState::HalfOpen if self.calls.trial_calls().is_some() => (0.0, false),
            BreakerState::HalfOpen => (1.0 - half_open_pass, false),
        };
        self.calls.entered(state);
    }
}

/// What one cycle of the breaker saw: the answers so far and the receiver's health.
#[derive(Debug, Clone, Copy)]
pub struct CycleSeen {
    /// Answers of the receiver to the calls the breaker let through, so far (cumulative).
    pub responses: u64,
    /// Of those, errors (cumulative).
    pub errors: u64,
    /// The receiver is healthy: GREEN or YELLOW, and its own error rate within the threshold.
    pub healthy: bool,
}

impl Breaker {
    /// One cycle at `now` (seed 000, "Circuit Breaker Integration"): CLOSED opens when the
    /// error rate (or the slow calls' share) has stayed over the threshold for `over_for_s`,
    /// counted from the start of the first cycle that saw it; OPEN probes every
    /// `probe_every_s` and goes HALF-OPEN when the receiver is healthy; HALF-OPEN closes after
    /// `half_open_for_s` if its error rate stayed within the threshold and the receiver is
    /// healthy, and opens again if problems return. A count window (CLOSED) and a fixed trial
    /// (HALF-OPEN) are judged per call instead (`CallLog::on_answer`). Returns the transition
    /// made, `(from, to, why)`.
    pub fn cycle(
        &mut self,
        k: &BreakerSpec,
        now: Nanos,
        seen: CycleSeen,
    ) -> Option<(BreakerState, BreakerState, BreakerReason)> {
        self.calls.configure(k);
        let (resp, errs) = (seen.responses, seen.errors);
        let (d_resp, d_err) = (resp - self.seen.0, errs - self.seen.1);
        self.seen = (resp, errs);
        let d_slow = self.calls.slow - std::mem::replace(&mut self.slow_seen, self.calls.slow);
        let window_start = std::mem::replace(&mut self.last_cycle, now);
        let slow_over =
            k.slow_call_ms.is_some() && d_slow as f64 >= k.slow_call_rate * d_resp as f64;
        let over = d_resp >= k.min_responses
            && (d_err as f64 > k.error_threshold * d_resp as f64 || slow_over);
        let (per_call_closed, trial) = (
            self.calls.counts_calls(),
            self.calls.trial_calls().is_some(),
        );
        let secs = |ns: Nanos| ns as f64 / SEC;
        let next = match self.state {
            BreakerState::Closed if per_call_closed => None,
            BreakerState::HalfOpen if trial => None,
            BreakerState::Closed => {
                if over {
                    let since = *self.over_since.get_or_insert(window_start);
                    let reason = if d_err as f64 > k.error_threshold * d_resp as f64 {
                        BreakerReason::ErrorRate
                    } else {
                        BreakerReason::SlowCalls
                    };
                    (secs(now - since) >= k.over_for_s).then_some((BreakerState::Open, reason))
                } else {
                    self.over_since = None;
                    None
                }
            }
            BreakerState::Open => {
                if secs(now - self.probed) >= k.probe_every_s {
                    self.probed = now;
                    seen.healthy
                        .then_some((BreakerState::HalfOpen, BreakerReason::ProbeHealthy))
                } else {
                    None
                }
            }
            BreakerState::HalfOpen => {
                if over {
                    Some((BreakerState::Open, BreakerReason::ProblemsReturned))
                } else if secs(now - self.since) >= k.half_open_for_s {
                    let (r0, e0) = self.half_open_base;
                    let rate = (errs - e0) as f64 / ((resp - r0).max(1)) as f64;
                    if rate <= k.error_threshold && seen.healthy {
                        Some((BreakerState::Closed, BreakerReason::Stable))
                    } else {
                        Some((BreakerState::Open, BreakerReason::NotStable))
                    }
                } else {
                    None
                }
            }
        };
        let (to, reason) = next?;
        let from = self.state;
        self.enter(to, now, k.open_block, k.half_open_pass);
        self.half_open_base = (resp, errs);
        Some((from, to, reason))
    }
}

/// A call's key: the request, its attempt and its fan-out branch.
type CallKey = (u64, u8, u8);

/// The per-call memory of one link's breaker.
#[derive(Debug, Clone, Default)]
pub struct CallLog {
    /// The settings it was configured with.
    spec: Option<BreakerSpec>,
    /// Count window: (failed, slow) of the last answered calls, oldest first.
    ring: VecDeque<(bool, bool)>,
    /// Failed and slow calls in `ring`.
    ring_counts: (u32, u32),
    /// Send times of calls in flight, kept only with a slow-call threshold.
    sent: HashMap<CallKey, Nanos>,
    /// Slow answers so far (the time window judges each cycle's increment).
    pub slow: u64,
    /// HALF-OPEN trial: calls it may still let through, and (answered, failed, slow).
    pub permits: u32,
    trial: (u32, u32, u32),
}

impl CallLog {
    /// Takes the breaker settings in force (a change starts the memory afresh).
    pub fn configure(&mut self, spec: &BreakerSpec) {
        if self.spec.as_ref() != Some(spec) {
            *self = Self {
                spec: Some(*spec),
                slow: self.slow,
                ..Self::default()
            };
        }
    }

    fn slow_ns(&self) -> Option<Nanos> {
        let ms = self.spec?.slow_call_ms?;
        Some((ms * MS) as Nanos)
    }

    /// A fixed half-open trial is configured.
    pub fn trial_calls(&self) -> Option<u32> {
        self.spec.and_then(|s| s.half_open_calls)
    }

    /// Whether CLOSED is judged call by call (a count window) rather than per cycle.
    pub fn counts_calls(&self) -> bool {
        matches!(self.spec.map(|s| s.window), Some(BreakerWindow::Count(_)))
    }

    /// A call goes on the wire at `at`.
    #[inline]
    pub fn on_sent(&mut self, req: &Request, at: Nanos) {
        if self.slow_ns().is_some() {
            self.sent.insert((req.id, req.attempt, req.branch), at);
        }
    }

    /// The breaker entered `state`: the count window starts afresh, a trial gets its permits.
    pub fn entered(&mut self, state: BreakerState) {
        self.ring.clear();
        self.ring_counts = (0, 0);
        self.trial = (0, 0, 0);
        self.permits = match state {
            BreakerState::HalfOpen => self.trial_calls().unwrap_or(0),
            _ => 0,
        };
    }

    /// HALF-OPEN with a fixed trial: whether one more call may go (taking its permit).
    pub fn take_permit(&mut self) -> bool {
        let ok = self.permits > 0;
        self.permits -= ok as u32;
        ok
    }

    /// The call `req` was answered at `at`, `failed` or not, while the breaker was in `state`:
    /// the transition this answer decides, if any.
    pub fn on_answer(
        &mut self,
        req: &Request,
        at: Nanos,
        failed: bool,
        state: BreakerState,
    ) -> Option<(BreakerState, BreakerReason)> {
        let spec = self.spec?;
        let slow = match self.slow_ns() {
            Some(limit) => (self.sent.remove(&(req.id, req.attempt, req.branch)))
                .is_some_and(|sent| at.saturating_sub(sent) > limit),
            None => false,
        };
        self.slow += slow as u64;
        let over = |n: u32, failed: u32, slow: u32| {
            let n = n.max(1) as f64;
            if failed as f64 / n >= spec.error_threshold {
                Some(BreakerReason::ErrorRate)
            } else if spec.slow_call_ms.is_some() && slow as f64 / n >= spec.slow_call_rate {
                Some(BreakerReason::SlowCalls)
            } else {
                None
            }
        };
        match (state, spec.window) {
            (BreakerState::Closed, BreakerWindow::Count(n)) => {
                self.ring.push_back((failed, slow));
                self.ring_counts.0 += failed as u32;
                self.ring_counts.1 += slow as u32;
                if self.ring.len() > n as usize
                    && let Some((f, s)) = self.ring.pop_front()
                {
                    self.ring_counts.0 -= f as u32;
                    self.ring_counts.1 -= s as u32;
                }
                let len = self.ring.len() as u32;
                if (len as u64) < spec.min_responses.max(1) {
                    return None;
                }
                over(len, self.ring_counts.0, self.ring_counts.1).map(|r| (BreakerState::Open, r))
            }
            (BreakerState::HalfOpen, _) => {
                let want = spec.half_open_calls?;
                let t = &mut self.trial;
                *t = (t.0 + 1, t.1 + failed as u32, t.2 + slow as u32);
                if t.0 < want {
                    return None;
                }
                Some(match over(t.0, t.1, t.2) {
                    Some(_) => (BreakerState::Open, BreakerReason::TrialFailed),
                    None => (BreakerState::Closed, BreakerReason::TrialPassed),
                })
            }
            _ => None,
        }
    }

    /// The share of the count window's calls that failed and that were slow (`None` for a
    /// time window or an empty one).
    pub fn window_rates(&self) -> Option<(f64, f64)> {
        let n = self.ring.len();
        (self.counts_calls() && n > 0).then(|| {
            let n = n as f64;
            (self.ring_counts.0 as f64 / n, self.ring_counts.1 as f64 / n)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BreakerReason::*;
    use BreakerState::*;

    /// A breaker driven one health cycle a second, with the receiver's answers of each cycle.
    struct Drive {
        b: Breaker,
        k: BreakerSpec,
        seen: CycleSeen,
        t: u64,
    }

    impl Drive {
        fn new(k: BreakerSpec) -> Self {
            let seen = CycleSeen {
                responses: 0,
                errors: 0,
                healthy: true,
            };
            Self {
                b: Breaker::default(),
                k,
                seen,
                t: 0,
            }
        }

        /// The next second: `answers` of which `errors` failed, the receiver `healthy` or not.
        fn second(
            &mut self,
            answers: u64,
            errors: u64,
            healthy: bool,
        ) -> Option<(BreakerState, BreakerState, BreakerReason)> {
            self.t += 1;
            self.seen.responses += answers;
            self.seen.errors += errors;
            self.seen.healthy = healthy;
            self.b.cycle(&self.k, self.t * SEC as u64, self.seen)
        }

        /// A default breaker taken OPEN by 60% errors (at 30 s), then HALF-OPEN by a healthy
        /// probe (at 60 s).
        fn half_open() -> Self {
            let mut d = Self::new(BreakerSpec::default());
            d.until_change(30, 100, 60, true);
            d.until_change(30, 10, 0, true);
            assert_eq!(d.b.state, HalfOpen);
            d
        }

        /// Seconds until the first transition (at most `limit`), each like `second`'s.
        fn until_change(
            &mut self,
            limit: u64,
            answers: u64,
            errors: u64,
            healthy: bool,
        ) -> Option<(u64, (BreakerState, BreakerState, BreakerReason))> {
            (0..limit).find_map(|_| self.second(answers, errors, healthy).map(|c| (self.t, c)))
        }
    }

    #[test]
    fn closed_opens_once_the_error_rate_has_held_over_the_threshold_for_over_for_s() {
        let mut d = Drive::new(BreakerSpec::default());
        // 60% errors from the first second on: counted from the start of that first cycle.
        assert_eq!(
            d.until_change(100, 100, 60, true),
            Some((30, (Closed, Open, ErrorRate)))
        );
        assert_eq!(d.b.state, Open);
        assert_eq!(d.b.block, 0.9, "OPEN refuses open_block of the requests");
        assert!(
            d.b.priority_passes,
            "HIGH and CRITICAL pass an OPEN breaker"
        );
    }

    #[test]
    fn a_cycle_under_the_threshold_starts_the_count_again() {
        let mut d = Drive::new(BreakerSpec::default());
        assert_eq!(d.until_change(20, 100, 60, true), None);
        assert_eq!(
            d.second(100, 50, true),
            None,
            "50% is not over a 0.5 threshold"
        );
        assert_eq!(
            d.until_change(100, 100, 60, true),
            Some((51, (Closed, Open, ErrorRate)))
        );
    }

    #[test]
    fn a_cycle_with_fewer_than_min_responses_is_not_judged() {
        let mut d = Drive::new(BreakerSpec::default());
        assert_eq!(d.until_change(200, 9, 9, true), None);
        assert_eq!(d.b.state, Closed);
    }

    #[test]
    fn open_probes_every_probe_every_s_and_half_opens_only_on_a_healthy_receiver() {
        let mut d = Drive::new(BreakerSpec::default());
        assert!(d.until_change(30, 100, 60, true).is_some());
        // Unhealthy at the probe of 60 s; healthy at 75 s, between probes: still OPEN.
        assert_eq!(d.until_change(30, 10, 10, false), None);
        assert_eq!(d.until_change(15, 10, 0, true), None);
        assert_eq!(
            d.until_change(30, 10, 0, true),
            Some((90, (Open, HalfOpen, ProbeHealthy)))
        );
        assert_eq!(d.b.block, 0.5, "HALF-OPEN lets half_open_pass through");
        assert!(!d.b.priority_passes);
    }

    #[test]
    fn half_open_closes_after_half_open_for_s_when_stable() {
        let mut d = Drive::half_open();
        // 10% errors (within the threshold) for 60 s, receiver healthy.
        assert_eq!(
            d.until_change(100, 100, 10, true),
            Some((120, (HalfOpen, Closed, Stable)))
        );
        assert_eq!(d.b.block, 0.0);
    }

    #[test]
    fn half_open_opens_again_when_problems_return_or_the_receiver_is_unhealthy() {
        let mut d = Drive::half_open();
        assert_eq!(d.until_change(10, 100, 0, true), None);
        assert_eq!(
            d.second(100, 80, true),
            Some((HalfOpen, Open, ProblemsReturned))
        );

        let mut d = Drive::half_open();
        // No errors, but the receiver is not healthy when the 60 s are up.
        assert_eq!(
            d.until_change(100, 100, 0, false),
            Some((120, (HalfOpen, Open, NotStable)))
        );
    }

    #[test]
    fn slow_calls_open_a_breaker_with_a_slow_call_threshold() {
        let k = BreakerSpec {
            slow_call_ms: Some(100.0),
            slow_call_rate: 0.5,
            ..BreakerSpec::default()
        };
        let mut d = Drive::new(k);
        d.b.calls.configure(&k);
        // Each second, 20 calls answered 200 ms after they were sent, none failed.
        let mut id = 0;
        let change = (0..100).find_map(|_| {
            for _ in 0..20 {
                id += 1;
                let req = Request::sample(id, 0, crate::sim::flow::request::Priority::Medium);
                let sent = d.t * SEC as u64;
                d.b.calls.on_sent(&req, sent);
                d.b.calls
                    .on_answer(&req, sent + 200_000_000, false, d.b.state);
            }
            d.second(20, 0, true).map(|c| (d.t, c))
        });
        assert_eq!(change, Some((30, (Closed, Open, SlowCalls))));
    }
}
