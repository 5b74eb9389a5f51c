//! Live plots of the selected entity (or the system) from the typed series store: the last
//! minutes with a cursor at the current time.

use super::{UiState, c32};
use crate::app::state::Selection;
use crate::picture::style;
use crate::sim::link::NodeRef;
use crate::sim::series::{Metric, SeriesEntity};
use bevy_egui::egui;
use egui_plot::{HLine, Line, Plot, PlotPoints, VLine};

/// One plot: a title, its lines (label, entity, metric, scale), and marks across it.
struct Chart {
    title: &'static str,
    lines: Vec<(&'static str, SeriesEntity, Metric, f64)>,
    marks: Vec<(&'static str, f64, style::Rgba)>,
}

fn chart(title: &'static str, lines: Vec<(&'static str, SeriesEntity, Metric, f64)>) -> Chart {
    Chart {
        title,
        lines,
        marks: vec![],
    }
}

fn charts(st: &UiState) -> Vec<Chart> {
    match *st.selection {
        Selection::System => system_charts(),
        Selection::Node(NodeRef::Component(c)) => component_charts(st, c),
        Selection::Instance(i) => instance_charts(i),
        Selection::Link(l) => link_charts(l),
        Selection::Node(NodeRef::Source(s)) => source_charts(s),
    }
}

/// The percentiles are stored in ms.
const MS: f64 = 1.0;

fn system_charts() -> Vec<Chart> {
    use Metric::*;

    let s = SeriesEntity::System;
    vec![
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
    ]
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
    let mut score = chart("health score", vec![("score", e, HealthScore, 1.0)]);
    score.marks = vec![
        ("GREEN", 80.0, style::GREEN),
        ("YELLOW", 60.0, style::YELLOW),
        ("RED", 30.0, style::RED),
    ];
    vec![
        chart(
            "requests/s",
            vec![
                ("arrivals", e, Arrivals, 1.0),
                ("served", e, Throughput, 1.0),
            ],
        ),
        chart(
            "latency in it (ms)",
            vec![("p50", e, LatencyP50, MS), ("p99", e, LatencyP99, MS)],
        ),
        queue,
        chart(
            "losses per sample",
            vec![("dropped", e, Dropped, 1.0), ("failed", e, Failed, 1.0)],
        ),
        score,
    ]
}

fn instance_charts(i: u32) -> Vec<Chart> {
    use Metric::*;

    let e = SeriesEntity::Instance(i);
    vec![
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
    ]
}

fn link_charts(l: u32) -> Vec<Chart> {
    use Metric::*;

    let e = SeriesEntity::Link(l);
    vec![
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
    ]
}

fn source_charts(s: u32) -> Vec<Chart> {
    use Metric::*;

    let e = SeriesEntity::Source(s);
    vec![
        chart("requests/s", vec![("offered", e, OfferedRate, 1.0)]),
        chart(
            "outcomes per sample",
            vec![
                ("completed", e, Completed, 1.0),
                ("timed out", e, TimedOut, 1.0),
                ("retries", e, Retries, 1.0),
            ],
        ),
    ]
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

pub(super) fn plots(ui: &mut egui::Ui, st: &mut UiState) {
    let now = st.view.seconds();
    let width = ui.available_width();
    for (k, c) in charts(st).into_iter().enumerate() {
        ui.label(egui::RichText::new(c.title).strong());
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
        Plot::new(("plot", k))
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
                    p.line(Line::new(*label, PlotPoints::from(pts)).color(colour));
                }
                for (label, y, colour) in &c.marks {
                    p.hline(HLine::new(*label, *y).color(c32(*colour)));
                }
                p.vline(VLine::new("now", now).color(c32(style::MUTED)));
            });
    }
    // Room below the last plot, so it is never cut at the panel's bottom.
    ui.add_space(24.0);
}
