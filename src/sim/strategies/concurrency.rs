//! Adaptive concurrency limits (Netflix's concurrency-limits family) on a server: an instance
//! admits at most `limit` requests at once (queued, in service or waiting on a call); beyond it
//! an arrival is refused with 503. The limit moves with every completion, from the time the
//! request spent in the instance and whether it was dropped (failed, or done after its client
//! gave up): AIMD (additive increase, multiplicative decrease), Vegas (estimates the queue from
//! the shortest time seen) and Gradient2 (the ratio of a long-term average time to the latest).

use crate::scenario::ConcurrencySpec;

/// A concurrency limiter's state.
#[derive(Debug, Clone)]
pub struct ConcurrencyLimit {
    spec: ConcurrencySpec,
    limit: f64,
    /// Vegas: the shortest time seen (ns). Gradient2: the long-term average (ns).
    base: f64,
    /// Vegas and Gradient2 learn from windows of samples, as the library's windowed limit does:
    /// (samples, sum of times, most held, any drop).
    window: (u32, f64, u64, bool),
}

/// Samples per window for Vegas and Gradient2 (the library's default window size is 10; a
/// longer one smooths exponential service times).
const WINDOW: u32 = 20;

impl ConcurrencyLimit {
    /// A limiter starting at its spec's initial limit.
    pub fn new(spec: ConcurrencySpec) -> Self {
        Self {
            spec,
            limit: spec.bounds().0,
            base: 0.0,
            window: (0, 0.0, 0, false),
        }
    }

    /// Requests the instance may hold now.
    pub fn limit(&self) -> u64 {
        self.limit.floor().max(1.0) as u64
    }

    /// One request left after `rtt` ns in the instance, with `inflight` held when it left;
    /// `dropped` when it failed or its client had given up.
    pub fn sample(&mut self, rtt: f64, inflight: u64, dropped: bool) {
        let (_, min, max) = self.spec.bounds();
        let mut rtt = rtt.max(1.0);
        let (mut inflight, mut dropped) = (inflight, dropped);
        if !matches!(self.spec, ConcurrencySpec::Aimd { .. }) {
            let w = &mut self.window;
            *w = (w.0 + 1, w.1 + rtt, w.2.max(inflight), w.3 || dropped);
            if w.0 < WINDOW {
                return;
            }
            (rtt, inflight, dropped) = (w.1 / w.0 as f64, w.2, w.3);
            *w = (0, 0.0, 0, false);
        }
        self.limit = match self.spec {
            ConcurrencySpec::Aimd { backoff, .. } => {
                if dropped {
                    self.limit * backoff
                } else if inflight as f64 * 2.0 >= self.limit {
                    self.limit + 1.0 / self.limit.max(1.0)
                } else {
                    self.limit
                }
            }
            ConcurrencySpec::Vegas { .. } => {
                if self.base == 0.0 || rtt < self.base {
                    self.base = rtt;
                }
                let queue = self.limit * (1.0 - self.base / rtt);
                let log = self.limit.max(2.0).log10();
                let (alpha, beta) = (3.0 * log, 6.0 * log);
                if dropped {
                    self.limit - log
                } else if queue <= alpha {
                    self.limit + log
                } else if queue >= beta {
                    self.limit - log
                } else {
                    self.limit
                }
            }
            ConcurrencySpec::Gradient2 {
                tolerance,
                smoothing,
                ..
            } => {
                // As the library does: a long-term average over about 600 samples, pulled down
                // faster once times have recovered; no growth while less than half used; drops
                // are not a signal of their own.
                self.base = if self.base == 0.0 {
                    rtt
                } else {
                    self.base + (rtt - self.base) / 600.0
                };
                if self.base / rtt > 2.0 {
                    self.base *= 0.95;
                }
                if (inflight as f64) < self.limit / 2.0 {
                    self.limit
                } else {
                    let gradient = (tolerance * self.base / rtt).clamp(0.5, 1.0);
                    let target = self.limit * gradient + 4.0;
                    self.limit * (1.0 - smoothing) + target * smoothing
                }
            }
        }
        .clamp(min, max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server that serves `capacity` at once in 10 ms; beyond, each extra request queues
    /// and adds 10 ms / capacity. Drives a limiter with a client that always has work.
    fn drive(spec: ConcurrencySpec, capacity: f64) -> Vec<f64> {
        let mut l = ConcurrencyLimit::new(spec);
        let mut seen = vec![];
        for _ in 0..20_000 {
            let inflight = l.limit() as f64;
            let rtt = 10e6 * (1.0 + (inflight - capacity).max(0.0) / capacity);
            // Past three times the capacity the clients give up: a drop.
            let dropped = inflight > 3.0 * capacity;
            l.sample(rtt, inflight as u64, dropped);
            seen.push(l.limit);
        }
        seen
    }

    #[test]
    fn aimd_saw_tooths_within_its_bounds_and_the_others_settle_near_the_capacity() {
        let aimd = drive(
            ConcurrencySpec::Aimd {
                initial: 10.0,
                min: 1.0,
                max: 200.0,
                backoff: 0.9,
            },
            20.0,
        );
        let tail = &aimd[10_000..];
        let (lo, hi) = tail
            .iter()
            .fold((f64::MAX, 0.0f64), |a, x| (a.0.min(*x), a.1.max(*x)));
        assert!(lo >= 1.0 && hi <= 200.0, "{lo}..{hi}");
        assert!(
            hi - lo > 1.0,
            "it keeps probing and backing off: {lo}..{hi}"
        );
        assert!(
            hi <= 62.0 && lo >= 40.0,
            "around the drop point: {lo}..{hi}"
        );
        let vegas = drive(
            ConcurrencySpec::Vegas {
                initial: 10.0,
                min: 1.0,
                max: 200.0,
            },
            20.0,
        );
        let v = vegas.last().copied().unwrap_or(0.0);
        assert!(
            (20.0..40.0).contains(&v),
            "Vegas settles just past the capacity: {v}"
        );
        let gradient = drive(
            ConcurrencySpec::Gradient2 {
                initial: 10.0,
                min: 1.0,
                max: 200.0,
                tolerance: 1.5,
                smoothing: 0.2,
            },
            20.0,
        );
        // Gradient2 follows its long-term average up (the library's known drift) until the
        // latest times pass `tolerance` times it: above the capacity, within its bounds.
        assert!(gradient.iter().all(|g| (1.0..=200.0).contains(g)));
        let g = gradient.last().copied().unwrap_or(0.0);
        assert!((20.0..200.0).contains(&g), "Gradient2 ends at {g}");
    }
}
