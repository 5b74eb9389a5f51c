//! Scenario files: the RON format people write, parsed into plain structs (no Bevy types) and
//! validated before anything is spawned. Every field is documented in `docs/SCENARIO_FORMAT.md`.

mod backpressure;
pub mod command;
mod component;
pub mod edit;
pub mod fmt;
mod health;
mod link;
pub mod names;
mod parse;
mod traffic;
pub(crate) mod validate;

pub use backpressure::{BackpressureSpec, BreakerSpec, BreakerWindow, QueryTtl, StatusAdjust};
pub use health::{ForecastSpec, HealthSpec, ScoreWeights, StatusBands};
use serde::{Deserialize, Serialize};

pub use command::{SimCommand, TimedCommand};
pub use component::*;
pub use link::*;
pub use parse::*;
pub use traffic::*;
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
