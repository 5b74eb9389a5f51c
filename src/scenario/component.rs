//! What serves: a component's kind, instances, workers, queue and its strategies (queue
//! policy, discipline, shedding, concurrency limit, bulkheads), service time, engines and
//! autoscaling.

use serde::{Deserialize, Serialize};

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
