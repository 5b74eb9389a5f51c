//! Metrics: latency histograms (HdrHistogram, so percentiles are never means of means), and a
//! tidy CSV `t,entity,metric,value` sampled every `sample_every_s`. Every figure is in real
//! requests (simulated counts times the request unit). Names are documented in docs/METRICS.md.

use super::dist::{Nanos, SEC};
use super::engines::{Engine, EngineKind};
use super::instance::{Instance, InstanceCounters};
use super::link::{Link, LinkCounters};
use super::request::Outcome;
use super::source::{Source, SourceCounters};
use super::topology::Topology;
use super::{SimClock, SimSystems, SimTick};
use bevy::prelude::*;
use hdrhistogram::Histogram;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::Write;

/// Highest latency a histogram tracks: one day, in µs (histograms count whole microseconds, with
/// two significant figures; exact means come from the running sums instead).
const MAX_US: u64 = 86_400 * 1_000_000;

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 2).expect("static histogram bounds are valid")
}

/// A latency histogram (µs) for the current sampling interval and one for the whole run; the
/// hot path records into the interval one only, which is folded into the total at each sample.
#[derive(Component, Debug, Clone)]
pub struct ComponentLatency {
    /// Since the last sample.
    pub interval: Histogram<u64>,
    /// Since the start.
    pub total: Histogram<u64>,
    /// Latencies (µs) not yet counted: appending is cache-friendly on the hot path, counting is
    /// done in batches while the histogram is warm.
    pending: Vec<u64>,
}

impl Default for ComponentLatency {
    fn default() -> Self {
        Self {
            interval: histogram(),
            total: histogram(),
            pending: Vec::new(),
        }
    }
}

impl ComponentLatency {
    /// Records one latency given in ns.
    pub fn record(&mut self, ns: Nanos) {
        self.pending.push((ns / 1000).clamp(1, MAX_US));
        if self.pending.len() >= 4096 {
            self.flush();
        }
    }

    /// Counts the pending latencies into the interval histogram.
    pub fn flush(&mut self) {
        for v in self.pending.drain(..) {
            self.interval.saturating_record(v);
        }
    }

    /// Folds the interval into the total and starts a new interval.
    pub fn roll(&mut self) {
        self.flush();
        // Both histograms share bounds, so adding cannot fail.
        let _ = self.total.add(&self.interval);
        self.interval.reset();
    }

    /// Everything recorded so far (the total plus the current interval).
    pub fn whole(&self) -> Histogram<u64> {
        let mut h = self.total.clone();
        let _ = h.add(&self.interval);
        for v in &self.pending {
            h.saturating_record(*v);
        }
        h
    }
}

/// End-to-end latency of completed logical requests (system level).
#[derive(Resource, Debug, Clone, Default, Deref, DerefMut)]
pub struct SystemLatency(pub ComponentLatency);

/// Where CSV rows go.
pub enum Sink {
    /// Only hashed.
    Discard,
    /// Kept in memory (tests).
    Memory(String),
    /// Streamed to a file or other writer.
    Writer(Box<dyn Write + Send + Sync>),
}

/// Sampling state and output.
#[derive(Resource)]
pub struct Recorder {
    /// Sampling interval.
    pub every: Nanos,
    /// Time of the next sample.
    pub next: Nanos,
    sink: Sink,
    hasher: Sha256,
    /// Rows written.
    pub rows: u64,
    /// First write error, if any (reported by the caller; the run goes on).
    pub error: Option<String>,
    prev_instances: Vec<InstanceCounters>,
    prev_sources: Vec<SourceCounters>,
    prev_links: Vec<LinkCounters>,
    prev_area: Vec<f64>,
    buf: String,
}

impl Recorder {
    /// Sends future rows to `sink`.
    pub fn set_sink(&mut self, sink: Sink) {
        self.sink = sink;
    }

    /// The CSV kept in memory, if the sink is `Memory`.
    pub fn csv(&self) -> Option<&str> {
        match &self.sink {
            Sink::Memory(s) => Some(s),
            _ => None,
        }
    }

    /// SHA-256 of every row written so far, hex.
    pub fn digest(&self) -> String {
        let h = self.hasher.clone().finalize();
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Flushes a writer sink.
    pub fn flush(&mut self) {
        if let Sink::Writer(w) = &mut self.sink
            && let Err(e) = w.flush()
        {
            self.error.get_or_insert(e.to_string());
        }
    }

    fn row(&mut self, t: f64, entity: &str, metric: &str, value: f64) {
        let v = if value.is_finite() { value } else { 0.0 };
        let _ = writeln!(self.buf, "{t:.3},{entity},{metric},{v}");
        self.rows += 1;
    }

    fn emit(&mut self) {
        self.hasher.update(self.buf.as_bytes());
        match &mut self.sink {
            Sink::Discard => {}
            Sink::Memory(s) => s.push_str(&self.buf),
            Sink::Writer(w) => {
                if let Err(e) = w.write_all(self.buf.as_bytes()) {
                    self.error.get_or_insert(e.to_string());
                }
            }
        }
        self.buf.clear();
    }
}

/// The CSV header.
pub const HEADER: &str = "t,entity,metric,value\n";

pub(super) fn plugin(app: &mut App) {
    app.insert_resource(Recorder::new(1))
        .init_resource::<SystemLatency>()
        .add_systems(
            SimTick,
            (collect_finished, sample)
                .chain()
                .in_set(SimSystems::Metrics),
        );
}

impl Recorder {
    /// A recorder sampling every `every` ns, discarding its rows.
    fn new(every: Nanos) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(HEADER.as_bytes());
        Recorder {
            every,
            next: every,
            sink: Sink::Discard,
            hasher,
            rows: 0,
            error: None,
            prev_instances: vec![],
            prev_sources: vec![],
            prev_links: vec![],
            prev_area: vec![],
            buf: String::new(),
        }
    }
}

/// Back to t = 0 for `scenario`: a new recorder that keeps the sink rows went to.
pub(super) fn reset(world: &mut World, scenario: &crate::scenario::Scenario) {
    let every = ((scenario.sim.sample_every_s * SEC).round() as Nanos).max(1);
    let mut rec = Recorder::new(every);
    if let Some(mut old) = world.get_resource_mut::<Recorder>() {
        rec.sink = std::mem::replace(&mut old.sink, Sink::Discard);
    }
    world.insert_resource(rec);
    world.insert_resource(SystemLatency::default());
}

/// Moves logical requests that ended this tick into the system latency histogram.
fn collect_finished(mut sources: Query<&mut Source>, mut latency: ResMut<SystemLatency>) {
    for mut s in &mut sources {
        for f in s.finished.drain(..) {
            if f.outcome == Outcome::Completed {
                latency.record(f.latency);
            }
        }
    }
}

/// Writes one sample of every metric when the interval has passed.
fn sample(
    clock: Res<SimClock>,
    topo: Res<Topology>,
    sources: Query<&Source>,
    instances: Query<(&Instance, &Children)>,
    engines: Query<&Engine>,
    links: Query<&Link>,
    mut comp_latency: Query<&mut ComponentLatency>,
    mut sys_latency: ResMut<SystemLatency>,
    health: Query<&super::health::HealthStatus>,
    system_health: Res<super::health::SystemHealth>,
    flow_config: Res<super::rate::FlowConfig>,
    mut rec: ResMut<Recorder>,
) {
    if clock.now < rec.next {
        return;
    }
    let interval_s = (clock.now - (rec.next - rec.every)) as f64 / SEC;
    rec.next += rec.every;
    let t = clock.seconds();
    let unit = topo.unit as f64;
    let rec = &mut *rec;

    // System and sources.
    let mut sys = SourceCounters::default();
    let mut sys_prev = SourceCounters::default();
    let mut live = 0u64;
    rec.prev_sources
        .resize(topo.sources.len(), SourceCounters::default());
    for (si, &e) in topo.sources.iter().enumerate() {
        let Ok(s) = sources.get(e) else { continue };
        let c = s.counters;
        let p = rec.prev_sources[si];
        add_counters(&mut sys, &c);
        add_counters(&mut sys_prev, &p);
        live += s.live;
        let name = topo.source_names[si].clone();
        rec.row(
            t,
            &name,
            "generated",
            (c.generated - p.generated) as f64 * unit,
        );
        rec.row(
            t,
            &name,
            "attempts",
            (c.attempts - p.attempts) as f64 * unit,
        );
        rec.row(t, &name, "retries", (c.retries - p.retries) as f64 * unit);
        for o in Outcome::ALL {
            rec.row(
                t,
                &name,
                o.name(),
                (c.ended[o as usize] - p.ended[o as usize]) as f64 * unit,
            );
        }
        rec.row(t, &name, "in_system", s.live as f64 * unit);
        rec.row(t, &name, "offered_rate", s.offered_rate_at(clock.now));
        rec.prev_sources[si] = c;
    }
    let ended: u64 = (0..5).map(|i| sys.ended[i] - sys_prev.ended[i]).sum();
    let completed = sys.ended[0] - sys_prev.ended[0];
    rec.row(
        t,
        "system",
        "generated",
        (sys.generated - sys_prev.generated) as f64 * unit,
    );
    rec.row(
        t,
        "system",
        "attempts",
        (sys.attempts - sys_prev.attempts) as f64 * unit,
    );
    rec.row(
        t,
        "system",
        "retries",
        (sys.retries - sys_prev.retries) as f64 * unit,
    );
    for o in Outcome::ALL {
        rec.row(
            t,
            "system",
            o.name(),
            (sys.ended[o as usize] - sys_prev.ended[o as usize]) as f64 * unit,
        );
    }
    rec.row(t, "system", "in_system", live as f64 * unit);
    rec.row(t, "system", "goodput", completed as f64 * unit / interval_s);
    rec.row(t, "system", "error_rate", ratio(ended - completed, ended));
    rec.row(
        t,
        "system",
        "latency_mean",
        mean_ms(sys.latency_ns - sys_prev.latency_ns, completed),
    );
    rec.row(
        t,
        "system",
        "late_responses",
        (sys.late_responses - sys_prev.late_responses) as f64 * unit,
    );
    sys_latency.flush();
    percentiles(rec, t, "system", &sys_latency.interval);
    sys_latency.roll();

    // Components and instances.
    rec.prev_instances
        .resize(topo.instances.len(), InstanceCounters::default());
    rec.prev_area.resize(topo.instances.len(), 0.0);
    let mut wasted_total = 0u64;
    for c in &topo.components {
        let mut d = InstanceCounters::default();
        let (mut queued, mut in_flight, mut up) = (0u64, 0u64, 0u64);
        let mut util = [0.0f64; 4];
        let mut area = 0.0;
        let n = c.instances.len() as f64;
        for (k, &e) in c.instances.iter().enumerate() {
            let Ok((inst, children)) = instances.get(e) else {
                continue;
            };
            let gi = c.instance_ids[k] as usize;
            let cur = inst.counters;
            let prev = rec.prev_instances[gi];
            let di = delta(&cur, &prev);
            add_instance(&mut d, &di);
            rec.prev_instances[gi] = cur;
            let a = inst.occupancy_area(clock.now);
            area += a - rec.prev_area[gi];
            rec.prev_area[gi] = a;
            queued += inst.queued;
            in_flight += inst.busy + inst.waiting;
            up += inst.up as u64;
            let mut iu = [0.0f64; 4];
            for ch in children.iter() {
                if let Ok(eng) = engines.get(ch) {
                    iu[eng.kind as usize] = eng.utilization;
                }
            }
            for k in 0..4 {
                util[k] += iu[k] / n;
            }
            let name = &inst.name;
            rec.row(t, name, "arrivals", di.arrivals as f64 * unit);
            rec.row(t, name, "served", di.served as f64 * unit);
            rec.row(t, name, "queue_len", inst.queued as f64 * unit);
            rec.row(
                t,
                name,
                "in_flight",
                (inst.busy + inst.waiting) as f64 * unit,
            );
            rec.row(t, name, "up", inst.up as u64 as f64);
            for kind in EngineKind::ALL {
                rec.row(t, name, util_name(kind), iu[kind as usize]);
            }
            if let Ok(h) = health.get(e) {
                rec.row(t, name, "health", h.health);
                rec.row(t, name, "health_score", h.score);
            }
        }
        wasted_total += d.wasted;
        let name = &c.name;
        rec.row(t, name, "arrivals", d.arrivals as f64 * unit);
        rec.row(t, name, "served", d.served as f64 * unit);
        rec.row(t, name, "throughput", d.served as f64 * unit / interval_s);
        rec.row(t, name, "goodput", d.ok_in_time as f64 * unit / interval_s);
        rec.row(t, name, "errors", d.errors as f64 * unit);
        rec.row(t, name, "dropped", d.dropped as f64 * unit);
        rec.row(t, name, "failed", d.failed as f64 * unit);
        rec.row(t, name, "wasted", d.wasted as f64 * unit);
        rec.row(t, name, "crashes", d.crashes as f64);
        if c.kind == crate::scenario::Kind::Cache {
            rec.row(t, name, "stale_served", d.stale as f64 * unit);
        }
        rec.row(t, name, "queue_len", queued as f64 * unit);
        let cap = c
            .queue_real
            .map_or(-1.0, |q| (q * c.instances.len() as u64) as f64);
        rec.row(t, name, "queue_capacity", cap);
        rec.row(t, name, "in_flight", in_flight as f64 * unit);
        rec.row(t, name, "instances_up", up as f64);
        for kind in EngineKind::ALL {
            rec.row(t, name, util_name(kind), util[kind as usize]);
        }
        rec.row(t, name, "error_rate", ratio(d.errors, d.ok + d.errors));
        rec.row(t, name, "occupancy_mean", area * unit / (interval_s * SEC));
        rec.row(t, name, "latency_mean", mean_ms(d.sojourn_ns, d.ok));
        if let Ok(h) = health.get(c.entity) {
            rec.row(t, name, "health_score", h.score);
            rec.row(t, name, "status", h.status as u8 as f64);
            rec.row(t, name, "health", h.health);
            rec.row(t, name, "available_capacity", h.available_capacity);
            rec.row(t, name, "queue_forecast", h.forecast_queue);
        }
        if let Ok(mut lat) = comp_latency.get_mut(c.entity) {
            lat.flush();
            percentiles(rec, t, name, &lat.interval);
            lat.roll();
        }
    }
    rec.row(t, "system", "wasted", wasted_total as f64 * unit);
    rec.row(t, "system", "health", system_health.health);

    // Links.
    let mut queries_total = 0;
    rec.prev_links
        .resize(topo.links.len(), LinkCounters::default());
    for (li, &e) in topo.links.iter().enumerate() {
        let Ok(l) = links.get(e) else { continue };
        let p = rec.prev_links[li];
        let c = l.counters;
        rec.row(t, &l.name, "sent", (c.sent - p.sent) as f64 * unit);
        rec.row(
            t,
            &l.name,
            "delivered",
            (c.delivered - p.delivered) as f64 * unit,
        );
        rec.row(
            t,
            &l.name,
            "responses",
            (c.responses_delivered - p.responses_delivered) as f64 * unit,
        );
        rec.row(t, &l.name, "in_transit", l.in_transit() as f64 * unit);
        if matches!(l.from, super::link::NodeRef::Component(_)) {
            let f = &l.flow;
            rec.row(t, &l.name, "demand", f.demand);
            rec.row(t, &l.name, "rate_limit", f.limit.unwrap_or(-1.0));
            rec.row(t, &l.name, "rate_target", f.target.unwrap_or(-1.0));
            rec.row(
                t,
                &l.name,
                "rate_recommended",
                f.recommended.unwrap_or(-1.0),
            );
            rec.row(t, &l.name, "held", f.held.len() as f64 * unit);
            rec.row(t, &l.name, "refused", f.refused as f64 * unit);
            let q = f.stats;
            rec.row(t, &l.name, "health_queries", q.queries as f64);
            rec.row(t, &l.name, "health_cache_hits", q.cache_hits as f64);
            rec.row(t, &l.name, "health_query_failures", q.failures as f64);
            rec.row(t, &l.name, "health_queries_limited", q.limited as f64);
            rec.row(t, &l.name, "health_checks_skipped", q.skipped as f64);
            queries_total += q.queries;
            rec.row(t, &l.name, "breaker_state", l.breaker.state as u8 as f64);
            rec.row(
                t,
                &l.name,
                "breaker_refused",
                l.breaker.refused as f64 * unit,
            );
        }
        if l.call == crate::scenario::CallKind::Pull {
            rec.row(t, &l.name, "topic_len", l.topic.len() as f64 * unit);
            rec.row(
                t,
                &l.name,
                "topic_dropped",
                (c.topic_dropped - p.topic_dropped) as f64 * unit,
            );
        }
        rec.prev_links[li] = c;
    }
    // Health messages so far: direct queries, or what a broadcast design sends instead.
    rec.row(t, "system", "health_queries", queries_total as f64);
    rec.row(
        t,
        "system",
        "health_broadcast_messages",
        flow_config.broadcast_messages as f64,
    );
    rec.emit();
}

fn util_name(kind: EngineKind) -> &'static str {
    match kind {
        EngineKind::Cpu => "util_cpu",
        EngineKind::Memory => "util_memory",
        EngineKind::Storage => "util_storage",
        EngineKind::Network => "util_network",
    }
}

fn percentiles(rec: &mut Recorder, t: f64, entity: &str, h: &Histogram<u64>) {
    for (q, m) in [
        (0.50, "latency_p50"),
        (0.95, "latency_p95"),
        (0.99, "latency_p99"),
    ] {
        let v = if h.is_empty() {
            0.0
        } else {
            h.value_at_quantile(q) as f64 / 1e6
        };
        rec.row(t, entity, m, v);
    }
}

fn mean_ms(sum_ns: f64, n: u64) -> f64 {
    if n == 0 { 0.0 } else { sum_ns / n as f64 / 1e6 }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

fn add_counters(a: &mut SourceCounters, b: &SourceCounters) {
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

fn delta(c: &InstanceCounters, p: &InstanceCounters) -> InstanceCounters {
    InstanceCounters {
        arrivals: c.arrivals - p.arrivals,
        departures: c.departures - p.departures,
        ok: c.ok - p.ok,
        ok_in_time: c.ok_in_time - p.ok_in_time,
        errors: c.errors - p.errors,
        served: c.served - p.served,
        wasted: c.wasted - p.wasted,
        dropped: c.dropped - p.dropped,
        failed: c.failed - p.failed,
        crashes: c.crashes - p.crashes,
        stale: c.stale - p.stale,
        orphans: c.orphans - p.orphans,
        sojourn_ns: c.sojourn_ns - p.sojourn_ns,
        area: c.area - p.area,
    }
}

fn add_instance(a: &mut InstanceCounters, b: &InstanceCounters) {
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
}
