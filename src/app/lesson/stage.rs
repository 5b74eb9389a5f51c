//! The lesson's stage: the camera moved (eased) to what each step frames, the spotlight on what
//! it highlights, and where on the screen each callout points. Every move is timed on the
//! lesson's clock (video seconds when filming), so a film gives the same frames every time.

use super::Presenter;
use crate::app::state::{Panels, RIGHT, Scene, Spotlight};
use crate::lesson::{Camera, Show, Target};
use crate::picture::labels::{self, Framing, Rect};
use crate::picture::layout::{Point, TILE_H, tile_centre};
use crate::picture::{GATE_AT, NodePic, bezier};
use crate::sim::flow::link::NodeRef;
use crate::sim::schedule::topology::Topology;
use bevy::prelude::*;
use bevy::window::PrimaryWindow;

/// Seconds a camera move takes.
pub const EASE_S: f64 = 1.2;

/// The bands a lesson draws over the canvas at a window height `h` (pixels): the top strip,
/// the legend strip, the caption band (for `lines` caption lines) and the text sizes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bands {
    /// Height of the top strip (clock, title, step counter).
    pub top: f32,
    /// Height of the legend strip above the caption band.
    pub legend: f32,
    /// Height of the caption band at the bottom.
    pub caption: f32,
    /// The caption's heading size.
    pub heading_px: f32,
    /// The caption's line size (28 px at 1080p).
    pub line_px: f32,
    /// Height of the decision feed when a step shows it.
    pub feed: f32,
}

impl Bands {
    /// The bands for a window `h` pixels high and captions of at most `lines` lines.
    pub fn at(h: f32, lines: usize) -> Self {
        let u = (h / 1080.0).max(0.5);
        let (heading_px, line_px) = (38.0 * u, 30.0 * u);
        Self {
            top: 48.0 * u,
            legend: 34.0 * u,
            caption: 28.0 * u + heading_px * 1.35 + lines.max(1) as f32 * line_px * 1.3,
            heading_px,
            line_px,
            feed: 170.0 * u,
        }
    }

    /// The bands of a lesson in a window `h` pixels high: sized for its longest caption, so
    /// the band keeps one height through the lesson.
    pub fn of(p: &Presenter, h: f32) -> Self {
        let lines = p.run.lesson.steps.iter().map(|s| s.caption.len()).max();
        Self::at(h, lines.unwrap_or(1))
    }
}

/// Where each shown callout points on the screen, and its label (pixels from the top left).
#[derive(Resource, Debug, Default, Clone)]
pub struct Anchors {
    /// Each callout's label and the point it points at.
    pub points: Vec<(String, [f32; 2])>,
    /// The boxes on the screen (with their badges), which a callout's label keeps off.
    pub boxes: Vec<[f32; 4]>,
    /// Callouts at the inspector's plots: their label and the title words of the plot (empty:
    /// the first), placed where the panel drew the plot.
    pub charts: Vec<(String, String)>,
    /// The links' and gates' labels on the screen, which a callout's label and its arrow keep
    /// off.
    pub labels: Vec<[f32; 4]>,
}

/// The canvas a step leaves the picture: below the top strip, above the legend and caption,
/// beside any panel it shows.
pub fn canvas(p: &Presenter, w: f32, h: f32) -> [f32; 4] {
    let b = Bands::of(p, h);
    let show = p.step().map(|k| &p.run.lesson.steps[k].show);
    let inspector = show.is_some_and(|s| s.iter().any(|x| matches!(x, Show::Inspector(_))));
    let feed = show.is_some_and(|s| s.contains(&Show::Feed));
    let right = if inspector { w - RIGHT } else { w };
    let bottom = h - b.legend - b.caption - if feed { b.feed } else { 0.0 };
    // Inside the action-safe margins (4% of the width each side, a little below the strip).
    [
        w * 0.04,
        b.top + h * 0.02,
        right - w * 0.04,
        bottom - h * 0.01,
    ]
}

fn node_named<'a>(nodes: &'a [NodePic], name: &str) -> Option<&'a NodePic> {
    let comp = name.split('#').next().unwrap_or(name);
    nodes.iter().find(|n| n.name == comp)
}

fn grow(r: Rect, by: (f32, f32)) -> Rect {
    Rect {
        min: Point::new(r.min.x - by.0, r.min.y - by.1),
        max: Point::new(r.max.x + by.0, r.max.y + by.1),
    }
}

/// What the step's camera frames, in picture units.
fn wanted(p: &Presenter, scene: &Scene) -> Option<Rect> {
    let pic = &scene.picture;
    let camera = p
        .step()
        .map_or(Camera::Whole, |k| p.run.lesson.steps[k].camera.clone());
    match camera {
        Camera::Whole => labels::bounds(&pic.nodes, &pic.labels),
        Camera::Frame(names) => {
            let chosen: Vec<NodePic> = names
                .iter()
                .filter_map(|n| node_named(&pic.nodes, n).cloned())
                .collect();
            labels::bounds(&chosen, &[]).map(|r| grow(r, (60.0, 70.0)))
        }
        Camera::Zoom(name) => node_named(&pic.nodes, &name)
            .map(|n| grow(labels::box_rect(n), (n.size.0 / 2.0, n.size.1 / 2.0 + 40.0))),
    }
}

/// The camera move under way: from, to, and when it began (lesson seconds).
#[derive(Default)]
pub struct Move {
    from: Option<Framing>,
    to: Option<Framing>,
    began: f64,
    /// The phase the framing was for: a move for a new step starts with the step.
    part: Option<(bool, Option<usize>)>,
}

fn ease(x: f64) -> f32 {
    let x = x.clamp(0.0, 1.0);
    (x * x * (3.0 - 2.0 * x)) as f32
}

/// Moves the camera towards what the step frames, and sets the spotlight.
pub fn frame_camera(
    p: Res<Presenter>,
    scene: Res<Scene>,
    panels: Res<Panels>,
    topo: Res<Topology>,
    window: Single<&Window, With<PrimaryWindow>>,
    camera: Single<(&mut Transform, &mut Projection), With<Camera2d>>,
    mut light: ResMut<Spotlight>,
    mut mv: Local<Move>,
) {
    if !p.on() || !panels.presenting {
        return;
    }
    let (w, h) = (window.width(), window.height());
    let Some(b) = wanted(&p, &scene) else {
        return;
    };
    let target = labels::frame(b, canvas(&p, w, h), (w, h));
    let (mut tf, mut proj) = camera.into_inner();
    let Projection::Orthographic(ortho) = &mut *proj else {
        return;
    };
    let now = Framing {
        centre: Point::new(tf.translation.x, tf.translation.y),
        scale: ortho.scale,
    };
    let close = |a: Framing| {
        (a.scale / target.scale - 1.0).abs() < 0.08
            && (a.centre.x - target.centre.x).abs() < 40.0 * target.scale
            && (a.centre.y - target.centre.y).abs() < 40.0 * target.scale
    };
    if let Some(old) = mv.to
        && close(old)
    {
        // The same framing, its labels grown or shrunk a little: the move goes on to it.
        mv.to = Some(target);
    } else {
        // A new framing: from wherever the camera is (the first one is reached at once).
        mv.from = Some(if mv.to.is_none() { target } else { now });
        mv.to = Some(target);
        let part = Some((p.on(), p.step()));
        // A new step's move starts with the step (a film's frame deep into a step finds the
        // camera where the film has it); any other re-framing starts now.
        mv.began = if mv.part != part { p.since } else { p.clock };
        mv.part = part;
    }
    let (Some(a), Some(z)) = (mv.from, mv.to) else {
        return;
    };
    let k = ease((p.clock - mv.began) / EASE_S);
    let scale = (a.scale.ln() + (z.scale.ln() - a.scale.ln()) * k).exp();
    ortho.scale = scale;
    tf.translation.x = a.centre.x + (z.centre.x - a.centre.x) * k;
    tf.translation.y = a.centre.y + (z.centre.y - a.centre.y) * k;
    let want = spot(&p, &scene, &topo);
    if *light != want {
        *light = want;
    }
}

/// What the step highlights, as boxes and links.
fn spot(p: &Presenter, scene: &Scene, topo: &Topology) -> Spotlight {
    let Some(k) = p.step() else {
        return Spotlight::default();
    };
    let mut s = Spotlight::default();
    for name in &p.run.lesson.steps[k].highlight {
        if let Some(l) = topo.link_names.iter().position(|n| n == name) {
            s.links.push(l as u32);
        } else if let Some(n) = node_named(&scene.picture.nodes, name) {
            s.nodes.push(n.node);
        }
    }
    s
}

/// Where each callout shown now points, on the screen.
pub fn anchors(
    p: Res<Presenter>,
    scene: Res<Scene>,
    topo: Res<Topology>,
    window: Single<&Window, With<PrimaryWindow>>,
    camera: Single<(&Transform, &Projection), With<Camera2d>>,
    mut out: ResMut<Anchors>,
) {
    out.points.clear();
    out.boxes.clear();
    out.labels.clear();
    out.charts.clear();
    let Some(k) = p.step().filter(|_| p.on()) else {
        return;
    };
    let (tf, proj) = camera.into_inner();
    let Projection::Orthographic(ortho) = proj else {
        return;
    };
    let (w, h) = (window.width(), window.height());
    let screen = |q: Point| {
        [
            (q.x - tf.translation.x) / ortho.scale + w / 2.0,
            h / 2.0 - (q.y - tf.translation.y) / ortho.scale,
        ]
    };
    let pic = &scene.picture;
    for n in &pic.nodes {
        let r = labels::box_rect(n);
        let (a, b) = (
            screen(Point::new(r.min.x, r.max.y + 36.0)),
            screen(Point::new(r.max.x, r.min.y - 36.0)),
        );
        out.boxes.push([a[0], a[1], b[0], b[1]]);
    }
    for l in &pic.labels {
        let (a, b) = (
            screen(Point::new(l.rect.min.x, l.rect.max.y)),
            screen(Point::new(l.rect.max.x, l.rect.min.y)),
        );
        out.labels.push([a[0], a[1], b[0], b[1]]);
    }
    let since = p.clock - p.since;
    for c in &p.run.lesson.steps[k].callouts {
        if since + 1e-9 < c.from_s {
            continue;
        }
        let tile = |name: &str| -> Option<(Point, &NodePic)> {
            let i = topo.instance_names.iter().position(|n| n == name)? as u32;
            let n = pic
                .nodes
                .iter()
                .find(|n| n.tiles.iter().any(|t| t.index == i))?;
            let j = n.tiles.iter().position(|t| t.index == i)?;
            let c = tile_centre(j, n.size.1);
            Some((Point::new(n.at.x + c.x, n.at.y + c.y), n))
        };
        let edge = |name: &str| {
            let l = topo.link_names.iter().position(|n| n == name)? as u32;
            pic.edges.iter().find(|e| e.link == l)
        };
        let at = match &c.at {
            Target::Component(n) => node_named(&pic.nodes, n).map(|n| {
                let is_source = matches!(n.node, NodeRef::Source(_));
                // A component's badge (its score and status) sits over its top edge.
                let y = n.at.y
                    + n.size.1 / 2.0
                    + if is_source {
                        0.0
                    } else {
                        labels::STRIP_H / 2.0
                    };
                Point::new(n.at.x - if is_source { 0.0 } else { n.size.0 / 4.0 }, y)
            }),
            Target::Instance(n) => tile(n).map(|(q, _)| q),
            Target::Gauge(n) => tile(n).map(|(q, _)| Point::new(q.x, q.y - TILE_H / 2.0 + 4.0)),
            Target::Link(n) => edge(n).map(|e| bezier(&e.curve, 0.5)),
            Target::Gate(n) => edge(n).map(|e| bezier(&e.curve, GATE_AT)),
            Target::Plot | Target::Chart(_) => {
                out.charts.push((c.label.clone(), c.at.name().to_string()));
                continue;
            }
        };
        if let Some(q) = at {
            out.points.push((c.label.clone(), screen(q)));
        }
    }
}
