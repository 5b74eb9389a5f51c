//! Metrics: latency histograms (HdrHistogram, so percentiles are never means of means), and a
//! tidy CSV `t,entity,metric,value` sampled every `sample_every_s`. Every figure is in real
//! requests (simulated counts times the request unit). Names are documented in docs/METRICS.md.
//!
//! The CSV writer reads the simulation through [`SimView`] only; every value it writes is also
//! kept in the [`Series`] store for charts. A sample runs, when due, as a chain of systems:
//! roll the latency histograms, write the sources and system, the components and instances,
//! the links, then emit the rows, store the series and schedule the next sample.

use crate::sim::SimClock;
use crate::sim::SimConfig;
use crate::sim::SimSystems;
use crate::sim::SimTick;
use crate::sim::flow::core::FlowCore;
use crate::sim::flow::engines::EngineKind;
use crate::sim::flow::instance::InstanceCounters;
use crate::sim::flow::link::LinkCounters;
use crate::sim::flow::request::Outcome;
use crate::sim::flow::source::{SourceCounters, TrafficSource};
use crate::sim::read::events::{EventKind, SimEvent, Subject};
pub use crate::sim::read::latency::{ComponentLatency, SystemLatency};
use crate::sim::read::series::{Metric, Series, SeriesEntity};
use crate::sim::read::view::{
    ComponentView, SimView, SourceView, add_instance_counters, add_source_counters,
};
use crate::sim::schedule::dist::{Nanos, SEC};
use crate::sim::schedule::topology::Topology;
use bevy::prelude::*;

use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::Write;

/// Where CSV rows go.
pub enum Sink {
    /// Nobody reads the rows (no `--metrics`, no digest asked for): they are not formatted or
    /// hashed; the series store still gets every value, for the app's plots and the summary.
    Unread,
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
    /// Rows sampled while the sink was `Unread` (not in the digest).
    unread: u64,
    /// First write error, if any (reported by the caller; the run goes on).
    pub error: Option<String>,
    prev_instances: Vec<InstanceCounters>,
    prev_sources: Vec<SourceCounters>,
    prev_links: Vec<LinkCounters>,
    prev_area: Vec<f64>,
    prev_queue_area: Vec<f64>,
    buf: String,
    /// This sample's values, for the series store.
    pending: Vec<(SeriesEntity, Metric, f64)>,
}

impl Recorder {
    /// A recorder sampling every `every` ns from `now`; its rows go nowhere until a sink is set.
    pub fn new(every: Nanos, now: Nanos) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(HEADER.as_bytes());
        Self {
            every,
            next: now + every,
            sink: Sink::Unread,
            unread: 0,
            hasher,
            rows: 0,
            error: None,
            prev_instances: vec![],
            prev_sources: vec![],
            prev_links: vec![],
            prev_area: vec![],
            prev_queue_area: vec![],
            buf: String::new(),
            pending: vec![],
        }
    }

    /// Starts sampling a new scenario every `every` ns from `now`: the rows keep going to the
    /// same sink; the digest and the row count start again (they describe one run).
    pub fn restart(&mut self, every: Nanos, now: Nanos) {
        let mut hasher = Sha256::new();
        hasher.update(HEADER.as_bytes());
        self.hasher = hasher;
        self.rows = 0;
        self.unread = 0;
        self.every = every;
        self.next = now + every;
        self.prev_instances.clear();
        self.prev_sources.clear();
        self.prev_links.clear();
        self.prev_area.clear();
        self.prev_queue_area.clear();
        self.buf.clear();
        self.pending.clear();
    }

    /// A copy of the sampling state, with no sink (a timeline snapshot).
    pub fn snapshot(&self) -> Self {
        Self {
            every: self.every,
            next: self.next,
            sink: Sink::Unread,
            hasher: self.hasher.clone(),
            rows: self.rows,
            unread: self.unread,
            error: self.error.clone(),
            prev_instances: self.prev_instances.clone(),
            prev_sources: self.prev_sources.clone(),
            prev_links: self.prev_links.clone(),
            prev_area: self.prev_area.clone(),
            prev_queue_area: self.prev_queue_area.clone(),
            buf: self.buf.clone(),
            pending: self.pending.clone(),
        }
    }

    /// Puts the sampling state of `then` back, keeping this recorder's sink: rows already
    /// written stay written.
    pub fn restore(&mut self, then: &Recorder) {
        let sink = std::mem::replace(&mut self.sink, Sink::Unread);
        *self = then.snapshot();
        self.sink = sink;
    }

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

    /// SHA-256 of every row written so far, hex; `None` if some were sampled while nobody read
    /// them (`Sink::Unread`: set a sink before running to have a digest).
    pub fn digest(&self) -> Option<String> {
        if self.unread > 0 {
            return None;
        }
        let h = self.hasher.clone().finalize();
        Some(h.iter().map(|b| format!("{b:02x}")).collect())
    }

    /// Flushes a writer sink.
    pub fn flush(&mut self) {
        if let Sink::Writer(w) = &mut self.sink
            && let Err(e) = w.flush()
        {
            self.error.get_or_insert(e.to_string());
        }
    }

    /// Seconds since the previous sample (the current one being due).
    fn interval_s(&self, now: Nanos) -> f64 {
        (now - (self.next - self.every)) as f64 / SEC
    }

    /// The rows of `entity`, called `name` in the CSV, at `t` seconds.
    fn rows<'r>(&'r mut self, t: f64, entity: SeriesEntity, name: &'r str) -> Rows<'r> {
        Rows {
            rec: self,
            t,
            entity,
            name,
        }
    }

    fn emit(&mut self) {
        self.hasher.update(self.buf.as_bytes());
        match &mut self.sink {
            Sink::Unread | Sink::Discard => {}
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

/// The rows of one entity at one sample: each goes to the CSV and to the series store.
struct Rows<'r> {
    rec: &'r mut Recorder,
    t: f64,
    entity: SeriesEntity,
    name: &'r str,
}

impl Rows<'_> {
    fn put(&mut self, metric: Metric, value: f64) {
        let rec = &mut *self.rec;
        let v = if value.is_finite() { value } else { 0.0 };
        let (t, name) = (self.t, self.name);
        if matches!(rec.sink, Sink::Unread) {
            rec.unread += 1;
        } else {
            let _ = writeln!(rec.buf, "{t:.3},{name},{},{v}", metric.name());
        }
        rec.pending.push((self.entity, metric, v));
        rec.rows += 1;
    }

    /// p50, p95, p99 of an interval, given in µs (written divided by a million).
    /// A source's retry, Retry-After, budget and throttle rows, where it has them.
    fn client_rows(&mut self, s: &SourceView, p: &SourceCounters, unit: f64) {
        let c = &s.counters;
        if s.retries {
            let n = c.backoffs - p.backoffs;
            self.put(
                Metric::RetryDelayMean,
                mean_ms(c.backoff_ns - p.backoff_ns, n),
            );
            let attempts = (c.retry_attempt_sum - p.retry_attempt_sum) as f64;
            self.put(
                Metric::RetryAttemptMean,
                if n == 0 { 0.0 } else { attempts / n as f64 },
            );
        }
        let hints = c.retry_after_hints - p.retry_after_hints;
        if c.retry_after_hints > 0 {
            self.put(Metric::RetryAfterHints, hints as f64 * unit);
            let ns = c.retry_after_ns - p.retry_after_ns;
            self.put(Metric::RetryAfterMean, mean_ms(ns, hints));
        }
        if let Some(b) = s.budget_balance {
            self.put(Metric::RetryBudgetBalance, b);
            let over = c.over_budget - p.over_budget;
            self.put(Metric::RetriesOverBudget, over as f64 * unit);
        }
        if let Some(tp) = s.throttle_p {
            self.put(Metric::ThrottleProbability, tp);
            self.put(Metric::Throttled, (c.throttled - p.throttled) as f64 * unit);
        }
    }

    fn percentiles(&mut self, us: [u64; 3]) {
        for (k, (_, metric)) in Metric::LATENCY_PERCENTILES.into_iter().enumerate() {
            self.put(metric, us[k] as f64 / 1e3);
        }
    }

    /// Generated, attempts, retries and ended by outcome between `p` and `c`.
    fn source_counts(&mut self, c: &SourceCounters, p: &SourceCounters, unit: f64) {
        self.put(Metric::Generated, (c.generated - p.generated) as f64 * unit);
        self.put(Metric::Attempts, (c.attempts - p.attempts) as f64 * unit);
        self.put(Metric::Retries, (c.retries - p.retries) as f64 * unit);
        for o in Outcome::ALL {
            let n = c.ended[o as usize] - p.ended[o as usize];
            self.put(Metric::outcome(o), n as f64 * unit);
        }
    }
}

/// The CSV header.
pub const HEADER: &str = "t,entity,metric,value\n";

pub(in crate::sim) fn plugin(app: &mut App) {
    app.insert_resource(Recorder::new(SEC as Nanos, 0))
        .init_resource::<SystemLatency>()
        .init_resource::<crate::sim::read::classes::ClassStats>()
        .init_resource::<Series>();
    app.add_systems(
        crate::sim::SimLoad,
        init_scenario.in_set(crate::sim::LoadSystems::Reset),
    );
    app.add_systems(
        SimTick,
        (
            collect_finished,
            (
                roll_latencies,
                sample_sources,
                sample_classes,
                sample_components,
                sample_links,
                sample_theory,
                finish_sample,
            )
                .chain()
                .run_if(sample_due),
        )
            .chain()
            .in_set(SimSystems::Metrics),
    );
}

/// Metrics state of the scenario in the world (spawning gave every component its latency
/// histogram): an empty system histogram and series store, and the recorder's sampling clock restarted from
/// now (a recorder already there keeps its sink). Call again after spawning a new scenario.
pub fn init_scenario(world: &mut World) {
    let every = {
        let s = &world.resource::<SimConfig>().scenario.sim;
        ((s.sample_every_s * SEC).round() as Nanos).max(1)
    };
    let now = world.resource::<SimClock>().now;
    world.insert_resource(SystemLatency::default());
    let classes =
        crate::sim::read::classes::ClassStats::of(&world.resource::<SimConfig>().scenario);
    world.insert_resource(classes);
    let entities = {
        let t = world.resource::<crate::sim::schedule::topology::Topology>();
        t.sources.len() + t.components.len() + t.links.len() + t.instances.len()
    };
    world.insert_resource(Series::for_entities(entities));
    match world.get_resource_mut::<Recorder>() {
        Some(mut rec) => rec.restart(every, now),
        None => world.insert_resource(Recorder::new(every, now)),
    }
}

/// Run condition: a sample is due at the end of this tick.
pub fn sample_due(clock: Res<SimClock>, rec: Res<Recorder>) -> bool {
    clock.now >= rec.next
}

/// Moves logical requests that ended this tick into the system latency histogram, and counts
/// them by outcome as the tick's `Ended` event.
fn collect_finished(
    clock: Res<SimClock>,
    topo: Res<Topology>,
    mut core: ResMut<FlowCore>,
    mut latency: ResMut<SystemLatency>,
    mut classes: ResMut<crate::sim::read::classes::ClassStats>,
    mut events: MessageWriter<SimEvent>,
) {
    let sinks = (&mut *latency, &mut *classes);
    collect(clock.now, topo.unit, &mut core.sources, sinks, &mut events);
}

/// What `collect_finished` does at `now`, for a caller that holds the sources (`stretch`).
pub(in crate::sim) fn collect(
    now: Nanos,
    unit: u64,
    sources: &mut [TrafficSource],
    (latency, classes): (
        &mut SystemLatency,
        &mut crate::sim::read::classes::ClassStats,
    ),
    events: &mut MessageWriter<SimEvent>,
) {
    let mut counts = [0u64; 5];
    for s in sources.iter_mut() {
        for f in s.finished.drain(..) {
            classes.count(&f);
            counts[f.outcome as usize] += unit;
            if f.outcome == Outcome::Completed {
                latency.record(f.latency);
            }
        }
    }
    if counts.iter().any(|c| *c > 0) {
        let kind = EventKind::Ended { counts };
        events.write(SimEvent::new(now, Subject::System, kind));
    }
}

/// Closes the sampling interval of every latency histogram (the only metrics state the
/// writers below would otherwise have to change).
fn roll_latencies(
    mut core: ResMut<FlowCore>,
    mut system: ResMut<SystemLatency>,
    mut classes: ResMut<crate::sim::read::classes::ClassStats>,
) {
    system.roll();
    classes.roll();
    for lat in &mut core.latency {
        lat.roll();
    }
}

/// Rows of every source, then of the system's traffic and end-to-end latency.
fn sample_sources(view: SimView, mut rec: ResMut<Recorder>) {
    let rec = &mut *rec;
    let (t, unit) = (view.seconds(), view.unit() as f64);
    let interval_s = rec.interval_s(view.now());
    let mut sys = SourceCounters::default();
    let mut sys_prev = SourceCounters::default();
    let mut live = 0u64;
    rec.prev_sources
        .resize(view.source_count(), SourceCounters::default());
    for s in view.sources() {
        let (c, p) = (s.counters, rec.prev_sources[s.index as usize]);
        add_source_counters(&mut sys, &c);
        add_source_counters(&mut sys_prev, &p);
        live += s.live;
        let mut r = rec.rows(t, SeriesEntity::Source(s.index), s.name);
        r.source_counts(&c, &p, unit);
        r.put(Metric::InSystem, s.live as f64);
        r.put(Metric::OfferedRate, s.offered_rate);
        r.client_rows(&s, &p, unit);
        rec.prev_sources[s.index as usize] = c;
    }
    let ended: u64 = (0..5).map(|i| sys.ended[i] - sys_prev.ended[i]).sum();
    let completed = sys.ended[0] - sys_prev.ended[0];
    let mut r = rec.rows(t, SeriesEntity::System, "system");
    r.source_counts(&sys, &sys_prev, unit);
    r.put(Metric::InSystem, live as f64);
    r.put(Metric::Goodput, completed as f64 * unit / interval_s);
    r.put(Metric::ErrorRate, ratio(ended - completed, ended));
    let latency_ns = sys.latency_ns - sys_prev.latency_ns;
    r.put(Metric::LatencyMean, mean_ms(latency_ns, completed));
    let late = sys.late_responses - sys_prev.late_responses;
    r.put(Metric::LateResponses, late as f64 * unit);
    r.percentiles(view.system_interval_us());
}

/// A component's instances summed over one interval, for its own rows.
#[derive(Default)]
struct Interval {
    /// Counter increments.
    d: InstanceCounters,
    /// Occupancy integral increment (simulated request·ns).
    area: f64,
    /// Queue integral increment (simulated request·ns).
    queue_area: f64,
    /// Queued, in flight (real) and instances up, now.
    queued: u64,
    in_flight: u64,
    up: u64,
    /// Mean engine utilizations over the instances.
    util: [f64; 4],
    /// Whether its instances run CoDel, and how many are in the dropping state.
    codel: bool,
    codel_dropping: u64,
    /// Whether its instances have adaptive concurrency limits, and their sum (real).
    limited: bool,
    concurrency_limit: u64,
}

/// Rows of every component, each after its instances', then the system's waste and health.
fn sample_components(view: SimView, config: Res<crate::sim::SimConfig>, mut rec: ResMut<Recorder>) {
    let rec = &mut *rec;
    let t = view.seconds();
    rec.prev_instances
        .resize(view.instance_count(), InstanceCounters::default());
    rec.prev_area.resize(view.instance_count(), 0.0);
    rec.prev_queue_area.resize(view.instance_count(), 0.0);
    let mut wasted_total = 0u64;
    for c in view.components() {
        let sum = instance_rows(&view, rec, &c);
        wasted_total += sum.d.wasted;
        component_rows(&view, rec, &c, &sum);
        bulkhead_rows(&view, &config.scenario, rec, &c);
    }
    let unit = view.unit() as f64;
    let mut r = rec.rows(t, SeriesEntity::System, "system");
    r.put(Metric::Wasted, wasted_total as f64 * unit);
    r.put(Metric::Health, view.system().health);
}

/// Rows of the instances of `c`; returns their sums for the component's rows.
fn instance_rows(view: &SimView, rec: &mut Recorder, c: &ComponentView) -> Interval {
    let (t, unit) = (view.seconds(), view.unit() as f64);
    let n = c.instance_count as f64;
    let mut sum = Interval::default();
    for inst in view.instances_of(c.index) {
        let gi = inst.index as usize;
        let di = delta(&inst.counters, &rec.prev_instances[gi]);
        add_instance_counters(&mut sum.d, &di);
        rec.prev_instances[gi] = inst.counters;
        sum.area += inst.occupancy_area - rec.prev_area[gi];
        rec.prev_area[gi] = inst.occupancy_area;
        sum.queue_area += inst.queue_area - rec.prev_queue_area[gi];
        rec.prev_queue_area[gi] = inst.queue_area;
        sum.queued += inst.queued;
        sum.in_flight += inst.busy + inst.waiting;
        sum.up += inst.up as u64;
        for k in 0..4 {
            sum.util[k] += inst.engines[k].utilization / n;
        }
        let mut r = rec.rows(t, SeriesEntity::Instance(inst.index), inst.name);
        r.put(Metric::Arrivals, di.arrivals as f64 * unit);
        r.put(Metric::Served, di.served as f64 * unit);
        r.put(Metric::QueueLen, inst.queued as f64);
        r.put(Metric::InFlight, (inst.busy + inst.waiting) as f64);
        r.put(Metric::Up, inst.up as u64 as f64);
        for kind in EngineKind::ALL {
            r.put(Metric::util(kind), inst.engines[kind as usize].utilization);
        }
        if let Some(h) = inst.health {
            r.put(Metric::Health, h.health);
            r.put(Metric::HealthScore, h.score);
        }
        if let Some(limit) = inst.concurrency_limit {
            r.put(Metric::ConcurrencyLimit, limit as f64);
        }
        if let Some(cd) = inst.codel {
            sum.codel_dropping += cd.dropping as u64;
            r.put(Metric::CodelDropping, cd.dropping as u64 as f64);
            r.put(Metric::CodelCount, cd.count as f64);
            let next = cd.drop_next.map_or(-1.0, |at| {
                at.saturating_sub(view.now()) as f64 / crate::sim::schedule::dist::MS
            });
            r.put(Metric::CodelNextDrop, next);
        }
        sum.codel |= inst.codel.is_some();
        sum.concurrency_limit += inst.concurrency_limit.unwrap_or(0);
        sum.limited |= inst.concurrency_limit.is_some();
    }
    sum
}

/// Rows of component `c` from its instances' sums `s`.
fn component_rows(view: &SimView, rec: &mut Recorder, c: &ComponentView, s: &Interval) {
    let (t, unit) = (view.seconds(), view.unit() as f64);
    let interval_s = rec.interval_s(view.now());
    let d = &s.d;
    let mut r = rec.rows(t, SeriesEntity::Component(c.index), c.name);
    r.put(Metric::Arrivals, d.arrivals as f64 * unit);
    r.put(Metric::Served, d.served as f64 * unit);
    r.put(Metric::Throughput, d.served as f64 * unit / interval_s);
    r.put(Metric::Goodput, d.ok_in_time as f64 * unit / interval_s);
    r.put(Metric::Errors, d.errors as f64 * unit);
    r.put(Metric::Dropped, d.dropped as f64 * unit);
    r.put(Metric::Failed, d.failed as f64 * unit);
    r.put(Metric::Wasted, d.wasted as f64 * unit);
    r.put(Metric::Crashes, d.crashes as f64);
    if c.kind == crate::scenario::Kind::Cache {
        r.put(Metric::StaleServed, d.stale as f64 * unit);
    }
    r.put(Metric::QueueLen, s.queued as f64);
    let cap = c.queue_capacity.map_or(-1.0, |q| q as f64);
    r.put(Metric::QueueCapacity, cap);
    r.put(Metric::InFlight, s.in_flight as f64);
    r.put(Metric::InstancesUp, s.up as f64);
    for kind in EngineKind::ALL {
        r.put(Metric::util(kind), s.util[kind as usize]);
    }
    r.put(Metric::ErrorRate, ratio(d.errors, d.ok + d.errors));
    r.put(Metric::OccupancyMean, s.area * unit / (interval_s * SEC));
    r.put(Metric::LatencyMean, mean_ms(d.sojourn_ns, d.ok));
    let per_interval = unit / (interval_s * SEC);
    r.put(Metric::QueueMean, s.queue_area * per_interval);
    r.put(Metric::BusyMean, (s.area - s.queue_area) * per_interval);
    r.put(Metric::Waited, d.waited as f64 * unit);
    if let Some(h) = c.health {
        r.put(Metric::HealthScore, h.score);
        r.put(Metric::Status, h.status as u8 as f64);
        r.put(Metric::Health, h.health);
        r.put(Metric::AvailableCapacity, h.available_capacity);
        r.put(Metric::QueueForecast, h.forecast_queue);
    }
    if let Some(us) = view.component_interval_us(c.index) {
        r.percentiles(us);
    }
    if s.limited {
        r.put(Metric::ConcurrencyLimit, s.concurrency_limit as f64);
    }
    if s.codel {
        r.put(Metric::CodelDropping, s.codel_dropping as f64);
    }
    // Per priority class, where sources send more than one: did shedding protect CRITICAL?
    let classes = view.classes();
    if classes.several_classes() {
        for p in crate::sim::flow::request::Priority::ALL {
            let k = p as usize;
            if classes.classes_sent[k] {
                let mean = mean_ms(d.class_sojourn_ns[k], d.class_ok[k]);
                r.put(Metric::class_latency(p), mean);
                r.put(Metric::class_errors(p), d.class_errors[k] as f64 * unit);
            }
        }
    }
}

/// Queueing theory's prediction for every component it describes now (docs/THEORY.md), as
/// `theory_*` rows after the links'.
fn sample_theory(view: SimView, config: Res<crate::sim::SimConfig>, mut rec: ResMut<Recorder>) {
    let rec = &mut *rec;
    let sources = view.sources().count();
    let mut retrying = vec![false; sources];
    for (e, m, v) in &rec.pending {
        if let (SeriesEntity::Source(i), Metric::Retries) = (e, m)
            && *v > 0.0
        {
            retrying[*i as usize] = true;
        }
    }
    let live = crate::sim::read::theory::live(&view, retrying);
    let t = view.seconds();
    for a in crate::sim::read::theory::assess::assess(&config.scenario, &live) {
        let Some(p) = a.prediction() else { continue };
        let Some(c) = view.component(a.component as u32) else {
            continue;
        };
        let mut r = rec.rows(t, SeriesEntity::Component(c.index), c.name);
        r.put(Metric::TheoryLambda, a.lambda);
        r.put(Metric::TheoryRho, p.rho);
        r.put(Metric::TheoryPWait, p.p_wait);
        r.put(Metric::TheoryLq, p.lq);
        r.put(Metric::TheoryL, p.l);
        r.put(Metric::TheoryWMs, p.w * 1000.0);
        r.put(Metric::TheoryPDrop, p.p_drop);
    }
}

/// Rows of each of `c`'s bulkheads (entity `bulkhead:COMPONENT/FLOWS`, its flows joined by
/// `+`), summed over instances.
fn bulkhead_rows(
    view: &SimView,
    s: &crate::scenario::Scenario,
    rec: &mut Recorder,
    c: &ComponentView,
) {
    let parts = view.bulkheads(c.index);
    let Some(specs) = s.components.get(c.index as usize).map(|c| &c.bulkheads) else {
        return;
    };
    let t = view.seconds();
    for (k, (p, spec)) in parts.iter().zip(specs).enumerate() {
        let entity = format!("bulkhead:{}/{}", c.name, spec.flows.join("+"));
        let mut r = rec.rows(t, SeriesEntity::Bulkhead(c.index, k as u16), &entity);
        let [busy, workers, waiting, _, refused] = *p;
        r.put(Metric::InUse, busy as f64);
        r.put(Metric::Workers, workers as f64);
        r.put(Metric::QueueLen, waiting as f64);
        r.put(Metric::Refused, refused as f64);
    }
}

/// Rows of every link, then the system's health-message counts.
fn sample_links(view: SimView, mut rec: ResMut<Recorder>) {
    let rec = &mut *rec;
    let (t, unit) = (view.seconds(), view.unit() as f64);
    let mut queries_total = 0;
    rec.prev_links
        .resize(view.link_count(), LinkCounters::default());
    for l in view.links() {
        let (c, p) = (l.counters, rec.prev_links[l.index as usize]);
        let mut r = rec.rows(t, SeriesEntity::Link(l.index), l.name);
        r.put(Metric::Sent, (c.sent - p.sent) as f64 * unit);
        r.put(Metric::Delivered, (c.delivered - p.delivered) as f64 * unit);
        let responses = c.responses_delivered - p.responses_delivered;
        r.put(Metric::Responses, responses as f64 * unit);
        r.put(Metric::InTransit, l.in_transit as f64);
        if l.flow_controlled {
            r.put(Metric::Demand, l.demand);
            r.put(Metric::RateLimit, l.rate_limit.unwrap_or(-1.0));
            r.put(Metric::RateTarget, l.rate_target.unwrap_or(-1.0));
            r.put(Metric::RateRecommended, l.recommended.unwrap_or(-1.0));
            r.put(Metric::Held, l.held as f64);
            r.put(Metric::Refused, l.refused as f64);
            let q = l.health_queries;
            r.put(Metric::HealthQueries, q.queries as f64);
            r.put(Metric::HealthCacheHits, q.cache_hits as f64);
            r.put(Metric::HealthQueryFailures, q.failures as f64);
            r.put(Metric::HealthQueriesLimited, q.limited as f64);
            r.put(Metric::HealthChecksSkipped, q.skipped as f64);
            queries_total += q.queries;
            r.put(Metric::BreakerState, l.breaker as u8 as f64);
            r.put(Metric::BreakerRefused, l.breaker_refused as f64);
            if let Some((failed, slow)) = l.breaker_window {
                r.put(Metric::BreakerFailureRate, failed);
                r.put(Metric::BreakerSlowRate, slow);
            }
        }
        if let Some(w) = l.window {
            let max = if w.max == u64::MAX {
                -1.0
            } else {
                w.max as f64
            };
            r.put(Metric::WindowLimit, max);
            r.put(Metric::WindowInFlight, w.in_flight as f64);
            r.put(Metric::WindowWaiting, w.waiting as f64);
        }
        if l.call == crate::scenario::CallKind::Pull {
            r.put(Metric::TopicLen, l.topic_len as f64);
            let dropped = c.topic_dropped - p.topic_dropped;
            r.put(Metric::TopicDropped, dropped as f64 * unit);
        }
        rec.prev_links[l.index as usize] = c;
    }
    // Health messages so far: direct queries, or what a broadcast design sends instead.
    let mut r = rec.rows(t, SeriesEntity::System, "system");
    r.put(Metric::HealthQueries, queries_total as f64);
    let broadcast = view.system().health_broadcast_messages;
    r.put(Metric::HealthBroadcastMessages, broadcast as f64);
}

/// Rows of every flow (`flow:NAME`) and of every priority class some source sends
/// (`priority:CRITICAL`...): end-to-end outcomes, goodput and latency.
fn sample_classes(
    clock: Res<SimClock>,
    topo: Res<Topology>,
    system: Res<SystemLatency>,
    mut classes: ResMut<crate::sim::read::classes::ClassStats>,
    mut rec: ResMut<Recorder>,
) {
    use crate::sim::flow::request::Priority;
    let rec = &mut *rec;
    let (t, unit) = (clock.seconds(), topo.unit as f64);
    let interval_s = rec.interval_s(clock.now);
    let classes = &mut *classes;
    // A lone flow or class holds every completed request: its percentiles are the system's.
    let alone = system.last_interval_us();
    let (flows, several_classes) = (classes.several_flows(), classes.several_classes());
    for (i, (name, fig)) in classes.flows.iter_mut().enumerate() {
        let entity = format!("flow:{name}");
        let us = if flows {
            fig.latency.last_interval_us()
        } else {
            alone
        };
        let rows = rec.rows(t, SeriesEntity::Flow(i as u16), &entity);
        class_rows(rows, fig, (unit, interval_s), us);
    }
    for p in Priority::ALL {
        if classes.classes_sent[p as usize] {
            let entity = format!("priority:{}", p.name());
            let fig = &mut classes.priorities[p as usize];
            let us = if several_classes {
                fig.latency.last_interval_us()
            } else {
                alone
            };
            let rows = rec.rows(t, SeriesEntity::Priority(p as u8), &entity);
            class_rows(rows, fig, (unit, interval_s), us);
        }
    }
}

/// One class's rows for the interval since its last sample; `us`: its latency percentiles.
fn class_rows(
    mut r: Rows,
    fig: &mut crate::sim::read::classes::ClassFigures,
    (unit, interval_s): (f64, f64),
    us: [u64; 3],
) {
    let (ended, latency_ns) = fig.prev;
    for o in Outcome::ALL {
        let n = fig.ended[o as usize] - ended[o as usize];
        r.put(Metric::outcome(o), n as f64 * unit);
    }
    let completed = fig.ended[0] - ended[0];
    r.put(Metric::Goodput, completed as f64 * unit / interval_s);
    r.put(
        Metric::LatencyMean,
        mean_ms(fig.latency_ns - latency_ns, completed),
    );
    r.percentiles(us);
    fig.prev = (fig.ended, fig.latency_ns);
}

/// Emits the sample's rows, stores its values in the series and schedules the next sample.
fn finish_sample(clock: Res<SimClock>, mut rec: ResMut<Recorder>, mut series: ResMut<Series>) {
    let rec = &mut *rec;
    rec.emit();
    series.push_sample(clock.seconds(), rec.pending.drain(..));
    rec.next += rec.every;
}

fn mean_ms(sum_ns: f64, n: u64) -> f64 {
    if n == 0 { 0.0 } else { sum_ns / n as f64 / 1e6 }
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
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
        injected: c.injected - p.injected,
        shed: c.shed - p.shed,
        over_limit: c.over_limit - p.over_limit,
        class_ok: std::array::from_fn(|k| c.class_ok[k] - p.class_ok[k]),
        class_sojourn_ns: std::array::from_fn(|k| c.class_sojourn_ns[k] - p.class_sojourn_ns[k]),
        class_errors: std::array::from_fn(|k| c.class_errors[k] - p.class_errors[k]),
        crashes: c.crashes - p.crashes,
        stale: c.stale - p.stale,
        orphans: c.orphans - p.orphans,
        sojourn_ns: c.sojourn_ns - p.sojourn_ns,
        area: c.area - p.area,
        queue_area: c.queue_area - p.queue_area,
        waited: c.waited - p.waited,
    }
}
