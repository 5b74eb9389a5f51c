//! The inspector: what is selected, with the numbers behind its status, its what-if actions,
//! and its plots.

use super::{UiState, c32, plots};
use crate::app::state::Selection;
use crate::picture::style;
use crate::scenario::{CallKind, QueueSpec};
use crate::sim::door::command::SimCommand;
use crate::sim::flow::link::NodeRef;
use crate::sim::read::events::Subject;
use crate::sim::read::series::{Metric, SeriesEntity};
use crate::sim::read::view::HealthReading;
use crate::sim::schedule::states::BreakerState;
use bevy_egui::egui;

pub(super) fn inspector(ui: &mut egui::Ui, st: &mut UiState) {
    let width = ui.available_width();
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.set_max_width(width);
        figures(ui, st);
        ui.separator();
        plots::plots(ui, st);
    });
}

/// The inspector as a lesson step shows it: the selection's plots first (those a callout
/// points at, `focus`, at the top), where the eye and a callout find them, then its figures.
pub(super) fn plots_first(ui: &mut egui::Ui, st: &mut UiState, focus: &[&str]) {
    let width = ui.available_width();
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.set_max_width(width);
        plots::focused(ui, st, focus);
        ui.separator();
        figures(ui, st);
    });
}

/// The selection's figures and controls.
fn figures(ui: &mut egui::Ui, st: &mut UiState) {
    match *st.selection {
        Selection::System => system(ui, st),
        Selection::Node(NodeRef::Source(i)) => source(ui, st, i),
        Selection::Node(NodeRef::Component(c)) => component(ui, st, c),
        Selection::Instance(i) => instance(ui, st, i),
        Selection::Link(l) => link(ui, st, l),
    }
}

fn row(ui: &mut egui::Ui, k: &str, v: String) {
    // Wrapped, so a long value never widens the panel past the window.
    ui.horizontal_wrapped(|ui| {
        ui.label(egui::RichText::new(k).color(c32(style::MUTED)));
        ui.label(v);
    });
}

/// "37 of 1.00K", or "37 (unbounded)".
fn queued(n: u64, capacity: Option<u64>) -> String {
    match capacity {
        Some(c) => format!("{} of {}", style::short(n as f64), style::short(c as f64)),
        None => format!("{} (unbounded)", style::short(n as f64)),
    }
}

fn system(ui: &mut egui::Ui, st: &mut UiState) {
    ui.heading("System");
    let sys = st.view.system();
    row(ui, "system health", system_health_text(&sys));
    let lat = st.view.system_latency();
    row(
        ui,
        "latency p50 / p99",
        format!(
            "{} / {}",
            style::millis(lat.percentiles_ms[0]),
            style::millis(lat.percentiles_ms[2])
        ),
    );
    let j = &st.journal.ended;
    for (i, name) in ["completed", "dropped", "rejected", "failed", "timed out"]
        .iter()
        .enumerate()
    {
        row(ui, name, style::short(j[i] as f64));
    }
    row(
        ui,
        "in system",
        style::short(sys.live as f64 * st.view.unit() as f64),
    );
    super::theory::system_little(ui, st);
    ui.label("Click a component, an instance tile or a link to inspect it.");
}

/// "0.52 (1 CRITICAL, 1 RED: x0.70)": the figure and what pulls it down.
pub(super) fn system_health_text(sys: &crate::sim::read::view::SystemView) -> String {
    if sys.critical + sys.red == 0 {
        return format!("{:.2}", sys.health);
    }
    // CRITICAL as the badges read; a component critical by its exhausted engines alone is
    // named apart, whatever its badge.
    let mut parts = vec![];
    let badge_critical = sys.critical - sys.starved;
    if badge_critical > 0 {
        parts.push(format!("{badge_critical} CRITICAL"));
    }
    if sys.red > 0 {
        parts.push(format!("{} RED", sys.red));
    }
    if sys.starved > 0 {
        parts.push(format!("{} with resources < 0.3", sys.starved));
    }
    format!(
        "{:.2} ({}: x{:.2})",
        sys.health,
        parts.join(", "),
        sys.factor
    )
}

fn source(ui: &mut egui::Ui, st: &mut UiState, i: u32) {
    let Some(s) = st.view.source(i) else { return };
    ui.heading(format!("{} (clients)", s.name));
    row(ui, "offered", style::rate(s.offered_rate));
    row(
        ui,
        "in progress",
        style::short(s.live as f64 * st.view.unit() as f64),
    );
    let u = st.view.unit() as f64;
    row(
        ui,
        "retries so far",
        style::short(s.counters.retries as f64 * u),
    );
    row(
        ui,
        "timed out so far",
        style::short(s.counters.ended[4] as f64 * u),
    );
    client_rows(ui, st, &s);
    let name = s.name.to_string();
    super::fields::section(ui, st, &name);
}

/// An instance's strategies' inner state: its adaptive concurrency limit, CoDel's spell.
fn strategy_rows(ui: &mut egui::Ui, st: &UiState, v: &crate::sim::read::view::InstanceView) {
    if let Some(limit) = v.concurrency_limit {
        let held = v.queued + v.busy + v.waiting;
        row(ui, "concurrency limit", format!("{limit} (holding {held})"));
    }
    if let Some(cd) = v.codel {
        let text = match cd.drop_next {
            Some(at) => format!(
                "dropping: {} drops, next in {:.1} ms",
                cd.count,
                at.saturating_sub(st.view.now()) as f64 / 1e6
            ),
            None => format!("not dropping (last spell {} drops)", cd.count),
        };
        row(ui, "CoDel", text);
    }
}

/// The latest sample of `metric` for `entity`.
fn last(st: &UiState, entity: SeriesEntity, metric: Metric) -> Option<f64> {
    st.view.series(entity, metric).next_back().map(|p| p.1)
}

/// A source's retry mechanism: the last sample's backoffs and Retry-After, the budget's
/// balance and the throttle's rejection probability, where it has them.
fn client_rows(ui: &mut egui::Ui, st: &UiState, s: &crate::sim::read::view::SourceView) {
    let (e, u, c) = (
        SeriesEntity::Source(s.index),
        st.view.unit() as f64,
        &s.counters,
    );
    if s.retries {
        let delay = last(st, e, Metric::RetryDelayMean).unwrap_or(0.0);
        let attempt = last(st, e, Metric::RetryAttemptMean).unwrap_or(0.0);
        let text = if attempt > 0.0 {
            format!("{delay:.0} ms before attempt {attempt:.1} (mean, last sample)")
        } else {
            "none scheduled in the last sample".into()
        };
        row(ui, "retry backoff", text);
    }
    if c.retry_after_hints > 0 {
        let ms = last(st, e, Metric::RetryAfterMean).unwrap_or(0.0);
        let n = style::short(c.retry_after_hints as f64 * u);
        row(
            ui,
            "Retry-After",
            format!("{ms:.0} ms (last sample); {n} named so far"),
        );
    }
    if let Some(b) = s.budget_balance {
        let over = style::short(c.over_budget as f64 * u);
        row(
            ui,
            "retry budget",
            format!("{b:.0} retries left; {over} refused so far"),
        );
    }
    if let Some(p) = s.throttle_p {
        let n = style::short(c.throttled as f64 * u);
        row(
            ui,
            "client throttle",
            format!("rejects {:.0}% now; {n} so far", p * 100.0),
        );
    }
}

/// "status RED 45, held by latency (-22 points)": the seed's status score, its band, and the
/// part of it that costs the most.
fn status_line(ui: &mut egui::Ui, st: &UiState, h: &HealthReading) {
    let spec = st.view.health_spec();
    let why = crate::sim::control::health::weakest_part(&h.scores, spec)
        .map_or(String::new(), |(part, lost)| {
            format!(", held by {part} (-{lost:.0} points)")
        });
    ui.horizontal_wrapped(|ui| {
        ui.label(egui::RichText::new("status").color(c32(style::MUTED)));
        ui.label(
            egui::RichText::new(format!("{} {:.0}", h.status.name(), h.score.floor()))
                .color(c32(style::band_colour(h.status)))
                .size(20.0)
                .strong(),
        );
        ui.label(why);
    });
}

/// Seed 000's score broken down: each part with its weight and the numbers behind it.
fn score_breakdown(ui: &mut egui::Ui, st: &UiState, h: &HealthReading) {
    let spec = st.view.health_spec();
    let w = spec.weights;
    let s = h.scores;
    let base = spec
        .baseline_latency_ms
        .map_or("learned".to_string(), style::millis);
    egui::Grid::new("score").striped(true).show(ui, |ui| {
        ui.label("part");
        ui.label("score");
        ui.label("weight");
        ui.label("from");
        ui.end_row();
        let parts = [
            (
                "queue",
                s.queue,
                w.queue,
                format!(
                    "{} of {}",
                    style::short(h.queue_length as f64),
                    style::short(h.queue_capacity)
                ),
            ),
            (
                "processing",
                s.processing,
                w.processing,
                format!(
                    "{} of {}",
                    style::rate(h.throughput),
                    style::rate(h.max_throughput)
                ),
            ),
            (
                "latency",
                s.latency,
                w.latency,
                format!("{} (base {base})", style::millis(h.latency_ms)),
            ),
            (
                "errors",
                s.error,
                w.error,
                format!(
                    "{:.2}% (base {:.2}%)",
                    h.error_rate * 100.0,
                    spec.baseline_error_rate * 100.0
                ),
            ),
        ];
        for (name, score, weight, from) in parts {
            ui.label(name);
            ui.label(format!("{score:.0}"));
            ui.label(format!("{:.0}%", weight * 100.0));
            ui.label(from);
            ui.end_row();
        }
    });
}

fn component(ui: &mut egui::Ui, st: &mut UiState, c: u32) {
    let Some(v) = st.view.component(c) else {
        return;
    };
    let name = v.name.to_string();
    ui.heading(format!("{name} ({:?})", v.kind));
    let theory = super::theory::of(st, c);
    if let Some(t) = &theory {
        super::theory::headline(ui, t);
    }
    if let Some(h) = v.health {
        status_line(ui, st, &h);
        score_breakdown(ui, st, &h);
        row(
            ui,
            "resource health",
            format!("{:.2} (engines -> instances -> component)", h.health),
        );
        let ttf = if h.time_to_full_s.is_finite() {
            format!("full in {:.0} s", h.time_to_full_s)
        } else {
            "not filling".to_string()
        };
        row(
            ui,
            "queue trend",
            format!("{:+.0}/s, {ttf}", h.queue_growth_per_s),
        );
        row(ui, "incoming", style::rate(h.incoming));
        if h.anomaly {
            ui.colored_label(c32(style::YELLOW), "queue far off its forecast");
        }
    }
    row(ui, "queued", queued(v.queued, v.queue_capacity));
    row(
        ui,
        "workers busy",
        format!("{} of {}", v.busy + v.waiting, v.workers),
    );
    bulkheads(ui, st, v.index);
    row(
        ui,
        "instances up",
        format!("{} of {}", v.instances_up, v.instance_count),
    );
    let ids: Vec<u32> = v.instances().collect();
    let count = v.instance_count;
    resize(ui, st, &name, count);
    super::fields::section(ui, st, &name);
    if ui
        .button("Take the whole component down for 20 s")
        .clicked()
    {
        st.send(SimCommand::TakeDownComponent {
            component: name.clone(),
            for_s: Some(20.0),
        });
    }
    ui.label("Instances (click a tile in the picture):");
    for i in ids {
        if let Some(iv) = st.view.instance(i) {
            let text = format!(
                "{}  {:?}  q {}",
                iv.name,
                iv.state,
                style::short(iv.queued as f64)
            );
            if ui.selectable_label(false, text).clicked() {
                *st.selection = Selection::Instance(i);
            }
        }
    }
    if let Some(t) = &theory {
        super::theory::section(ui, t);
    }
}

fn resize(ui: &mut egui::Ui, st: &mut UiState, name: &str, instances: u32) {
    let Some(spec) = st
        .config
        .scenario
        .components
        .iter()
        .find(|c| c.name == name)
    else {
        return;
    };
    let policy = spec.queue_policy;
    let (mut n, mut w) = (instances.max(spec.instances), spec.workers);
    let mut q = match spec.queue {
        QueueSpec::Bounded(q) => q,
        QueueSpec::Unbounded => 0,
    };
    ui.horizontal(|ui| {
        ui.label("instances");
        if ui.add(egui::DragValue::new(&mut n).range(1..=64)).changed() {
            st.send(SimCommand::SetInstances {
                component: name.into(),
                instances: n,
            });
        }
        ui.label("workers");
        if ui
            .add(egui::DragValue::new(&mut w).range(1..=100_000))
            .changed()
        {
            st.send(SimCommand::SetWorkers {
                component: name.into(),
                workers: w,
            });
        }
    });
    ui.horizontal(|ui| {
        ui.label("queue (0: unbounded)");
        if ui
            .add(egui::DragValue::new(&mut q).range(0..=10_000_000))
            .changed()
        {
            let queue = if q == 0 {
                QueueSpec::Unbounded
            } else {
                QueueSpec::Bounded(q)
            };
            st.send(SimCommand::SetQueue {
                component: name.into(),
                queue,
            });
        }
    });
    super::strategies::queue_policy(ui, st, name, policy);
}

/// The instance's what-if buttons, right under its heading: figures below them change length
/// from frame to frame, and a button that moves while the pointer travels to it is missed.
fn instance_buttons(ui: &mut egui::Ui, st: &mut UiState, comp: &str, k: u32) {
    let comp = comp.to_string();
    ui.horizontal_wrapped(|ui| {
        if st.button(ui, "Take down").clicked() {
            st.send(SimCommand::TakeDown {
                component: comp.clone(),
                instance: k,
                for_s: None,
            });
        }
        if st.button(ui, "Bring back").clicked() {
            st.send(SimCommand::BringBack {
                component: comp.clone(),
                instance: k,
            });
        }
        if st.button(ui, "Slow x3 for 30 s").clicked() {
            st.send(SimCommand::SlowDown {
                component: comp.clone(),
                instance: k,
                factor: 3.0,
                for_s: 30.0,
            });
        }
        if st
            .button(ui, "Fail 80% for 60 s")
            .on_hover_text("a bad deploy: the instance serves, but 80% of what it serves fails")
            .clicked()
        {
            st.send(SimCommand::InjectErrors {
                component: comp.clone(),
                instance: k,
                share: 0.8,
                for_s: 60.0,
            });
        }
    });
}

fn instance(ui: &mut egui::Ui, st: &mut UiState, i: u32) {
    let Some(v) = st.view.instance(i) else { return };
    let comp = st.view.topology().components[v.component as usize]
        .name
        .clone();
    let (heading, k) = (format!("{} ({:?})", v.name, v.state), v.ordinal);
    ui.heading(heading);
    instance_buttons(ui, st, &comp, k);
    let Some(v) = st.view.instance(i) else { return };
    if let Some(back) = v.down_until.filter(|u| *u < u64::MAX / 8) {
        row(ui, "back at", format!("t = {:.1} s", back as f64 / 1e9));
    }
    row(ui, "queued", queued(v.queued, v.queue_capacity));
    row(
        ui,
        "workers",
        format!("{} busy, {} waiting, of {}", v.busy, v.waiting, v.workers),
    );
    strategy_rows(ui, st, &v);
    row(
        ui,
        "memory",
        format!("{:.0} of {:.0} MB", v.memory_used_mb, v.memory_capacity_mb),
    );
    if let Some(h) = &v.health {
        status_line(ui, st, h);
    }
    if let Some(h) = v.instance_health {
        row(
            ui,
            "resource health",
            format!("{h:.2} (weakest engine, last cycle)"),
        );
    }
    // Each engine's health as of the cycle the resource health was taken at, beside its
    // utilization now, so the two never disagree.
    let at_cycle = v
        .engine_health_at_cycle
        .unwrap_or(v.engines.map(|e| e.health));
    let worst = at_cycle.iter().copied().fold(f64::MAX, f64::min);
    egui::Grid::new("engines").striped(true).show(ui, |ui| {
        ui.label("engine");
        ui.label("busy now");
        ui.label("health at cycle");
        ui.end_row();
        for (e, h) in v.engines.iter().zip(at_cycle) {
            let mark = if h <= worst && worst < 1.0 {
                "  <- weakest"
            } else {
                ""
            };
            ui.label(e.kind.name());
            ui.label(format!("{:.0}%", e.utilization * 100.0));
            ui.colored_label(c32(style::health_colour(h)), format!("{h:.1}{mark}"));
            ui.end_row();
        }
    });
}

fn link(ui: &mut egui::Ui, st: &mut UiState, l: u32) {
    let Some(v) = st.view.link(l) else { return };
    ui.heading(v.name.to_string());
    let rate = st
        .scene
        .rates
        .link_rate
        .get(l as usize)
        .copied()
        .unwrap_or(0.0);
    row(ui, "rate", style::rate(rate));
    row(ui, "offered (last cycle)", style::rate(v.demand));
    row(
        ui,
        "limit",
        v.rate_limit.map_or("none".to_string(), style::rate),
    );
    row(
        ui,
        "recommended",
        v.recommended.map_or("none".to_string(), style::rate),
    );
    row(ui, "reason", format!("{} ({})", v.reason, v.urgency.name()));
    let breaker = match v.breaker {
        BreakerState::Closed => "CLOSED",
        BreakerState::Open => "OPEN",
        BreakerState::HalfOpen => "HALF-OPEN",
    };
    row(
        ui,
        "breaker",
        format!(
            "{breaker} ({} refused)",
            style::short(v.breaker_refused as f64)
        ),
    );
    if let Some((failed, slow)) = v.breaker_window {
        let text = format!("{:.0}% failed, {:.0}% slow", failed * 100.0, slow * 100.0);
        row(ui, "breaker window", text);
    }
    row(ui, "in transit", style::short(v.in_transit as f64));
    row(ui, "held by rate control", style::short(v.held as f64));
    sender_rows(ui, &v, st.view.unit());
    row(
        ui,
        "backpressure delay",
        style::millis(v.delay as f64 / 1e6),
    );
    row(
        ui,
        "lost on the wire",
        style::short((v.counters.lost * st.view.unit()) as f64),
    );
    let events = st.journal.about(Subject::Link(l)).count();
    row(ui, "decisions", events.to_string());
    let name = v.name.to_string();
    if v.call == CallKind::Sync {
        super::strategies::sender_limit(ui, st, &name);
    }
    super::fields::section(ui, st, &name);
    link_faults(ui, st, name);
}

/// What-ifs on a link: a slow path, a partition.
fn link_faults(ui: &mut egui::Ui, st: &mut UiState, name: String) {
    ui.horizontal(|ui| {
        if ui
            .button("+200 ms for 30 s")
            .on_hover_text("a slow network path: 200 ms more each way")
            .clicked()
        {
            st.send(SimCommand::DegradeLink {
                link: name.clone(),
                added_latency_ms: 200.0,
                loss: 0.0,
                lost_after_ms: 1000.0,
                for_s: 30.0,
            });
        }
        if ui
            .button("Partition for 20 s")
            .on_hover_text(
                "every request lost; each sender hears of it after a 1 s connect timeout",
            )
            .clicked()
        {
            st.send(SimCommand::DegradeLink {
                link: name.clone(),
                added_latency_ms: 0.0,
                loss: 1.0,
                lost_after_ms: 1000.0,
                for_s: 20.0,
            });
        }
    });
}

/// A link's window and what its sender refused, by cause; a broker's redeliveries.
fn sender_rows(ui: &mut egui::Ui, v: &crate::sim::read::view::LinkView, unit: u64) {
    if v.call == CallKind::Pull {
        row(ui, "on the topic", style::short(v.topic_len as f64));
        let c = &v.counters;
        if c.redelivered + c.dead_lettered + v.retry_waiting > 0 {
            row(
                ui,
                "redelivered",
                style::short((c.redelivered * unit) as f64),
            );
            row(ui, "in retry queues", style::short(v.retry_waiting as f64));
            row(
                ui,
                "dead-letter queue",
                style::short((c.dead_lettered * unit) as f64),
            );
        }
    }
    if let Some(w) = v.window {
        let max = if w.max == u64::MAX {
            "no bound".to_string()
        } else {
            style::short(w.max as f64)
        };
        row(
            ui,
            if w.credits {
                "credits used / granted"
            } else if w.adaptive {
                "in flight / adaptive limit"
            } else {
                "in flight / window"
            },
            format!("{} / {max}", style::short(w.in_flight as f64)),
        );
        row(
            ui,
            "waiting at the sender",
            style::short((w.waiting * unit) as f64),
        );
    }
    let refused = [
        ("flow control", v.refused),
        ("rate limit", v.counters.limited * unit),
        ("window", v.counters.windowed_out * unit),
    ];
    let total: u64 = refused.iter().map(|r| r.1).sum();
    let causes: Vec<_> = refused.iter().filter(|r| r.1 > 0).collect();
    let by = match causes.as_slice() {
        [] => String::new(),
        [(name, _)] => format!(" ({name})"),
        many => {
            let parts: Vec<String> = many
                .iter()
                .map(|(name, n)| format!("{name} {}", style::short(*n as f64)))
                .collect();
            format!(" ({})", parts.join(", "))
        }
    };
    row(
        ui,
        "refused at sender",
        format!("{}{by}", style::short(total as f64)),
    );
}

/// A component's bulkheads: per compartment, its workers in use and its own queue.
fn bulkheads(ui: &mut egui::Ui, st: &UiState, c: u32) {
    let specs = st
        .config
        .scenario
        .components
        .get(c as usize)
        .map_or(&[][..], |c| c.bulkheads.as_slice());
    for (spec, [busy, workers, waiting, queue, refused]) in specs.iter().zip(st.view.bulkheads(c)) {
        row(
            ui,
            &format!("bulkhead {}", spec.flows.join(", ")),
            format!("{busy}/{workers} busy"),
        );
        row(
            ui,
            "  its queue",
            format!(
                "{waiting}/{queue}, {} refused",
                style::short(refused as f64)
            ),
        );
    }
}
