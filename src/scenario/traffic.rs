//! What arrives: traffic sources, their rate schedules and flows (routes of hops), priority
//! mixes, and the client behaviour (timeouts, retries with backoff, budgets, throttling).

use serde::{Deserialize, Serialize};

/// A traffic source: a population of clients with an arrival process, a rate schedule, a flow
/// mix, a priority mix, a timeout and a retry policy.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// Unique name (shares the namespace with components).
    pub name: String,
    /// How arrivals are spaced (default Poisson).
    #[serde(default)]
    pub arrivals: Arrivals,
    /// Requests per second (real requests) over time.
    pub rate: RateSchedule,
    /// Which routes requests take; weights are normalised.
    pub flows: Vec<FlowSpec>,
    /// Share of each priority class (default all MEDIUM).
    #[serde(default)]
    pub priorities: PriorityMix,
    /// Client timeout and retries.
    #[serde(default)]
    pub client: ClientSpec,
    /// Where the desktop app draws the source (picture units). Default: the left column.
    #[serde(default)]
    pub layout: Option<(f32, f32)>,
}

/// Spacing of arrivals.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, Default, PartialEq)]
pub enum Arrivals {
    /// Exponential inter-arrival times (memoryless).
    #[default]
    Poisson,
    /// Evenly spaced arrivals, 1/rate apart.
    Deterministic,
    /// Alternating ON/OFF periods with exponential lengths; Poisson during ON at a rate raised so
    /// the long-run mean equals the schedule's rate.
    Bursty {
        /// Mean ON period in seconds.
        on_s: f64,
        /// Mean OFF period in seconds.
        off_s: f64,
    },
}

/// Arrival rate in real requests per second as a function of time.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub enum RateSchedule {
    /// The same rate throughout.
    Constant(f64),
    /// Linear change from `from` to `to` between `start_s` and `end_s`.
    Ramp {
        /// Rate before `start_s`.
        from: f64,
        /// Rate after `end_s`.
        to: f64,
        /// Ramp start (s).
        start_s: f64,
        /// Ramp end (s).
        end_s: f64,
    },
    /// `before` until `at_s`, then `after`.
    Step {
        /// Rate before the step.
        before: f64,
        /// Rate after the step.
        after: f64,
        /// Time of the step (s).
        at_s: f64,
    },
    /// `base`, except `peak` from `start_s` for `duration_s`.
    Spike {
        /// Normal rate.
        base: f64,
        /// Rate during the spike.
        peak: f64,
        /// Spike start (s).
        start_s: f64,
        /// Spike length (s).
        duration_s: f64,
    },
    /// `mean + amplitude * sin(2π t / period_s)`: a diurnal pattern.
    Sine {
        /// Mean rate.
        mean: f64,
        /// Swing either side of the mean (must not exceed it).
        amplitude: f64,
        /// Period (s).
        period_s: f64,
    },
    /// Points `(t_s, rate)` joined by straight lines; flat before the first and after the last.
    Piecewise(Vec<(f64, f64)>),
}

/// One flow (a kind of user request) and its route.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FlowSpec {
    /// Flow name, e.g. "browse".
    pub name: String,
    /// Relative share of this source's requests (default 1).
    #[serde(default = "one")]
    pub weight: f64,
    /// Components visited in order; each consecutive pair must be linked.
    pub path: Vec<Hop>,
}

fn one() -> f64 {
    1.0
}

/// One step of a route.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
pub enum Hop {
    /// Always the named component.
    To(String),
    /// One of several components, chosen per request with the given probabilities. They add up
    /// to 1, or (not on the first hop) to less: the rest of the requests end their route here,
    /// as a routing matrix's exit.
    OneOf(Vec<(String, f64)>),
    /// Feedback: with this probability the request goes back to the named component, visited
    /// earlier on this path, and follows the path again from there; otherwise it goes on. A
    /// request may loop any number of times (geometrically), as in a Jackson network with
    /// re-entry.
    Back(String, f64),
    /// Fan-out: the component before this hop calls every component in `to` at once, and goes
    /// on (to the next hop, from itself) when `wait_for` of them have answered (default: all);
    /// a failure of any fails the request, unless it is listed in `optional`. Each call ends at
    /// its target. Latency is the slowest awaited answer: where tail latency amplifies.
    Fan {
        /// Components called at once (2 to 32).
        to: Vec<String>,
        /// Answers awaited before going on (default all; the first k to answer).
        #[serde(default)]
        wait_for: Option<u32>,
        /// Calls whose failure does not fail the request.
        #[serde(default)]
        optional: Vec<String>,
    },
}

/// Share of each priority class; normalised.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PriorityMix {
    /// Share of CRITICAL requests.
    pub critical: f64,
    /// Share of HIGH requests.
    pub high: f64,
    /// Share of MEDIUM requests.
    pub medium: f64,
    /// Share of LOW requests.
    pub low: f64,
}

impl Default for PriorityMix {
    fn default() -> Self {
        Self {
            critical: 0.0,
            high: 0.0,
            medium: 1.0,
            low: 0.0,
        }
    }
}

/// The client behaviour of a source.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ClientSpec {
    /// The client gives up on an attempt after this many ms (default: waits forever).
    pub timeout_ms: Option<f64>,
    /// Retry policy (default: no retries).
    pub retry: RetrySpec,
    /// Client-side adaptive throttling (Google SRE book; default none).
    pub throttle: Option<ThrottleSpec>,
}

/// Client-side adaptive throttling (Google SRE book, "Handling Overload"): over the last
/// `window_s`, the client rejects a request locally with probability
/// max(0, (requests - k·accepts) / (requests + 1)).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ThrottleSpec {
    /// Multiplier of the accepts (default 2).
    pub k: f64,
    /// Window the counts cover, s (default 120).
    pub window_s: f64,
}

impl Default for ThrottleSpec {
    fn default() -> Self {
        Self {
            k: 2.0,
            window_s: 120.0,
        }
    }
}

/// A retry budget (Finagle's `RetryBudget`): over any `ttl_s`, retries at most `ratio` of the
/// first attempts of that span plus `min_per_s × ttl_s`; deposits older than `ttl_s` expire.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RetryBudgetSpec {
    /// Retries per first attempt (default 0.1).
    pub ratio: f64,
    /// Retries a second whatever the traffic (default 10).
    pub min_per_s: f64,
    /// How long a deposit (and a withdrawal) counts, seconds, 1-60 (default 10, Finagle's).
    pub ttl_s: f64,
}

impl Default for RetryBudgetSpec {
    fn default() -> Self {
        Self {
            ratio: 0.1,
            min_per_s: 10.0,
            ttl_s: 10.0,
        }
    }
}

/// Retries with exponential backoff and jitter.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetrySpec {
    /// Attempts in all, the first included (default 1: no retry).
    pub max_attempts: u32,
    /// Backoff before the first retry, ms (default 100).
    pub base_backoff_ms: f64,
    /// Growth factor per retry (default 2).
    pub multiplier: f64,
    /// Cap on the backoff, ms (default 10000).
    pub max_backoff_ms: f64,
    /// Jitter applied to the backoff (default Full).
    pub jitter: Jitter,
    /// Which outcomes trigger a retry (default all failures).
    pub on: Vec<RetryOn>,
    /// Wait at least the Retry-After a refusal names before retrying (default true).
    pub honor_retry_after: bool,
    /// A retry budget (default none: every failure may be retried up to `max_attempts`).
    pub budget: Option<RetryBudgetSpec>,
}

impl Default for RetrySpec {
    fn default() -> Self {
        Self {
            max_attempts: 1,
            base_backoff_ms: 100.0,
            multiplier: 2.0,
            max_backoff_ms: 10_000.0,
            jitter: Jitter::Full,
            on: vec![
                RetryOn::Dropped,
                RetryOn::Rejected,
                RetryOn::Failed,
                RetryOn::TimedOut,
            ],
            honor_retry_after: true,
            budget: None,
        }
    }
}

/// Jitter flavours (AWS architecture blog naming).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Default)]
pub enum Jitter {
    /// Exactly the computed backoff.
    None,
    /// Uniform in [0, backoff].
    #[default]
    Full,
    /// backoff/2 + uniform in [0, backoff/2].
    Equal,
    /// Uniform in [base, 3 × the previous sleep], capped (AWS's "decorrelated jitter").
    Decorrelated,
}

/// Outcomes a client may retry.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub enum RetryOn {
    /// Queue full somewhere on the route.
    Dropped,
    /// Refused by a policy (503/429).
    Rejected,
    /// Crash or downstream failure.
    Failed,
    /// The client's timeout expired.
    TimedOut,
}

impl RateSchedule {
    /// Rate in real requests per second at time `t_s`.
    pub fn rate_at(&self, t_s: f64) -> f64 {
        match self {
            RateSchedule::Constant(r) => *r,
            RateSchedule::Ramp {
                from,
                to,
                start_s,
                end_s,
            } => {
                if t_s <= *start_s {
                    *from
                } else if t_s >= *end_s {
                    *to
                } else {
                    from + (to - from) * (t_s - start_s) / (end_s - start_s)
                }
            }
            RateSchedule::Step {
                before,
                after,
                at_s,
            } => {
                if t_s < *at_s {
                    *before
                } else {
                    *after
                }
            }
            RateSchedule::Spike {
                base,
                peak,
                start_s,
                duration_s,
            } => {
                if t_s >= *start_s && t_s < start_s + duration_s {
                    *peak
                } else {
                    *base
                }
            }
            RateSchedule::Sine {
                mean,
                amplitude,
                period_s,
            } => mean + amplitude * (std::f64::consts::TAU * t_s / period_s).sin(),
            RateSchedule::Piecewise(points) => piecewise(points, t_s),
        }
    }

    /// The highest rate the schedule ever reaches.
    pub fn peak(&self) -> f64 {
        match self {
            RateSchedule::Constant(r) => *r,
            RateSchedule::Ramp { from, to, .. } => from.max(*to),
            RateSchedule::Step { before, after, .. } => before.max(*after),
            RateSchedule::Spike { base, peak, .. } => base.max(*peak),
            RateSchedule::Sine {
                mean, amplitude, ..
            } => mean + amplitude.abs(),
            RateSchedule::Piecewise(p) => p.iter().map(|x| x.1).fold(0.0, f64::max),
        }
    }
}

fn piecewise(points: &[(f64, f64)], t: f64) -> f64 {
    match points {
        [] => 0.0,
        [(t0, r0), ..] if t <= *t0 => *r0,
        _ => {
            for w in points.windows(2) {
                let ((ta, ra), (tb, rb)) = (w[0], w[1]);
                if t < tb {
                    return if tb > ta {
                        ra + (rb - ra) * (t - ta) / (tb - ta)
                    } else {
                        rb
                    };
                }
            }
            points[points.len() - 1].1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_schedules_follow_their_definitions() {
        let ramp = RateSchedule::Ramp {
            from: 10.0,
            to: 30.0,
            start_s: 10.0,
            end_s: 20.0,
        };
        assert_eq!(ramp.rate_at(0.0), 10.0);
        assert_eq!(ramp.rate_at(15.0), 20.0);
        assert_eq!(ramp.rate_at(25.0), 30.0);
        let pw = RateSchedule::Piecewise(vec![(0.0, 100.0), (10.0, 200.0), (20.0, 0.0)]);
        assert_eq!(pw.rate_at(5.0), 150.0);
        assert_eq!(pw.rate_at(15.0), 100.0);
        assert_eq!(pw.rate_at(99.0), 0.0);
        let spike = RateSchedule::Spike {
            base: 1.0,
            peak: 9.0,
            start_s: 5.0,
            duration_s: 2.0,
        };
        assert_eq!(spike.rate_at(6.9), 9.0);
        assert_eq!(spike.rate_at(7.0), 1.0);
        assert_eq!(spike.peak(), 9.0);
    }
}
