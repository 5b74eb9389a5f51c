//! The simulation's read seam: [`SimView`], a read-only system parameter from which everything
//! drawable or reported is read (presentation, the metrics CSV, the summary). It holds only
//! `Res` and `Query<&T>`, so it can be taken by any system, or from a `&World` through
//! `SystemState<SimView>`, and can never change the simulation.
//!
//! Indices are the scenario-order indices of `Topology`: stable for the life of a scenario.
//! Counts are in real requests (simulated counts times the request unit) unless a field says
//! otherwise; the raw counters are in simulated units, as kept by the simulation.

use crate::scenario::{CallKind, HealthSpec, Kind};
use crate::sim::SimClock;
use crate::sim::control::health::{
    HealthBand, HealthConfig, HealthStatus, InstanceHealth, SystemHealth, engine_health,
};
use crate::sim::control::queries::QueryStats;
use crate::sim::control::rate::FlowConfig;
use crate::sim::flow::core::FlowCore;
use crate::sim::flow::engines::{Engine, EngineKind};
use crate::sim::flow::instance::InstanceCounters;
use crate::sim::flow::link::{BreakerState, LinkCounters, NodeRef, Transit, Urgency};
use crate::sim::flow::request::{Priority, Reply, Request, Response};
use crate::sim::flow::source::SourceCounters;
use crate::sim::flow::sweep::QueuePeaks;
use crate::sim::read::latency::SystemLatency;
use crate::sim::read::series::{Metric, Series, SeriesEntity};
use crate::sim::schedule::dist::Nanos;
use crate::sim::schedule::topology::{ComponentInfo, Routes, Topology};
use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use hdrhistogram::Histogram;

/// Read-only access to the whole simulation state; see the module documentation.
#[derive(SystemParam)]
pub struct SimView<'w, 's> {
    clock: Res<'w, SimClock>,
    topo: Res<'w, Topology>,
    peaks: Res<'w, QueuePeaks>,
    health_config: Res<'w, HealthConfig>,
    system_health: Res<'w, SystemHealth>,
    flow_config: Res<'w, FlowConfig>,
    fallbacks: Res<'w, crate::sim::control::rate::Fallbacks>,
    series: Res<'w, Series>,
    system_latency: Res<'w, SystemLatency>,
    classes: Res<'w, crate::sim::read::classes::ClassStats>,
    fans: Res<'w, crate::sim::flow::routing::FanWaits>,
    routes: Res<'w, Routes>,
    core: Res<'w, FlowCore>,
    children: Query<'w, 's, &'static Children>,
    engines: Query<'w, 's, &'static Engine>,
    health: Query<'w, 's, &'static HealthStatus>,
    instance_health: Query<'w, 's, &'static InstanceHealth>,
}

/// A traffic source.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SourceView<'a> {
    /// Source index.
    pub index: u32,
    /// Name.
    pub name: &'a str,
    /// Links leaving it (link indices).
    pub links: &'a [u32],
    /// The rate schedule's value now (real requests/s).
    pub offered_rate: f64,
    /// Logical requests in progress: waiting, handed off or between attempts.
    pub live: u64,
    /// Running totals (simulated units).
    pub counters: SourceCounters,
    /// Whether its clients retry (more than one attempt allowed).
    pub retries: bool,
    /// The retry budget's balance: retries it could pay for now (real), if it has a budget.
    pub budget_balance: Option<f64>,
    /// The adaptive throttle's probability of rejecting an attempt now, if it has one.
    pub throttle_p: Option<f64>,
}

/// The dynamic health of a component or an instance as of its last health cycle (a copy of
/// the parts of `HealthStatus` worth drawing).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HealthReading {
    /// Band of `score`.
    pub status: HealthBand,
    /// Dynamic health score (0-100).
    pub score: f64,
    /// Aggregated health from the engines (0-1).
    pub health: f64,
    /// Whether it takes new requests.
    pub accepting_load: bool,
    /// Whether it answers health queries.
    pub answering: bool,
    /// Share of processing capacity left (0-100).
    pub available_capacity: f64,
    /// Mean CPU utilization of live instances (0-100).
    pub cpu: f64,
    /// Mean memory utilization of live instances (0-100).
    pub memory: f64,
    /// Mean time inside over the latency window (ms).
    pub latency_ms: f64,
    /// Error rate over the error window (0-1).
    pub error_rate: f64,
    /// Requests served per second over the last cycle (real).
    pub throughput: f64,
    /// Requests arriving per second over the last cycle (real; components only).
    pub incoming: f64,
    /// Most requests per second the live instances can serve (real).
    pub max_throughput: f64,
    /// Queue growth (real requests/s; components only).
    pub queue_growth_per_s: f64,
    /// Seconds until the queue is full at the current growth (infinite when not growing).
    pub time_to_full_s: f64,
    /// Forecast queue length (real; components only).
    pub forecast_queue: f64,
    /// The last queue observation was far off its forecast (components only).
    pub anomaly: bool,
    /// When it was computed (ns).
    pub last_updated: Nanos,
    /// The four parts of the score (queue, processing, latency, errors), each 0-100.
    pub scores: crate::sim::control::health::Scores,
    /// Requests queued (real) when it was computed.
    pub queue_length: u64,
    /// Queue capacity (real; an unbounded queue counts as 100 per worker).
    pub queue_capacity: f64,
    /// Change of the mean latency over the trend window (ms/s).
    pub latency_trend_ms_per_s: f64,
}

impl From<&HealthStatus> for HealthReading {
    fn from(h: &HealthStatus) -> Self {
        Self {
            status: h.status,
            score: h.score,
            health: h.health,
            accepting_load: h.accepting_load,
            answering: h.answering,
            available_capacity: h.available_capacity,
            cpu: h.cpu,
            memory: h.memory,
            latency_ms: h.latency_ms,
            error_rate: h.error_rate,
            throughput: h.throughput,
            incoming: h.incoming,
            max_throughput: h.max_throughput,
            queue_growth_per_s: h.queue_growth_per_s,
            time_to_full_s: h.time_to_full_s,
            forecast_queue: h.forecast_queue,
            anomaly: h.anomaly,
            last_updated: h.last_updated,
            scores: h.scores,
            queue_length: h.queue_length,
            queue_capacity: h.queue_capacity,
            latency_trend_ms_per_s: h.latency_trend_ms_per_s,
        }
    }
}

/// A component: its place in the topology and its state summed over its instances.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ComponentView<'a> {
    /// Component index.
    pub index: u32,
    /// Name.
    pub name: &'a str,
    /// Kind.
    pub kind: Kind,
    /// Global indices of its instances, by ordinal (contiguous at spawn; instances added by a
    /// command are numbered after every other).
    pub instance_ids: &'a [u32],
    /// Instances, autoscaling spares included.
    pub instance_count: u32,
    /// Links that deliver to it (link indices).
    pub in_links: &'a [u32],
    /// Requests queued, all instances.
    pub queued: u64,
    /// Queue capacity as configured, all instances (`None`: unbounded).
    pub queue_capacity: Option<u64>,
    /// Workers, all instances.
    pub workers: u64,
    /// Workers serving.
    pub busy: u64,
    /// Workers waiting on a downstream call.
    pub waiting: u64,
    /// Instances up.
    pub instances_up: u32,
    /// Highest total queue so far.
    pub peak_queue: u64,
    /// Requests that arrived so far.
    pub arrivals: u64,
    /// Local services completed so far.
    pub served: u64,
    /// Requests dropped here so far (queue full).
    pub dropped: u64,
    /// Running totals summed over the instances (simulated units).
    pub counters: InstanceCounters,
    /// Dynamic health and aggregated health (`None` before the health model is attached).
    pub health: Option<HealthReading>,
    /// A cache's share of misses answered with stale data (seed 000's fallback; 0: fresh).
    pub stale: f64,
}

impl ComponentView<'_> {
    /// Global indices of its instances, by ordinal.
    pub fn instances(&self) -> impl Iterator<Item = u32> + '_ {
        self.instance_ids.iter().copied()
    }
}

/// What an instance is doing, for drawing; `Spare` before `Down` before `Slowed` before
/// `Warming` when several hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstanceState {
    /// Serving normally.
    Up,
    /// Up, serving slower while warming up after being provisioned.
    Warming,
    /// Up, under a slowdown fault.
    Slowed,
    /// Crashed (out of memory) or in a scheduled outage; back at `down_until`.
    Down,
    /// An autoscaling spare, not provisioned.
    Spare,
}

/// One resource engine of an instance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineView {
    /// Which resource.
    pub kind: EngineKind,
    /// Live utilization, 0-1 (smoothed; memory is instantaneous); 0 if the engine is missing.
    pub utilization: f64,
    /// Engine health from the utilization bands (0-1).
    pub health: f64,
    /// Capacity in the engine's unit (cores, MB, IOPS, Mbit/s).
    pub capacity: f64,
}

/// An instance (replica).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InstanceView<'a> {
    /// Global instance index.
    pub index: u32,
    /// Component index.
    pub component: u32,
    /// Ordinal within its component.
    pub ordinal: u32,
    /// Display name `component#i`.
    pub name: &'a str,
    /// What it is doing.
    pub state: InstanceState,
    /// Its up flag (false while down; brought back at least every 10 ms of simulated time).
    pub up: bool,
    /// False for an autoscaling spare not running.
    pub provisioned: bool,
    /// Serving slower while warming up.
    pub warming: bool,
    /// Service-time multiplier of a slowdown fault in force now (1 when none).
    pub slowdown: f64,
    /// When a down instance comes back (ns; `None` while up or a spare).
    pub down_until: Option<Nanos>,
    /// Requests queued.
    pub queued: u64,
    /// Effective queue capacity (`None`: unbounded).
    pub queue_capacity: Option<u64>,
    /// Workers.
    pub workers: u64,
    /// Workers serving.
    pub busy: u64,
    /// Workers waiting on a downstream call.
    pub waiting: u64,
    /// Memory in use (MB).
    pub memory_used_mb: f64,
    /// Memory capacity (MB); above it the instance crashes.
    pub memory_capacity_mb: f64,
    /// Utilization of its busiest engine (smoothed), 0-1.
    pub pressure: f64,
    /// Aggregated instance health (its worst engine), 0-1, as of the last health cycle.
    pub instance_health: Option<f64>,
    /// Each engine's health that `instance_health` was taken from (`EngineKind` order).
    pub engine_health_at_cycle: Option<[f64; 4]>,
    /// Its own dynamic health.
    pub health: Option<HealthReading>,
    /// CPU, memory, storage and network, in `EngineKind` order.
    pub engines: [EngineView; 4],
    /// Running totals (simulated units).
    pub counters: InstanceCounters,
    /// Integral of requests held over time up to now (simulated request·ns).
    pub occupancy_area: f64,
    /// Integral of requests waiting in its queue up to now (simulated request·ns).
    pub queue_area: f64,
    /// Its adaptive concurrency limit now (real requests), if it has one.
    pub concurrency_limit: Option<u64>,
    /// CoDel's state, if its queue runs CoDel.
    pub codel: Option<crate::sim::strategies::zoo::CodelState>,
}

/// A link and its flow control.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkView<'a> {
    /// Link index.
    pub index: u32,
    /// Display name `from->to`.
    pub name: &'a str,
    /// Sender.
    pub from: NodeRef,
    /// Receiving component index.
    pub to: u32,
    /// Synchronous call, asynchronous send or pull from a topic.
    pub call: CallKind,
    /// The link to its alternative route, if the scenario names one.
    pub alternative: Option<u32>,
    /// Whether flow control applies (the sender is a component).
    pub flow_controlled: bool,
    /// Allowed rate (real requests/s; `None`: unlimited).
    pub rate_limit: Option<f64>,
    /// Rate the controller is heading for (real requests/s).
    pub rate_target: Option<f64>,
    /// Offered rate over the last control cycle (real requests/s).
    pub demand: f64,
    /// The receiver's recommendation (real requests/s).
    pub recommended: Option<f64>,
    /// Why the rate was last changed.
    pub reason: &'static str,
    /// Urgency of the recommendation.
    pub urgency: Urgency,
    /// Backpressure delay added before sending (ns).
    pub delay: Nanos,
    /// Requests held at the sender by the rate limit.
    pub held: u64,
    /// A rate limiter on the link (seed 002's strategies): its kind and average rate (real
    /// requests/s).
    pub limiter: Option<(&'static str, f64)>,
    /// Requests refused at the sender so far.
    pub refused: u64,
    /// Circuit-breaker state.
    pub breaker: BreakerState,
    /// Requests refused by the circuit breaker so far.
    pub breaker_refused: u64,
    /// A count-window breaker: the shares of its window's calls that failed and were slow.
    pub breaker_window: Option<(f64, f64)>,
    /// Health queries the sender made to the receiver.
    pub health_queries: QueryStats,
    /// Requests and responses on the wire.
    pub in_transit: u64,
    /// `Pull` links: messages waiting on the topic.
    pub topic_len: u64,
    /// `Pull` links: most messages the topic holds (`None`: unbounded).
    pub topic_capacity: Option<u64>,
    /// The window or sender-side concurrency limit, if the link has one.
    pub window: Option<WindowView>,
    /// `Pull` links with redelivery: failed messages waiting in the retry queues.
    pub retry_waiting: u64,
    /// Running totals (simulated units).
    pub counters: LinkCounters,
}

/// A link's window of requests in flight (real requests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowView {
    /// Sent and not yet answered.
    pub in_flight: u64,
    /// Most in flight now (`u64::MAX`: no fixed bound).
    pub max: u64,
    /// Waiting at the sender for the window to open.
    pub waiting: u64,
    /// `max` follows an adaptive concurrency limit.
    pub adaptive: bool,
    /// Credits (an `Async` link): `max` granted, `in_flight` in use.
    pub credits: bool,
}

/// Which way an item on a link travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransitKind {
    /// A request, toward the receiver.
    Request,
    /// A response, back to the sender.
    Response {
        /// It carries an error.
        error: bool,
    },
}

/// One simulated request or response on the wire (it stands for `unit` real ones).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TransitView {
    /// When it left (ns).
    pub depart: Nanos,
    /// When it arrives (ns).
    pub arrive: Nanos,
    /// Request or response.
    pub kind: TransitKind,
    /// Global flow index (`Routes::flows`).
    pub flow: u16,
    /// Priority class.
    pub priority: Priority,
}

impl TransitView {
    /// How far along the link it is at `now`: 0 at departure, 1 at arrival (clamped).
    pub fn progress(&self, now: Nanos) -> f64 {
        if self.arrive <= self.depart {
            return 1.0;
        }
        (now.saturating_sub(self.depart) as f64 / (self.arrive - self.depart) as f64)
            .clamp(0.0, 1.0)
    }

    fn request(t: &Transit<Request>) -> Self {
        Self {
            depart: t.depart,
            arrive: t.arrive,
            kind: TransitKind::Request,
            flow: t.msg.flow,
            priority: t.msg.priority,
        }
    }

    fn response(t: &Transit<Response>) -> Self {
        Self {
            depart: t.depart,
            arrive: t.arrive,
            kind: TransitKind::Response {
                error: matches!(t.msg.status, Reply::Err(_)),
            },
            flow: t.msg.req.flow,
            priority: t.msg.req.priority,
        }
    }
}

/// The whole system.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SystemView {
    /// System health (0-1): the mean of each component's worse measure times the penalty
    /// for RED and critical components.
    pub health: f64,
    /// Components that are critical (status CRITICAL or resource health below the threshold).
    pub critical: u32,
    /// Components whose status is RED.
    pub red: u32,
    /// The penalty factor applied.
    pub factor: f64,
    /// Of the critical, those critical by resource health alone (their status is not CRITICAL).
    pub starved: u32,
    /// Health status messages a broadcast design has pushed so far.
    pub health_broadcast_messages: u64,
    /// Logical requests in progress, all sources.
    pub live: u64,
    /// Running totals of all sources (simulated units).
    pub counters: SourceCounters,
}

/// Latency of completed requests (end to end for the system, time inside for a component) as
/// of the last sample.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LatencyView {
    /// Requests counted.
    pub count: u64,
    /// Mean (µs; 0 when none).
    pub mean_us: f64,
    /// p50, p95 and p99 (ms; 0 when none).
    pub percentiles_ms: [f64; 3],
}

impl LatencyView {
    fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self::default();
        }
        Self {
            count: h.len(),
            mean_us: h.mean(),
            percentiles_ms: [0.5, 0.95, 0.99].map(|q| h.value_at_quantile(q) as f64 / 1e3),
        }
    }
}

/// Adds instance counters `b` to `a`, field by field.
pub fn add_instance_counters(a: &mut InstanceCounters, b: &InstanceCounters) {
    a.arrivals += b.arrivals;
    a.departures += b.departures;
    a.ok += b.ok;
    a.ok_in_time += b.ok_in_time;
    a.errors += b.errors;
    a.served += b.served;
    a.wasted += b.wasted;
    a.dropped += b.dropped;
    a.failed += b.failed;
    a.crashes += b.crashes;
    a.stale += b.stale;
    a.orphans += b.orphans;
    a.sojourn_ns += b.sojourn_ns;
    a.area += b.area;
    a.queue_area += b.queue_area;
    a.waited += b.waited;
    a.injected += b.injected;
    a.shed += b.shed;
    a.over_limit += b.over_limit;
    for k in 0..4 {
        a.class_ok[k] += b.class_ok[k];
        a.class_sojourn_ns[k] += b.class_sojourn_ns[k];
        a.class_errors[k] += b.class_errors[k];
    }
}

/// Adds source counters `b` to `a`, field by field.
pub fn add_source_counters(a: &mut SourceCounters, b: &SourceCounters) {
    a.generated += b.generated;
    a.attempts += b.attempts;
    a.retries += b.retries;
    a.late_responses += b.late_responses;
    a.latency_ns += b.latency_ns;
    for i in 0..5 {
        a.ended[i] += b.ended[i];
        a.attempt_failures[i] += b.attempt_failures[i];
    }
}

/// The state an instance is drawn in, from its flags.
pub fn instance_state(provisioned: bool, up: bool, slowdown: f64, warming: bool) -> InstanceState {
    if !provisioned {
        InstanceState::Spare
    } else if !up {
        InstanceState::Down
    } else if slowdown != 1.0 {
        InstanceState::Slowed
    } else if warming {
        InstanceState::Warming
    } else {
        InstanceState::Up
    }
}

impl<'w, 's> SimView<'w, 's> {
    /// The clock.
    pub fn clock(&self) -> SimClock {
        *self.clock
    }

    /// Current simulation time (ns).
    pub fn now(&self) -> Nanos {
        self.clock.now
    }

    /// Current simulation time (s).
    pub fn seconds(&self) -> f64 {
        self.clock.seconds()
    }

    /// Real requests per simulated request.
    pub fn unit(&self) -> u64 {
        self.topo.unit
    }

    /// The topology's index tables (read-only).
    pub fn topology(&self) -> &Topology {
        &self.topo
    }

    /// The health parameters.
    pub fn health_spec(&self) -> &HealthSpec {
        &self.health_config.spec
    }

    /// Number of sources.
    pub fn source_count(&self) -> usize {
        self.topo.sources.len()
    }

    /// Number of components.
    pub fn component_count(&self) -> usize {
        self.topo.components.len()
    }

    /// Number of instances, spares included.
    pub fn instance_count(&self) -> usize {
        self.topo.instances.len()
    }

    /// Number of links.
    pub fn link_count(&self) -> usize {
        self.topo.links.len()
    }

    /// Source `index`.
    pub fn source(&self, index: u32) -> Option<SourceView<'_>> {
        let i = index as usize;
        let s = self.core.source(index)?;
        Some(SourceView {
            index,
            name: &self.topo.source_names[i],
            links: &self.topo.source_links[i],
            offered_rate: s.offered_rate_at(self.now()),
            live: s.live * self.topo.unit,
            counters: s.counters,
            retries: s.retries(),
            budget_balance: (s.client.budget_balance(self.now()))
                .map(|b| b * self.topo.unit as f64),
            throttle_p: s.client.throttle_probability(),
        })
    }

    /// Every source, in index order.
    pub fn sources(&self) -> impl Iterator<Item = SourceView<'_>> {
        (0..self.source_count() as u32).filter_map(|i| self.source(i))
    }

    /// Component `index`.
    pub fn component(&self, index: u32) -> Option<ComponentView<'_>> {
        let c = self.topo.components.get(index as usize)?;
        Some(self.component_of(c))
    }

    /// The component called `name`.
    pub fn component_named(&self, name: &str) -> Option<ComponentView<'_>> {
        self.topo.component(name).map(|c| self.component_of(c))
    }

    /// Every component, in index order.
    pub fn components(&self) -> impl Iterator<Item = ComponentView<'_>> {
        self.topo.components.iter().map(|c| self.component_of(c))
    }

    fn component_of<'a>(&'a self, c: &'a ComponentInfo) -> ComponentView<'a> {
        let unit = self.topo.unit;
        let (mut queued, mut workers, mut busy, mut waiting, mut up) = (0, 0, 0, 0, 0);
        let mut counters = InstanceCounters::default();
        for inst in self.core.instances_of(&self.topo, c.index) {
            queued += inst.queued;
            workers += inst.workers();
            busy += inst.busy;
            waiting += inst.waiting;
            up += inst.up as u32;
            add_instance_counters(&mut counters, &inst.counters);
        }
        let n = c.instances.len() as u64;
        ComponentView {
            index: c.index,
            name: &c.name,
            kind: c.kind,
            instance_ids: &c.instance_ids,
            instance_count: n as u32,
            in_links: &c.in_links,
            queued: queued * unit,
            queue_capacity: c.queue_real.map(|q| q * n),
            workers: workers * unit,
            busy: busy * unit,
            waiting: waiting * unit,
            instances_up: up,
            peak_queue: self.peaks.peak.get(c.index as usize).copied().unwrap_or(0) * unit,
            arrivals: counters.arrivals * unit,
            served: counters.served * unit,
            dropped: counters.dropped * unit,
            counters,
            health: self.health.get(c.entity).ok().map(HealthReading::from),
            stale: self
                .fallbacks
                .stale
                .get(c.index as usize)
                .copied()
                .unwrap_or(0.0),
        }
    }

    /// Instance `index` (global).
    pub fn instance(&self, index: u32) -> Option<InstanceView<'_>> {
        let e = *self.topo.instances.get(index as usize)?;
        let (inst, children) = (self.core.instance(index)?, self.children.get(e).ok()?);
        let now = self.clock.now;
        let unit = self.topo.unit;
        let spec = &self.health_config.spec;
        let mut engines = EngineKind::ALL.map(|kind| EngineView {
            kind,
            utilization: 0.0,
            health: engine_health(0.0, spec),
            capacity: 0.0,
        });
        for ch in children.iter() {
            if let Ok(eng) = self.engines.get(ch) {
                engines[eng.kind as usize] = EngineView {
                    kind: eng.kind,
                    utilization: eng.utilization,
                    health: engine_health(eng.utilization, spec),
                    capacity: eng.capacity,
                };
            }
        }
        let ordinal = self
            .topo
            .components
            .get(inst.component as usize)
            // Ids only grow (instances added later are numbered after every other).
            .and_then(|c| c.instance_ids.binary_search(&index).ok())
            .unwrap_or(0) as u32;
        let slowdown = inst.slowdown_at(now);
        let warming = inst.up && now < inst.warm_until;
        Some(InstanceView {
            index,
            component: inst.component,
            ordinal,
            name: &inst.name,
            state: instance_state(inst.provisioned, inst.up, slowdown, warming),
            up: inst.up,
            provisioned: inst.provisioned,
            warming,
            slowdown,
            down_until: (!inst.up && inst.provisioned).then_some(inst.down_until),
            queued: inst.queued * unit,
            queue_capacity: inst.queue_capacity.map(|q| q * unit),
            workers: inst.workers() * unit,
            busy: inst.busy * unit,
            waiting: inst.waiting * unit,
            memory_used_mb: inst.memory_used_mb(),
            memory_capacity_mb: inst.memory.capacity_mb,
            pressure: inst.pressure,
            instance_health: self.instance_health.get(e).ok().map(|h| h.0),
            engine_health_at_cycle: self.instance_health.get(e).ok().map(|h| h.1),
            health: self.health.get(e).ok().map(HealthReading::from),
            engines,
            counters: inst.counters,
            occupancy_area: inst.occupancy_area(now),
            queue_area: inst.queue_area(now),
            concurrency_limit: inst.concurrency.as_ref().map(|c| c.limit() * unit),
            codel: inst.codel(),
        })
    }

    /// Every instance, in global index order.
    pub fn instances(&self) -> impl Iterator<Item = InstanceView<'_>> {
        (0..self.instance_count() as u32).filter_map(|i| self.instance(i))
    }

    /// Component `component`'s bulkheads, summed over its instances (real requests and
    /// workers): per bulkhead, in scenario order, (busy, workers, waiting, queue, refused).
    pub fn bulkheads(&self, component: u32) -> Vec<[u64; 5]> {
        let unit = self.topo.unit;
        let mut out: Vec<[u64; 5]> = vec![];
        let ids = self
            .topo
            .components
            .get(component as usize)
            .map_or(&[][..], |c| c.instance_ids.as_slice());
        for &i in ids {
            let Some(b) = self.core.instance(i).and_then(|i| i.bulkheads.as_ref()) else {
                continue;
            };
            out.resize(b.parts.len() - 1, [0; 5]);
            for (o, p) in out.iter_mut().zip(&b.parts[1..]) {
                let add = [
                    p.busy as u64,
                    p.workers as u64,
                    p.queue.len() as u64,
                    p.capacity,
                    p.refused,
                ];
                for (x, y) in o.iter_mut().zip(add) {
                    *x += y * unit;
                }
            }
        }
        out
    }

    /// The instances of component `component`, by ordinal.
    pub fn instances_of(&self, component: u32) -> impl Iterator<Item = InstanceView<'_>> {
        let ids: &[u32] = self
            .topo
            .components
            .get(component as usize)
            .map_or(&[], |c| c.instance_ids.as_slice());
        ids.iter().filter_map(|i| self.instance(*i))
    }

    /// Link `index`.
    pub fn link(&self, index: u32) -> Option<LinkView<'_>> {
        let l = self.core.link(index)?;
        let unit = self.topo.unit;
        let f = &l.flow;
        Some(LinkView {
            index,
            name: &l.name,
            from: l.from,
            to: l.to,
            call: l.call,
            alternative: self
                .topo
                .alternatives
                .get(index as usize)
                .copied()
                .flatten(),
            flow_controlled: matches!(l.from, NodeRef::Component(_)),
            rate_limit: f.limit,
            rate_target: f.target,
            demand: f.demand,
            recommended: f.recommended,
            reason: f.reason.name(),
            urgency: f.urgency,
            delay: f.delay,
            held: f.held.len() as u64 * unit,
            limiter: l.limiter.as_ref().map(|x| x.describe(unit)),
            refused: f.refused * unit,
            breaker: l.breaker.state,
            breaker_refused: l.breaker.refused * unit,
            breaker_window: l.breaker.calls.window_rates(),
            health_queries: f.stats,
            in_transit: l.in_transit() as u64 * unit,
            topic_len: l.topic.len() as u64 * unit,
            topic_capacity: l.topic_capacity.map(|c| c * unit),
            window: l.window.as_ref().map(|w| WindowView {
                in_flight: w.in_flight * unit,
                max: w.max.saturating_mul(unit),
                waiting: w.waiting.len() as u64 * unit,
                adaptive: w.adaptive.is_some(),
                credits: w.credit,
            }),
            retry_waiting: l.redelivery.as_ref().map_or(0, |r| r.waiting) * unit,
            counters: l.counters,
        })
    }

    /// Every link, in index order.
    pub fn links(&self) -> impl Iterator<Item = LinkView<'_>> {
        (0..self.link_count() as u32).filter_map(|i| self.link(i))
    }

    /// What is on the wire of link `link`: requests toward the receiver, then responses back, each
    /// in sending order. Empty for an unknown link.
    pub fn in_transit(&self, link: u32) -> impl Iterator<Item = TransitView> + '_ {
        let l = self.core.link(link);
        let forward = l
            .into_iter()
            .flat_map(|l| l.forward.iter().map(TransitView::request));
        let backward = l
            .into_iter()
            .flat_map(|l| l.backward.iter().map(TransitView::response));
        forward.chain(backward)
    }

    /// The whole system.
    pub fn system(&self) -> SystemView {
        let (mut live, mut counters) = (0, SourceCounters::default());
        for s in &self.core.sources {
            live += s.live;
            add_source_counters(&mut counters, &s.counters);
        }
        SystemView {
            health: self.system_health.health,
            critical: self.system_health.critical,
            red: self.system_health.red,
            factor: self.system_health.factor,
            starved: self.system_health.starved,
            health_broadcast_messages: self.flow_config.broadcast_messages,
            live: live * self.topo.unit,
            counters,
        }
    }

    /// End-to-end latency of completed logical requests, whole run up to the last sample.
    pub fn system_latency(&self) -> LatencyView {
        self.system_latency
            .total()
            .map_or_else(LatencyView::default, LatencyView::of)
    }

    /// Time inside component `index` of its successful requests, whole run up to the last
    /// sample.
    pub fn component_latency(&self, index: u32) -> Option<LatencyView> {
        let c = self.topo.components.get(index as usize)?;
        let l = self.core.latency.get(c.index as usize)?;
        Some(l.total().map_or_else(LatencyView::default, LatencyView::of))
    }

    /// p50, p95 and p99 end-to-end latency over the last sampling interval (µs; 0 when none).
    pub fn system_interval_us(&self) -> [u64; 3] {
        self.system_latency.last_interval_us()
    }

    /// p50, p95 and p99 time inside component `index` over the last sampling interval (µs; 0
    /// when none).
    pub fn component_interval_us(&self, index: u32) -> Option<[u64; 3]> {
        let c = self.topo.components.get(index as usize)?;
        Some(self.core.latency.get(c.index as usize)?.last_interval_us())
    }

    /// The recent history of one metric as (time in seconds, value), oldest first: the values
    /// written to the metrics CSV, at most `SERIES_CAPACITY` of them.
    pub fn series(
        &self,
        entity: SeriesEntity,
        metric: Metric,
    ) -> impl DoubleEndedIterator<Item = (f64, f64)> + '_ {
        self.series.get(entity, metric)
    }

    /// Every series.
    pub fn all_series(&self) -> &Series {
        &self.series
    }

    /// Every flow's route.
    pub fn routes(&self) -> &Routes {
        &self.routes
    }

    /// How long callers waited for their fan-outs' answers, per (flow, hop).
    pub fn fan_waits(&self) -> &crate::sim::flow::routing::FanWaits {
        &self.fans
    }

    /// End-to-end figures per flow and per priority class.
    pub fn classes(&self) -> &crate::sim::read::classes::ClassStats {
        &self.classes
    }
}

// `SimView` only reads: this fails to compile if a field ever takes `ResMut` or `&mut T`.
const _: () = {
    const fn read_only<P: bevy::ecs::system::ReadOnlySystemParam>() {}
    read_only::<SimView<'static, 'static>>();
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transit_progress_runs_from_departure_to_arrival() {
        let t = TransitView {
            depart: 100,
            arrive: 300,
            kind: TransitKind::Request,
            flow: 0,
            priority: Priority::High,
        };
        assert_eq!(t.progress(50), 0.0);
        assert_eq!(t.progress(200), 0.5);
        assert_eq!(t.progress(400), 1.0);
        let instant = TransitView { arrive: 100, ..t };
        assert_eq!(instant.progress(100), 1.0);
    }

    #[test]
    fn instance_state_ranks_spare_down_slowed_warming() {
        use InstanceState::*;
        assert_eq!(instance_state(false, false, 1.0, false), Spare);
        assert_eq!(instance_state(true, false, 2.0, true), Down);
        assert_eq!(instance_state(true, true, 2.0, true), Slowed);
        assert_eq!(instance_state(true, true, 1.0, true), Warming);
        assert_eq!(instance_state(true, true, 1.0, false), Up);
    }

    #[test]
    fn counters_sum_field_by_field() {
        let a = InstanceCounters {
            arrivals: 3,
            dropped: 1,
            sojourn_ns: 1.5,
            ..default()
        };
        let mut s = a;
        add_instance_counters(&mut s, &a);
        assert_eq!((s.arrivals, s.dropped, s.sojourn_ns), (6, 2, 3.0));
        let c = SourceCounters {
            generated: 2,
            ended: [1, 0, 0, 0, 1],
            ..default()
        };
        let mut t = c;
        add_source_counters(&mut t, &c);
        assert_eq!((t.generated, t.ended), (4, [2, 0, 0, 0, 2]));
    }
}
