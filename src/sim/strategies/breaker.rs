//! What a circuit breaker remembers of each call for the settings resilience4j users reach
//! for, beside seed 000's per-cycle error rate: a count-based window (the last `n` answered
//! calls, judged at every answer), slow calls (answered more than `slow_call_ms` after they were
//! sent), and a half-open trial of exactly `half_open_calls` calls. With none of them set
//! (the default) it records nothing and decides nothing.

use crate::scenario::{BreakerSpec, BreakerWindow};
use crate::sim::flow::request::Request;
use crate::sim::read::events::BreakerReason;
use crate::sim::schedule::dist::{MS, Nanos};
use crate::sim::schedule::states::BreakerState;
use std::collections::{HashMap, VecDeque};

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
