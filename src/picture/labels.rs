//! Where every text of the picture goes, as rectangles in picture units, so that no label
//! leaves its box, lies on another label or on a box, or is cut by the canvas (the framing
//! includes every label). The text is drawn in Bevy's default font, Fira Mono: every glyph
//! advances 0.6 of the font size, so a label's width is known without a renderer.
//!
//! Text inside a box (its name and lines) is shortened to fit the box. A link's label and its
//! gate's label float: each is tried at several places along its curve, above and below it,
//! and takes the first free one (the one that overlaps least when none is free).

use super::layout::Point;
use super::{EdgePic, NodePic, bezier};

/// Font sizes (picture units: pixels at zoom 1).
pub mod px {
    /// A box's name.
    pub const NAME: f32 = 20.0;
    /// The lines under the name.
    pub const LINES: f32 = 15.0;
    /// The status badge above a box.
    pub const BADGE: f32 = 15.0;
    /// The bottleneck mark below a box.
    pub const MARK: f32 = 13.0;
    /// A link's label.
    pub const EDGE: f32 = 15.0;
    /// A gate's label (its limit, what it holds, its breaker).
    pub const GATE: f32 = 15.0;
    /// An instance tile's label (at most four characters).
    pub const TILE: f32 = 15.0;
}

/// Advance of one glyph of Fira Mono, as a share of the font size.
pub const ADVANCE: f32 = 0.6;
/// Line height, as a share of the font size.
pub const LINE_HEIGHT: f32 = 1.2;
/// Height of the badge strip above a box and of the bottleneck strip below it.
pub const STRIP_H: f32 = 22.0;
/// Room left of a box's name for its glyph.
pub const NAME_INDENT: f32 = 34.0;
/// Padding inside a box.
pub const PAD: f32 = 8.0;

/// An axis-aligned rectangle in picture units.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rect {
    /// Lower left.
    pub min: Point,
    /// Upper right.
    pub max: Point,
}

impl Rect {
    /// The rectangle of size `(w, h)` centred on `c`.
    pub fn centred(c: Point, (w, h): (f32, f32)) -> Self {
        Self {
            min: Point::new(c.x - w / 2.0, c.y - h / 2.0),
            max: Point::new(c.x + w / 2.0, c.y + h / 2.0),
        }
    }

    /// Its centre.
    pub fn centre(&self) -> Point {
        Point::new(
            (self.min.x + self.max.x) / 2.0,
            (self.min.y + self.max.y) / 2.0,
        )
    }

    /// The area the two share (0 when they do not touch).
    pub fn overlap(&self, o: &Rect) -> f32 {
        let w = self.max.x.min(o.max.x) - self.min.x.max(o.min.x);
        let h = self.max.y.min(o.max.y) - self.min.y.max(o.min.y);
        if w > 0.0 && h > 0.0 { w * h } else { 0.0 }
    }

    /// True if `o` lies wholly inside.
    pub fn contains(&self, o: &Rect) -> bool {
        o.min.x >= self.min.x - 0.01
            && o.min.y >= self.min.y - 0.01
            && o.max.x <= self.max.x + 0.01
            && o.max.y <= self.max.y + 0.01
    }

    /// The smallest rectangle holding both.
    pub fn union(&self, o: &Rect) -> Rect {
        Rect {
            min: Point::new(self.min.x.min(o.min.x), self.min.y.min(o.min.y)),
            max: Point::new(self.max.x.max(o.max.x), self.max.y.max(o.max.y)),
        }
    }

    /// Grown by `d` on every side.
    pub fn grown(&self, d: f32) -> Rect {
        Rect {
            min: Point::new(self.min.x - d, self.min.y - d),
            max: Point::new(self.max.x + d, self.max.y + d),
        }
    }
}

/// Width and height of `text` (lines split at `\n`) at font size `px`.
pub fn text_size(text: &str, px: f32) -> (f32, f32) {
    if text.is_empty() {
        return (0.0, 0.0);
    }
    let cols = text.lines().map(|l| l.chars().count()).max().unwrap_or(0);
    let rows = text.lines().count().max(1);
    (cols as f32 * ADVANCE * px, rows as f32 * LINE_HEIGHT * px)
}

/// `s` cut to at most `width` at font size `px`, ending in "." when cut (Fira Mono's subset in
/// Bevy's default font has no ellipsis glyph).
pub fn fit(s: &str, width: f32, px: f32) -> String {
    let max = (width / (ADVANCE * px)).floor().max(1.0) as usize;
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('.');
    out
}

/// What a label is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelOf {
    /// A node's name (picture node index).
    Name(usize),
    /// The lines under a node's name.
    Lines(usize),
    /// The status badge above a node.
    Badge(usize),
    /// The bottleneck mark below a node.
    Bottleneck(usize),
    /// A link's label (link index).
    Edge(u32),
    /// A gate's label (link index).
    Gate(u32),
}

/// A placed label: what it belongs to and the rectangle its text fills.
#[derive(Debug, Clone, PartialEq)]
pub struct Label {
    /// Whose.
    pub of: LabelOf,
    /// Where (its text is drawn centred in it).
    pub rect: Rect,
}

/// A node's box.
pub fn box_rect(n: &NodePic) -> Rect {
    Rect::centred(n.at, n.size)
}

/// The badge strip above a node's box.
pub fn badge_rect(n: &NodePic) -> Rect {
    let top = n.at.y + n.size.1 / 2.0;
    Rect {
        min: Point::new(n.at.x - n.size.0 / 2.0, top + 2.0),
        max: Point::new(n.at.x + n.size.0 / 2.0, top + 2.0 + STRIP_H),
    }
}

/// The bottleneck strip below a node's box.
pub fn bottleneck_rect(n: &NodePic) -> Rect {
    let bottom = n.at.y - n.size.1 / 2.0;
    Rect {
        min: Point::new(n.at.x - n.size.0 / 2.0, bottom - 2.0 - STRIP_H),
        max: Point::new(n.at.x + n.size.0 / 2.0, bottom - 2.0),
    }
}

/// Where a node's name sits (left-aligned after the glyph, in the first row of the box).
pub fn name_rect(n: &NodePic) -> Rect {
    let (w, h) = n.size;
    let (tw, th) = text_size(&n.name, px::NAME);
    let left = n.at.x - w / 2.0 + NAME_INDENT;
    let cy = n.at.y + h / 2.0 - 16.0;
    Rect {
        min: Point::new(left, cy - th / 2.0),
        max: Point::new(left + tw, cy + th / 2.0),
    }
}

/// Where a node's lines sit (left-aligned under the name).
pub fn lines_rect(n: &NodePic) -> Rect {
    let (w, h) = n.size;
    let text = n.lines.join("\n");
    let (tw, th) = text_size(&text, px::LINES);
    let left = n.at.x - w / 2.0 + PAD;
    let top = n.at.y + h / 2.0 - 30.0;
    Rect {
        min: Point::new(left, top - th),
        max: Point::new(left + tw, top),
    }
}

/// The part of a box its text may use: above its tiles.
pub fn text_area(n: &NodePic) -> Rect {
    let b = box_rect(n);
    let rows = n.tiles.len().div_ceil(super::layout::TILES_PER_ROW) as f32;
    Rect {
        min: Point::new(b.min.x + 2.0, b.min.y + rows * super::layout::TILE_ROW_H),
        max: Point::new(b.max.x - 2.0, b.max.y - 2.0),
    }
}

/// Shortens every node's name and lines to fit its box.
pub fn fit_node_text(n: &mut NodePic) {
    let w = n.size.0;
    n.name = fit(&n.name, w - NAME_INDENT - PAD, px::NAME);
    for l in &mut n.lines {
        *l = fit(l, w - 2.0 * PAD, px::LINES);
    }
}

/// Places every label of the picture: the texts inside and around boxes where they belong,
/// then each gate's label near its gate and each link's label along its curve, in free space.
pub fn place(nodes: &[NodePic], edges: &mut [EdgePic]) -> Vec<Label> {
    let mut out = vec![];
    let mut taken: Vec<Rect> = vec![];
    for (k, n) in nodes.iter().enumerate() {
        taken.push(box_rect(n));
        if n.badge.is_some() {
            out.push(Label {
                of: LabelOf::Badge(k),
                rect: badge_rect(n),
            });
            taken.push(badge_rect(n));
        }
        if n.bottleneck.is_some() {
            out.push(Label {
                of: LabelOf::Bottleneck(k),
                rect: bottleneck_rect(n),
            });
            taken.push(bottleneck_rect(n));
        }
        out.push(Label {
            of: LabelOf::Name(k),
            rect: name_rect(n),
        });
        if !n.lines.is_empty() {
            out.push(Label {
                of: LabelOf::Lines(k),
                rect: lines_rect(n),
            });
        }
    }
    // The gates' bars, so no label lies on one.
    for e in edges.iter() {
        if e.gate.as_ref().is_some_and(|g| !g.text.is_empty()) {
            let at = bezier(&e.curve, super::GATE_AT);
            taken.push(Rect::centred(at, GATE_BAR));
        }
    }
    // Many links: the search costs more than it brings; labels stay at their first place.
    let search = edges.len() <= 150;
    // The curves, as points along them: a label avoids lying across another link if it can.
    let curves: Vec<Point> = if search {
        edges
            .iter()
            .flat_map(|e| {
                (0..=CURVE_SAMPLES).map(move |k| bezier(&e.curve, k as f32 / CURVE_SAMPLES as f32))
            })
            .collect()
    } else {
        vec![]
    };
    for e in edges.iter_mut() {
        let Some(g) = e.gate.as_mut() else { continue };
        let text = g.label();
        if text.is_empty() {
            continue;
        }
        let size = text_size(&text, px::GATE);
        let ts = [super::GATE_AT, 0.3, 0.14, 0.38];
        let r = best_place(&e.curve, e.width, size, &ts, &taken, &curves, search);
        g.text_at = r.centre();
        taken.push(r.grown(2.0));
        out.push(Label {
            of: LabelOf::Gate(e.link),
            rect: r,
        });
    }
    for e in edges.iter_mut() {
        if e.label.is_empty() {
            continue;
        }
        let size = text_size(&e.label, px::EDGE);
        let ts = [0.5, 0.62, 0.38, 0.72, 0.28, 0.82];
        let r = best_place(&e.curve, e.width, size, &ts, &taken, &curves, search);
        e.label_at = r.centre();
        taken.push(r.grown(2.0));
        out.push(Label {
            of: LabelOf::Edge(e.link),
            rect: r,
        });
    }
    out
}

/// Points sampled along each curve (its own too: a steep curve would otherwise run through
/// its own label) that labels keep off where they can.
const CURVE_SAMPLES: usize = 24;

/// The first place along `curve` (at the shares `ts`, above then below it, nearest first) where
/// a label of `size` touches nothing in `taken` and no point of a curve in `others`; else
/// the free one that crosses fewest curve points; else the one that touches least.
fn best_place(
    curve: &[Point; 4],
    width: f32,
    size: (f32, f32),
    ts: &[f32],
    taken: &[Rect],
    others: &[Point],
    search: bool,
) -> Rect {
    if !search {
        // Too many links to search: above the curve at the first share, as it comes.
        let p = bezier(curve, ts[0]);
        return Rect::centred(
            Point::new(p.x, p.y + size.1 / 2.0 + width / 2.0 + 3.0),
            size,
        );
    }
    let mut best: Option<(f32, Rect)> = None;
    let mut free: Option<(usize, Rect)> = None;
    let levels = LEVELS;
    // Nearest the curve first: every share along it at one distance, then one step further.
    for level in 0..levels {
        for &t in ts {
            let p = bezier(curve, t);
            for side in [1.0, -1.0] {
                let off = size.1 / 2.0 + width / 2.0 + 3.0 + level as f32 * LEVEL_STEP;
                let r = Rect::centred(Point::new(p.x, p.y + side * off), size);
                let cost: f32 = taken.iter().map(|o| o.overlap(&r)).sum();
                if cost == 0.0 {
                    let grown = r.grown(2.0);
                    let crossed = others
                        .iter()
                        .filter(|p| {
                            p.x >= grown.min.x
                                && p.x <= grown.max.x
                                && p.y >= grown.min.y
                                && p.y <= grown.max.y
                        })
                        .count();
                    if crossed == 0 {
                        return r;
                    }
                    if free.is_none_or(|f| crossed < f.0) {
                        free = Some((crossed, r));
                    }
                } else if best.is_none_or(|b| cost < b.0) {
                    best = Some((cost, r));
                }
            }
        }
    }
    free.map(|f| f.1)
        .or(best.map(|b| b.1))
        .unwrap_or_else(|| Rect::centred(bezier(curve, 0.5), size))
}

/// The room a gate's bar takes (its thickest, when it holds the most).
pub const GATE_BAR: (f32, f32) = (16.0, 46.0);

/// How many distances from its curve a floating label is tried at.
const LEVELS: usize = 8;
/// The step between those distances (picture units).
const LEVEL_STEP: f32 = 14.0;

/// Every rectangle the picture draws in: boxes, their strips and every label.
pub fn bounds(nodes: &[NodePic], labels: &[Label]) -> Option<Rect> {
    let mut all = nodes
        .iter()
        .map(box_rect)
        .chain(labels.iter().map(|l| l.rect));
    let first = all.next()?;
    Some(all.fold(first, |a, r| a.union(&r)))
}

/// A camera framing: the picture point at the window's centre and picture units per pixel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Framing {
    /// The picture point at the centre of the window.
    pub centre: Point,
    /// Picture units per screen pixel.
    pub scale: f32,
}

/// Margin kept around the framed picture, in pixels.
pub const FRAME_MARGIN: f32 = 16.0;

/// The framing that fits `bounds` into `area` of a window of `size` (pixels, y down: min x,
/// min y, max x, max y), with `FRAME_MARGIN` on every side, centred in the area.
pub fn frame(bounds: Rect, area: [f32; 4], size: (f32, f32)) -> Framing {
    let aw = (area[2] - area[0] - 2.0 * FRAME_MARGIN).max(100.0);
    let ah = (area[3] - area[1] - 2.0 * FRAME_MARGIN).max(100.0);
    let bw = (bounds.max.x - bounds.min.x).max(1.0);
    let bh = (bounds.max.y - bounds.min.y).max(1.0);
    let scale = (bw / aw).max(bh / ah).clamp(0.2, 20.0);
    let (acx, acy) = ((area[0] + area[2]) / 2.0, (area[1] + area[3]) / 2.0);
    let c = bounds.centre();
    Framing {
        centre: Point::new(
            c.x - (acx - size.0 / 2.0) * scale,
            c.y + (acy - size.1 / 2.0) * scale,
        ),
        scale,
    }
}

/// Where a picture point lands on the screen (pixels, y down) under `f` in a window of `size`.
pub fn to_screen(f: &Framing, p: Point, size: (f32, f32)) -> Point {
    Point::new(
        size.0 / 2.0 + (p.x - f.centre.x) / f.scale,
        size.1 / 2.0 - (p.y - f.centre.y) / f.scale,
    )
}
