//! The panels (egui): controls across the top, what-if and the legend on the left, the
//! inspector and its plots on the right, the decision feed at the bottom; the help overlay, the
//! scenario picker and the error banner as windows.

mod build;
mod clean;
mod edit;
mod feed;
mod fields;
mod grid;
mod inspector;
mod lesson;
mod plots;
mod side;
mod strategies;
mod theory;
mod timeline;
mod top;
mod windows;

use super::state::{BOTTOM, Hover, LEFT, OpenFile, Panels, RIGHT, Scene, Selection, TOP};
use crate::sim::door::command::CommandQueue;
use crate::sim::read::events::Journal;
use crate::sim::read::view::SimView;
use crate::sim::{SimConfig, SimControl};
use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

pub use super::state::selection_of;
pub use windows::SHORTCUTS;

/// Everything the panels read and change.
#[derive(SystemParam)]
pub struct UiState<'w, 's> {
    view: SimView<'w, 's>,
    journal: Res<'w, Journal>,
    config: Res<'w, SimConfig>,
    control: ResMut<'w, SimControl>,
    queue: ResMut<'w, CommandQueue>,
    scene: ResMut<'w, Scene>,
    selection: ResMut<'w, Selection>,
    panels: ResMut<'w, Panels>,
    file: ResMut<'w, OpenFile>,
    hover: ResMut<'w, Hover>,
    time: Res<'w, Time<Real>>,
    drawn: Res<'w, crate::app::particles::ParticleMesh>,
    halt: Res<'w, crate::sim::schedule::guard::Halt>,
    side: Option<ResMut<'w, crate::app::side_by_side::SideBySide>>,
    probe: Option<ResMut<'w, crate::app::probe::UiProbe>>,
    edits: ResMut<'w, super::state::Edits>,
    timeline: Option<ResMut<'w, crate::sim::timeline::Timeline>>,
}

impl UiState<'_, '_> {
    /// A button whose place the UI probe records, so a test driving real input can press it.
    fn button(&mut self, ui: &mut egui::Ui, text: &str) -> egui::Response {
        let r = ui.button(text);
        self.probe_rect(text, r.rect);
        r
    }

    /// Records where a control is drawn, under `name`, when the UI probe is on.
    fn probe_rect(&mut self, name: &str, q: egui::Rect) {
        if let Some(p) = self.probe.as_mut() {
            p.buttons
                .insert(name.to_string(), [q.min.x, q.min.y, q.max.x, q.max.y]);
        }
    }

    /// Sends a command through the command door, applied at the start of the next tick; a
    /// what-if while branches are shown goes to the branch chosen (`SideBySide::target`).
    fn send(&mut self, cmd: crate::sim::door::command::SimCommand) {
        use crate::sim::door::command::SimCommand;
        if let Some(side) = self.side.as_mut()
            && side.target > 0
            && !matches!(cmd, SimCommand::Load(_) | SimCommand::Reset)
        {
            let target = side.target;
            side.outbox.push((target, cmd));
            return;
        }
        let now = self.view.now();
        self.queue.schedule(now, cmd);
    }

    /// The settings of the cell what-ifs go to: a branch's, or the app's own.
    fn target_config(&self) -> &SimConfig {
        match self.side.as_deref() {
            Some(side) if side.target > 0 => side
                .shadows
                .get(side.target - 1)
                .map_or(&*self.config, |s| s.config()),
            _ => &self.config,
        }
    }
}

/// Draws every panel and window.
pub fn draw_ui(
    mut contexts: EguiContexts,
    mut st: UiState,
    log: Res<crate::sim::read::decisions::DecisionLog>,
    mut stats: ResMut<crate::app::stats::FrameStats>,
    lesson: Option<Res<crate::app::lesson::Presenter>>,
    anchors: Option<Res<crate::app::lesson::Anchors>>,
) -> Result {
    let started = std::time::Instant::now();
    let ctx = contexts.ctx_mut()?.clone();
    if !st.panels.styled {
        style(&ctx);
        st.panels.styled = true;
    }
    let mut root = egui::Ui::new(
        ctx.clone(),
        "root".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    let mut blocked = vec![];
    let screen = ctx.viewport_rect();
    let mut free = screen;
    let presented = match (&lesson, &anchors) {
        (Some(p), Some(a)) => lesson::overlay(&ctx, &mut st, p, a, &log),
        _ => false,
    };
    if st.panels.clean && !presented {
        clean::overlay(&ctx, &mut st);
    } else if !st.panels.clean {
        free = panels(&mut root, &mut st, &log, &mut blocked);
    }
    edit::keys(&mut st);
    if !st.panels.clean && !presented {
        build::palette(&ctx, &mut st, free);
        build::overlay(&ctx, &st, free);
    }
    build::gestures(&mut st);
    windows::banner(&ctx, &mut st);
    if !st.panels.clean {
        windows::help(&ctx, &mut st);
        windows::picker(&ctx, &mut st);
    }
    // Every window, popup and menu open now (panels are drawn into the root Ui, a background
    // layer, and were added above).
    ctx.memory(|m| {
        for layer in m.areas().visible_layer_ids() {
            if layer.order != egui::Order::Background
                && let Some(r) = m.area_rect(layer.id)
            {
                blocked.push(r);
            }
        }
    });
    st.hover.pointer = ctx.egui_is_using_pointer();
    st.hover.blocked = blocked
        .iter()
        .map(|r| [r.min.x, r.min.y, r.max.x, r.max.y])
        .collect();
    st.hover.free = Some([free.min.x, free.min.y, free.max.x, free.max.y]);
    st.hover.keyboard = ctx.egui_wants_keyboard_input();
    crate::app::stats::panels_took(&mut stats, started.elapsed().as_secs_f64() * 1e3);
    Ok(())
}

/// Below this window width (logical px) the inspector folds into a tab, so the picture gets
/// the room: it opens when something is selected.
pub const COMPACT_BELOW: f32 = 1500.0;
/// Below this window width the what-if panel folds into a tab too (it opens on a click).
pub const LEFT_FOLDS_BELOW: f32 = 1700.0;
/// Width of a folded panel's tab.
const TAB: f32 = 30.0;

/// The four panels, each rectangle added to `blocked`; the area they leave for the picture.
fn panels(
    root: &mut egui::Ui,
    st: &mut UiState,
    log: &crate::sim::read::decisions::DecisionLog,
    blocked: &mut Vec<egui::Rect>,
) -> egui::Rect {
    let compact = root.max_rect().width() < COMPACT_BELOW;
    let left_folds = root.max_rect().width() < LEFT_FOLDS_BELOW;
    let feed_h = if compact { BOTTOM * 0.75 } else { BOTTOM };
    let r = egui::Panel::top("controls")
        .exact_size(TOP)
        .show(root, |ui| top::controls(ui, st));
    blocked.push(r.response.rect);
    let r = egui::Panel::bottom("feed")
        .exact_size(feed_h)
        .show(root, |ui| {
            timeline::strip(ui, st);
            feed::decisions(ui, st, log);
        });
    blocked.push(r.response.rect);
    let left_open = !left_folds || st.panels.left_open;
    let r = egui::Panel::left("what-if")
        .exact_size(if left_open { LEFT } else { TAB })
        .show(root, |ui| {
            if left_folds
                && tab(
                    ui,
                    if left_open { "«" } else { "»" },
                    left_open,
                    "what-if and legend",
                )
            {
                st.panels.left_open = !left_open;
            }
            if left_open {
                side::what_if_and_legend(ui, st);
            }
        });
    blocked.push(r.response.rect);
    let right_open =
        !compact || st.panels.right_open || *st.selection != super::state::Selection::System;
    let r = egui::Panel::right("inspector")
        .exact_size(if right_open { RIGHT } else { TAB })
        .show(root, |ui| {
            if compact
                && tab(
                    ui,
                    if right_open { "»" } else { "«" },
                    right_open,
                    "inspector and plots",
                )
            {
                st.panels.right_open = !right_open;
                if right_open {
                    *st.selection = super::state::Selection::System;
                }
            }
            if right_open {
                inspector::inspector(ui, st);
            }
        });
    blocked.push(r.response.rect);
    // Between the panels' inner edges, as drawn (their margins included).
    let [top, bottom, left, right] = [blocked[0], blocked[1], blocked[2], blocked[3]];
    // And where they are meant to be, should one be drawn elsewhere for a frame: a press there
    // is never the picture's.
    let screen = root.max_rect();
    let (lw, rw) = (
        if left_open { LEFT } else { TAB },
        if right_open { RIGHT } else { TAB },
    );
    let (t, b) = (screen.min.y + TOP, screen.max.y - feed_h);
    blocked.extend([
        egui::Rect::from_min_max(screen.min, egui::pos2(screen.max.x, t)),
        egui::Rect::from_min_max(egui::pos2(screen.min.x, b), screen.max),
        egui::Rect::from_min_max(
            egui::pos2(screen.min.x, t),
            egui::pos2(screen.min.x + lw, b),
        ),
        egui::Rect::from_min_max(
            egui::pos2(screen.max.x - rw, t),
            egui::pos2(screen.max.x, b),
        ),
    ]);
    let free = egui::Rect::from_min_max(
        egui::pos2(left.max.x, top.max.y),
        egui::pos2(right.min.x, bottom.min.y),
    );
    if let Some(side) = st.side.take() {
        if side.on {
            grid::grid(root, st, &side);
        }
        st.side = Some(side);
    }
    free
}

/// A folded panel's tab (or the button that folds it): true when clicked.
fn tab(ui: &mut egui::Ui, arrow: &str, open: bool, what: &str) -> bool {
    let hint = if open { "hide the" } else { "show the" };
    ui.button(arrow)
        .on_hover_text(format!("{hint} {what}"))
        .clicked()
}

/// Larger text than egui's default, so every label reads at 1600x900.
fn style(ctx: &egui::Context) {
    ctx.all_styles_mut(|s| {
        for (text_style, size) in [
            (egui::TextStyle::Body, 15.0),
            (egui::TextStyle::Button, 15.0),
            (egui::TextStyle::Small, 12.5),
            (egui::TextStyle::Heading, 19.0),
            (egui::TextStyle::Monospace, 14.0),
        ] {
            if let Some(f) = s.text_styles.get_mut(&text_style) {
                f.size = size;
            }
        }
    });
}

/// An egui colour from a picture colour.
fn c32(c: crate::picture::style::Rgba) -> egui::Color32 {
    let b = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round() as u8;
    egui::Color32::from_rgba_unmultiplied(b(c.0), b(c.1), b(c.2), b(c.3))
}
