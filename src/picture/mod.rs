//! The view model: what the desktop app draws, as plain data computed from the read seam
//! (`SimView`). No rendering type appears here, so every rule of the picture (a RED database
//! has a red border, a binding limit lights its gate, particle density follows the rate, a
//! dropped request leaves a marker at its instance) is tested without a window.

pub mod labels;
pub mod layout;
pub mod particles;
pub mod style;

use crate::scenario::CallKind;
use crate::sim::flow::link::NodeRef;
use crate::sim::read::view::{InstanceState, SimView};
use crate::sim::schedule::dist::{Nanos, SEC};
use crate::sim::schedule::states::{BreakerState, HealthBand};
use layout::{Layout, Point, node_size};
use style::{Glyph, Rgba};

/// One instance drawn as a tile inside its component.
#[derive(Debug, Clone, PartialEq)]
pub struct TilePic {
    /// Global instance index.
    pub index: u32,
    /// What it is doing.
    pub state: InstanceState,
    /// Its health colour (grey when down or a spare).
    pub colour: Rgba,
    /// Queue length against capacity, 0-1 (`None` for an unbounded queue).
    pub queue_fill: Option<f32>,
    /// Queue length (real requests).
    pub queued: u64,
    /// Busy workers against workers, 0-1.
    pub busy: f32,
    /// Seconds until a down instance is back, if known.
    pub back_in_s: Option<f64>,
    /// Short label, at most four characters: the queue length ("37", "1.2K"), seconds until
    /// back ("4s"), "off" (an autoscaling spare), a slowdown ("/2.0": half speed), "warm".
    pub label: String,
}

/// One node: a component or a traffic source.
#[derive(Debug, Clone, PartialEq)]
pub struct NodePic {
    /// Which.
    pub node: NodeRef,
    /// Name.
    pub name: String,
    /// Glyph.
    pub glyph: Glyph,
    /// Centre.
    pub at: Point,
    /// Box size (w, h).
    pub size: (f32, f32),
    /// Border: the status band's colour (a source: neutral).
    pub border: Rgba,
    /// Seed 000 status and score, for the badge.
    pub badge: Option<(HealthBand, f64)>,
    /// The badge's text: "CRITICAL 24: queue" (the status, its score, the part that holds it).
    pub badge_text: String,
    /// The bottleneck mark under the box ("BOTTLENECK storage 96%"): the component the
    /// summary names, with its busiest engine.
    pub bottleneck: Option<String>,
    /// Lines under the name: served/s, p99, resource health.
    pub lines: Vec<String>,
    /// Its instances.
    pub tiles: Vec<TilePic>,
}

/// The gate on a link: its rate limit, what waits in front of it, its breaker.
#[derive(Debug, Clone, PartialEq)]
pub struct GatePic {
    /// "max 28.4K/s", or empty without a limit.
    pub text: String,
    /// The limit binds: the sender offers more than it allows.
    pub binding: bool,
    /// Requests held at the sender (real).
    pub held: u64,
    /// Requests its rate limiter refuses with a 429, per second (real).
    pub limited: f64,
    /// Breaker state.
    pub breaker: BreakerState,
    /// Of the binding gates, this one holds the most.
    pub strongest: bool,
    /// Offered beyond the limit (real requests/s; 0 without a limit).
    pub excess: f64,
    /// Where its label is drawn (centre; set by `labels::place`).
    pub text_at: Point,
}

impl GatePic {
    /// Its label: the breaker when not closed, the limit, what it holds.
    pub fn label(&self) -> String {
        let mut lines = vec![];
        match self.breaker {
            BreakerState::Closed => {}
            BreakerState::Open => lines.push("BREAKER OPEN".to_string()),
            BreakerState::HalfOpen => lines.push("BREAKER HALF-OPEN".to_string()),
        }
        if !self.text.is_empty() {
            lines.push(self.text.clone());
        }
        if self.held > 0 {
            lines.push(format!("{} held back", style::short(self.held as f64)));
        }
        if self.limited > 0.0 {
            lines.push(format!("429: {}", style::rate(self.limited)));
        }
        lines.join("\n")
    }

    /// Its label's colour: the breaker's when not closed, orange while binding.
    pub fn colour(&self) -> Rgba {
        style::breaker_colour(self.breaker).unwrap_or(if self.binding {
            style::BINDING
        } else {
            style::YELLOW
        })
    }
}

/// One link drawn as a curve.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgePic {
    /// Link index.
    pub link: u32,
    /// Start, two control points, end.
    pub curve: [Point; 4],
    /// Stroke width, growing with the log of the rate.
    pub width: f32,
    /// Colour: neutral, red while the breaker is OPEN, amber while HALF-OPEN.
    pub colour: Rgba,
    /// "12.3K/s | 0.4% err".
    pub label: String,
    /// Where the label is drawn (centre; set by `labels::place`).
    pub label_at: Point,
    /// The gate, on links between components.
    pub gate: Option<GatePic>,
}

/// The whole picture at one moment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Picture {
    /// Nodes.
    pub nodes: Vec<NodePic>,
    /// Edges.
    pub edges: Vec<EdgePic>,
    /// Simulation time (s).
    pub t: f64,
    /// System health 0-1.
    pub system_health: f64,
    /// Every label's rectangle (boxes' texts, badges, marks, links' and gates' labels).
    pub labels: Vec<labels::Label>,
}

/// Rates measured between two pictures: what each link and component did per second.
#[derive(Debug, Clone, Default)]
pub struct Rates {
    at: Nanos,
    sent: Vec<u64>,
    retried: Vec<u64>,
    errors: Vec<(u64, u64)>,
    served: Vec<u64>,
    limited: Vec<u64>,
    throttled: Vec<u64>,
    /// Per link: requests its rate limiter refused (429) per second (real).
    pub link_limited_rate: Vec<f64>,
    /// Per source: attempts its clients' adaptive throttle rejected locally per second (real).
    pub source_throttled_rate: Vec<f64>,
    /// Per link: requests sent per second (real).
    pub link_rate: Vec<f64>,
    /// Per link: of `link_rate`, retries per second (real).
    pub link_retry_rate: Vec<f64>,
    /// Per link: share of responses that were errors.
    pub link_errors: Vec<f64>,
    /// Per component: requests served per second (real).
    pub served_rate: Vec<f64>,
    /// Whether the rates have been measured over a window yet (before: shown as "-").
    pub measured: bool,
    /// Per instance (global index): its queue length as shown, smoothed over about a
    /// simulated second so the number changes at a pace a person can read.
    pub queue_shown: Vec<f64>,
    smoothed_at: Nanos,
    /// The bottleneck as the summary names it, as of the last measurement.
    pub bottleneck: Option<crate::summary::Bottleneck>,
}

impl Rates {
    /// Measures since the last call, if at least `window_s` of simulated time has passed.
    pub fn update(&mut self, view: &SimView, window_s: f64) {
        let now = view.now();
        if now < self.at {
            *self = Rates::default();
        }
        self.smooth_queues(view);
        let dt = now.saturating_sub(self.at) as f64 / SEC;
        // The first measurement comes after a tenth of the window, so a picture that starts
        // mid-run (a recording from t = 1.6 s) shows rates almost at once, never a false 0/s.
        let due = if self.measured {
            window_s
        } else {
            0.1 * window_s
        };
        if dt < due && !self.sent.is_empty() {
            return;
        }
        let unit = view.unit();
        let sent: Vec<u64> = view.links().map(|l| l.counters.sent * unit).collect();
        let retried: Vec<u64> = view
            .links()
            .map(|l| l.counters.sent_retries * unit)
            .collect();
        let errors: Vec<(u64, u64)> = view
            .links()
            .map(|l| (l.counters.responses_delivered, l.counters.response_errors))
            .collect();
        let served: Vec<u64> = view.components().map(|c| c.served).collect();
        let limited: Vec<u64> = view.links().map(|l| l.counters.limited * unit).collect();
        let throttled: Vec<u64> = view
            .sources()
            .map(|s| s.counters.throttled * unit)
            .collect();
        let per_s = |now: &[u64], before: &[u64]| -> Vec<f64> {
            now.iter()
                .zip(before)
                .map(|(a, b)| a.saturating_sub(*b) as f64 / dt)
                .collect()
        };
        if self.sent.len() == sent.len() && dt > 0.0 {
            self.link_rate = per_s(&sent, &self.sent);
            self.link_retry_rate = per_s(&retried, &self.retried);
            self.link_limited_rate = per_s(&limited, &self.limited);
            self.source_throttled_rate = per_s(&throttled, &self.throttled);
            self.link_errors = errors
                .iter()
                .zip(&self.errors)
                .map(|(a, b)| {
                    let r = a.0.saturating_sub(b.0);
                    let e = a.1.saturating_sub(b.1);
                    if r > 0 { e as f64 / r as f64 } else { 0.0 }
                })
                .collect();
            self.served_rate = per_s(&served, &self.served);
            self.measured = true;
        }
        self.bottleneck = crate::summary::bottleneck(view);
        (self.at, self.sent, self.errors, self.served) = (now, sent, errors, served);
        (self.retried, self.limited, self.throttled) = (retried, limited, throttled);
    }
}

impl Rates {
    /// Moves every instance's shown queue length toward its real one, with a time constant of
    /// `QUEUE_SMOOTHING_S` simulated seconds (at once after a reset or when it empties).
    fn smooth_queues(&mut self, view: &SimView) {
        let now = view.now();
        let dt = now.saturating_sub(self.smoothed_at) as f64 / SEC;
        let keep = (-dt / QUEUE_SMOOTHING_S).exp();
        let n = view.topology().instances.len();
        if self.queue_shown.len() != n || now < self.smoothed_at {
            self.queue_shown = vec![0.0; n];
        }
        for (k, shown) in self.queue_shown.iter_mut().enumerate() {
            let q = view.instance(k as u32).map_or(0, |i| i.queued) as f64;
            *shown = if q == 0.0 {
                0.0
            } else {
                q + (*shown - q) * keep
            };
        }
        self.smoothed_at = now;
    }
}

/// Time constant of the queue lengths shown on tiles (simulated seconds).
pub const QUEUE_SMOOTHING_S: f64 = 0.5;

/// A tile for one instance.
fn tile(view: &SimView, index: u32, rates: &Rates) -> Option<TilePic> {
    let i = view.instance(index)?;
    let now = view.now();
    let queue_fill = i.queue_capacity.map(|c| {
        if c == 0 {
            1.0
        } else {
            i.queued as f32 / c as f32
        }
    });
    let busy = if i.workers > 0 {
        (i.busy + i.waiting) as f32 / i.workers as f32
    } else {
        0.0
    };
    let back_in_s = i
        .down_until
        .filter(|u| *u < Nanos::MAX / 8)
        .map(|u| u.saturating_sub(now) as f64 / SEC);
    let colour = match i.state {
        InstanceState::Down | InstanceState::Spare => style::DOWN,
        _ => style::health_colour(i.instance_health.unwrap_or(1.0)),
    };
    let label = match i.state {
        InstanceState::Down => match back_in_s {
            Some(s) => format!("{s:.0}s"),
            None => "down".to_string(),
        },
        // At most four characters: the tile's label is as large as the box's text.
        InstanceState::Spare => "off".to_string(),
        // Its speed divided by the slowdown ("/2.0": half speed; "x2.0" read as twice as fast).
        InstanceState::Slowed if i.slowdown >= 9.95 => format!("/{:.0}", i.slowdown),
        InstanceState::Slowed => format!("/{:.1}", i.slowdown),
        InstanceState::Warming => "warm".to_string(),
        InstanceState::Up => style::compact(
            rates
                .queue_shown
                .get(index as usize)
                .copied()
                .unwrap_or(i.queued as f64)
                .round(),
        ),
    };
    Some(TilePic {
        index,
        state: i.state,
        colour,
        queue_fill,
        queued: i.queued,
        busy: busy.min(1.0),
        back_in_s,
        label,
    })
}

/// The picture of the simulation now, laid out by `layout`, with rates from `rates`.
pub fn picture(view: &SimView, layout: &Layout, rates: &Rates) -> Picture {
    let mut nodes = vec![];
    for s in view.sources() {
        let at = layout.at(NodeRef::Source(s.index));
        nodes.push(NodePic {
            node: NodeRef::Source(s.index),
            name: s.name.to_string(),
            glyph: Glyph::Clients,
            at,
            size: node_size(0),
            border: style::MUTED,
            badge: None,
            badge_text: String::new(),
            bottleneck: None,
            lines: source_lines(&s, rates),
            tiles: vec![],
        });
    }
    let spec = view.health_spec();
    for c in view.components() {
        let at = layout.at(NodeRef::Component(c.index));
        let h = c.health;
        let served = rates
            .served_rate
            .get(c.index as usize)
            .copied()
            .filter(|_| rates.measured);
        let p99 = view
            .component_latency(c.index)
            .map(|l| l.percentiles_ms[2])
            .filter(|p| *p > 0.0);
        let mut lines = vec![format!("served {}", served.map_or("-".into(), style::rate))];
        if c.stale > 0.0 {
            lines.push(format!("STALE data {:.0}%", c.stale * 100.0));
        } else {
            lines.push(format!("p99 {}", p99.map_or("-".into(), style::millis)));
        }
        if let Some(h) = h {
            lines.push(format!("resources {:.2}", h.health));
        }
        let badge_text = h.map_or(String::new(), |h| {
            let why = crate::sim::control::health::weakest_part(&h.scores, spec)
                .filter(|_| h.status != HealthBand::Green)
                .map_or(String::new(), |(part, _)| format!(": {}", short_part(part)));
            // Rounded down, so a YELLOW 79.6 never reads as "YELLOW 80".
            format!("{} {:.0}{why}", h.status.name(), h.score.floor())
        });
        let bottleneck = rates
            .bottleneck
            .as_ref()
            .filter(|b| b.component == c.name)
            .map(|b| format!("BOTTLENECK {} {:.0}%", b.engine, b.peak * 100.0));
        let mut node = NodePic {
            node: NodeRef::Component(c.index),
            name: c.name.to_string(),
            glyph: Glyph::of(c.kind),
            at,
            size: node_size(c.instance_count as usize),
            border: h.map_or(style::MUTED, |h| style::band_colour(h.status)),
            badge: h.map(|h| (h.status, h.score)),
            badge_text,
            bottleneck,
            lines,
            tiles: c.instances().filter_map(|i| tile(view, i, rates)).collect(),
        };
        labels::fit_node_text(&mut node);
        nodes.push(node);
    }
    let edges = view
        .links()
        .map(|l| edge(view, layout, rates, l.index))
        .collect();
    let mut edges: Vec<EdgePic> = edges;
    mark_strongest_gate(&mut edges);
    let labels = labels::place(&nodes, &mut edges);
    Picture {
        nodes,
        edges,
        t: view.seconds(),
        system_health: view.system().health,
        labels,
    }
}

/// The badge's word for the part of the score that holds a status.
fn short_part(part: &str) -> &str {
    match part {
        "processing" => "busy",
        p => p,
    }
}

/// Of the binding gates, the one that holds the most requests (then refuses the largest share
/// of what is offered) is emphasised: where the system pushes back hardest.
fn mark_strongest_gate(edges: &mut [EdgePic]) {
    let best = edges
        .iter()
        .enumerate()
        .filter_map(|(k, e)| e.gate.as_ref().filter(|g| g.binding).map(|g| (k, g)))
        .max_by(|a, b| {
            (a.1.held, a.1.excess)
                .partial_cmp(&(b.1.held, b.1.excess))
                .unwrap_or(std::cmp::Ordering::Equal)
        })
        .map(|(k, _)| k);
    if let Some(g) = best.and_then(|k| edges[k].gate.as_mut()) {
        g.strongest = true;
    }
}

/// The curve, width, label and gate of link `index`.
fn edge(view: &SimView, layout: &Layout, rates: &Rates, index: u32) -> EdgePic {
    let l = view.link(index).expect("link index from the view");
    let from = layout.at(l.from);
    let to = layout.at(NodeRef::Component(l.to));
    let from_w = match l.from {
        NodeRef::Source(_) => node_size(0).0,
        NodeRef::Component(_) => layout::NODE_W,
    };
    let a = Point::new(from.x + from_w / 2.0, from.y);
    let b = Point::new(to.x - layout::NODE_W / 2.0, to.y);
    let dx = ((b.x - a.x) * 0.45).abs().max(40.0);
    // A link that skips a column arcs over (or under) the boxes between.
    let span = ((to.x - from.x) / layout::COLUMN + 0.01).floor();
    let lift = if span >= 2.0 {
        let side = if index.is_multiple_of(2) { 1.0 } else { -1.0 };
        side * (95.0 + 25.0 * (span - 2.0))
    } else {
        0.0
    };
    let curve = if to.x <= from.x + 1.0 && matches!(l.from, NodeRef::Component(_)) {
        feedback_curve(view, l.from, l.to, from, to)
    } else {
        [
            a,
            Point::new(a.x + dx, a.y + lift * 1.3),
            Point::new(b.x - dx, b.y + lift * 1.3),
            b,
        ]
    };
    let rate = rates.link_rate.get(index as usize).copied().unwrap_or(0.0);
    let width = edge_width(rate);
    let label = edge_label(view, rates, &l, rate);
    let limited = rates
        .link_limited_rate
        .get(index as usize)
        .copied()
        .unwrap_or(0.0);
    let flow_control = matches!(l.from, NodeRef::Component(_));
    let gate = (flow_control || l.limiter.is_some()).then(|| GatePic {
        text: gate_text(&l),
        binding: l.rate_limit.is_some_and(|r| l.demand > 0.98 * r) || l.held > 0 || limited > 0.0,
        held: l.held,
        limited,
        breaker: l.breaker,
        strongest: false,
        excess: l.rate_limit.map_or(0.0, |r| (l.demand - r).max(0.0)),
        text_at: Point::default(),
    });
    let breaker = style::breaker_colour(l.breaker);
    EdgePic {
        link: index,
        curve,
        width,
        colour: breaker.unwrap_or(style::MUTED),
        label,
        label_at: Point::default(),
        gate,
    }
}

/// A link's label: its rate and the retries in it, what waits on a topic or in a window, its
/// error share.
/// A source's lines: what it offers, and what its clients' throttle keeps back.
fn source_lines(s: &crate::sim::read::view::SourceView, rates: &Rates) -> Vec<String> {
    let mut lines = vec![format!("offered {}", style::rate(s.offered_rate))];
    let throttled = rates
        .source_throttled_rate
        .get(s.index as usize)
        .copied()
        .unwrap_or(0.0);
    if throttled > 0.0 {
        lines.push(format!("throttled {}", style::rate(throttled)));
    }
    lines
}

/// A gate's text: flow control's allowed rate, and a rate limiter's kind and rate.
fn gate_text(l: &crate::sim::read::view::LinkView) -> String {
    let mut parts = vec![];
    if let Some(r) = l.rate_limit {
        parts.push(format!("max {}", style::rate(r)));
    }
    if let Some((kind, r)) = l.limiter {
        parts.push(format!("{kind} {}", style::rate(r)));
    }
    parts.join("\n")
}

fn edge_label(
    view: &SimView,
    rates: &Rates,
    l: &crate::sim::read::view::LinkView,
    rate: f64,
) -> String {
    let index = l.index;
    let retries = rates
        .link_retry_rate
        .get(index as usize)
        .copied()
        .unwrap_or(0.0);
    let mut label = if rates.measured {
        style::rate(rate)
    } else {
        "-/s".to_string()
    };
    // Retries apart: what a link carries beyond its first attempts.
    if retries > 0.01 * rate && retries > 0.0 {
        label.push_str(&format!("\nretries {}", style::rate(retries)));
    }
    if l.call == CallKind::Pull {
        // A broker's backlog waits on the topic until a consumer pulls it.
        label.push_str(&format!("\ntopic {}", style::short(l.topic_len as f64)));
        if l.retry_waiting > 0 {
            label.push_str(&format!("\nretry {}", style::short(l.retry_waiting as f64)));
        }
        if l.counters.dead_lettered > 0 {
            let dlq = l.counters.dead_lettered * view.unit();
            label.push_str(&format!("\nDLQ {}", style::short(dlq as f64)));
        }
    }
    if let Some(w) = l.window {
        // The window's credits: calls in flight against what the sender may have.
        let max = if w.max == u64::MAX {
            "∞".to_string()
        } else {
            style::short(w.max as f64)
        };
        if w.credits {
            // Credits left of those granted: 0 means the sender waits for the receiver.
            let left = w.max.saturating_sub(w.in_flight);
            label.push_str(&format!("\ncredits {}/{max}", style::short(left as f64)));
        } else {
            label.push_str(&format!(
                "\n{}/{max} in flight",
                style::short(w.in_flight as f64)
            ));
        }
        if w.waiting > 0 {
            label.push_str(&format!("\nwaiting {}", style::short(w.waiting as f64)));
        }
    }
    let err = rates
        .link_errors
        .get(index as usize)
        .copied()
        .unwrap_or(0.0);
    if err > 0.0005 {
        label.push_str(&format!("\n{:.1}% err", err * 100.0));
    }
    label
}

/// A link back (feedback) or to itself: from under the sender, round below the boxes, into the
/// underside of the receiver, so it never lies on the link forward.
fn feedback_curve(view: &SimView, from: NodeRef, to: u32, p: Point, q: Point) -> [Point; 4] {
    let half_h = |n: NodeRef| match n {
        NodeRef::Component(c) => {
            view.component(c).map_or(layout::NODE_BASE_H, |v| {
                layout::node_size(v.instance_count as usize).1
            }) / 2.0
        }
        NodeRef::Source(_) => layout::NODE_BASE_H / 2.0,
    };
    let (hp, hq) = (half_h(from), half_h(NodeRef::Component(to)));
    let a = Point::new(p.x - 30.0, p.y - hp);
    let b = Point::new(q.x + 30.0, q.y - hq);
    let drop = 70.0 + 0.15 * (p.x - q.x).abs();
    let spread = if (p.x - q.x).abs() < 1.0 { 60.0 } else { 0.0 };
    [
        a,
        Point::new(a.x + spread, a.y.min(b.y) - drop),
        Point::new(b.x - spread, a.y.min(b.y) - drop),
        b,
    ]
}

/// Stroke width for a rate: 1.5 at nothing, growing with its logarithm, at most 14.
pub fn edge_width(rate: f64) -> f32 {
    (1.5 + 1.6 * (1.0 + rate.max(0.0)).log10() as f32).min(14.0)
}

/// A point on a cubic Bézier curve at `t` (0-1).
pub fn bezier(c: &[Point; 4], t: f32) -> Point {
    let u = 1.0 - t;
    let (a, b, cc, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
    Point::new(
        a * c[0].x + b * c[1].x + cc * c[2].x + d * c[3].x,
        a * c[0].y + b * c[1].y + cc * c[2].y + d * c[3].y,
    )
}

/// Where the gate of an edge sits (a share of the way along it).
pub const GATE_AT: f32 = 0.22;
