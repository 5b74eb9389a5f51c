//! The side-by-side grid: every variant of an open comparison in its own cell, drawn from its
//! picture with the same layout and scale (one camera for all), its name and headline figures
//! above it, so the same moment of the same traffic can be compared at a glance.

use super::{UiState, c32};
use crate::app::side_by_side::{Headline, SideBySide};
use crate::picture::layout::{Point, TILE_H, TILE_W, tile_centre};
use crate::picture::{Picture, bezier, style};
use bevy_egui::egui::{self, Color32, Pos2, Rect, Stroke, Vec2};

/// Letters that name the cells.
const LETTERS: [&str; 4] = ["A", "B", "C", "D"];

/// Draws the grid into the free area of `root`.
pub(super) fn grid(root: &mut egui::Ui, st: &mut UiState, side: &SideBySide) {
    let area = root.available_rect_before_wrap();
    let names = side.names();
    let n = names.len().max(1);
    let (cols, rows) = if n <= 2 { (n, 1) } else { (2, 2) };
    let cell = Vec2::new(area.width() / cols as f32, area.height() / rows as f32);
    let painter = root.painter_at(area);
    painter.rect_filled(area, 0.0, c32(style::BACKGROUND));
    let mut pictures: Vec<(&Picture, Headline)> = vec![(&st.scene.picture, side.headline)];
    pictures.extend(side.shadows.iter().map(|s| (&s.picture, s.headline)));
    // One scale for every cell: the first picture's bounds fitted into a cell.
    let bounds = bounds(pictures[0].0);
    let head = 44.0;
    let scale = ((cell.x - 24.0) / bounds.width())
        .min((cell.y - head - 16.0) / bounds.height())
        .clamp(0.05, 2.0);
    for (k, (pic, h)) in pictures.iter().enumerate().take(n) {
        let min = area.min + Vec2::new((k % cols) as f32 * cell.x, (k / cols) as f32 * cell.y);
        let r = Rect::from_min_size(min, cell).shrink(4.0);
        painter.rect_stroke(
            r,
            4.0,
            Stroke::new(1.0, c32(style::MUTED)),
            egui::StrokeKind::Inside,
        );
        header(&painter, r, &format!("{} · {}", LETTERS[k], names[k]), h);
        let body = Rect::from_min_max(r.min + Vec2::new(0.0, head), r.max);
        let to = |p: Point| {
            let c = bounds.center();
            Pos2::new(
                body.center().x + (p.x - c.x) * scale,
                body.center().y - (p.y - c.y) * scale,
            )
        };
        draw(&painter.with_clip_rect(body), pic, scale, &to);
    }
    let _ = root.allocate_rect(area, egui::Sense::hover());
}

/// The name and the headline figures of a cell.
fn header(painter: &egui::Painter, r: Rect, name: &str, h: &Headline) {
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
    let mut figures = format!(
        "goodput {}   p99 {p99}   lost {:.1}%   held {}",
        style::rate(h.goodput),
        100.0 * h.lost,
        style::short(h.held)
    );
    // Behind a hand-off the clients were all answered: what differs is the work.
    if let Some((lost, dlq)) = h.work {
        figures.push_str(&format!(
            "   work lost {:.1}%   DLQ {}",
            100.0 * lost,
            style::short(dlq as f64)
        ));
    }
    painter.text(
        r.min + Vec2::new(10.0, 25.0),
        egui::Align2::LEFT_TOP,
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
