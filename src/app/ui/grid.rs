//! The side-by-side grid: every variant of an open comparison in its own cell, drawn from its
//! picture with the same layout and scale (one camera for all), its name and headline figures
//! above it, so the same moment of the same traffic can be compared at a glance.

use super::{UiState, c32};
use crate::app::side_by_side::{Headline, SideBySide};
use crate::picture::layout::{Point, TILE_H, TILE_W, tile_centre};
use crate::picture::{Picture, bezier, style};
use bevy_egui::egui::{self, Color32, Pos2, Rect, Stroke, Vec2};

/// Letters that name the cells.
pub(super) const LETTERS: [&str; 4] = ["A", "B", "C", "D"];

/// A branch's colour: the cell what-ifs go to, and the boxes where it parts from A.
pub(super) const BRANCH: style::Rgba = style::Rgba::rgb8(235, 120, 235);

/// Draws the grid into the free area of `root`.
pub(super) fn grid(root: &mut egui::Ui, st: &mut UiState, side: &SideBySide) {
    let area = root.available_rect_before_wrap();
    let names = side.names();
    let n = names.len().max(1);
    let painter = root.painter_at(area);
    painter.rect_filled(area, 0.0, c32(style::BACKGROUND));
    let now = st.view.now();
    let own: Vec<_> = st
        .scene
        .particles
        .visible(&st.view)
        .into_iter()
        .map(|d| (d, crate::app::particles::along(&d, now)))
        .collect();
    let mut pictures: Vec<(&Picture, Headline, &[Dot])> =
        vec![(&st.scene.picture, side.headline, &own)];
    pictures.extend(
        side.shadows
            .iter()
            .map(|s| (&s.picture, s.headline, s.dots.as_slice())),
    );
    // One scale for every cell: the first picture's bounds fitted into a cell.
    let bounds = bounds(pictures[0].0);
    let head = if side.branches() { 80.0 } else { 62.0 };
    let (cols, cell, scale) = arrangement(n, area.size(), bounds.size(), head);
    for (k, (pic, h, dots)) in pictures.iter().enumerate().take(n) {
        let min = area.min + Vec2::new((k % cols) as f32 * cell.x, (k / cols) as f32 * cell.y);
        let r = Rect::from_min_size(min, cell).shrink(4.0);
        let target = side.branches() && side.target == k;
        painter.rect_stroke(
            r,
            4.0,
            if target {
                Stroke::new(2.5, c32(BRANCH))
            } else {
                Stroke::new(1.0, c32(style::MUTED))
            },
            egui::StrokeKind::Inside,
        );
        let shadow = k.checked_sub(1).and_then(|j| side.shadows.get(j));
        // A branch still re-simulating its past: its figures are of that past, in grey.
        let past = shadow.is_some_and(|s| s.branch.is_some() && !s.in_step);
        let took = shadow.map(|s| s.what_ifs()).unwrap_or_default();
        let title = match took.len() {
            0 => format!("{} · {}", LETTERS[k], names[k]),
            1 => format!("{} · {}: {}", LETTERS[k], names[k], took[0]),
            n => format!(
                "{} · {}: {} (+{})",
                LETTERS[k],
                names[k],
                took[n - 1],
                n - 1
            ),
        };
        header(&painter, r, &title, h, past);
        let parted = shadow.map(|s| branch_line(&painter, r, s, now));
        if target {
            painter.text(
                Pos2::new(r.max.x - 10.0, r.min.y + 28.0),
                egui::Align2::RIGHT_TOP,
                "what-ifs go here",
                egui::FontId::proportional(14.0),
                c32(BRANCH),
            );
        }
        let body = Rect::from_min_max(r.min + Vec2::new(0.0, head), r.max);
        let to = |p: Point| {
            let c = bounds.center();
            Pos2::new(
                body.center().x + (p.x - c.x) * scale,
                body.center().y - (p.y - c.y) * scale,
            )
        };
        let clipped = painter.with_clip_rect(body);
        draw(&clipped, pic, scale, &to);
        for n in pic
            .nodes
            .iter()
            .filter(|n| parted.as_ref().is_some_and(|p| p.contains(&n.name)))
        {
            let (w, h) = n.size;
            let rect = Rect::from_center_size(to(n.at), Vec2::new(w, h) * scale).expand(3.0);
            clipped.rect_stroke(
                rect,
                5.0,
                Stroke::new(3.0, c32(BRANCH)),
                egui::StrokeKind::Outside,
            );
        }
        draw_dots(&clipped, pic, dots, st.scene.by_flow, &to);
    }
    let _ = root.allocate_rect(area, egui::Sense::hover());
}

/// How the cells sit (columns) and their size, and the scale that fits the picture (`size`)
/// into each: of side by side, one above the other and two by two, the one that draws the
/// system largest (a wide system's cells go one above the other).
fn arrangement(n: usize, area: Vec2, size: Vec2, head: f32) -> (usize, Vec2, f32) {
    let mut ways = vec![(n, 1), (1, n)];
    if n > 2 {
        ways.push((2, n.div_ceil(2)));
    }
    (ways.into_iter())
        .map(|(cols, rows)| {
            let cell = Vec2::new(area.x / cols as f32, area.y / rows as f32);
            let scale = ((cell.x - 24.0) / size.x)
                .min((cell.y - head - 16.0) / size.y)
                .clamp(0.05, 2.0);
            (cols, cell, scale)
        })
        .fold(
            (n, area, 0.0),
            |best, way| if way.2 > best.2 { way } else { best },
        )
}

/// A branch's third header line: how far its past has re-simulated, or where it parts from
/// A (largest first) and since when; returns the components that part.
fn branch_line(
    painter: &egui::Painter,
    r: Rect,
    s: &crate::app::side_by_side::Shadow,
    now: crate::sim::schedule::dist::Nanos,
) -> Vec<String> {
    let Some((_, diff)) = &s.branch else {
        return vec![];
    };
    let (text, colour) = if !s.in_step {
        let share = s.now() as f64 / now.max(1) as f64;
        (
            format!(
                "re-simulating the past: {:.0} of {:.0} s ({:.0}%)",
                s.now() as f64 / 1e9,
                now as f64 / 1e9,
                100.0 * share
            ),
            style::MUTED,
        )
    } else if diff.is_empty() {
        ("the same as A so far".to_string(), style::MUTED)
    } else {
        (fitted(painter, diff, r.width() - 20.0), BRANCH)
    };
    painter.text(
        r.min + Vec2::new(10.0, 54.0),
        egui::Align2::LEFT_TOP,
        text,
        egui::FontId::proportional(15.0),
        c32(colour),
    );
    diff.iter().map(|d| d.component.clone()).collect()
}

/// "parts from A: ..." with as many of the differences as fit in `width`, and how many more.
fn fitted(
    painter: &egui::Painter,
    diff: &[crate::compare::branch::Difference],
    width: f32,
) -> String {
    let font = egui::FontId::proportional(15.0);
    let wide = |t: &str| {
        painter
            .layout_no_wrap(t.to_string(), font.clone(), Color32::WHITE)
            .size()
            .x
    };
    let mut shown = 0;
    let line = |k: usize| {
        let parts: Vec<String> = (diff.iter().take(k))
            .map(|d| format!("{} {}", d.component, d.what))
            .collect();
        let more = diff.len() - k;
        let more = if more > 0 {
            format!(" (+{more})")
        } else {
            String::new()
        };
        format!("parts from A: {}{more}", parts.join(" · "))
    };
    while shown < diff.len() && (shown == 0 || wide(&line(shown + 1)) <= width) {
        shown += 1;
    }
    line(shown)
}

/// A particle and where along its link it is drawn.
type Dot = (crate::picture::particles::Particle, f32);

/// A cell's particles, as the single view draws them: requests in their flow's colour,
/// errors red, refusals magenta.
fn draw_dots(
    painter: &egui::Painter,
    pic: &Picture,
    dots: &[Dot],
    by_flow: bool,
    to: &dyn Fn(Point) -> Pos2,
) {
    use crate::picture::particles::Kind;
    for (d, at) in dots {
        let Some(e) = pic.edges.get(d.link as usize) else {
            continue;
        };
        let c = match d.kind {
            Kind::Error => style::FAILED,
            Kind::Refused => style::REFUSED,
            _ if by_flow => style::FLOWS[d.flow as usize % style::FLOWS.len()],
            _ => style::PRIORITIES[(d.priority as usize).min(3)],
        };
        let r = if d.kind == Kind::Error { 4.0 } else { 3.0 };
        painter.circle_filled(to(bezier(&e.curve, *at)), r, c32(c));
    }
}

/// The colour of a cell's headline: what share of its requests it lost.
fn outcome_colour(h: &Headline) -> style::Rgba {
    let lost = h.work.map_or(h.lost, |w| w.0.max(h.lost));
    if lost < 0.01 {
        style::GREEN
    } else if lost < 0.1 {
        style::YELLOW
    } else {
        style::RED
    }
}

/// The name and the headline figures of a cell.
fn header(painter: &egui::Painter, r: Rect, name: &str, h: &Headline, past: bool) {
    let font = egui::FontId::proportional(16.0);
    painter.text(
        r.min + Vec2::new(10.0, 6.0),
        egui::Align2::LEFT_TOP,
        name,
        font.clone(),
        c32(style::INK),
    );
    // No request completed in the last sample: no p99 to show.
    let p99 = if h.goodput > 0.0 {
        style::millis(h.p99_ms)
    } else {
        "-".to_string()
    };
    // The headline in large type, coloured by outcome: the difference between cells at a
    // glance.
    let big = format!(
        "lost {:.1}%   goodput {}",
        100.0 * h.work.map_or(h.lost, |w| w.0.max(h.lost)),
        style::rate(h.goodput)
    );
    painter.text(
        r.min + Vec2::new(10.0, 24.0),
        egui::Align2::LEFT_TOP,
        big,
        egui::FontId::proportional(22.0),
        c32(if past {
            style::MUTED
        } else {
            outcome_colour(h)
        }),
    );
    let mut figures = format!("p99 {p99}   held {}", style::short(h.held));
    // Behind a hand-off the clients were all answered: what differs is the work.
    if let Some((lost, dlq)) = h.work {
        figures.push_str(&format!(
            "   clients lost {:.1}%   work lost {:.1}%   DLQ {}",
            100.0 * h.lost,
            100.0 * lost,
            style::short(dlq as f64)
        ));
    }
    painter.text(
        Pos2::new(r.max.x - 10.0, r.min.y + 8.0),
        egui::Align2::RIGHT_TOP,
        figures,
        egui::FontId::proportional(14.0),
        c32(style::MUTED),
    );
}

/// The area the picture's nodes cover (picture units, y up), with a margin.
fn bounds(p: &Picture) -> Rect {
    let mut r = Rect::NOTHING;
    for n in &p.nodes {
        let (w, h) = n.size;
        r = r.union(Rect::from_center_size(
            Pos2::new(n.at.x, n.at.y),
            Vec2::new(w, h + 30.0),
        ));
    }
    if r.is_negative() {
        Rect::from_center_size(Pos2::ZERO, Vec2::splat(100.0))
    } else {
        r.expand(20.0)
    }
}

/// Edges under nodes; each node as a box with its status border, name, first line and tiles.
fn draw(painter: &egui::Painter, pic: &Picture, scale: f32, to: &dyn Fn(Point) -> Pos2) {
    // Never smaller than reads at 1600x900, whatever the scale.
    let small = egui::FontId::monospace((12.0 * scale).clamp(11.0, 14.0));
    for e in &pic.edges {
        let pts = e.curve.map(to);
        painter.add(egui::epaint::CubicBezierShape::from_points_stroke(
            pts,
            false,
            Color32::TRANSPARENT,
            Stroke::new((e.width * scale).max(1.0), c32(style::INK.alpha(0.35))),
        ));
        // Every line: the rate, then what waits or is lost (topic, retry queue, DLQ, credits).
        let mid = to(bezier(&e.curve, 0.5));
        painter.text(
            mid - Vec2::new(0.0, 4.0),
            egui::Align2::CENTER_BOTTOM,
            &e.label,
            small.clone(),
            c32(style::INK),
        );
    }
    for n in &pic.nodes {
        let (w, h) = n.size;
        let c = to(n.at);
        let rect = Rect::from_center_size(c, Vec2::new(w, h) * scale);
        painter.rect_filled(rect, 4.0, c32(style::BODY));
        painter.rect_stroke(
            rect,
            4.0,
            Stroke::new(2.0, c32(n.border)),
            egui::StrokeKind::Inside,
        );
        painter.text(
            rect.min + Vec2::new(6.0, 4.0),
            egui::Align2::LEFT_TOP,
            &n.name,
            egui::FontId::proportional((15.0 * scale).clamp(12.0, 16.0)),
            c32(style::INK),
        );
        if let Some(line) = n.lines.first() {
            painter.text(
                rect.min + Vec2::new(6.0, (22.0 * scale).max(17.0)),
                egui::Align2::LEFT_TOP,
                line,
                small.clone(),
                c32(style::MUTED),
            );
        }
        for (k, t) in n.tiles.iter().enumerate() {
            let tc = tile_centre(k, h);
            let centre = to(Point::new(n.at.x + tc.x, n.at.y + tc.y));
            let tile = Rect::from_center_size(centre, Vec2::new(TILE_W, TILE_H) * scale);
            painter.rect_filled(tile, 2.0, c32(t.colour));
            if let Some(fill) = t.queue_fill {
                let bar = Rect::from_min_max(
                    Pos2::new(tile.min.x, tile.max.y - 4.0),
                    Pos2::new(tile.min.x + tile.width() * fill.clamp(0.0, 1.0), tile.max.y),
                );
                painter.rect_filled(bar, 0.0, c32(style::YELLOW));
            }
            painter.text(
                tile.center(),
                egui::Align2::CENTER_CENTER,
                &t.label,
                small.clone(),
                c32(style::INK),
            );
        }
    }
}
