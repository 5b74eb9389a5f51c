//! Scenario files: the RON format people write, parsed into plain structs (no Bevy types) and
//! validated before anything is spawned. Every field is documented in `docs/SCENARIO_FORMAT.md`.

mod backpressure;
pub mod command;
pub mod edit;
pub mod fmt;
mod health;
pub mod names;
pub(crate) mod validate;

pub use backpressure::{BackpressureSpec, BreakerSpec, BreakerWindow, QueryTtl, StatusAdjust};
pub use health::{ForecastSpec, HealthSpec, ScoreWeights, StatusBands};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub use command::{SimCommand, TimedCommand};
/// A number as messages write it: three significant figures when very large or small.
pub use validate::checker::num as shown_number;
pub use validate::{validate, warnings};

/// A whole scenario: the system to simulate and how to run it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name shown in summaries.
    pub name: String,
    /// Free text explaining what the scenario shows.
    #[serde(default)]
    pub description: String,
    /// Clock, seed, sampling and scaling settings.
    #[serde(default)]
    pub sim: SimSettings,
    /// Traffic sources (clients).
    pub sources: Vec<SourceSpec>,
    /// Servers: load balancers, services, caches, databases, queues, external APIs.
    pub components: Vec<ComponentSpec>,
    /// Directed edges between sources/components.
    pub links: Vec<LinkSpec>,
    /// Seed 000's health model (scores, bands, aggregation); defaults are the seed's values.
    #[serde(default)]
    pub health: HealthSpec,
    /// Seed 000's flow control (adaptive rate control, delays, query caching); off by default.
    #[serde(default)]
    pub backpressure: BackpressureSpec,
    /// Scheduled outages (what-if: kill an instance).
    #[serde(default)]
    pub faults: Vec<FaultSpec>,
    /// What-if commands at given times, as the app's command door applies them (the app's
    /// "save session as scenario" writes them; `Load` and `Reset` are not allowed here).
    #[serde(default)]
    pub commands: Vec<TimedCommand>,
}

/// What-if: something goes wrong at a given time for a given length. On an instance (or with
/// `all_instances`, on every instance of the component): taken down (what it holds fails, as in
/// a crash), or with `slowdown` made slower (a noisy neighbour, a GC storm), or with `errors`
/// failing a share of what it serves (a bad deploy: what trips breakers). On a link (`link:
/// "from->to"`): `added_latency_ms` more one-way latency, and `loss`, a share of requests lost
/// on the wire (1.0: a network partition); the sender hears of a lost request as a failure
/// `lost_after_ms` after sending it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Component name (not with `link`).
    #[serde(default)]
    pub component: String,
    /// Instance ordinal (default 0).
    #[serde(default)]
    pub instance: u32,
    /// Every instance of the component (a whole component down, slow or failing).
    #[serde(default)]
    pub all_instances: bool,
    /// A link `from->to` instead of a component.
    #[serde(default)]
    pub link: Option<String>,
    /// When it starts, s.
    pub at_s: f64,
    /// How long it lasts, s.
    pub for_s: f64,
    /// Instead of an outage, service times are multiplied by this while the fault lasts
    /// (default none: the instance goes down).
    #[serde(default)]
    pub slowdown: Option<f64>,
    /// Instead of an outage, the instance fails this share (0-1] of the requests it serves, at
    /// the end of their service (default none).
    #[serde(default)]
    pub errors: Option<f64>,
    /// On a link: one-way latency added to every request and response, ms.
    #[serde(default)]
    pub added_latency_ms: Option<f64>,
    /// On a link: share of requests lost on the wire (0-1; 1 is a partition).
    #[serde(default)]
    pub loss: Option<f64>,
    /// On a link: how long a sender waits for a lost request before it counts it as failed, ms
    /// (default 1000, a connect timeout; at least one tick).
    #[serde(default)]
    pub lost_after_ms: Option<f64>,
}

impl FaultSpec {
    /// Default of `lost_after_ms`.
    pub const LOST_AFTER_MS: f64 = 1000.0;
}

/// Checks a link fault's numbers; `tick_ms` bounds `lost_after_ms` from below (a loss is heard
/// of in a later tick).
pub fn check_link_fault(
    added_ms: f64,
    loss: f64,
    lost_after_ms: f64,
    tick_ms: f64,
) -> Result<(), String> {
    if !(added_ms.is_finite() && (0.0..=1e7).contains(&added_ms)) {
        return Err(format!("added latency {added_ms} ms must be 0 to 1e7 ms"));
    }
    if !(loss.is_finite() && (0.0..=1.0).contains(&loss)) {
        return Err(format!("loss {loss} must be a share from 0 to 1"));
    }
    if added_ms == 0.0 && loss == 0.0 {
        return Err("a link fault needs added latency or loss".into());
    }
    if !(lost_after_ms.is_finite() && lost_after_ms >= tick_ms && lost_after_ms <= 1e7) {
        return Err(format!(
            "lost_after {lost_after_ms} ms must be at least one tick ({tick_ms} ms) and at most 1e7 ms"
        ));
    }
    Ok(())
}

/// Clock, seed, sampling and scaling.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SimSettings {
    /// Length of one fixed simulation tick in milliseconds (default 1).
    pub tick_ms: f64,
    /// How long `flowlab run` simulates, in seconds (default 60).
    pub duration_s: f64,
    /// Root seed every random stream is split from (default 1).
    pub seed: u64,
    /// Metrics sampling interval in seconds (default 1).
    pub sample_every_s: f64,
    /// One simulated request stands for this many real ones (default 1).
    pub request_unit: u32,
    /// Seconds at the start that fidelity checks ignore (default 0). Metrics still cover them.
    pub warmup_s: f64,
    /// Most simulated requests the whole system may hold at once (queued, in service, waiting on
    /// a call, on a topic or held at a sender) before the run stops with a message (default
    /// 5,000,000, about 0.5 GB of the host's memory). An unbounded queue under overload is a
    /// lesson worth watching; this keeps it from taking the host down.
    pub max_held: u64,
}

/// The whole scenario's budget: what the simulation allocates up front is bounded, so that a file
/// `check` accepts never exhausts memory in `run`.
pub mod budget {
    /// Most sources (each a client population with its own streams and counters, and a link).
    pub const SOURCES: usize = 5_000;
    /// Most flows in all (each keeps its own latency histogram, about 32 KB).
    pub const FLOWS: usize = 5_000;
    /// Most components.
    pub const COMPONENTS: usize = 20_000;
    /// Most links.
    pub const LINKS: usize = 100_000;
    /// Most instances in all (autoscaling's `max` counted).
    pub const INSTANCES: u64 = 100_000;
    /// Most simulated workers in all (workers / request_unit, times instances).
    pub const WORKERS: u64 = 4_000_000;
    /// Host bytes per simulated worker (its slot holds the request it serves).
    pub const BYTES_PER_WORKER: u64 = 96;
    /// Host bytes per request held (`sim.max_held`).
    pub const BYTES_PER_HELD: u64 = 100;
}

impl Default for SimSettings {
    fn default() -> Self {
        Self {
            tick_ms: 1.0,
            duration_s: 60.0,
            seed: 1,
            sample_every_s: 1.0,
            request_unit: 1,
            warmup_s: 0.0,
            max_held: 5_000_000,
        }
    }
}

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

/// What a component is; decides which fields apply.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub enum Kind {
    /// Spreads requests over the instances of the next component with `strategy`.
    LoadBalancer,
    /// A web or application service.
    Service,
    /// Ends a request early with probability `hit_ratio`.
    Cache,
    /// A database.
    Database,
    /// A message queue or broker; usually sends on with `Async` links.
    Queue,
    /// A third-party API.
    ExternalApi,
}

/// How a load balancer (or a plain sender) picks the instance of the next component.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
pub enum Balancing {
    /// Each instance in turn.
    #[default]
    RoundRobin,
    /// Uniformly at random.
    Random,
    /// The instance with the fewest requests queued or in service.
    LeastOutstanding,
    /// Seed 000: the healthiest instance, by aggregated health as last answered to the sender's
    /// cached health query, weighed against the work outstanding there: the instance with the
    /// fewest outstanding requests per unit of health. Equal instances share like
    /// `LeastOutstanding`; one at half health gets about half as much; one that does not answer
    /// gets nothing.
    Healthiest,
}

/// Waiting room of an instance.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
pub enum QueueSpec {
    /// At most this many requests wait; the next one is dropped.
    Bounded(u64),
    /// No limit: the queue grows until memory runs out.
    Unbounded,
}

/// What a full (or filling) queue does, and how some strategies serve (seeds 001-004).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Default)]
pub enum QueuePolicySpec {
    /// A full queue refuses the arrival (tail drop), served in `discipline` order.
    #[default]
    DropNewest,
    /// A full queue drops the request that has waited longest to make room.
    DropOldest,
    /// A full queue drops a waiting request chosen at random to make room.
    DropRandom,
    /// An arrival is refused with probability (queue length / capacity)^exponent, so drops
    /// begin before the queue is full (seed 003: depth squared, exponent 2).
    EarlyDrop {
        /// Shape of the curve (2: depth squared).
        exponent: f64,
    },
    /// A full queue drops its newest request of the lowest class below the arrival's, or
    /// refuses the arrival if there is none; serves the highest class first (seed 003).
    PriorityShed,
    /// CoDel (RFC 8289): drops at the head once the queueing delay has stayed above `target_ms`
    /// for `interval_ms`, ever more often until it falls below.
    CoDel {
        /// Acceptable standing delay, ms (default 5).
        target_ms: f64,
        /// Window over which the delay must stay above target, ms (default 100).
        interval_ms: f64,
        /// Follow RFC 8289's pseudo-code exactly (default false: the Linux kernel's restart,
        /// `count - 2`; docs/COMPARE.md, "CoDel: which restart").
        #[serde(default)]
        rfc8289: bool,
    },
    /// Serves the newest request first while the oldest has waited `after_ms` or more (a
    /// standing queue), the oldest first otherwise.
    AdaptiveLifo {
        /// Wait of the oldest request that switches to newest-first, ms.
        after_ms: f64,
    },
    /// Skips (drops) requests whose client has already given up instead of serving them.
    DeadlineAware,
}

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

/// A bulkhead at a component: a compartment of every instance's workers for some flows.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BulkheadSpec {
    /// Flows (by name, from any source) that use this compartment only.
    pub flows: Vec<String>,
    /// Workers it owns per instance.
    pub workers: u32,
    /// Most of its requests waiting per instance (default 0: refuse when its workers are busy).
    #[serde(default)]
    pub queue: u64,
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

/// Load shedding by load (seed 004): below `high` every request is admitted, from `high` only
/// HIGH and CRITICAL, from `critical` only CRITICAL; the rest are refused with 503.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ShedSpec {
    /// What is measured at the instance.
    pub signal: ShedSignal,
    /// From this load on, only HIGH and CRITICAL (default 0.7).
    pub high: f64,
    /// From this load on, only CRITICAL (default 0.9).
    pub critical: f64,
}

impl Default for ShedSpec {
    fn default() -> Self {
        Self {
            signal: ShedSignal::Workers,
            high: 0.7,
            critical: 0.9,
        }
    }
}

/// An adaptive concurrency limit on a server (Netflix's concurrency-limits): each instance holds
/// at most `limit` requests at once (queued, in service or waiting on a call), refusing the rest
/// with 503, and moves the limit with every completion.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
pub enum ConcurrencySpec {
    /// Additive increase (about one a round trip while at least half used), multiplicative
    /// decrease (× `backoff`) on a drop: a failure, or done after the client gave up.
    Aimd {
        /// Starting limit (default 20).
        #[serde(default = "limit_initial")]
        initial: f64,
        /// Lowest limit (default 1).
        #[serde(default = "limit_min")]
        min: f64,
        /// Highest limit (default 1000).
        #[serde(default = "limit_max")]
        max: f64,
        /// Factor on a drop (default 0.9).
        #[serde(default = "limit_backoff")]
        backoff: f64,
    },
    /// TCP Vegas: the queue is estimated as limit × (1 − shortest time / this time); below
    /// 3·log10(limit) the limit grows, above 6·log10(limit) it shrinks.
    Vegas {
        /// Starting limit (default 20).
        #[serde(default = "limit_initial")]
        initial: f64,
        /// Lowest limit (default 1).
        #[serde(default = "limit_min")]
        min: f64,
        /// Highest limit (default 1000).
        #[serde(default = "limit_max")]
        max: f64,
    },
    /// Gradient2: the limit follows limit × clamp(tolerance × long-term average time / this
    /// time, 0.5, 1) + √limit, smoothed.
    Gradient2 {
        /// Starting limit (default 20).
        #[serde(default = "limit_initial")]
        initial: f64,
        /// Lowest limit (default 1).
        #[serde(default = "limit_min")]
        min: f64,
        /// Highest limit (default 1000).
        #[serde(default = "limit_max")]
        max: f64,
        /// How much slower than the long-term average is still fine (default 1.5).
        #[serde(default = "limit_tolerance")]
        tolerance: f64,
        /// Share of a new target taken per sample (default 0.2).
        #[serde(default = "limit_smoothing")]
        smoothing: f64,
    },
}

fn limit_initial() -> f64 {
    20.0
}
fn limit_min() -> f64 {
    1.0
}
fn limit_max() -> f64 {
    1000.0
}
fn limit_backoff() -> f64 {
    0.9
}
fn limit_tolerance() -> f64 {
    1.5
}
fn limit_smoothing() -> f64 {
    0.2
}

impl ConcurrencySpec {
    /// AIMD with its defaults.
    pub fn aimd() -> Self {
        Self::Aimd {
            initial: limit_initial(),
            min: limit_min(),
            max: limit_max(),
            backoff: limit_backoff(),
        }
    }

    /// Vegas with its defaults.
    pub fn vegas() -> Self {
        Self::Vegas {
            initial: limit_initial(),
            min: limit_min(),
            max: limit_max(),
        }
    }

    /// Gradient2 with its defaults.
    pub fn gradient2() -> Self {
        Self::Gradient2 {
            initial: limit_initial(),
            min: limit_min(),
            max: limit_max(),
            tolerance: limit_tolerance(),
            smoothing: limit_smoothing(),
        }
    }

    /// (initial, min, max).
    pub fn bounds(&self) -> (f64, f64, f64) {
        match *self {
            ConcurrencySpec::Aimd {
                initial, min, max, ..
            }
            | ConcurrencySpec::Vegas { initial, min, max }
            | ConcurrencySpec::Gradient2 {
                initial, min, max, ..
            } => (initial, min, max),
        }
    }
}

/// The load a shedding instance measures.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Default)]
pub enum ShedSignal {
    /// Share of its workers busy or waiting.
    #[default]
    Workers,
    /// Share of its queue filled (a bounded queue; an unbounded one counts as empty).
    Queue,
}

/// Order in which queued requests are served.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
pub enum Discipline {
    /// First come, first served.
    #[default]
    Fifo,
    /// CRITICAL before HIGH before MEDIUM before LOW, FIFO within a class.
    Priority,
}

/// A server component: a group of identical instances.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentSpec {
    /// Unique name.
    pub name: String,
    /// What it is.
    pub kind: Kind,
    /// Number of replicas (default 1).
    #[serde(default = "one_u32")]
    pub instances: u32,
    /// Requests each instance serves at once (default 1).
    #[serde(default = "one_u32")]
    pub workers: u32,
    /// Waiting room per instance (default Bounded(1000)).
    #[serde(default = "default_queue")]
    pub queue: QueueSpec,
    /// Queue order (default Fifo).
    #[serde(default)]
    pub discipline: Discipline,
    /// What the queue drops and how some strategies serve (default DropNewest: tail drop).
    #[serde(default)]
    pub queue_policy: QueuePolicySpec,
    /// Load shedding by priority at arrival (default none).
    #[serde(default)]
    pub shed: Option<ShedSpec>,
    /// Bulkheads (default none): each gives the flows it names `workers` of every instance's
    /// workers and a queue of their own; the other flows share the rest.
    #[serde(default)]
    pub bulkheads: Vec<BulkheadSpec>,
    /// An adaptive concurrency limit per instance (default none).
    #[serde(default)]
    pub concurrency: Option<ConcurrencySpec>,
    /// Service time per request.
    pub service: ServiceSpec,
    /// Resource engines of each instance.
    #[serde(default)]
    pub engines: EngineSpec,
    /// Loss of efficiency at high utilization (default none).
    #[serde(default)]
    pub thrashing: Option<Thrashing>,
    /// Seconds a crashed instance stays down before it restarts (default 30).
    #[serde(default = "default_restart")]
    pub restart_after_s: f64,
    /// Cache only: share of requests answered here (default 0). With flow control on, a cache
    /// whose next component is RED or CRITICAL answers misses with stale data too.
    #[serde(default)]
    pub hit_ratio: Option<f64>,
    /// Seed 000's autoscaling (acts only with `backpressure.enabled`); default none.
    #[serde(default)]
    pub autoscale: Option<AutoscaleSpec>,
    /// How this component picks the instance of the next one (LoadBalancer), and how senders
    /// without a strategy spread over this one's instances (default RoundRobin).
    #[serde(default)]
    pub strategy: Balancing,
    /// Where the desktop app draws the component, in picture units (x grows to the right, y
    /// upward; about 300 between columns). Default: laid out left to right by depth.
    #[serde(default)]
    pub layout: Option<(f32, f32)>,
}

/// Autoscaling: add an instance when every live one is below `scale_up_below` health, remove one
/// when all are healthy and underused; with cooldowns, limits and a warm-up.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AutoscaleSpec {
    /// Fewest instances (default 1).
    pub min: u32,
    /// Most instances (default 10).
    pub max: u32,
    /// Scale up when every live instance's health is below this (default 0.5, the seed's).
    pub scale_up_below: f64,
    /// Scale down only when every live instance's health is at least this (default 0.8)...
    pub healthy_above: f64,
    /// ...and every live instance's busiest engine is below this utilization (default 0.3).
    pub underused_below: f64,
    /// Seconds between two scaling actions (default 60).
    pub cooldown_s: f64,
    /// Seconds a new instance takes to warm up (default 30)...
    pub warmup_s: f64,
    /// ...serving at this share of its full speed meanwhile (default 0.5).
    pub warmup_speed: f64,
}

impl Default for AutoscaleSpec {
    fn default() -> Self {
        Self {
            min: 1,
            max: 10,
            scale_up_below: 0.5,
            healthy_above: 0.8,
            underused_below: 0.3,
            cooldown_s: 60.0,
            warmup_s: 30.0,
            warmup_speed: 0.5,
        }
    }
}

fn one_u32() -> u32 {
    1
}
fn default_queue() -> QueueSpec {
    QueueSpec::Bounded(1000)
}
fn default_restart() -> f64 {
    30.0
}

/// Service time: a given mean, or the time implied by per-request demands on the engines.
#[derive(Debug, Clone, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceSpec {
    /// Mean service time per request in ms; when absent it follows from `demand`.
    pub mean_ms: Option<f64>,
    /// Distribution shape around the mean (default Exponential).
    pub shape: Shape,
    /// Per-request resource demands.
    pub demand: Demand,
}

/// Shape of a random duration with a given mean.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Default)]
pub enum Shape {
    /// Memoryless (coefficient of variation 1).
    #[default]
    Exponential,
    /// Always exactly the mean.
    Deterministic,
    /// Uniform in mean × [1 - spread, 1 + spread], spread in [0, 1].
    Uniform {
        /// Half-width relative to the mean.
        spread: f64,
    },
    /// Log-normal with the given sigma of the underlying normal, scaled to the mean.
    LogNormal {
        /// Sigma of ln(X).
        sigma: f64,
    },
}

/// What one request asks of each engine.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, Default, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Demand {
    /// CPU time in ms.
    pub cpu_ms: f64,
    /// Memory held while queued or in flight, MB.
    pub memory_mb: f64,
    /// Storage operations.
    pub storage_ops: f64,
    /// Network traffic, KB.
    pub network_kb: f64,
}

/// Capacities of one instance's engines.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSpec {
    /// CPU cores (CPU-seconds per second).
    pub cpu_cores: f64,
    /// Memory, MB; exceeding it crashes the instance (OOM).
    pub memory_mb: f64,
    /// Memory in use with nothing queued, MB.
    pub base_memory_mb: f64,
    /// Storage operations per second.
    pub storage_iops: f64,
    /// Network bandwidth, megabits per second.
    pub network_mbps: f64,
}

impl Default for EngineSpec {
    fn default() -> Self {
        Self {
            cpu_cores: 4.0,
            memory_mb: 16_384.0,
            base_memory_mb: 512.0,
            storage_iops: 10_000.0,
            network_mbps: 1_000.0,
        }
    }
}

/// Service slows down once the busiest engine passes `above` utilization: at 100% the service
/// time is multiplied by `1 + slowdown` (linear in between).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Thrashing {
    /// Utilization (0-1) where efficiency starts to fall.
    pub above: f64,
    /// Extra service time at full utilization, as a multiple of the normal time.
    pub slowdown: f64,
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

/// Why a scenario could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read (missing, a directory, too large, not text).
    #[error(transparent)]
    Input(#[from] crate::files::InputError),
    /// RON syntax or type error.
    #[error("{path}:{line}:{col}: {message}")]
    Syntax {
        /// File path.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What ron said.
        message: String,
    },
    /// The file parsed but describes an impossible system.
    #[error("{path}: {}", format_problems(.problems))]
    Invalid {
        /// File path.
        path: PathBuf,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

/// One semantic problem: where, what, and how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Field path, e.g. `components[2].workers`.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl Problem {
    /// For a problem in a scenario's `commands`: the command's index and the rest of the field
    /// path after it (`commands[3].command` gives 3 and `.command`).
    pub fn command_index(&self) -> Option<(usize, &str)> {
        let (k, tail) = self.field.strip_prefix("commands[")?.split_once(']')?;
        Some((k.parse().ok()?, tail))
    }
}

fn format_problems(problems: &[Problem]) -> String {
    let mut s = format!("{} problem(s) in scenario", problems.len());
    for p in problems {
        s.push_str(&format!(
            "\n  - {}: {}\n    hint: {}",
            p.field, p.message, p.hint
        ));
    }
    s
}

/// Parses scenario text (a UTF-8 byte-order mark is allowed); `path` is only used in messages.
pub fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // `implicit_some`: a bare value is accepted where an optional one is meant (`mean_ms: 2.0`
    // as well as `mean_ms: Some(2.0)`).
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let scenario: Scenario = options.from_str(text).map_err(|e| {
        let (line, col) = (e.span.start.line, e.span.start.col);
        let mut message = syntax_message(&e.code);
        if let Some(field) = field_at(text, line, col) {
            message = format!("{field}: {message}");
        }
        ScenarioError::Syntax {
            path: path.to_path_buf(),
            line,
            col,
            message,
        }
    })?;
    let problems = validate(&scenario);
    if problems.is_empty() {
        Ok(scenario)
    } else {
        Err(ScenarioError::Invalid {
            path: path.to_path_buf(),
            problems,
        })
    }
}

/// The field whose value is at (1-based) `line`, `col`: the last `name:` before it on that line,
/// so that a message about a value says which field it is.
fn field_at(text: &str, line: usize, col: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?;
    let before: String = l.chars().take(col.saturating_sub(1)).collect();
    let colon = before
        .trim_end()
        .strip_suffix(':')
        .map(str::len)
        .or_else(|| before.rfind(':'))?;
    let name: String = before[..colon]
        .chars()
        .rev()
        .skip_while(|c| c.is_whitespace())
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit())).then_some(name)
}

/// A flowlab file other than a scenario (a comparison, a lesson) parsed from RON as scenarios
/// are (a bare value where an optional one is meant), a syntax error as `file:line:col: message`.
pub(crate) fn from_ron<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &Path,
) -> Result<T, String> {
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    options.from_str(text).map_err(|e| {
        format!(
            "{}:{}:{}: {}",
            path.display(),
            e.span.start.line,
            e.span.start.col,
            syntax_message(&e.code)
        )
    })
}

/// RON's message, with a hint where RON's own words leave a newcomer guessing.
pub(crate) fn syntax_message(code: &ron::Error) -> String {
    let text = code.to_string();
    match code {
        // RON's own words suggest a Rust crate to its programmer; the person here wrote a file.
        ron::Error::ExceededRecursionLimit => {
            "nested too deeply (over 128 levels of brackets): no flowlab file nests so deep; is it the right file?".into()
        }
        ron::Error::ExpectedOption => {
            format!("{text}: this field is optional; write a value, Some(value), or None")
        }
        ron::Error::IntegerOutOfBounds => format!(
            "{text}: counts are whole numbers from 0 (see docs/SCENARIO_FORMAT.md for each field's range)"
        ),
        _ => text,
    }
}

impl ComponentSpec {
    /// Requests per second each engine can carry (CPU, memory, storage, network; infinite where
    /// nothing is demanded of it).
    pub fn engine_rates(&self) -> [f64; 4] {
        let (d, e) = (self.service.demand, self.engines);
        let rate = |demand: f64, per_s: f64| {
            if demand > 0.0 {
                per_s / demand
            } else {
                f64::INFINITY
            }
        };
        [
            rate(d.cpu_ms, e.cpu_cores * 1000.0),
            f64::INFINITY,
            rate(d.storage_ops, e.storage_iops),
            rate(d.network_kb, e.network_mbps * 125.0),
        ]
    }

    /// Mean service time (ms): `service.mean_ms`, or what the demand takes on the busiest engine
    /// with every worker busy.
    pub fn service_mean_ms(&self) -> f64 {
        let bottleneck = self
            .engine_rates()
            .into_iter()
            .fold(f64::INFINITY, f64::min);
        match self.service.mean_ms {
            Some(m) => m,
            None if bottleneck.is_finite() => self.workers as f64 / bottleneck * 1000.0,
            None => 1.0,
        }
    }
}

/// Largest scenario file read (bytes): the reader stops there, so a huge file or a device that
/// never ends (`/dev/zero`) cannot exhaust memory.
pub const MAX_FILE_BYTES: u64 = crate::files::MAX_INPUT_BYTES;

/// Reads, parses and validates a scenario file; `-` reads standard input.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = crate::files::read_text(path, "scenario")?;
    parse(&text, path)
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
