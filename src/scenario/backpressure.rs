//! Parameters of seed 000's flow control: adaptive rate control per link, the backpressure delay
//! table, health-query caching. Off unless `enabled`; every default is the seed's value.

use serde::{Deserialize, Serialize};

/// Seed 000's backpressure system.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BackpressureSpec {
    /// Switch the system on (default off, so a lesson can compare).
    pub enabled: bool,
    /// Share of a receiver's processing capacity kept in reserve: safe rate = capacity x (1 -
    /// this) (default 0.10).
    pub safety_buffer: f64,
    /// Rate change per cycle by the receiver's status (default GREEN +5%, YELLOW -25%, RED -50%,
    /// CRITICAL -75%). YELLOW cuts apply only while the receiver's queue is filling (see
    /// `filling_within_s`); a receiver's recommendation, when it makes one, takes precedence.
    pub adjust: StatusAdjust,
    /// A queue counts as filling when it is at least `filling_above` full and, at its current
    /// growth, would be full within this many seconds (default 60). Not a number of the seed: without it, a YELLOW receiver at a
    /// steady 80% load would be throttled by a quarter every cycle.
    pub filling_within_s: f64,
    /// See `filling_within_s` (default 0.5: half full). Not a number of the seed: a queue a
    /// tenth full at 80% load is ordinary noise.
    pub filling_above: f64,
    /// Largest increase per cycle (default 0.10).
    pub max_increase: f64,
    /// A receiver remembers the capacity it measured while overloaded (what it really served
    /// while its queue grew) and recommends from it; once it has been GREEN for
    /// `capacity_hold_s`, the remembered capacity rises by this share a cycle back toward its
    /// full capacity, probing for room (default 0.01). Not a number of the seed: without a
    /// memory, a receiver whose queue has just drained would recommend its full capacity and its
    /// senders would climb straight back into the overload, a saw-tooth.
    pub capacity_relax: f64,
    /// A cache that serves stale data while its database is RED or CRITICAL goes back to fresh
    /// data once the database has been better than RED for this long, s (default 30). Not a
    /// number of the seed.
    pub stale_hold_s: f64,
    /// ...then sends this share more of its misses back to the database each cycle (default
    /// 0.25: all of them after four cycles). Not a number of the seed.
    pub stale_return_step: f64,
    /// See `capacity_relax`, s (default 30); a limit that no longer binds is lifted after the
    /// same time. Not a number of the seed.
    pub capacity_hold_s: f64,
    /// Largest decrease per cycle (default 0.20).
    pub max_decrease: f64,
    /// Decrease allowed at once when the receiver is CRITICAL (default 0.50).
    pub emergency_decrease: f64,
    /// Lowest rate, as a share of the sender's demand (default 0.10).
    pub min_rate: f64,
    /// Extra delay before sending, by the receiver's aggregated health: (at or below health,
    /// delay ms), the largest matching delay applies (default 0.33: 5 ms, 0.17: 20 ms).
    pub delay_by_health: Vec<(f64, f64)>,
    /// A request that would wait longer than this at its sender for the rate limit is refused
    /// there (503), ms (default 200).
    pub max_hold_ms: f64,
    /// Health answers are cached by the asker for this long, by the asker's class.
    pub query_ttl_ms: QueryTtl,
    /// Simulate the broadcast design the seed argues against: every component and instance
    /// pushes its status to everyone every health cycle, and senders act on the last push
    /// instead of querying (default off: direct queries).
    pub broadcast: bool,
    /// Health queries one asker may have in flight at once; beyond that it uses its cached
    /// answer (default 8; the seed asks for a limit without giving one).
    pub max_concurrent_queries: u32,
    /// How long a health query holds one of the asker's query slots, ms (default 1).
    pub query_time_ms: f64,
    /// Health checks failing in a row before the asker stops asking that target (default 3)...
    pub check_failures_to_open: u32,
    /// ...for this long, s, then tries once more (default 5). While open the target is treated
    /// as unable to take load.
    pub check_open_s: f64,
    /// Predictive backpressure (the seed's phase 4): senders also act on the receiver's queue
    /// as forecast `health.forecast.horizon_s` ahead, cutting before the overload lands
    /// (default off, so a lesson can set reactive against predictive).
    pub predictive: bool,
    /// Circuit breaker on every link between components.
    pub breaker: BreakerSpec,
}

/// Seed 000's circuit breaker.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerSpec {
    /// CLOSED opens when the error rate stays above this (default 0.5)...
    pub error_threshold: f64,
    /// ...for this long, s (default 30).
    pub over_for_s: f64,
    /// Fewest responses in a cycle for the error rate to count (default 10).
    pub min_responses: u64,
    /// OPEN refuses this share of MEDIUM and LOW requests with 503; HIGH and CRITICAL pass
    /// (default 0.9).
    pub open_block: f64,
    /// OPEN probes the receiver's health this often, s (default 30).
    pub probe_every_s: f64,
    /// HALF-OPEN lets this share through (default 0.5)...
    pub half_open_pass: f64,
    /// ...for this long before closing if stable, s (default 60).
    pub half_open_for_s: f64,
    /// Which answers CLOSED judges (default `Time`: each cycle's, as above; `Count(n)`: the
    /// last `n` calls answered, judged at every answer, resilience4j's count-based window).
    pub window: BreakerWindow,
    /// A call answered more than this after it was sent (ms) is slow (default none).
    pub slow_call_ms: Option<f64>,
    /// CLOSED opens when slow calls reach this share of the window (default 1.0: all).
    pub slow_call_rate: f64,
    /// HALF-OPEN lets exactly this many calls through and judges them once all are answered
    /// (default none: `half_open_pass` for `half_open_for_s`).
    pub half_open_calls: Option<u32>,
}

/// The window a breaker's CLOSED state judges its failure and slow-call rates over.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
pub enum BreakerWindow {
    /// Each control cycle's answers, sustained for `over_for_s` (seed 000's).
    #[default]
    Time,
    /// The last `n` answered calls, judged at every answer once `min_responses` are in
    /// (resilience4j's COUNT_BASED sliding window).
    Count(u32),
}

impl Default for BreakerSpec {
    fn default() -> Self {
        Self {
            error_threshold: 0.5,
            over_for_s: 30.0,
            min_responses: 10,
            open_block: 0.9,
            probe_every_s: 30.0,
            half_open_pass: 0.5,
            half_open_for_s: 60.0,
            window: BreakerWindow::Time,
            slow_call_ms: None,
            slow_call_rate: 1.0,
            half_open_calls: None,
        }
    }
}

impl Default for BackpressureSpec {
    fn default() -> Self {
        Self {
            enabled: false,
            safety_buffer: 0.10,
            adjust: StatusAdjust::default(),
            filling_within_s: 60.0,
            filling_above: 0.5,
            max_increase: 0.10,
            capacity_relax: 0.01,
            capacity_hold_s: 30.0,
            stale_hold_s: 30.0,
            stale_return_step: 0.25,
            max_decrease: 0.20,
            emergency_decrease: 0.50,
            min_rate: 0.10,
            delay_by_health: vec![(0.33, 5.0), (0.17, 20.0)],
            max_hold_ms: 200.0,
            query_ttl_ms: QueryTtl::default(),
            broadcast: false,
            max_concurrent_queries: 8,
            query_time_ms: 1.0,
            check_failures_to_open: 3,
            check_open_s: 5.0,
            predictive: false,
            breaker: BreakerSpec::default(),
        }
    }
}

/// Rate change per cycle by the receiver's status.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StatusAdjust {
    /// GREEN (default +0.05).
    pub green: f64,
    /// YELLOW (default -0.25).
    pub yellow: f64,
    /// RED (default -0.50).
    pub red: f64,
    /// CRITICAL (default -0.75).
    pub critical: f64,
}

impl Default for StatusAdjust {
    fn default() -> Self {
        Self {
            green: 0.05,
            yellow: -0.25,
            red: -0.50,
            critical: -0.75,
        }
    }
}

/// Health-query cache lifetimes by the asking component's class.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct QueryTtl {
    /// Load balancers (default 100 ms).
    pub load_balancer: f64,
    /// Application services, caches, databases, external APIs (default 500 ms).
    pub application: f64,
    /// Background services: queues and brokers (default 2000 ms).
    pub background: f64,
}

impl Default for QueryTtl {
    fn default() -> Self {
        Self {
            load_balancer: 100.0,
            application: 500.0,
            background: 2000.0,
        }
    }
}
