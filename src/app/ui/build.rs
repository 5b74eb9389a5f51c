//! Building on the canvas: the palette of kinds (drag one onto the picture, or click it to add
//! one beside the rest), systems to start from (blank, seed 000's Friday night, a three-tier
//! web app, a producer-broker-consumer pipeline), the choice of what an edit does to the run,
//! and the gestures the pointer reports (a drop, a drag from box to box, the Delete key) made
//! into edits (`scenario::edit::canvas`). Every one goes through `edit::make`: checked as a
//! file is, refused with the reason, undone with Ctrl+Z.

use super::{UiState, c32, edit};
use crate::app::state::Selection;
use crate::picture::style;
use crate::scenario::edit::{self as edits, Edit, Palette};
use crate::scenario::{self, Scenario};
use crate::sim::flow::link::NodeRef;
use bevy::math::Vec2;
use bevy_egui::egui;

/// The systems "New" offers: label, file name, text.
const STARTS: [(&str, &str, &str); 3] = [
    (
        "Seed 000: Netflix on a Friday night",
        "netflix_friday.ron",
        include_str!("../../../scenarios/netflix_friday.ron"),
    ),
    (
        "Three-tier web app",
        "three_tier.ron",
        include_str!("../../../scenarios/three_tier.ron"),
    ),
    (
        "Producer, broker, consumer",
        "pipeline.ron",
        include_str!("../../../scenarios/pipeline.ron"),
    ),
];

/// Shown when building, and always while the system has no component (a blank start).
pub(super) fn shown(st: &UiState) -> bool {
    st.edits.building || edit::current(st).components.is_empty()
}

/// The palette, at the top left of the picture's area (`free`), and what a drag from it
/// let go over the picture means.
pub(super) fn palette(ctx: &egui::Context, st: &mut UiState, free: egui::Rect) {
    let mut over = egui::Rect::NOTHING;
    if shown(st) {
        let r = egui::Area::new("palette".into())
            .fixed_pos(free.min + egui::vec2(8.0, 8.0))
            .order(egui::Order::Foreground)
            .show(ctx, |ui| {
                egui::Frame::window(&ctx.global_style()).show(ui, |ui| {
                    ui.set_max_width(250.0);
                    contents(ui, st);
                });
            });
        over = r.response.rect;
    }
    if let Some(p) = egui::DragAndDrop::payload::<Palette>(ctx) {
        let pos = ctx.input(|i| i.pointer.latest_pos());
        if let Some(pos) = pos {
            // The box to be, under the pointer while it is carried.
            let painter = ctx.layer_painter(egui::LayerId::new(
                egui::Order::Tooltip,
                "palette-drag".into(),
            ));
            let r = egui::Rect::from_center_size(pos, egui::vec2(120.0, 34.0));
            painter.rect_filled(r, 6.0, c32(style::BODY).gamma_multiply(0.9));
            painter.text(
                pos,
                egui::Align2::CENTER_CENTER,
                p.label(),
                egui::FontId::proportional(15.0),
                c32(style::INK),
            );
        }
        if ctx.input(|i| i.pointer.any_released()) {
            egui::DragAndDrop::clear_payload(ctx);
            match pos {
                Some(pos) if free.contains(pos) && !over.contains(pos) => {
                    st.edits.released = Some((*p, Vec2::new(pos.x, pos.y)));
                }
                _ => {}
            }
        }
    }
}

fn contents(ui: &mut egui::Ui, st: &mut UiState) {
    ui.horizontal(|ui| {
        ui.strong("Build");
        let new = ui.menu_button("New…", |ui| {
            ui.label(
                egui::RichText::new("replaces the system shown; save it first to keep it")
                    .small()
                    .color(c32(style::MUTED)),
            );
            if st.button(ui, "Blank system").clicked() {
                start(st, edits::blank("New system"), "new_system");
                ui.close();
            }
            for (label, file, text) in STARTS {
                if st.button(ui, label).clicked() {
                    match scenario::parse(text, std::path::Path::new(file)) {
                        Ok(s) => start(st, s, file.trim_end_matches(".ron")),
                        Err(e) => st.edits.feedback = Some((false, e.to_string())),
                    }
                    ui.close();
                }
            }
        });
        st.probe_rect("New…", new.response.rect);
        if (st.button(ui, "Save as scenario"))
            .on_hover_text("next to the open file, as a person would write it")
            .clicked()
        {
            super::windows::save_session(st);
        }
        if st.button(ui, "Close").clicked() {
            st.edits.building = false;
        }
    });
    ui.horizontal_wrapped(|ui| {
        for p in Palette::ALL {
            chip(ui, st, p);
        }
    });
    let hint = "drag a kind onto the canvas (or click it) · Shift+drag box to box: \
                connect · Delete: remove · Ctrl+Z: undo";
    ui.label(egui::RichText::new(hint).color(c32(style::INK)))
        .on_hover_text(
            "Drag a kind onto the canvas, or click it to add one beside the rest.\n\
             Shift+drag from a box to another, or drag from a box's + handle: connect.\n\
             Delete: remove the selected box or link.  Ctrl+Z / Ctrl+Shift+Z: undo / redo.\n\
             Select a box: the inspector edits every field.",
        );
    ui.horizontal(|ui| {
        ui.label("after an edit:");
        let now = if st.edits.catch_up {
            "re-simulate to now"
        } else {
            "start at t = 0"
        };
        egui::ComboBox::from_id_salt("after an edit")
            .selected_text(now)
            .show_ui(ui, |ui| {
                ui.selectable_value(&mut st.edits.catch_up, false, "start at t = 0");
                ui.selectable_value(&mut st.edits.catch_up, true, "re-simulate to now");
            });
    });
    if let Some((ok, text)) = &st.edits.feedback {
        let colour = if *ok { style::GREEN } else { style::RED };
        ui.label(egui::RichText::new(text).color(c32(colour)));
    }
    if let Some((s, missing)) = &st.edits.draft {
        if let Some(next) = edit::next_step(s) {
            ui.label(egui::RichText::new(next).strong().color(c32(style::YELLOW)));
        }
        for m in missing.iter().take(3) {
            ui.label(egui::RichText::new(format!("still missing: {m}")).color(c32(style::YELLOW)));
        }
    }
}

/// A palette entry: dragged, it carries its kind; clicked, it adds one beside the rest.
fn chip(ui: &mut egui::Ui, st: &mut UiState, p: Palette) {
    let r = ui.add(egui::Button::new(p.label()).sense(egui::Sense::click_and_drag()));
    st.probe_rect(&format!("palette: {}", p.label()), r.rect);
    if r.drag_started() {
        egui::DragAndDrop::set_payload(ui.ctx(), p);
    }
    if r.clicked() {
        st.edits.drop = Some((p, free_spot(st)));
    }
}

/// Right of every box drawn, level with the middle; the origin on an empty canvas.
fn free_spot(st: &UiState) -> (f32, f32) {
    let l = &st.scene.layout;
    let all = l.sources.iter().chain(&l.components);
    let right = all.clone().map(|p| p.x).fold(f32::NEG_INFINITY, f32::max);
    if right.is_finite() {
        let n = all.clone().count().max(1) as f32;
        let y = all.map(|p| p.y).sum::<f32>() / n;
        (right + 260.0, y)
    } else {
        (0.0, 0.0)
    }
}

/// Starts building from `s`: a fresh history, the run (or the draft) from t = 0.
fn start(st: &mut UiState, s: Scenario, stem: &str) {
    st.edits.history = Default::default();
    st.edits.draft = None;
    st.edits.moved.clear();
    st.edits.stem = Some(stem.to_string());
    st.edits.building = true;
    *st.selection = Selection::System;
    let catch_up = std::mem::replace(&mut st.edits.catch_up, false);
    edit::take(st, s, format!("started from {stem}"));
    st.edits.catch_up = catch_up;
    // A new system is framed whole.
    st.panels.keep_frame = false;
}

/// The name of a box of `s`.
fn name_of(s: &Scenario, n: NodeRef) -> Option<String> {
    match n {
        NodeRef::Source(i) => s.sources.get(i as usize).map(|x| x.name.clone()),
        NodeRef::Component(i) => s.components.get(i as usize).map(|x| x.name.clone()),
    }
}

/// The box called `name` in `s`.
fn node_called(s: &Scenario, name: &str) -> Option<NodeRef> {
    let c = s.components.iter().position(|c| c.name == name);
    let src = s.sources.iter().position(|c| c.name == name);
    c.map(|i| NodeRef::Component(i as u32))
        .or(src.map(|i| NodeRef::Source(i as u32)))
}

/// The pointer's and keyboard's gestures of this frame, as edits.
pub(super) fn gestures(st: &mut UiState) {
    if let Some((p, at)) = st.edits.drop.take() {
        let at = clear_of_boxes(st, at);
        let (e, name) = edits::drop_edit(&edit::current(st), p, at);
        if edit::make(st, e, format!("added {name}, a {}", p.label())) {
            select(st, &name);
        }
    }
    if let Some((a, b)) = st.edits.connect.take() {
        connect(st, a, b);
    }
    if let Some(sel) = st.edits.delete.take() {
        delete(st, sel);
    }
}

/// `at`, or the first place right of it where a new box would not cover one drawn.
fn clear_of_boxes(st: &UiState, (mut x, y): (f32, f32)) -> (f32, f32) {
    let (w, h) = crate::picture::layout::node_size(1);
    let covers = |x: f32| {
        (st.scene.picture.nodes.iter()).any(|n| {
            (n.at.x - x).abs() < (n.size.0 + w) / 2.0 + 90.0
                && (n.at.y - y).abs() < (n.size.1 + h) / 2.0 + 10.0
        })
    };
    for _ in 0..100 {
        if !covers(x) {
            break;
        }
        x += 40.0;
    }
    (x, y)
}

fn select(st: &mut UiState, name: &str) {
    if let Some(n) = node_called(&edit::current(st), name) {
        *st.selection = Selection::Node(n);
    }
}

fn connect(st: &mut UiState, a: NodeRef, b: NodeRef) {
    let s = edit::current(st);
    let (Some(from), Some(to)) = (name_of(&s, a), name_of(&s, b)) else {
        return;
    };
    if from == to {
        return;
    }
    let (e, said) = edits::connect_edit(&s, &from, &to);
    let mut words = format!("connected {from} -> {to}");
    for x in said {
        words.push_str("; ");
        words.push_str(&x);
    }
    edit::make(st, e, words);
}

fn delete(st: &mut UiState, sel: Selection) {
    let s = edit::current(st);
    let (e, what) = match sel {
        Selection::Node(n) => match name_of(&s, n) {
            Some(name) => (edits::delete_edit(&s, &name), name),
            None => return,
        },
        Selection::Link(l) => match s.links.get(l as usize) {
            Some(l) => (
                Edit::Disconnect {
                    from: l.from.clone(),
                    to: l.to.clone(),
                },
                format!("the link {} -> {}", l.from, l.to),
            ),
            None => return,
        },
        Selection::Instance(_) => {
            let why = "select the whole box (click its title) to delete a component; \
                       its instances are a field (`instances`)";
            st.edits.feedback = Some((false, why.to_string()));
            return;
        }
        Selection::System => return,
    };
    if edit::make(st, e, format!("deleted {what}")) {
        *st.selection = Selection::System;
    }
}

/// The connecting handles while building, and the band of a connecting drag under way, with
/// what letting go there would do.
pub(super) fn overlay(ctx: &egui::Context, st: &UiState, free: egui::Rect) {
    // Over the picture only, never over a panel.
    let painter = ctx
        .layer_painter(egui::LayerId::new(
            egui::Order::Middle,
            "build-overlay".into(),
        ))
        .with_clip_rect(free);
    let accent = c32(style::GREEN);
    let covered = |p: egui::Pos2| {
        (st.hover.blocked.iter())
            .any(|r| p.x >= r[0] - 8.0 && p.x <= r[2] + 8.0 && p.y >= r[1] && p.y <= r[3])
    };
    for p in &st.edits.ports {
        let at = egui::pos2(p.x, p.y);
        if covered(at) {
            continue;
        }
        painter.circle(at, 7.0, c32(style::BODY), egui::Stroke::new(2.0, accent));
        painter.text(
            at,
            egui::Align2::CENTER_CENTER,
            "+",
            egui::FontId::proportional(13.0),
            accent,
        );
    }
    let Some((from, to, over)) = st.edits.band else {
        return;
    };
    let (a, b) = (egui::pos2(from.x, from.y), egui::pos2(to.x, to.y));
    painter.line_segment([a, b], egui::Stroke::new(3.0, accent));
    painter.circle_filled(b, 5.0, accent);
    let s = edit::current(st);
    let words = match over.and_then(|n| name_of(&s, n)) {
        Some(name) => format!("let go: connect to {name}"),
        None => "let go over another box to connect".to_string(),
    };
    painter.text(
        b + egui::vec2(12.0, -12.0),
        egui::Align2::LEFT_BOTTOM,
        words,
        egui::FontId::proportional(15.0),
        c32(style::INK),
    );
}
