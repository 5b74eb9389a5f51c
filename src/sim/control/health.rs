//! Seed 000's health model. Two measures, each for its own decisions:
//!
//! - the **dynamic health score** (0-100) of a component, from its queue, processing, latency
//!   and error rate, weighted 30/25/25/20 and banded GREEN/YELLOW/RED/CRITICAL at 80/60/30. It is
//!   what a sender sees when it queries a component (`HealthStatus`), and drives rate control,
//!   circuit-breaker probes and fallbacks;
//! - the **aggregated health** (0-1) from resource engines: engine health from utilization bands,
//!   instance health = its worst engine, component health = mean over functional instances times
//!   the functional fraction, system health = mean component health times a penalty for critical
//!   components. It drives instance-level routing, autoscaling and the backpressure delay table.

use crate::scenario::HealthSpec;
use crate::sim::SimClock;
use crate::sim::SimSystems;
use crate::sim::SimTick;
use crate::sim::flow::core::FlowCore;
use crate::sim::flow::engines::Engine;
use crate::sim::flow::instance::Instance;
use crate::sim::schedule::cadence::on_health_cycle;
use crate::sim::schedule::dist::{Nanos, SEC};
pub use crate::sim::schedule::states::HealthBand;
use crate::sim::schedule::topology::Topology;
use bevy::prelude::*;
use std::collections::VecDeque;

/// The four parts of the dynamic score, each 0-100.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Scores {
    /// 100 - queue utilization %.
    pub queue: f64,
    /// 100 - processing utilization %.
    pub processing: f64,
    /// 100 - latency multiple x 10.
    pub latency: f64,
    /// 100 - error multiple x 5.
    pub error: f64,
}

/// What the scores are computed from.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Observed {
    /// Requests queued.
    pub queue_len: f64,
    /// Queue capacity.
    pub queue_capacity: f64,
    /// Requests served per second.
    pub throughput: f64,
    /// Most requests per second the live instances can serve.
    pub max_throughput: f64,
    /// Current latency (ms).
    pub latency_ms: f64,
    /// Latency baseline (ms).
    pub baseline_latency_ms: f64,
    /// Current error rate (0-1).
    pub error_rate: f64,
    /// Error-rate baseline (0-1).
    pub baseline_error_rate: f64,
}

/// Computes the four scores (the seed's formulas, clamped to 0-100).
pub fn scores(o: &Observed, spec: &HealthSpec) -> Scores {
    let pct = |a: f64, b: f64| {
        if b > 0.0 {
            (a / b).clamp(0.0, f64::INFINITY) * 100.0
        } else {
            0.0
        }
    };
    let clamp = |x: f64| x.clamp(0.0, 100.0);
    let latency_multiple = if o.baseline_latency_ms > 0.0 {
        o.latency_ms / o.baseline_latency_ms
    } else {
        0.0
    };
    let error_multiple = if o.baseline_error_rate > 0.0 {
        o.error_rate / o.baseline_error_rate
    } else {
        0.0
    };
    Scores {
        queue: clamp(100.0 - pct(o.queue_len, o.queue_capacity)),
        processing: clamp(100.0 - pct(o.throughput, o.max_throughput)),
        latency: clamp(100.0 - latency_multiple * spec.latency_points_per_multiple),
        error: clamp(100.0 - error_multiple * spec.error_points_per_multiple),
    }
}

/// Weighted score (0-100).
pub fn weighted(s: &Scores, spec: &HealthSpec) -> f64 {
    let w = spec.weights;
    s.queue * w.queue + s.processing * w.processing + s.latency * w.latency + s.error * w.error
}

/// The part of the score that costs it the most points (its weight times what it lost), with
/// the points lost: what holds a status where it is ("queue", "processing", "latency",
/// "errors"). `None` when nothing is lost.
pub fn weakest_part(s: &Scores, spec: &HealthSpec) -> Option<(&'static str, f64)> {
    let w = spec.weights;
    [
        ("queue", (100.0 - s.queue) * w.queue),
        ("processing", (100.0 - s.processing) * w.processing),
        ("latency", (100.0 - s.latency) * w.latency),
        ("errors", (100.0 - s.error) * w.error),
    ]
    .into_iter()
    .filter(|p| p.1 > 0.5)
    .fold(None, |best: Option<(&str, f64)>, p| match best {
        Some(b) if b.1 >= p.1 => Some(b),
        _ => Some(p),
    })
}

/// Status band of a score.
pub fn status_of(score: f64, spec: &HealthSpec) -> HealthBand {
    let b = spec.bands;
    if score >= b.green {
        HealthBand::Green
    } else if score >= b.yellow {
        HealthBand::Yellow
    } else if score >= b.red {
        HealthBand::Red
    } else {
        HealthBand::Critical
    }
}

/// Engine health from utilization (0-1) by the bands.
pub fn engine_health(utilization: f64, spec: &HealthSpec) -> f64 {
    spec.engine_bands
        .iter()
        .find(|(below, _)| utilization < *below)
        .map_or(spec.engine_floor, |b| b.1)
}

/// Instance health: its worst engine (bottleneck principle).
pub fn instance_health(engines: &[f64]) -> f64 {
    engines.iter().copied().fold(1.0, f64::min)
}

/// Component health: mean over functional instances times the functional fraction.
pub fn component_health(instances: &[f64], spec: &HealthSpec) -> f64 {
    let functional: Vec<f64> = instances
        .iter()
        .copied()
        .filter(|h| *h > spec.functional_above)
        .collect();
    if functional.is_empty() || instances.is_empty() {
        return 0.0;
    }
    let mean = functional.iter().sum::<f64>() / functional.len() as f64;
    mean * functional.len() as f64 / instances.len() as f64
}

/// One component as system health sees it: its aggregated (resource) health and its status.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ComponentStanding {
    /// Aggregated health from the engines (0-1).
    pub health: f64,
    /// Status band of the dynamic score.
    pub status: HealthBand,
    /// Dynamic score (0-100).
    pub score: f64,
}

impl ComponentStanding {
    /// Critical for the system: its status is CRITICAL or its resource health is below
    /// `critical_below`.
    pub fn is_critical(&self, spec: &HealthSpec) -> bool {
        self.status == HealthBand::Critical || self.health < spec.critical_below
    }

    /// RED for the system (and not critical).
    pub fn is_red(&self, spec: &HealthSpec) -> bool {
        self.status == HealthBand::Red && !self.is_critical(spec)
    }

    /// What it adds to the system's mean: the worse of its two measures, so a component
    /// whose resources are idle but whose queue is full counts as unhealthy.
    pub fn weight(&self) -> f64 {
        self.health.min(self.score / 100.0).clamp(0.0, 1.0)
    }
}

/// System health (seed 000, level 4, "average component health with critical component
/// penalties"): the mean over components of the worse of each one's resource health and
/// status score, times a penalty factor of 1 - `critical_penalty` per critical component -
/// `red_penalty` per RED one, at least `penalty_floor`. A RED component keeps the system below
/// 1 - `red_penalty`, a CRITICAL one below 1 - `critical_penalty`, at any size of system.
pub fn system_health(components: &[ComponentStanding], spec: &HealthSpec) -> SystemHealth {
    if components.is_empty() {
        return SystemHealth {
            health: 1.0,
            ..default()
        };
    }
    let mean = components.iter().map(|c| c.weight()).sum::<f64>() / components.len() as f64;
    let critical = components.iter().filter(|c| c.is_critical(spec)).count() as u32;
    let red = components.iter().filter(|c| c.is_red(spec)).count() as u32;
    let factor = (1.0 - spec.critical_penalty * critical as f64 - spec.red_penalty * red as f64)
        .max(spec.penalty_floor);
    let starved = components
        .iter()
        .filter(|c| c.is_critical(spec) && c.status != HealthBand::Critical)
        .count() as u32;
    SystemHealth {
        health: mean * factor,
        critical,
        red,
        factor,
        starved,
    }
}

/// A component's read-only health, as the seed's `ComponentHealthStatus`, plus the aggregated
/// health and trends. Updated once per health cycle.
#[derive(Component, Debug, Clone, Default, PartialEq)]
pub struct HealthStatus {
    /// Band of `score`.
    pub status: HealthBand,
    /// Dynamic health score (0-100).
    pub score: f64,
    /// The four parts of the score.
    pub scores: Scores,
    /// Whether it takes new requests (an instance is up and the queues are not full).
    pub accepting_load: bool,
    /// Mean CPU utilization of live instances (0-100).
    pub cpu: f64,
    /// Mean memory utilization of live instances (0-100).
    pub memory: f64,
    /// Share of processing capacity left (0-100).
    pub available_capacity: f64,
    /// Mean time in the component over the latency window (ms).
    pub latency_ms: f64,
    /// Requests queued (real).
    pub queue_length: u64,
    /// Queue capacity (real; for an unbounded queue, 100 per worker).
    pub queue_capacity: f64,
    /// Error rate over the error window (0-1).
    pub error_rate: f64,
    /// When it was computed (ns).
    pub last_updated: Nanos,
    /// Aggregated health (0-1).
    pub health: f64,
    /// Queue growth (real requests per second, negative when draining).
    pub queue_growth_per_s: f64,
    /// Seconds until the queue is full at the current growth (infinite when not growing).
    pub time_to_full_s: f64,
    /// Latency change per second (ms/s).
    pub latency_trend_ms_per_s: f64,
    /// Error-rate change per second.
    pub error_trend_per_s: f64,
    /// Requests served per second over the last cycle (real).
    pub throughput: f64,
    /// Requests arriving per second over the last cycle (real).
    pub incoming: f64,
    /// Most requests per second the live instances can serve (real).
    pub max_throughput: f64,
    /// Queue length forecast `health.forecast.horizon_s` ahead (Holt's linear method, real).
    pub forecast_queue: f64,
    /// The last queue observation was far off its forecast.
    pub anomaly: bool,
    /// Whether it answers health queries at all: an instance that is up, a component with a
    /// live instance. A query to one that does not answer fails.
    pub answering: bool,
}

impl HealthStatus {
    /// The status of a component or instance before its first health cycle: idle and healthy.
    pub fn initial() -> Self {
        Self {
            score: 100.0,
            scores: Scores {
                queue: 100.0,
                processing: 100.0,
                latency: 100.0,
                error: 100.0,
            },
            accepting_load: true,
            available_capacity: 100.0,
            health: 1.0,
            time_to_full_s: f64::INFINITY,
            answering: true,
            ..default()
        }
    }

    /// GREEN or YELLOW.
    pub fn is_healthy(&self) -> bool {
        matches!(self.status, HealthBand::Green | HealthBand::Yellow)
    }

    /// The seed's `CanAcceptLoad(estimatedLoad)`: accepting, enough capacity left (in %), and
    /// neither RED nor CRITICAL.
    pub fn can_accept_load(&self, estimated_load_pct: f64) -> bool {
        self.accepting_load
            && self.available_capacity >= estimated_load_pct
            && !matches!(self.status, HealthBand::Red | HealthBand::Critical)
    }
}

/// Aggregated health of one instance (0-1) and the health of each of its engines it was taken
/// from (`EngineKind` order), both as of the last health cycle.
#[derive(Component, Debug, Clone, Copy, Default, PartialEq)]
pub struct InstanceHealth(pub f64, pub [f64; 4]);

/// An instance's counters at the last health cycle, for its own `HealthStatus`.
#[derive(Component, Debug, Clone, Copy, Default, PartialEq)]
pub struct InstanceTracker {
    at: Nanos,
    served: u64,
    ok: u64,
    errors: u64,
    sojourn_ns: f64,
}

/// Whole-system health (0-1) and the components that pull it down.
#[derive(Resource, Debug, Clone, Copy, PartialEq)]
pub struct SystemHealth {
    /// Mean component health times the penalty factor.
    pub health: f64,
    /// Components that are critical (status CRITICAL, or resource health below
    /// `critical_below`).
    pub critical: u32,
    /// Components whose status is RED (and are not critical).
    pub red: u32,
    /// The penalty factor applied (1 when nothing is RED or critical).
    pub factor: f64,
    /// Of the critical ones, those whose status is not CRITICAL: critical by their resource
    /// health alone (a RED badge on engines past 95%).
    pub starved: u32,
}

impl Default for SystemHealth {
    /// Before the first health cycle: idle and healthy.
    fn default() -> Self {
        Self {
            health: 1.0,
            critical: 0,
            red: 0,
            factor: 1.0,
            starved: 0,
        }
    }
}

/// One second of a component's totals, for the sliding windows.
#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    at: Nanos,
    arrivals: u64,
    served: u64,
    ok: u64,
    errors: u64,
    sojourn_ns: f64,
    queued: f64,
    latency_ms: f64,
    error_rate: f64,
}

/// What a component's health is computed from between cycles.
#[derive(Component, Debug, Clone, Default)]
pub struct HealthTracker {
    history: VecDeque<Totals>,
    baseline_latency_ms: f64,
    holt: Holt,
}

/// Holt's linear method: a level and a trend per step.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Holt {
    /// Smoothed level.
    pub level: f64,
    /// Smoothed change per step.
    pub trend: f64,
    /// Mean absolute one-step error (smoothed).
    pub mae: f64,
    /// Observations seen.
    pub n: u64,
    /// Absolute error of the last observation against its one-step forecast.
    pub last_error: f64,
}

impl Holt {
    /// Takes one observation; returns whether it was an anomaly (its one-step forecast error
    /// above `factor` mean absolute errors, after a few observations).
    pub fn observe(&mut self, y: f64, alpha: f64, beta: f64, factor: f64) -> bool {
        if self.n == 0 {
            self.level = y;
            self.n = 1;
            return false;
        }
        let predicted = self.level + self.trend;
        let err = (y - predicted).abs();
        self.last_error = err;
        let anomaly = self.n > 10 && self.mae > 0.0 && err > factor * self.mae;
        self.mae += 0.1 * (err - self.mae);
        let level = alpha * y + (1.0 - alpha) * predicted;
        self.trend = beta * (level - self.level) + (1.0 - beta) * self.trend;
        self.level = level;
        self.n += 1;
        anomaly
    }

    /// Forecast `steps` ahead.
    pub fn forecast(&self, steps: f64) -> f64 {
        self.level + steps * self.trend
    }
}

/// Health parameters (the scenario's `health` section).
#[derive(Resource, Debug, Clone, Default)]
pub struct HealthConfig {
    /// Parameters.
    pub spec: HealthSpec,
}

/// Mean service time (ms) and per-instance capacity (real requests/s) of each component.
#[derive(Resource, Debug, Clone, Default)]
pub struct Capacities {
    /// Per component: (mean service ms, requests/s per instance at full load).
    pub per_component: Vec<(f64, f64)>,
}

/// Share of processing capacity left, 0-100 (0 when nothing can be served).
fn available_capacity(throughput: f64, max_throughput: f64) -> f64 {
    if max_throughput > 0.0 {
        (100.0 - throughput / max_throughput * 100.0).max(0.0)
    } else {
        0.0
    }
}

/// What an instance's own status is computed from.
struct InstanceObs<'a> {
    inst: &'a Instance,
    utils: [f64; 4],
    health: f64,
    per_instance: f64,
    baseline_latency_ms: f64,
    unit: f64,
    now: Nanos,
}

/// An instance's own `HealthStatus` over the last cycle: the same score as a component's, from
/// its queue, its throughput against its capacity, its mean time inside and its error rate.
/// Trends and forecasts are kept for components only.
fn instance_status(
    o: &InstanceObs,
    tracker: &mut InstanceTracker,
    spec: &HealthSpec,
) -> HealthStatus {
    let inst = o.inst;
    let k = &inst.counters;
    let dt = (o.now.saturating_sub(tracker.at) as f64 / SEC).max(1e-9);
    let ok = (k.ok - tracker.ok) as f64;
    let errors = (k.errors - tracker.errors) as f64;
    let latency_ms = if ok > 0.0 {
        (k.sojourn_ns - tracker.sojourn_ns) / ok / 1e6
    } else {
        0.0
    };
    let throughput = (k.served - tracker.served) as f64 * o.unit / dt;
    *tracker = InstanceTracker {
        at: o.now,
        served: k.served,
        ok: k.ok,
        errors: k.errors,
        sojourn_ns: k.sojourn_ns,
    };
    let live = inst.up && inst.provisioned;
    let queued = inst.queued as f64 * o.unit;
    let capacity = inst.queue_limit() as f64 * o.unit;
    let max_throughput = if live { o.per_instance } else { 0.0 };
    let error_rate = if ok + errors > 0.0 {
        errors / (ok + errors)
    } else {
        0.0
    };
    let observed = Observed {
        queue_len: queued,
        queue_capacity: capacity,
        throughput,
        max_throughput,
        latency_ms,
        baseline_latency_ms: o.baseline_latency_ms,
        error_rate,
        baseline_error_rate: spec.baseline_error_rate,
    };
    let sc = scores(&observed, spec);
    let score = if live { weighted(&sc, spec) } else { 0.0 };
    HealthStatus {
        status: status_of(score, spec),
        score,
        scores: sc,
        accepting_load: live && queued < capacity,
        cpu: o.utils[0] * 100.0,
        memory: o.utils[1] * 100.0,
        available_capacity: available_capacity(throughput, max_throughput),
        latency_ms,
        queue_length: queued as u64,
        queue_capacity: capacity,
        error_rate,
        last_updated: o.now,
        health: o.health,
        time_to_full_s: f64::INFINITY,
        throughput,
        max_throughput,
        answering: live,
        ..default()
    }
}

pub(in crate::sim) fn plugin(app: &mut App) {
    app.init_resource::<HealthConfig>()
        .init_resource::<Capacities>()
        .init_resource::<SystemHealth>()
        .add_systems(
            SimTick,
            (crate::sim::flow::core::sync_queues, update_health)
                .chain()
                .run_if(on_health_cycle)
                .in_set(SimSystems::Health),
        )
        .add_systems(
            crate::sim::SimLoad,
            reset.in_set(crate::sim::LoadSystems::Reset),
        );
}

/// Back to t = 0 for the scenario being loaded: its parameters and each component's capacity.
fn reset(world: &mut World) {
    // Read in place: a copy of a 10,000-component scenario would be 6 MB at its peak.
    let scenario = &world.resource::<crate::sim::SimConfig>().scenario;
    let per_component = scenario
        .components
        .iter()
        .map(|c| {
            let plan = crate::sim::flow::engines::plan(c);
            (plan.mean_ms, c.workers as f64 / (plan.mean_ms / 1000.0))
        })
        .collect();
    let spec = scenario.health.clone();
    world.insert_resource(HealthConfig { spec });
    world.insert_resource(Capacities { per_component });
    world.insert_resource(SystemHealth::default());
}

/// What a component's instances add up to in one cycle.
#[derive(Default)]
struct InstanceSum {
    totals: Totals,
    queued: f64,
    capacity: f64,
    up: u32,
    cpu: f64,
    mem: f64,
    live_capacity: f64,
    healths: Vec<f64>,
}

/// Seed 000, "Multi-Level Health Aggregation", engine and instance levels: every instance of
/// `c` gets its engine-band health and its own status; the sums the component level needs.
fn score_instances(
    c: &crate::sim::schedule::topology::ComponentInfo,
    (core, children): (&FlowCore, &Query<&Children>),
    engines: &Query<&Engine>,
    inst_health: &mut Query<
        (&mut InstanceHealth, &mut HealthStatus, &mut InstanceTracker),
        Without<HealthTracker>,
    >,
    per_instance: f64,
    baseline_ms: f64,
    unit: f64,
    now: Nanos,
    spec: &HealthSpec,
) -> InstanceSum {
    let mut sum = InstanceSum {
        totals: Totals {
            at: now,
            ..default()
        },
        ..default()
    };
    for (&e, &i) in c.instances.iter().zip(&c.instance_ids) {
        let (Some(inst), Ok(children)) = (core.instance(i), children.get(e)) else {
            continue;
        };
        let k = &inst.counters;
        let t = &mut sum.totals;
        t.arrivals += k.arrivals;
        t.served += k.served;
        t.ok += k.ok;
        t.errors += k.errors;
        t.sojourn_ns += k.sojourn_ns;
        if !inst.provisioned {
            // Spares count for the totals (their counters stand still) but not for health,
            // and do not answer health queries.
            if let Ok((_, mut status, _)) = inst_health.get_mut(e) {
                *status = HealthStatus {
                    status: HealthBand::Critical,
                    last_updated: now,
                    ..default()
                };
            }
            continue;
        }
        sum.queued += inst.queued as f64 * unit;
        sum.capacity += inst.queue_limit() as f64 * unit;
        // A slowed instance (a slowdown fault) can do proportionally less.
        let inst_capacity = per_instance / inst.slowdown_at(now);
        let mut engine_h = vec![];
        let mut utils = [0.0; 4];
        let mut by_kind = [engine_health(0.0, spec); 4];
        for ch in children.iter() {
            if let Ok(eng) = engines.get(ch) {
                let eh = engine_health(eng.utilization, spec);
                engine_h.push(eh);
                by_kind[eng.kind as usize] = eh;
                utils[eng.kind as usize] = eng.utilization;
            }
        }
        let h = if inst.up {
            instance_health(&engine_h)
        } else {
            0.0
        };
        if let Ok((mut ih, mut status, mut tracker)) = inst_health.get_mut(e) {
            *ih = InstanceHealth(h, by_kind);
            let o = InstanceObs {
                inst,
                utils,
                health: h,
                per_instance: inst_capacity,
                baseline_latency_ms: baseline_ms,
                unit,
                now,
            };
            *status = instance_status(&o, &mut tracker, spec);
        }
        sum.healths.push(h);
        if inst.up {
            sum.up += 1;
            sum.live_capacity += inst_capacity;
            sum.cpu += utils[0];
            sum.mem += utils[1];
        }
    }
    sum
}

/// Recomputes every component's `HealthStatus`, every instance's health and the system health,
/// once per health cycle.
pub fn update_health(
    clock: Res<SimClock>,
    topo: Res<Topology>,
    caps: Res<Capacities>,
    config: Res<HealthConfig>,
    core: Res<FlowCore>,
    children: Query<&Children>,
    engines: Query<&Engine>,
    mut inst_health: Query<
        (&mut InstanceHealth, &mut HealthStatus, &mut InstanceTracker),
        Without<HealthTracker>,
    >,
    mut comps: Query<(&mut HealthStatus, &mut HealthTracker), Without<InstanceTracker>>,
    mut system: ResMut<SystemHealth>,
) {
    let spec = &config.spec;
    let unit = topo.unit as f64;
    let mut standings = Vec::with_capacity(topo.components.len());
    for c in &topo.components {
        let (mean_ms, per_instance) = caps.per_component[c.index as usize];
        // Instances are scored against their component's latency baseline.
        let baseline = comps
            .get(c.entity)
            .map(|(_, tr)| tr.baseline_latency_ms)
            .ok()
            .filter(|b| *b > 0.0)
            .unwrap_or(mean_ms);
        let sum = score_instances(
            c,
            (&core, &children),
            &engines,
            &mut inst_health,
            per_instance,
            baseline,
            unit,
            clock.now,
            spec,
        );
        let health = component_health(&sum.healths, spec);
        let Ok((mut status, mut tracker)) = comps.get_mut(c.entity) else {
            continue;
        };
        if tracker.baseline_latency_ms == 0.0 {
            tracker.baseline_latency_ms = spec.baseline_latency_ms.unwrap_or(mean_ms);
        }
        *status = component_status(&mut tracker, sum, health, unit, clock.now, spec);
        standings.push(ComponentStanding {
            health,
            status: status.status,
            score: status.score,
        });
    }
    *system = system_health(&standings, spec);
}

/// The totals at the start of the window of `seconds` that ends at `now`.
fn window(tr: &HealthTracker, now: Nanos, seconds: f64) -> Totals {
    let since = now.saturating_sub((seconds * SEC) as Nanos);
    tr.history
        .iter()
        .find(|h| h.at >= since)
        .copied()
        .unwrap_or_default()
}

/// Mean latency (ms) over the latency window and error rate over the error window, up to `t`.
fn windowed(tracker: &HealthTracker, t: &Totals, now: Nanos, spec: &HealthSpec) -> (f64, f64) {
    let lw = window(tracker, now, spec.latency_window_s);
    let ew = window(tracker, now, spec.error_window_s);
    let ok = (t.ok - lw.ok) as f64;
    let latency_ms = if ok > 0.0 {
        (t.sojourn_ns - lw.sojourn_ns) / ok / 1e6
    } else {
        0.0
    };
    let (eo, ee) = ((t.ok - ew.ok) as f64, (t.errors - ew.errors) as f64);
    let error_rate = if eo + ee > 0.0 { ee / (eo + ee) } else { 0.0 };
    (latency_ms, error_rate)
}

/// Seed 000, "Dynamic Health Scores" and "Health Status Tracking": a component's score over
/// its windows (latency, errors, trends), its status, trends, forecast and anomaly; records the
/// cycle in the tracker's history.
fn component_status(
    tracker: &mut HealthTracker,
    sum: InstanceSum,
    health: f64,
    unit: f64,
    now: Nanos,
    spec: &HealthSpec,
) -> HealthStatus {
    let mut t = sum.totals;
    let (queued, capacity, up) = (sum.queued, sum.capacity, sum.up);
    let last = tracker.history.back().copied().unwrap_or_default();
    let dt = ((t.at - last.at) as f64 / SEC).max(1e-9);
    let (latency_ms, error_rate) = windowed(tracker, &t, now, spec);
    let throughput = (t.served - last.served) as f64 * unit / dt;
    let incoming = (t.arrivals - last.arrivals) as f64 * unit / dt;
    let max_throughput = sum.live_capacity;
    let observed = Observed {
        queue_len: queued,
        queue_capacity: capacity,
        throughput,
        max_throughput,
        latency_ms,
        baseline_latency_ms: tracker.baseline_latency_ms,
        error_rate,
        baseline_error_rate: spec.baseline_error_rate,
    };
    let sc = scores(&observed, spec);
    // A component with no live instance does not answer at all: CRITICAL, score 0.
    let score = if up == 0 { 0.0 } else { weighted(&sc, spec) };
    let st = status_of(score, spec);
    // Trends over the trend window (oldest sample inside it).
    let tw = window(tracker, now, spec.trend_window_s);
    let tdt = if tw.at > 0 || !tracker.history.is_empty() {
        ((t.at - tw.at) as f64 / SEC).max(dt)
    } else {
        dt
    };
    let growth = (queued - tw.queued) / tdt;
    let f = spec.forecast;
    // An anomaly must also be material: off by a share of the queue's capacity (a queue of
    // 60 where 0 was forecast is noise, not news).
    let anomaly = tracker
        .holt
        .observe(queued, f.alpha, f.beta, f.anomaly_factor)
        && tracker.holt.last_error >= f.anomaly_min_share * capacity;
    let forecast_queue = tracker.holt.forecast(f.horizon_s / spec.cycle_s).max(0.0);
    let status = HealthStatus {
        status: st,
        score,
        scores: sc,
        accepting_load: up > 0 && queued < capacity,
        cpu: if up > 0 {
            sum.cpu / up as f64 * 100.0
        } else {
            0.0
        },
        memory: if up > 0 {
            sum.mem / up as f64 * 100.0
        } else {
            0.0
        },
        available_capacity: available_capacity(throughput, max_throughput),
        latency_ms,
        queue_length: queued as u64,
        queue_capacity: capacity,
        error_rate,
        last_updated: now,
        health,
        queue_growth_per_s: growth,
        time_to_full_s: if growth > 0.0 {
            (capacity - queued).max(0.0) / growth
        } else {
            f64::INFINITY
        },
        latency_trend_ms_per_s: (latency_ms - tw.latency_ms) / tdt,
        error_trend_per_s: (error_rate - tw.error_rate) / tdt,
        throughput,
        incoming,
        max_throughput,
        forecast_queue,
        anomaly,
        answering: up > 0,
    };
    // The latency baseline is learned while healthy (slowly, so a creeping overload does
    // not drag it up).
    if spec.baseline_latency_ms.is_none() && st == HealthBand::Green && latency_ms > 0.0 {
        tracker.baseline_latency_ms += 0.05 * (latency_ms - tracker.baseline_latency_ms);
    }
    t.queued = queued;
    t.latency_ms = latency_ms;
    t.error_rate = error_rate;
    tracker.remember(t, now, spec);
    status
}

impl HealthTracker {
    /// Adds a cycle's totals to the history and forgets what no window reaches any more.
    fn remember(&mut self, t: Totals, now: Nanos, spec: &HealthSpec) {
        self.history.push_back(t);
        let cycle = (spec.cycle_s * SEC) as Nanos;
        let keep = (spec
            .latency_window_s
            .max(spec.error_window_s)
            .max(spec.trend_window_s)
            * SEC) as Nanos
            + cycle;
        while self.history.front().is_some_and(|h| h.at + keep < now) {
            self.history.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_worked_example_scores_7_points_critical() {
        let spec = HealthSpec::default();
        let o = Observed {
            queue_len: 850.0,
            queue_capacity: 1000.0,
            throughput: 45_000.0,
            max_throughput: 50_000.0,
            latency_ms: 250.0,
            baseline_latency_ms: 15.0,
            error_rate: 0.032,
            baseline_error_rate: 0.001,
        };
        let s = scores(&o, &spec);
        assert!((s.queue - 15.0).abs() < 1e-9);
        assert!((s.processing - 10.0).abs() < 1e-9);
        assert_eq!(s.latency, 0.0);
        assert_eq!(s.error, 0.0);
        let score = weighted(&s, &spec);
        assert!((score - 7.0).abs() < 1e-9, "{score}");
        assert_eq!(status_of(score, &spec), HealthBand::Critical);
    }

    #[test]
    fn the_seeds_aggregation_examples() {
        let spec = HealthSpec::default();
        let inst = |u: [f64; 4]| instance_health(&u.map(|x| engine_health(x, &spec)));
        // CPU, memory, storage, network utilizations from the seed's database example.
        let a = inst([0.70, 0.60, 0.85, 0.40]);
        let b = inst([0.75, 0.65, 0.90, 0.45]);
        let c = inst([0.80, 0.70, 0.95, 0.50]);
        assert_eq!((a, b, c), (0.5, 0.3, 0.2));
        let db = component_health(&[a, b, c], &spec);
        assert!((db - 0.33).abs() < 0.005, "{db}");
        // Two functional instances (0.2, 0.3) out of three.
        let two = component_health(&[0.2, 0.3, 0.1], &spec);
        assert!((two - 0.17).abs() < 0.005, "{two}");
        // Database 0.17 (critical), cache 0.85, web 0.92: 0.65 x 0.8.
        let at = |health, status, score| ComponentStanding {
            health,
            status,
            score,
        };
        let sys = system_health(
            &[
                at(0.17, HealthBand::Red, 35.0),
                at(0.85, HealthBand::Green, 90.0),
                at(0.92, HealthBand::Green, 95.0),
            ],
            &spec,
        );
        assert!((sys.health - 0.52).abs() < 0.005, "{sys:?}");
        assert_eq!((sys.critical, sys.red), (1, 0), "critical by resources");
        // An instance with Storage(0.2), CPU(0.8), Memory(1.0), Network(1.0) is 0.2.
        assert_eq!(instance_health(&[0.8, 1.0, 0.2, 1.0]), 0.2);
    }

    #[test]
    fn system_health_agrees_with_the_badges_at_any_size() {
        let spec = HealthSpec::default();
        let at = |status, score| ComponentStanding {
            health: 1.0,
            status,
            score,
        };
        for n in [2, 5, 20, 200] {
            let mut all = vec![at(HealthBand::Green, 100.0); n];
            assert_eq!(system_health(&all, &spec).health, 1.0);
            // Idle engines, but a RED status: the system is not healthy.
            all[0] = at(HealthBand::Red, 45.0);
            let red = system_health(&all, &spec);
            assert!(red.health < 0.95 && red.red == 1, "{n}: {red:?}");
            // A CRITICAL status counts as critical whatever its engines say.
            all[0] = at(HealthBand::Critical, 24.0);
            let crit = system_health(&all, &spec);
            assert!(crit.health <= 0.8 && crit.critical == 1, "{n}: {crit:?}");
            all[1] = at(HealthBand::Critical, 29.0);
            let two = system_health(&all, &spec);
            assert!(
                two.health <= 0.6 + 1e-9 && two.critical == 2,
                "{n}: {two:?}"
            );
        }
    }

    #[test]
    fn holt_follows_a_trend_and_flags_a_jump() {
        let mut h = Holt::default();
        for k in 0..30 {
            assert!(!h.observe(10.0 * k as f64, 0.5, 0.3, 4.0));
        }
        // Queue growing by 10 a step: five steps ahead of 290 is about 340.
        assert!((h.forecast(5.0) - 340.0).abs() < 5.0, "{}", h.forecast(5.0));
        assert!(h.observe(1000.0, 0.5, 0.3, 4.0), "a jump is an anomaly");
    }

    #[test]
    fn status_bands_and_queries() {
        let spec = HealthSpec::default();
        assert_eq!(status_of(80.0, &spec), HealthBand::Green);
        assert_eq!(status_of(79.9, &spec), HealthBand::Yellow);
        assert_eq!(status_of(60.0, &spec), HealthBand::Yellow);
        assert_eq!(status_of(59.0, &spec), HealthBand::Red);
        assert_eq!(status_of(29.0, &spec), HealthBand::Critical);
        let h = HealthStatus {
            status: HealthBand::Yellow,
            accepting_load: true,
            available_capacity: 35.0,
            ..default()
        };
        assert!(h.is_healthy());
        assert!(h.can_accept_load(10.0));
        assert!(!h.can_accept_load(40.0));
        let red = HealthStatus {
            status: HealthBand::Red,
            ..h
        };
        assert!(!red.is_healthy() && !red.can_accept_load(1.0));
    }
}
