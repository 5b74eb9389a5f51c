//! What connects: links (directed edges) with their call kind, latency, and what sits on them
//! (rate limiters, windows, credits, a broker's redelivery, per-cycle control).

use super::*;
use serde::{Deserialize, Serialize};

/// A rate limiter on a link (seed 004): a request over the limit is refused at the sender with
/// 429 and a Retry-After. Limits are in real requests.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
pub enum LimiterSpec {
    /// Tokens refill at `rate` per second up to `burst`; each request takes one.
    TokenBucket {
        /// Requests per second.
        rate: f64,
        /// Largest burst.
        burst: f64,
    },
    /// At most `limit` requests in each fixed window of `window_s`.
    FixedWindow {
        /// Requests per window.
        limit: f64,
        /// Window, s.
        window_s: f64,
    },
    /// At most `limit` requests in any window of `window_s` (a log of admission times).
    SlidingLog {
        /// Requests per window.
        limit: f64,
        /// Window, s.
        window_s: f64,
    },
    /// Fixed windows' counts, the previous one weighted by its overlap with the sliding one.
    SlidingCounter {
        /// Requests per window.
        limit: f64,
        /// Window, s.
        window_s: f64,
    },
}

/// Credit-based flow control on an `Async` link.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CreditSpec {
    /// Credits the receiver grants: the most messages sent and not yet done with (real
    /// requests).
    pub credits: u64,
    /// Most messages waiting at the sender for a credit (default 0: refuse at once).
    #[serde(default)]
    pub buffer: u64,
}

/// A broker's redelivery and dead-letter queue on a `Pull` link.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RedeliverySpec {
    /// Deliveries in all before a message is dead-lettered (default 3).
    pub attempts: u32,
    /// Retry queues' delays, s: the n-th redelivery waits `delays_s[n-1]` (the last tier for
    /// any after); empty (the default): straight back onto the topic.
    pub delays_s: Vec<f64>,
}

impl Default for RedeliverySpec {
    fn default() -> Self {
        Self {
            attempts: 3,
            delays_s: vec![],
        }
    }
}

/// A link's window of requests in flight.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    /// Most requests in flight (real requests).
    pub max: u64,
    /// Most waiting at the sender for the window to open (real requests; default 0: refuse).
    #[serde(default)]
    pub buffer: u64,
}

/// A directed edge.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// Sender (source or component).
    pub from: String,
    /// Receiver (component).
    pub to: String,
    /// Synchronous call or asynchronous send (default Sync).
    #[serde(default)]
    pub call: CallKind,
    /// A rate limiter at the sender (default none): over it, 429 with a Retry-After.
    #[serde(default)]
    pub limit: Option<LimiterSpec>,
    /// A window: at most `max` requests in flight on the link (sent, not yet answered); more
    /// wait at the sender, up to `buffer`, then are refused with 503 (default none; `Sync` only).
    #[serde(default)]
    pub window: Option<WindowSpec>,
    /// A sender-side adaptive concurrency limit (Netflix's client limiter; default none; `Sync`
    /// only): at most `limit` requests in flight on the link, the limit learning from each
    /// answer's round trip; over it, a request waits in the window's `buffer` if the link also
    /// has a `window` (whose `max` then caps the limit), else is refused with 503 at the sender.
    #[serde(default)]
    pub concurrency: Option<ConcurrencySpec>,
    /// Credit-based flow control on an `Async` link (default none; reactive streams'
    /// `request(n)`): the receiver grants `credits`; the sender sends only with a credit, and
    /// each message the receiver is done with gives one back (after the link's latency). Without
    /// a credit a message waits in the sender's `buffer`; beyond it, it is refused at the sender.
    #[serde(default)]
    pub credits: Option<CreditSpec>,
    /// A broker's redelivery (default none; `Pull` only): a message whose processing fails at
    /// the consumer goes back to the topic, after a retry queue's delay, until it has been
    /// delivered `attempts` times; then it moves to the dead-letter queue.
    #[serde(default)]
    pub redelivery: Option<RedeliverySpec>,
    /// One-way network latency (default 0 ms).
    #[serde(default)]
    pub latency: Timing,
    /// Seed 000's alternative route: with flow control on, while the sender hears that `to`
    /// cannot accept load (not accepting, RED or CRITICAL, or its health checks keep failing)
    /// and this component can, requests for `to` go here instead (default none). The sender
    /// needs a link to it, and it needs links to whatever `to` links to.
    #[serde(default)]
    pub alternative: Option<String>,
    /// Who runs the link's per-cycle flow control when `backpressure.enabled` is on: `Seed000`
    /// (default: rate limit, breaker, backpressure delay) or `Off` (the sender sends as it
    /// likes: no limit, no breaker, no delay, though the receiver still counts its traffic).
    #[serde(default)]
    pub control: LinkControlSpec,
}

/// A link's per-cycle control (the policy seam's `control`).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
pub enum LinkControlSpec {
    /// Seed 000's adaptive rate control and circuit breaker.
    #[default]
    Seed000,
    /// No control on this link.
    Off,
}

/// How a link behaves.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
pub enum CallKind {
    /// The sender's worker waits for the response.
    #[default]
    Sync,
    /// Fire-and-forget into the receiver's queue; the sender is free at once.
    Async,
    /// From a `Queue` (broker) only: messages wait on the link (the topic) until an instance of
    /// the receiver has an idle worker and pulls one. The sender is free at once. The topic holds
    /// at most the broker's `queue` capacity; beyond it messages are dropped.
    Pull,
}

/// A random duration: mean and shape.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Timing {
    /// Mean in ms.
    pub mean_ms: f64,
    /// Shape (default Deterministic).
    pub shape: Shape,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            mean_ms: 0.0,
            shape: Shape::Deterministic,
        }
    }
}
