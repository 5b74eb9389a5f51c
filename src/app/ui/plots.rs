//! Live plots of the selected entity (or the system) from the typed series store: the last
//! minutes with a cursor at the current time.

use super::{UiState, c32};
use crate::app::state::Selection;
use crate::picture::style;
use crate::sim::flow::link::NodeRef;
use crate::sim::read::series::{Metric, SeriesEntity};
use bevy_egui::egui;
use egui_plot::{HLine, Line, Plot, PlotPoints, VLine};

/// One plot: a title, its lines (label, entity, metric, scale), and marks across it.
struct Chart {
    title: String,
    lines: Vec<(String, SeriesEntity, Metric, f64)>,
    marks: Vec<(&'static str, f64, style::Rgba)>,
}

fn chart(title: &str, lines: Vec<(&str, SeriesEntity, Metric, f64)>) -> Chart {
    Chart {
        title: title.to_string(),
        lines: (lines.into_iter())
            .map(|(l, e, m, k)| (l.to_string(), e, m, k))
            .collect(),
        marks: vec![],
    }
}

fn charts(st: &UiState) -> Vec<Chart> {
    match *st.selection {
        Selection::System => system_charts(st),
        Selection::Node(NodeRef::Component(c)) => component_charts(st, c),
        Selection::Instance(i) => instance_charts(st, i),
        Selection::Link(l) => link_charts(st, l),
        Selection::Node(NodeRef::Source(s)) => source_charts(st, s),
    }
}

/// The percentiles are stored in ms.
const MS: f64 = 1.0;

fn system_charts(st: &UiState) -> Vec<Chart> {
    use Metric::*;

    let s = SeriesEntity::System;
    let mut out = vec![
        chart(
            "requests/s",
            vec![
                ("generated", s, Generated, 1.0),
                ("goodput", s, Goodput, 1.0),
            ],
        ),
        chart(
            "latency (ms)",
            vec![("p50", s, LatencyP50, MS), ("p99", s, LatencyP99, MS)],
        ),
        chart(
            "losses per sample",
            vec![
                ("dropped", s, Dropped, 1.0),
                ("rejected", s, Rejected, 1.0),
                ("failed", s, Failed, 1.0),
                ("timed out", s, TimedOut, 1.0),
            ],
        ),
        chart("health", vec![("health", s, Health, 1.0)]),
    ];
    if let Some(p) = priority_chart(st) {
        out.insert(1, p);
    }
    out
}

/// Completed per second of each priority class a source sends (end to end), when there are
/// several.
fn priority_chart(st: &UiState) -> Option<Chart> {
    use crate::sim::flow::request::Priority;
    let sent = st.view.classes().classes_sent;
    if sent.iter().filter(|s| **s).count() < 2 {
        return None;
    }
    let mut c = chart("completed/s by priority (end to end)", vec![]);
    for p in Priority::ALL.into_iter().filter(|p| sent[*p as usize]) {
        let e = SeriesEntity::Priority(p as u8);
        c.lines
            .push((p.name().to_string(), e, Metric::Goodput, 1.0));
    }
    Some(c)
}

fn component_charts(st: &UiState, c: u32) -> Vec<Chart> {
    use Metric::*;

    let e = SeriesEntity::Component(c);
    let cap = st
        .view
        .component(c)
        .and_then(|v| v.queue_capacity)
        .map_or(-1.0, |q| q as f64);
    let mut queue = chart("queue", vec![("length", e, QueueLen, 1.0)]);
    if cap > 0.0 {
        queue.marks.push(("capacity", cap, style::RED));
    }
    let mut latency = chart(
        "latency in it (ms)",
        vec![("p50", e, LatencyP50, MS), ("p99", e, LatencyP99, MS)],
    );
    // Where queueing theory describes it: the prediction beside the time-averages it predicts.
    if st.view.series(e, TheoryWMs).next().is_some() {
        queue.lines.push(("mean waiting".into(), e, QueueMean, 1.0));
        queue.lines.push(("theory Lq".into(), e, TheoryLq, 1.0));
        latency.lines.push(("mean".into(), e, LatencyMean, MS));
        latency.lines.push(("theory W".into(), e, TheoryWMs, MS));
    }
    let mut score = chart("health score", vec![("score", e, HealthScore, 1.0)]);
    score.marks = vec![
        ("GREEN", 80.0, style::GREEN),
        ("YELLOW", 60.0, style::YELLOW),
        ("RED", 30.0, style::RED),
    ];
    let mut out = vec![
        chart(
            "requests/s",
            vec![
                ("arrivals", e, Arrivals, 1.0),
                ("served", e, Throughput, 1.0),
            ],
        ),
        latency,
        queue,
    ];
    // Several priority classes: what each gets through, end to end (what shedding by priority
    // changes).
    if let Some(p) = priority_chart(st) {
        out.insert(1, p);
    }
    let first = st.view.instances_of(c).next();
    if first
        .as_ref()
        .is_some_and(|i| i.concurrency_limit.is_some())
    {
        out.push(chart(
            "concurrency limit against in flight (all instances)",
            vec![
                ("limit", e, ConcurrencyLimit, 1.0),
                ("in flight", e, InFlight, 1.0),
                ("queued", e, QueueLen, 1.0),
            ],
        ));
    }
    let bulkheads =
        (st.config.scenario.components.get(c as usize)).map_or(&[][..], |c| c.bulkheads.as_slice());
    if !bulkheads.is_empty() {
        let mut b = chart("bulkheads: workers in use", vec![]);
        for (k, spec) in bulkheads.iter().enumerate().take(4) {
            let be = SeriesEntity::Bulkhead(c, k as u16);
            b.lines.push((spec.flows.join("+"), be, InUse, 1.0));
        }
        out.push(b);
    }
    out.push(chart(
        "losses per sample",
        vec![("dropped", e, Dropped, 1.0), ("failed", e, Failed, 1.0)],
    ));
    out.push(score);
    out
}

fn instance_charts(st: &UiState, i: u32) -> Vec<Chart> {
    use Metric::*;

    let e = SeriesEntity::Instance(i);
    let v = st.view.instance(i);
    let mut out = vec![];
    // The mechanism first: AIMD's saw-tooth against what the instance holds, CoDel's spell.
    if v.as_ref().is_some_and(|v| v.concurrency_limit.is_some()) {
        out.push(chart(
            "concurrency limit against in flight",
            vec![
                ("limit", e, ConcurrencyLimit, 1.0),
                ("in flight", e, InFlight, 1.0),
                ("queued", e, QueueLen, 1.0),
            ],
        ));
    }
    if v.as_ref().is_some_and(|v| v.codel.is_some()) {
        out.push(chart(
            "CoDel: drops this spell, next drop in (ms)",
            vec![
                ("count", e, CodelCount, 1.0),
                ("next drop (ms)", e, CodelNextDrop, 1.0),
            ],
        ));
    }
    out.extend(vec![
        chart(
            "queue",
            vec![
                ("length", e, QueueLen, 1.0),
                ("in flight", e, InFlight, 1.0),
            ],
        ),
        chart(
            "engines",
            vec![
                ("cpu", e, UtilCpu, 1.0),
                ("memory", e, UtilMemory, 1.0),
                ("storage", e, UtilStorage, 1.0),
                ("network", e, UtilNetwork, 1.0),
            ],
        ),
        chart("health score", vec![("score", e, HealthScore, 1.0)]),
    ]);
    out
}

fn link_charts(st: &UiState, l: u32) -> Vec<Chart> {
    use Metric::*;

    let e = SeriesEntity::Link(l);
    let v = st.view.link(l);
    let mut out = vec![];
    if let Some(w) = v.as_ref().and_then(|v| v.window) {
        let (title, limit) = if w.credits {
            ("credits: granted against in use", "granted")
        } else if w.adaptive {
            ("adaptive concurrency limit against in flight", "limit")
        } else {
            ("window against in flight", "window")
        };
        out.push(chart(
            title,
            vec![
                (limit, e, WindowLimit, 1.0),
                ("in flight", e, WindowInFlight, 1.0),
                ("waiting", e, WindowWaiting, 1.0),
            ],
        ));
    }
    if v.as_ref().is_some_and(|v| v.breaker_window.is_some()) {
        out.push(chart(
            "breaker window: share failed and slow",
            vec![
                ("failed", e, BreakerFailureRate, 1.0),
                ("slow", e, BreakerSlowRate, 1.0),
            ],
        ));
    }
    out.extend(vec![
        chart(
            "rate limit against demand",
            vec![("demand", e, Demand, 1.0), ("limit", e, RateLimit, 1.0)],
        ),
        chart(
            "held and in transit",
            vec![("held", e, Held, 1.0), ("in transit", e, InTransit, 1.0)],
        ),
        chart(
            "breaker (0 closed, 1 open, 2 half-open)",
            vec![("state", e, BreakerState, 1.0)],
        ),
    ]);
    out
}

fn source_charts(st: &UiState, s: u32) -> Vec<Chart> {
    use Metric::*;

    let e = SeriesEntity::Source(s);
    let v = st.view.source(s);
    let mut out = vec![];
    if v.as_ref().is_some_and(|v| v.budget_balance.is_some()) {
        out.push(chart(
            "retry budget: balance against retries",
            vec![
                ("balance", e, RetryBudgetBalance, 1.0),
                ("retries", e, Retries, 1.0),
            ],
        ));
    }
    if v.as_ref().is_some_and(|v| v.retries) {
        out.push(chart(
            "retry backoff (ms) and attempt",
            vec![
                ("mean backoff (ms)", e, RetryDelayMean, 1.0),
                ("mean attempt", e, RetryAttemptMean, 1.0),
                ("Retry-After (ms)", e, RetryAfterMean, 1.0),
            ],
        ));
    }
    if v.as_ref().is_some_and(|v| v.throttle_p.is_some()) {
        out.push(chart(
            "client throttle: rejection probability",
            vec![("probability", e, ThrottleProbability, 1.0)],
        ));
    }
    out.extend(vec![
        chart("requests/s", vec![("offered", e, OfferedRate, 1.0)]),
        chart(
            "outcomes per sample",
            vec![
                ("completed", e, Completed, 1.0),
                ("timed out", e, TimedOut, 1.0),
                ("retries", e, Retries, 1.0),
            ],
        ),
    ]);
    out
}

/// Seconds of history shown.
const WINDOW_S: f64 = 300.0;

/// Colours of a chart's lines, in order (its legend above the plot uses the same).
const LINE_COLOURS: [style::Rgba; 4] = [
    style::Rgba::rgb8(90, 170, 255),
    style::Rgba::rgb8(255, 170, 60),
    style::Rgba::rgb8(120, 220, 120),
    style::Rgba::rgb8(230, 110, 200),
];

/// The key under which the plots drawn this frame are kept (title and rectangle).
pub(super) const CHARTS: &str = "flowlab charts";

pub(super) fn plots(ui: &mut egui::Ui, st: &mut UiState) {
    focused(ui, st, &[]);
}

/// The plots, those whose title starts with one of `first` before the others (a lesson's
/// callouts point at them, so they are drawn where the panel shows them).
pub(super) fn focused(ui: &mut egui::Ui, st: &mut UiState, first: &[&str]) {
    let now = st.view.seconds();
    let width = ui.available_width();
    let mut drawn: Vec<(String, egui::Rect)> = vec![];
    let mut all = charts(st);
    // A stable sort: the focused ones first, each group in its usual order.
    all.sort_by_key(|c| {
        !first
            .iter()
            .any(|f| !f.is_empty() && c.title.starts_with(f))
    });
    for (k, c) in all.into_iter().enumerate() {
        ui.label(egui::RichText::new(&c.title).strong());
        // The legend above the plot, never over the newest data.
        ui.horizontal_wrapped(|ui| {
            for (n, (label, ..)) in c.lines.iter().enumerate() {
                super::side::swatch_inline(ui, LINE_COLOURS[n % LINE_COLOURS.len()], label);
            }
            for (label, _, colour) in &c.marks {
                super::side::swatch_inline(ui, *colour, label);
            }
        });
        let series: Vec<Vec<[f64; 2]>> = c
            .lines
            .iter()
            .map(|(_, e, m, scale)| {
                st.view
                    .series(*e, *m)
                    .filter(|(t, v)| *t >= now - WINDOW_S && *v >= 0.0)
                    .map(|(t, v)| [t, v * scale])
                    .collect()
            })
            .collect();
        // Nothing above zero yet: a 0-1 axis rather than egui's -10..10.
        let flat = series.iter().flatten().all(|p| p[1] <= 0.0);
        let shown = Plot::new(("plot", k))
            .height(110.0)
            .width(width)
            .allow_zoom(false)
            .allow_drag(false)
            .allow_scroll(false)
            .include_y(0.0)
            .include_y(if flat { 1.0 } else { 0.0 })
            .include_x((now - 10.0).max(0.0))
            .include_x(now.max(1.0))
            .show(ui, |p| {
                for (n, ((label, ..), pts)) in c.lines.iter().zip(series).enumerate() {
                    let colour = c32(LINE_COLOURS[n % LINE_COLOURS.len()]);
                    p.line(Line::new(label.as_str(), PlotPoints::from(pts)).color(colour));
                }
                for (label, y, colour) in &c.marks {
                    p.hline(HLine::new(*label, *y).color(c32(*colour)));
                }
                p.vline(VLine::new("now", now).color(c32(style::MUTED)));
            });
        drawn.push((c.title.clone(), shown.response.rect));
    }
    // Where each plot was drawn this frame, for a lesson's callouts.
    ui.ctx()
        .data_mut(|d| d.insert_temp(egui::Id::new(CHARTS), drawn));
    // Room below the last plot, so it is never cut at the panel's bottom.
    ui.add_space(24.0);
}
