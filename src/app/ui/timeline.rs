//! The timeline: a scrub bar over the whole run, with the notable decisions as marks (crashes,
//! breakers, fallbacks, what-ifs) and the user's bookmarks. A click or a drag shows that
//! moment (`sim::timeline`: the snapshot before it, then re-simulated to it); the part not yet
//! simulated is darker, and a click there runs on to it.

use super::{UiState, c32, feed::colour_of_kind};
use crate::picture::style;
use crate::sim::schedule::dist::Nanos;
use crate::sim::timeline::Timeline;
use bevy_egui::egui;

const SEC: f64 = 1e9;

/// A bookmark's flag: a colour no decision's mark uses.
const BOOKMARK: style::Rgba = style::Rgba::rgb8(80, 205, 235);

/// The strip above the decision feed.
pub(super) fn strip(ui: &mut egui::Ui, st: &mut UiState) {
    let now = st.view.now();
    let duration = (st.config.scenario.sim.duration_s * SEC) as Nanos;
    if st.side.as_ref().is_some_and(|s| s.branches()) {
        ui.horizontal(|ui| branches(ui, st));
        return;
    }
    let side = st.side.is_some();
    if !side
        && st.timeline.is_some()
        && st
            .button(ui, "What if, from here?")
            .on_hover_text(
                "a branch of this run at the moment shown, beside it on the same random numbers: \
                 what-ifs then go to the branch ( W )",
            )
            .clicked()
    {
        st.panels.branch_requested = true;
    }
    let Some(tl) = st.timeline.as_deref_mut() else {
        return;
    };
    let drawn = ui.horizontal(|ui| {
        ui.label(egui::RichText::new("Timeline").strong());
        if side {
            ui.label(
                egui::RichText::new("rewinding is for one run: choose Single view")
                    .color(c32(style::MUTED)),
            );
            return None;
        }
        let buttons = 300.0;
        let width = (ui.available_width() - buttons).max(120.0);
        let rect = bar(ui, tl, now, duration, width);
        if ui
            .button("◀ 5 s")
            .on_hover_text("Left (Shift: 30 s)")
            .clicked()
        {
            tl.request = Some(tl.request.unwrap_or(now).saturating_sub(5_000_000_000));
        }
        if ui
            .button("5 s ▶")
            .on_hover_text("Right (Shift: 30 s)")
            .clicked()
        {
            tl.request = Some(tl.request.unwrap_or(now) + 5_000_000_000);
        }
        if ui
            .button("Bookmark")
            .on_hover_text("bookmark the moment shown on the timeline ( M )")
            .clicked()
        {
            tl.bookmark(now);
        }
        if now + 500_000_000 < tl.reached
            && ui
                .button(format!("Latest ({:.0} s)", tl.reached as f64 / SEC))
                .on_hover_text("back to the furthest moment simulated")
                .clicked()
        {
            tl.request = Some(tl.reached);
        }
        Some(rect)
    });
    if let Some(rect) = drawn.inner {
        st.probe_rect("timeline", rect);
    }
}

/// While branches are shown, the timeline's row: what the cells are, another branch, saving
/// the branch what-ifs go to, and closing them.
fn branches(ui: &mut egui::Ui, st: &mut UiState) {
    ui.label(egui::RichText::new("Branches").strong());
    ui.label(
        egui::RichText::new("A runs on as it was; each branch took the what-ifs sent to it")
            .color(c32(style::MUTED)),
    );
    if st
        .button(ui, "Another branch")
        .on_hover_text("one more branch of A at the moment shown ( W )")
        .clicked()
    {
        st.panels.branch_requested = true;
    }
    let target = st.side.as_ref().map_or(0, |s| s.target);
    if target > 0 {
        let letter = super::grid::LETTERS[target.min(3)];
        if st
            .button(ui, &format!("Save {letter} as scenario"))
            .on_hover_text("the branch with its what-ifs at their times: `flowlab run` replays it")
            .clicked()
        {
            let s = st
                .side
                .as_ref()
                .and_then(|s| s.shadows.get(target - 1))
                .map(|b| b.session());
            if let Some(mut s) = s {
                super::edit::place(&mut s, &st.edits.moved);
                super::windows::save_scenario(st, s, "branch");
            }
        }
    }
    if st
        .button(ui, "Close branches")
        .on_hover_text("back to A alone")
        .clicked()
    {
        st.panels.close_branches = true;
    }
}

/// The bar itself: what is simulated, the marks, the moment shown, the seek under way.
fn bar(
    ui: &mut egui::Ui,
    tl: &mut Timeline,
    now: Nanos,
    duration: Nanos,
    width: f32,
) -> egui::Rect {
    let (rect, response) =
        ui.allocate_exact_size(egui::vec2(width, 24.0), egui::Sense::click_and_drag());
    let response = response.on_hover_cursor(egui::CursorIcon::PointingHand);
    let end = duration.max(tl.reached).max(now).max(1) as f64;
    let x_of = |t: Nanos| rect.left() + (t as f64 / end) as f32 * rect.width();
    let t_of = |x: f32| (((x - rect.left()) / rect.width()).clamp(0.0, 1.0) as f64 * end) as Nanos;
    let p = ui.painter_at(rect.expand(2.0));
    // Not simulated yet: dark, outlined; simulated: lighter, what a seek can show at once.
    p.rect_filled(rect, 3.0, c32(style::BACKGROUND));
    let done = egui::Rect::from_min_max(rect.min, egui::pos2(x_of(tl.reached), rect.max.y));
    p.rect_filled(done, 3.0, c32(style::Rgba::rgb8(58, 72, 96)));
    p.rect_stroke(
        rect,
        3.0,
        egui::Stroke::new(1.0, c32(style::MUTED.alpha(0.6))),
        egui::StrokeKind::Inside,
    );
    marks(&p, tl, rect, &x_of);
    let font = egui::FontId::proportional(12.0);
    // The edge of what is simulated, named where there is room after it.
    let edge = x_of(tl.reached);
    if edge - x_of(now) > 40.0 && edge + 150.0 < rect.right() - 40.0 {
        p.text(
            egui::pos2(edge + 6.0, rect.center().y),
            egui::Align2::LEFT_CENTER,
            format!("simulated to {:.0} s", tl.reached as f64 / SEC),
            font.clone(),
            c32(style::MUTED),
        );
    }
    now_handle(&p, rect, x_of(now), now, font.clone());
    if let Some((_, to)) = tl.seeking {
        let x = x_of(to);
        p.line_segment(
            [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
            egui::Stroke::new(1.5, c32(style::YELLOW.alpha(0.5))),
        );
    }
    p.text(
        rect.left_center() + egui::vec2(4.0, 0.0),
        egui::Align2::LEFT_CENTER,
        "0 s",
        font.clone(),
        c32(style::INK),
    );
    p.text(
        rect.right_center() - egui::vec2(4.0, 0.0),
        egui::Align2::RIGHT_CENTER,
        format!("{:.0} s", end / SEC),
        font,
        c32(style::INK),
    );
    if let Some(pos) = response.hover_pos() {
        let t = t_of(pos.x);
        let near: Vec<String> = (tl.marks.iter())
            .filter(|m| (x_of(m.at) - pos.x).abs() <= 4.0)
            .take(6)
            .map(|m| format!("{:.1} s  {}", m.at as f64 / SEC, m.label))
            .collect();
        let mut text = format!(
            "t = {:.1} s: click or drag to show this moment",
            t as f64 / SEC
        );
        if t > tl.reached {
            text.push_str(" (not simulated yet: the run goes on to it)");
        }
        for n in near {
            text.push('\n');
            text.push_str(&n);
        }
        response.clone().on_hover_text_at_pointer(text);
    }
    if let Some(pos) = response.interact_pointer_pos() {
        let t = t_of(pos.x);
        // While a seek is under way a drag waits for it; a release or a click always asks.
        if response.clicked() || response.drag_stopped() || tl.seeking.is_none() {
            tl.request = Some(t);
        }
    }
    rect
}

/// The decisions' marks and the bookmarks' flags.
fn marks(p: &egui::Painter, tl: &Timeline, rect: egui::Rect, x_of: &dyn Fn(Nanos) -> f32) {
    for m in &tl.marks {
        let x = x_of(m.at);
        p.line_segment(
            [
                egui::pos2(x, rect.top() + 3.0),
                egui::pos2(x, rect.bottom() - 3.0),
            ],
            egui::Stroke::new(2.0, c32(colour_of_kind(&m.kind))),
        );
    }
    for b in &tl.bookmarks {
        let x = x_of(*b);
        let tip = [
            egui::pos2(x - 5.0, rect.top()),
            egui::pos2(x + 5.0, rect.top()),
            egui::pos2(x, rect.top() + 8.0),
        ];
        p.add(egui::Shape::convex_polygon(
            tip.to_vec(),
            c32(BOOKMARK),
            egui::Stroke::NONE,
        ));
    }
}

/// The moment shown: a line across the bar and a tag with its time.
fn now_handle(p: &egui::Painter, rect: egui::Rect, x: f32, now: Nanos, font: egui::FontId) {
    p.line_segment(
        [egui::pos2(x, rect.top()), egui::pos2(x, rect.bottom())],
        egui::Stroke::new(3.0, c32(style::YELLOW)),
    );
    let label = format!("{:.1} s", now as f64 / SEC);
    let galley = p.layout_no_wrap(label, font, c32(style::BACKGROUND));
    let w = galley.size().x + 8.0;
    let left = (x - w / 2.0).clamp(rect.left(), rect.right() - w);
    let tag = egui::Rect::from_min_size(egui::pos2(left, rect.top() + 3.0), egui::vec2(w, 18.0));
    p.rect_filled(tag, 3.0, c32(style::YELLOW));
    p.galley(
        tag.min + egui::vec2(4.0, 1.0),
        galley,
        c32(style::BACKGROUND),
    );
}
