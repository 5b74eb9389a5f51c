//! Commands as the scenario format writes them: what-ifs applied to a running simulation
//! (`commands` in a scenario file, and the app's command door).

use super::{QueueSpec, Scenario};
use serde::{Deserialize, Serialize};

/// A change to the running simulation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum SimCommand {
    /// Multiplies a source's traffic by `factor` (1 restores the scenario's rate).
    ScaleTraffic {
        /// Source name.
        source: String,
        /// Multiplier of the scenario's rate schedule.
        factor: f64,
    },
    /// Multiplies a source's traffic by `factor` for `for_s` seconds, on top of any scaling.
    Spike {
        /// Source name.
        source: String,
        /// Multiplier while the spike lasts.
        factor: f64,
        /// How long, s.
        for_s: f64,
    },
    /// Takes an instance down (what it holds fails, as in a crash) for `for_s` seconds, or until
    /// brought back (`None`).
    TakeDown {
        /// Component name.
        component: String,
        /// Instance ordinal.
        instance: u32,
        /// How long, s.
        for_s: Option<f64>,
    },
    /// Brings a downed instance back now.
    BringBack {
        /// Component name.
        component: String,
        /// Instance ordinal.
        instance: u32,
    },
    /// Multiplies an instance's service times by `factor` for `for_s` seconds.
    SlowDown {
        /// Component name.
        component: String,
        /// Instance ordinal.
        instance: u32,
        /// Service-time multiplier.
        factor: f64,
        /// How long, s.
        for_s: f64,
    },
    /// Takes every instance of a component down for `for_s` seconds, or until brought back.
    TakeDownComponent {
        /// Component name.
        component: String,
        /// How long, s.
        for_s: Option<f64>,
    },
    /// Makes an instance fail `share` (0-1] of the requests it serves for `for_s` seconds.
    InjectErrors {
        /// Component name.
        component: String,
        /// Instance ordinal.
        instance: u32,
        /// Share of requests failed.
        share: f64,
        /// How long, s.
        for_s: f64,
    },
    /// Degrades a link `from->to` for `for_s` seconds: `added_latency_ms` more one-way latency
    /// and `loss`, a share of requests lost (1: a partition), each heard of by its sender as a
    /// failure after `lost_after_ms`.
    DegradeLink {
        /// `from->to`.
        link: String,
        /// Added one-way latency, ms.
        added_latency_ms: f64,
        /// Share of requests lost.
        loss: f64,
        /// When the sender hears of a loss, ms after sending.
        lost_after_ms: f64,
        /// How long, s.
        for_s: f64,
    },
    /// Sets the workers of every instance of a component (real workers, as in the scenario).
    SetWorkers {
        /// Component name.
        component: String,
        /// Workers per instance.
        workers: u32,
    },
    /// Sets the queue capacity of every instance of a component.
    SetQueue {
        /// Component name.
        component: String,
        /// Capacity per instance.
        queue: QueueSpec,
    },
    /// Switches a component's queue strategy (what waits moves to the new queue).
    SetQueuePolicy {
        /// Component name.
        component: String,
        /// The strategy.
        policy: super::QueuePolicySpec,
    },
    /// Puts a rate limiter on a link `from->to` (`None` takes it off).
    SetLimit {
        /// `from->to`.
        link: String,
        /// The limiter.
        limit: Option<super::LimiterSpec>,
    },
    /// Puts a window on a `Sync` link `from->to` (`None` takes it off): at most `max` requests in
    /// flight, `buffer` more waiting at the sender.
    SetWindow {
        /// `from->to`.
        link: String,
        /// The window.
        window: Option<super::WindowSpec>,
    },
    /// Sets a source's retry policy and client-side throttling.
    SetClient {
        /// Source name.
        source: String,
        /// Retries.
        retry: super::RetrySpec,
        /// Adaptive throttling (`None`: off).
        #[serde(default)]
        throttle: Option<super::ThrottleSpec>,
    },
    /// Sets a component's load shedding by priority (`None` takes it off).
    SetShed {
        /// Component name.
        component: String,
        /// Thresholds and signal.
        shed: Option<super::ShedSpec>,
    },
    /// Sets a component's adaptive concurrency limit (`None` takes it off).
    SetConcurrency {
        /// Component name.
        component: String,
        /// The algorithm and its bounds.
        limit: Option<super::ConcurrencySpec>,
    },
    /// Sets a `Sync` link's sender-side adaptive concurrency limit (`None` takes it off).
    SetLinkConcurrency {
        /// `from->to`.
        link: String,
        /// The algorithm and its bounds.
        limit: Option<super::ConcurrencySpec>,
    },
    /// Puts credit-based flow control on an `Async` link (`None` takes it off); messages
    /// waiting for a credit wait for the new ones, or go with the next credits when taken off.
    SetCredits {
        /// `from->to`.
        link: String,
        /// Credits granted and the sender's buffer.
        credits: Option<super::CreditSpec>,
    },
    /// Sets a `Pull` link's redelivery and dead-letter queue (`None` takes it off: a failed
    /// message ends as it failed). Messages already waiting in retry queues go back as planned.
    SetRedelivery {
        /// `from->to`.
        link: String,
        /// Deliveries in all and the retry queues' delays.
        redelivery: Option<super::RedeliverySpec>,
    },
    /// Sets how many instances of a component run (spares are provisioned first, then new
    /// instances spawned; extra ones are taken out, highest ordinal first).
    SetInstances {
        /// Component name.
        component: String,
        /// Instances.
        instances: u32,
    },
    /// Switches seed 000's flow control (rate control, breakers, fallbacks) on or off.
    FlowControl(bool),
    /// Switches predictive backpressure on or off.
    Predictive(bool),
    /// Sets one numeric parameter of `backpressure` or `health` by its path in the scenario
    /// format (e.g. `backpressure.safety_buffer`, `health.cycle_s`).
    SetParam {
        /// Dotted path.
        path: String,
        /// New value.
        value: f64,
    },
    /// Replaces the whole simulation by a new scenario, at t = 0.
    Load(Box<Scenario>),
    /// Starts the scenario as it was loaded again at t = 0 (changes made by commands are
    /// gone, as they were made at times of the run that is left).
    Reset,
}

/// A command at a time of the run (a scenario's `commands`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimedCommand {
    /// When it is applied (simulated s; rounded to the nearest ns).
    pub at_s: f64,
    /// What.
    pub command: SimCommand,
}
