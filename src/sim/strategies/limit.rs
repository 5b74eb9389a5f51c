//! Rate limiters on a link (seed 004): token bucket, fixed window, sliding window log and
//! sliding window counter. Each admits a request now or refuses it with 429 and says when to
//! retry (Retry-After). Limits are given in real requests and kept in simulated ones.

use crate::scenario::LimiterSpec;
use crate::sim::schedule::dist::{Nanos, SEC};
use std::collections::VecDeque;

/// A limiter's state.
#[derive(Debug, Clone)]
pub enum Limiter {
    /// Tokens refill at `rate` per ns up to `burst`; each request takes one.
    TokenBucket {
        /// Tokens per ns.
        rate: f64,
        /// Most tokens.
        burst: f64,
        /// Tokens now.
        tokens: f64,
        /// When `tokens` was last brought up to date.
        last: Nanos,
    },
    /// At most `limit` requests in each window [k·window, (k+1)·window).
    FixedWindow {
        /// Requests per window.
        limit: u64,
        /// Window (ns).
        window: Nanos,
        /// Current window's index.
        current: u64,
        /// Requests admitted in it.
        count: u64,
    },
    /// At most `limit` requests in any window of length `window` (a log of admission times).
    SlidingLog {
        /// Requests per window.
        limit: u64,
        /// Window (ns).
        window: Nanos,
        /// Admission times within the last window.
        log: VecDeque<Nanos>,
    },
    /// The fixed windows' counts, the previous one weighted by how much of it the sliding
    /// window still covers.
    SlidingCounter {
        /// Requests per window.
        limit: u64,
        /// Window (ns).
        window: Nanos,
        /// Current window's index.
        current: u64,
        /// Requests admitted in the previous window and in the current one.
        counts: (u64, u64),
    },
}

impl Limiter {
    /// The limiter `spec` names, in simulated requests (`unit` real ones each).
    pub fn new(spec: LimiterSpec, unit: u64) -> Self {
        let u = unit.max(1) as f64;
        let n = |real: f64| ((real / u).round() as u64).max(1);
        let ns = |s: f64| ((s * SEC) as Nanos).max(1);
        match spec {
            LimiterSpec::TokenBucket { rate, burst } => Limiter::TokenBucket {
                rate: rate / u / SEC,
                burst: (burst / u).max(1.0),
                tokens: (burst / u).max(1.0),
                last: 0,
            },
            LimiterSpec::FixedWindow { limit, window_s } => Limiter::FixedWindow {
                limit: n(limit),
                window: ns(window_s),
                current: 0,
                count: 0,
            },
            LimiterSpec::SlidingLog { limit, window_s } => Limiter::SlidingLog {
                limit: n(limit),
                window: ns(window_s),
                log: VecDeque::new(),
            },
            LimiterSpec::SlidingCounter { limit, window_s } => Limiter::SlidingCounter {
                limit: n(limit),
                window: ns(window_s),
                current: 0,
                counts: (0, 0),
            },
        }
    }

    /// What kind of limiter it is and the rate it admits on average (real requests/s, for
    /// requests of `unit` real ones each).
    pub fn describe(&self, unit: u64) -> (&'static str, f64) {
        let u = unit.max(1) as f64;
        let per_s = |limit: u64, window: Nanos| limit as f64 * u * SEC / window.max(1) as f64;
        match self {
            Limiter::TokenBucket { rate, .. } => ("token bucket", rate * SEC * u),
            Limiter::FixedWindow { limit, window, .. } => ("fixed window", per_s(*limit, *window)),
            Limiter::SlidingLog { limit, window, .. } => ("sliding log", per_s(*limit, *window)),
            Limiter::SlidingCounter { limit, window, .. } => {
                ("sliding window", per_s(*limit, *window))
            }
        }
    }

    /// Admits a request at `now`, or refuses it: `Err(retry after, ns)`.
    pub fn take(&mut self, now: Nanos) -> Result<(), Nanos> {
        match self {
            Limiter::TokenBucket {
                rate,
                burst,
                tokens,
                last,
            } => {
                *tokens = (*tokens + now.saturating_sub(*last) as f64 * *rate).min(*burst);
                *last = now;
                if *tokens >= 1.0 {
                    *tokens -= 1.0;
                    Ok(())
                } else {
                    Err(((1.0 - *tokens) / rate.max(1e-18)).ceil() as Nanos)
                }
            }
            Limiter::FixedWindow {
                limit,
                window,
                current,
                count,
            } => {
                let w = now / *window;
                if w != *current {
                    (*current, *count) = (w, 0);
                }
                if *count < *limit {
                    *count += 1;
                    Ok(())
                } else {
                    Err((w + 1) * *window - now)
                }
            }
            Limiter::SlidingLog { limit, window, log } => {
                while log.front().is_some_and(|t| *t + *window <= now) {
                    log.pop_front();
                }
                if (log.len() as u64) < *limit {
                    log.push_back(now);
                    Ok(())
                } else {
                    Err(log.front().map_or(1, |t| *t + *window - now))
                }
            }
            Limiter::SlidingCounter {
                limit,
                window,
                current,
                counts,
            } => {
                let w = now / *window;
                if w == *current + 1 {
                    *counts = (counts.1, 0);
                } else if w > *current + 1 {
                    *counts = (0, 0);
                }
                *current = w;
                let into = (now - w * *window) as f64 / *window as f64;
                let estimate = counts.0 as f64 * (1.0 - into) + counts.1 as f64;
                if estimate + 1.0 <= *limit as f64 {
                    counts.1 += 1;
                    Ok(())
                } else {
                    Err((w + 1) * *window - now)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Random arrival times over 20 s, bursty: most in short clumps.
    fn arrivals() -> Vec<Nanos> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut t = 0u64;
        let mut out = vec![];
        while t < 20 * SEC as Nanos {
            t += if rng.random::<f64>() < 0.9 {
                rng.random_range(0..200_000)
            } else {
                rng.random_range(0..200_000_000)
            };
            out.push(t);
        }
        out
    }

    fn admitted(mut l: Limiter) -> Vec<Nanos> {
        arrivals()
            .into_iter()
            .filter(|t| l.take(*t).is_ok())
            .collect()
    }

    /// Most admitted in any window of length `w` starting at an admission.
    fn most_in_window(times: &[Nanos], w: Nanos) -> usize {
        let mut best = 0;
        let mut j = 0;
        for i in 0..times.len() {
            while times[j] + w <= times[i] {
                j += 1;
            }
            best = best.max(i - j + 1);
        }
        best
    }

    #[test]
    fn a_token_bucket_never_admits_more_than_burst_plus_rate_times_t() {
        let (rate, burst) = (100.0, 20.0);
        let spec = LimiterSpec::TokenBucket { rate, burst };
        let ok = admitted(Limiter::new(spec, 1));
        for t_s in [0.01, 0.1, 0.5, 1.0, 5.0] {
            let most = most_in_window(&ok, (t_s * SEC) as Nanos);
            assert!(
                most as f64 <= burst + rate * t_s + 1e-9,
                "{most} admitted in {t_s} s"
            );
        }
        assert!(ok.len() > 1000, "it admits at its rate: {}", ok.len());
    }

    #[test]
    fn a_sliding_window_log_never_exceeds_its_limit_in_any_window() {
        let spec = LimiterSpec::SlidingLog {
            limit: 50.0,
            window_s: 1.0,
        };
        let ok = admitted(Limiter::new(spec, 1));
        assert!(most_in_window(&ok, SEC as Nanos) <= 50);
        // A fixed window admits up to twice its limit across a boundary; the log never does.
        let fixed = admitted(Limiter::new(
            LimiterSpec::FixedWindow {
                limit: 50.0,
                window_s: 1.0,
            },
            1,
        ));
        let counter = admitted(Limiter::new(
            LimiterSpec::SlidingCounter {
                limit: 50.0,
                window_s: 1.0,
            },
            1,
        ));
        assert!(most_in_window(&fixed, SEC as Nanos) <= 100);
        assert!(most_in_window(&counter, SEC as Nanos) <= 100);
        assert!(fixed.len() >= ok.len() && !counter.is_empty());
    }

    #[test]
    fn a_refusal_says_when_to_come_back() {
        let mut l = Limiter::new(
            LimiterSpec::TokenBucket {
                rate: 10.0,
                burst: 1.0,
            },
            1,
        );
        assert!(l.take(0).is_ok());
        let after = l.take(0).unwrap_err();
        assert_eq!(after, 100_000_000, "one token in 100 ms");
        assert!(l.take(after).is_ok());
    }
}
