//! A lesson over the canvas: the top strip (clock, title, step counter), the legend, the caption
//! band (the heading and lines, names of components, links and flows in their on-screen
//! colours), callouts, the title and end cards, a blank screen, and the panels a step shows.
//! Drawn with a painter on fixed rectangles (no layout pass), so every frame of a film is the
//! same whenever it is drawn.

use super::{UiState, c32};
use crate::app::lesson::stage::{Bands, canvas};
use crate::app::lesson::{Anchors, Phase, Presenter};
use crate::app::state::RIGHT;
use crate::lesson::{Show, placeholders};
use crate::picture::style::{self, Rgba};
use crate::sim::read::series::{Metric, SeriesEntity};
use bevy_egui::egui::{self, Align2, Color32, FontId, Pos2, Rect, Stroke, pos2, vec2};

/// Draws the lesson's layer; `false` when the lesson was left (the app draws its panels).
pub(super) fn overlay(
    ctx: &egui::Context,
    st: &mut UiState,
    p: &Presenter,
    anchors: &Anchors,
    log: &crate::sim::read::decisions::DecisionLog,
) -> bool {
    if !p.on() {
        goals(ctx, p);
        return false;
    }
    let screen = ctx.viewport_rect();
    let painter = ctx.layer_painter(egui::LayerId::new(egui::Order::Foreground, "lesson".into()));
    if p.blank {
        painter.rect_filled(screen, 0.0, Color32::BLACK);
        return true;
    }
    let b = Bands::of(p, screen.height());
    warm_glyphs(&painter, &b);
    match p.phase {
        Phase::Title => title_card(&painter, screen, p, &b),
        Phase::End => end_card(&painter, screen, p, &b),
        Phase::Step { k, done } => {
            panels(ctx, st, p, k, log, &b);
            top_strip(&painter, screen, st, p, &b);
            legend(&painter, st, screen, &b);
            caption(&painter, screen, st, p, k, done, &b);
            callouts(&painter, anchors, screen, p, &b);
        }
        Phase::Free => {}
    }
    true
}

fn font(px: f32) -> FontId {
    FontId::proportional(px)
}

fn fill(c: Rgba) -> Color32 {
    c32(c)
}

/// The names on the canvas and the colours they are drawn in, longest first.
fn names(st: &UiState) -> Vec<(String, Color32)> {
    let pic = &st.scene.picture;
    let mut out: Vec<(String, Color32)> = pic
        .nodes
        .iter()
        .map(|n| (n.name.clone(), fill(n.border.mix(style::INK, 0.15))))
        .collect();
    for e in &pic.edges {
        if let Some(n) = st.view.topology().link_names.get(e.link as usize) {
            out.push((n.clone(), fill(e.colour.mix(style::INK, 0.3))));
        }
    }
    for (i, f) in super::side::routes_names(st).into_iter().enumerate() {
        out.push((f, fill(style::FLOWS[i % style::FLOWS.len()])));
    }
    out.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
    out
}

/// A caption line with the names it holds in their colours.
fn coloured(
    line: &str,
    names: &[(String, Color32)],
    px: f32,
    ink: Color32,
) -> egui::text::LayoutJob {
    let mut job = egui::text::LayoutJob::default();
    let plain = egui::TextFormat::simple(font(px), ink);
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut run = String::new();
    let mut i = 0;
    while i < line.len() {
        let at_start = line[..i].chars().next_back().is_none_or(|c| !word(c));
        let hit = at_start
            .then(|| {
                names.iter().find(|(n, _)| {
                    line[i..].starts_with(n.as_str())
                        && line[i + n.len()..]
                            .chars()
                            .next()
                            .is_none_or(|c| !word(c) && c != '#')
                })
            })
            .flatten();
        if let Some((n, c)) = hit {
            job.append(&std::mem::take(&mut run), 0.0, plain.clone());
            job.append(n, 0.0, egui::TextFormat::simple(font(px), *c));
            i += n.len();
        } else {
            let ch = line[i..].chars().next().unwrap_or(' ');
            run.push(ch);
            i += ch.len_utf8();
        }
    }
    job.append(&run, 0.0, plain);
    job
}

fn top_strip(painter: &egui::Painter, screen: Rect, st: &UiState, p: &Presenter, b: &Bands) {
    let r = Rect::from_min_size(screen.min, vec2(screen.width(), b.top));
    painter.rect_filled(r, 0.0, fill(style::BACKGROUND.alpha(0.92)));
    let px = b.top * 0.5;
    let x0 = screen.min.x + screen.width() * 0.03;
    let sys = st.view.system();
    painter.text(
        pos2(x0, r.center().y),
        Align2::LEFT_CENTER,
        format!("t = {:.1} s", st.view.seconds()),
        FontId::monospace(px),
        fill(style::INK),
    );
    painter.text(
        pos2(x0 + px * 7.5, r.center().y),
        Align2::LEFT_CENTER,
        format!("system {}", super::inspector::system_health_text(&sys)),
        font(b.top * 0.45),
        fill(style::health_colour(sys.health)),
    );
    painter.text(
        r.center(),
        Align2::CENTER_CENTER,
        &p.run.lesson.title,
        font(px),
        fill(style::MUTED),
    );
    let n = p.run.lesson.steps.len();
    let k = p.step().map_or(0, |k| k + 1);
    let x1 = screen.max.x - screen.width() * 0.03;
    painter.text(
        pos2(x1, r.center().y),
        Align2::RIGHT_CENTER,
        format!("step {k} of {n}"),
        font(px),
        fill(style::INK),
    );
    // One pip a step: done, this one, to come.
    let pip = px * 0.45;
    for j in 0..n {
        let c = pos2(x1 - px * 6.2 - (n - 1 - j) as f32 * pip * 2.6, r.center().y);
        let col = match (j + 1).cmp(&k) {
            std::cmp::Ordering::Less => fill(style::MUTED),
            std::cmp::Ordering::Equal => fill(style::INK),
            std::cmp::Ordering::Greater => fill(style::BODY.mix(style::INK, 0.2)),
        };
        painter.circle_filled(c, pip, col);
    }
}

/// The legend strip above the caption band, painted (no layout pass: the same every frame).
fn legend(painter: &egui::Painter, st: &UiState, screen: Rect, b: &Bands) {
    let y = screen.max.y - b.caption - b.legend;
    let r = Rect::from_min_size(pos2(screen.min.x, y), vec2(screen.width(), b.legend));
    painter.rect_filled(r, 0.0, fill(style::BACKGROUND.alpha(0.85)));
    let px = legend_px(b);
    let mut x = screen.min.x + screen.width() * 0.03;
    let cy = r.center().y;
    for e in super::clean::legend_entries(st) {
        let Some((swatch, text)) = e else {
            painter.vline(
                x + px * 0.4,
                (cy - px * 0.6)..=(cy + px * 0.6),
                Stroke::new(1.0, fill(style::MUTED)),
            );
            x += px * 1.2;
            continue;
        };
        if let Some(c) = swatch {
            let s = Rect::from_center_size(pos2(x + px * 0.4, cy), vec2(px * 0.8, px * 0.8));
            painter.rect_filled(s, 2.0, fill(c));
            x += px * 1.2;
        }
        let g = painter.layout_no_wrap(text, font(px), fill(style::INK));
        let w = g.size().x;
        painter.galley(pos2(x, cy - g.size().y / 2.0), g, fill(style::INK));
        x += w + px * 0.9;
    }
    // What the boxes' "served" does not say: how much completes in time, end to end.
    let goodput = st
        .view
        .series(SeriesEntity::System, Metric::Goodput)
        .next_back()
        .map_or(0.0, |(_, v)| v);
    // At the strip's right end when it fits after the legend, shorter when only that fits.
    let right = screen.max.x - screen.width() * 0.03;
    for text in [
        format!("goodput (completed in time) {}", style::rate(goodput)),
        format!("goodput {}", style::rate(goodput)),
    ] {
        let g = painter.layout_no_wrap(text, font(px * 1.1), fill(style::INK));
        if right - g.size().x > x + px {
            painter.galley(
                pos2(right - g.size().x, cy - g.size().y / 2.0),
                g,
                fill(style::INK),
            );
            break;
        }
    }
}

fn legend_px(b: &Bands) -> f32 {
    (b.legend * 0.5).max(11.0)
}

/// Every glyph a lesson draws, at every size it draws them, laid out once invisibly: a glyph
/// drawn for the first time is uploaded a frame late, and a film's frame must not lack it.
fn warm_glyphs(painter: &egui::Painter, b: &Bands) {
    let chars: String = (' '..='~').chain("…✔☐→·–—’".chars()).collect();
    let u = b.line_px / 30.0;
    let sizes = [
        b.heading_px,
        b.line_px,
        b.line_px * 0.7,
        b.line_px * 0.8,
        b.top * 0.5,
        b.top * 0.45,
        legend_px(b),
        78.0 * u,
        60.0 * u,
        34.0 * u,
        32.0 * u,
        30.0 * u,
        26.0 * u,
        24.0 * u,
    ];
    for px in sizes {
        let _ = painter.layout_no_wrap(chars.clone(), font(px), Color32::TRANSPARENT);
    }
    let _ = painter.layout_no_wrap(chars, FontId::monospace(b.top * 0.5), Color32::TRANSPARENT);
}

fn caption(
    painter: &egui::Painter,
    screen: Rect,
    st: &UiState,
    p: &Presenter,
    k: usize,
    done: bool,
    b: &Bands,
) {
    let step = &p.run.lesson.steps[k];
    let r = Rect::from_min_max(pos2(screen.min.x, screen.max.y - b.caption), screen.max);
    painter.rect_filled(r, 0.0, fill(style::BACKGROUND.alpha(0.96)));
    painter.hline(
        r.x_range(),
        r.min.y,
        Stroke::new(1.0, fill(style::MUTED.alpha(0.5))),
    );
    let margin = screen.width() * 0.05;
    let width = screen.width() - 2.0 * margin;
    let names = names(st);
    let mut y = r.min.y + b.line_px * 0.45;
    let heading = painter.layout(
        step.heading.clone(),
        font(b.heading_px),
        fill(style::INK),
        width,
    );
    painter.galley(pos2(screen.min.x + margin, y), heading, fill(style::INK));
    y += b.heading_px * 1.35;
    let filled = &p.run.plan.steps[k].caption;
    for (j, line) in step.caption.iter().enumerate() {
        // A line quoting figures waits for them: it shows once the step has measured them.
        if !done && !placeholders(line).is_empty() {
            y += b.line_px * 1.3;
            continue;
        }
        let text = filled.get(j).cloned().unwrap_or_else(|| line.clone());
        let mut job = coloured(
            &text,
            &names,
            b.line_px,
            fill(style::INK.mix(style::MUTED, 0.25)),
        );
        job.wrap.max_width = width;
        let g = painter.layout_job(job);
        painter.galley(pos2(screen.min.x + margin, y), g, fill(style::INK));
        y += b.line_px * 1.3;
    }
    if done && !p.filming {
        painter.text(
            pos2(r.max.x - margin * 0.5, r.max.y - b.line_px * 0.4),
            Align2::RIGHT_BOTTOM,
            "→ next",
            font(b.line_px * 0.7),
            fill(style::MUTED),
        );
    }
    // How far the step's simulated time has come.
    let (a, z) = p.run.plan.steps[k].clock;
    let now = st.view.now();
    let share = if z > a {
        ((now.saturating_sub(a)) as f64 / (z - a) as f64).clamp(0.0, 1.0) as f32
    } else {
        1.0
    };
    let bar = Rect::from_min_size(r.min, vec2(r.width() * share, (b.line_px * 0.12).max(2.0)));
    painter.rect_filled(bar, 0.0, fill(style::MUTED.alpha(0.8)));
}

/// Whether the arrow from `a` to `b` runs through one of `rects` (its last stretch, at the
/// target, may touch what it points at).
fn crosses(a: Pos2, b: Pos2, rects: &[Rect]) -> bool {
    (0..=16).any(|k| {
        let q = a.lerp(b, k as f32 / 16.0 * 0.85);
        rects.iter().any(|r| r.contains(q))
    })
}

fn callouts(painter: &egui::Painter, anchors: &Anchors, screen: Rect, p: &Presenter, b: &Bands) {
    let area = canvas(p, screen.width(), screen.height());
    let area = Rect::from_min_max(pos2(area[0], area[1]), pos2(area[2], area[3]));
    let px = b.line_px * 0.8;
    let rect = |r: &[f32; 4]| Rect::from_min_max(pos2(r[0], r[1]), pos2(r[2], r[3]));
    let boxes: Vec<Rect> = anchors
        .boxes
        .iter()
        .chain(&anchors.labels)
        .map(rect)
        .collect();
    let mut placed: Vec<Rect> = vec![];
    for (label, target) in targets(painter, anchors) {
        // An arrow crosses no box or label but the one it points into.
        let walls: Vec<Rect> = boxes
            .iter()
            .filter(|b| !b.expand(4.0).contains(target))
            .copied()
            .collect();
        let g = painter.layout_no_wrap(label, font(px), fill(style::BACKGROUND));
        let size = g.size() + vec2(px * 0.9, px * 0.5);
        // The first place around the target (up-left, up-right, down-left, down-right, then
        // farther out) where the label covers no box, no other label, and its arrow crosses
        // none; when there is no such place, the one that covers least.
        let mut best: Option<(f32, Pos2, f32, f32)> = None;
        'search: for reach in [1.0, 1.8, 2.8, 4.2, 6.0, 8.0] {
            for (dx, dy) in [(-1.0, -1.0), (1.0, -1.0), (-1.0, 1.0), (1.0, 1.0)] {
                let off = vec2(dx * px * 2.6 * reach, dy * px * 2.2 * reach);
                let c = target + off + vec2(dx * size.x / 2.0, dy * size.y / 2.0);
                let r = Rect::from_center_size(c, size);
                if !area.contains_rect(r) {
                    continue;
                }
                let from = pos2(c.x - dx * size.x / 2.0, c.y - dy * size.y / 2.0);
                let covered: f32 = boxes
                    .iter()
                    .chain(&placed)
                    .map(|b| b.intersect(r))
                    .filter(|i| i.is_positive())
                    .map(|i| i.area())
                    .sum();
                let cost = covered
                    + if crosses(from, target, &walls) {
                        1e3
                    } else {
                        0.0
                    };
                if best.is_none_or(|b| cost < b.0) {
                    best = Some((cost, c, dx, dy));
                }
                if cost == 0.0 {
                    break 'search;
                }
            }
        }
        let (_, centre, dx, dy) = best.unwrap_or((
            0.0,
            target - vec2(px * 3.0, px * 2.6) - size / 2.0,
            -1.0,
            -1.0,
        ));
        let r = Rect::from_center_size(centre, size);
        placed.push(r);
        arrow(painter, r, (dx, dy), target, g, px);
    }
}

/// What each callout points at on the screen: the canvas's anchors, and the inspector's plots
/// where the panel drew them this frame (outlined on `painter`).
fn targets(painter: &egui::Painter, anchors: &Anchors) -> Vec<(String, Pos2)> {
    let mut out: Vec<(String, Pos2)> = anchors
        .points
        .iter()
        .map(|(l, at)| (l.clone(), pos2(at[0], at[1])))
        .collect();
    let drawn: Vec<(String, Rect)> = painter
        .ctx()
        .data(|d| d.get_temp(egui::Id::new(super::plots::CHARTS)))
        .unwrap_or_default();
    for (label, title) in &anchors.charts {
        let chart = drawn
            .iter()
            .find(|(t, _)| !title.is_empty() && t.starts_with(title.as_str()))
            .or(drawn.first());
        if let Some((_, r)) = chart {
            // Outlined, and pointed at from the canvas side, level with its middle.
            painter.rect_stroke(
                r.expand(3.0),
                4.0,
                Stroke::new(2.0, fill(style::INK)),
                egui::StrokeKind::Outside,
            );
            out.push((label.clone(), pos2(r.min.x - 6.0, r.center().y)));
        }
    }
    out
}

/// A callout's label in `r` (on the `(dx, dy)` side of its target) and its arrow.
fn arrow(
    painter: &egui::Painter,
    r: Rect,
    (dx, dy): (f32, f32),
    target: Pos2,
    g: std::sync::Arc<egui::Galley>,
    px: f32,
) {
    let ink = fill(style::INK);
    let from = pos2(
        r.center().x - dx * r.width() / 2.0,
        r.center().y - dy * r.height() / 2.0,
    );
    painter.line_segment([from, target], Stroke::new(px * 0.14, ink));
    let dir = (target - from).normalized();
    let side = vec2(-dir.y, dir.x);
    let head = px * 0.55;
    painter.add(egui::Shape::convex_polygon(
        vec![
            target,
            target - dir * head + side * head * 0.55,
            target - dir * head - side * head * 0.55,
        ],
        ink,
        Stroke::NONE,
    ));
    painter.rect_filled(r, px * 0.25, ink);
    painter.galley(
        r.min + vec2(px * 0.45, px * 0.25),
        g,
        fill(style::BACKGROUND),
    );
}

fn card_back(painter: &egui::Painter, screen: Rect) {
    painter.rect_filled(screen, 0.0, fill(style::BACKGROUND.alpha(0.985)));
}

fn title_card(painter: &egui::Painter, screen: Rect, p: &Presenter, b: &Bands) {
    card_back(painter, screen);
    let u = b.line_px / 30.0;
    let x = screen.min.x + screen.width() * 0.1;
    let width = screen.width() * 0.8;
    let mut y = screen.min.y + screen.height() * 0.22;
    let t = painter.layout(
        p.run.lesson.title.clone(),
        font(78.0 * u),
        fill(style::INK),
        width,
    );
    let h = t.size().y;
    painter.galley(pos2(x, y), t, fill(style::INK));
    y += h + 24.0 * u;
    for line in &p.run.lesson.subtitle {
        let g = painter.layout(line.clone(), font(34.0 * u), fill(style::MUTED), width);
        let h = g.size().y;
        painter.galley(pos2(x, y), g, fill(style::MUTED));
        y += h + 6.0 * u;
    }
    y += 30.0 * u;
    for (k, s) in p.run.lesson.steps.iter().enumerate() {
        painter.text(
            pos2(x, y),
            Align2::LEFT_TOP,
            format!("{}.  {}", k + 1, s.heading),
            font(30.0 * u),
            fill(style::INK.mix(style::MUTED, 0.4)),
        );
        y += 42.0 * u;
    }
    footer(painter, screen, p, u);
}

fn footer(painter: &egui::Painter, screen: Rect, p: &Presenter, u: f32) {
    let file = p.run.path.display().to_string();
    painter.text(
        pos2(
            screen.min.x + screen.width() * 0.1,
            screen.max.y - screen.height() * 0.08,
        ),
        Align2::LEFT_BOTTOM,
        format!(
            "flowlab lesson {file}   ·   a live, deterministic simulation: every claim checked"
        ),
        font(24.0 * u),
        fill(style::MUTED),
    );
}

fn end_card(painter: &egui::Painter, screen: Rect, p: &Presenter, b: &Bands) {
    card_back(painter, screen);
    let u = b.line_px / 30.0;
    let x = screen.min.x + screen.width() * 0.1;
    let width = screen.width() * 0.8;
    let mut y = screen.min.y + screen.height() * 0.2;
    painter.text(
        pos2(x, y),
        Align2::LEFT_TOP,
        "What we saw",
        font(60.0 * u),
        fill(style::INK),
    );
    y += 100.0 * u;
    let lines: Vec<String> = if p.run.lesson.takeaways.is_empty() {
        p.run
            .lesson
            .steps
            .iter()
            .map(|s| s.heading.clone())
            .collect()
    } else {
        p.run.lesson.takeaways.clone()
    };
    for line in lines {
        painter.text(
            pos2(x, y),
            Align2::LEFT_TOP,
            "✔",
            font(32.0 * u),
            fill(style::GREEN),
        );
        let g = painter.layout(line, font(32.0 * u), fill(style::INK), width - 50.0 * u);
        let h = g.size().y;
        painter.galley(pos2(x + 50.0 * u, y), g, fill(style::INK));
        y += h + 18.0 * u;
    }
    let claims: usize = p.run.plan.steps.iter().map(|s| s.outcomes.len()).sum();
    y += 30.0 * u;
    painter.text(
        pos2(x, y),
        Align2::LEFT_TOP,
        format!(
            "{} of {claims} claims checked on this run.  Try it: flowlab lesson {}, then Esc to play.",
            claims - p.run.plan.failed(),
            p.run.path.display()
        ),
        font(28.0 * u),
        fill(style::INK.mix(style::MUTED, 0.3)),
    );
    footer(painter, screen, p, u);
}

/// The panels a step shows beside the canvas: the inspector at the right, the feed above the
/// legend.
fn panels(
    ctx: &egui::Context,
    st: &mut UiState,
    p: &Presenter,
    k: usize,
    log: &crate::sim::read::decisions::DecisionLog,
    b: &Bands,
) {
    let show = &p.run.lesson.steps[k].show;
    let screen = ctx.viewport_rect();
    let area = canvas(p, screen.width(), screen.height());
    let frame = egui::Frame::new()
        .fill(fill(style::BACKGROUND.alpha(0.97)))
        .inner_margin(egui::Margin::same(8));
    if show.iter().any(|s| matches!(s, Show::Inspector(_))) {
        egui::Area::new("lesson inspector".into())
            .fixed_pos(pos2(screen.max.x - RIGHT, area[1]))
            .order(egui::Order::Middle)
            .show(ctx, |ui| {
                frame.show(ui, |ui| {
                    ui.set_width(RIGHT - 16.0);
                    ui.set_height(area[3] - area[1] - 16.0);
                    let focus: Vec<&str> = p.run.lesson.steps[k]
                        .callouts
                        .iter()
                        .filter_map(|c| match &c.at {
                            crate::lesson::Target::Chart(t) => Some(t.as_str()),
                            _ => None,
                        })
                        .collect();
                    super::inspector::plots_first(ui, st, &focus);
                });
            });
    }
    if show.contains(&Show::Feed) {
        egui::Area::new("lesson feed".into())
            .fixed_pos(pos2(screen.min.x, area[3]))
            .order(egui::Order::Middle)
            .show(ctx, |ui| {
                frame.show(ui, |ui| {
                    ui.set_width(screen.width() - 16.0);
                    ui.set_height(b.feed - 16.0);
                    super::feed::decisions(ui, st, log);
                });
            });
    }
}

/// Free play: the lesson's goals as a checklist, ticked as the run shows them done.
fn goals(ctx: &egui::Context, p: &Presenter) {
    let (Some(g), false) = (&p.goals, p.run.lesson.goals.is_empty()) else {
        return;
    };
    egui::Window::new(format!("Try it ({} of {})", g.done(), g.ticked.len()))
        .anchor(Align2::RIGHT_TOP, vec2(-(RIGHT + 12.0), 56.0))
        .resizable(false)
        .collapsible(true)
        .show(ctx, |ui| {
            for (goal, t) in p.run.lesson.goals.iter().zip(&g.ticked) {
                let (mark, c) = match t {
                    Some(_) => ("✔", fill(style::GREEN)),
                    None => ("☐", fill(style::MUTED)),
                };
                ui.horizontal(|ui| {
                    ui.label(egui::RichText::new(mark).color(c).size(18.0));
                    let mut text = egui::RichText::new(&goal.text).size(16.0);
                    if let Some(t) = t {
                        text = text.color(fill(style::INK));
                        ui.label(text);
                        ui.label(egui::RichText::new(format!("t = {t:.1} s")).weak());
                    } else {
                        ui.label(text);
                    }
                });
            }
        });
}
