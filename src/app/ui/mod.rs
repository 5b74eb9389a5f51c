//! The panels (egui): controls across the top, what-if and the legend on the left, the
//! inspector and its plots on the right, the decision feed at the bottom; the help overlay, the
//! scenario picker and the error banner as windows.

mod feed;
mod grid;
mod inspector;
mod plots;
mod side;
mod strategies;
mod top;
mod windows;

use super::state::{BOTTOM, Hover, LEFT, OpenFile, Panels, RIGHT, Scene, Selection, TOP};
use crate::sim::command::CommandQueue;
use crate::sim::events::Journal;
use crate::sim::view::SimView;
use crate::sim::{SimConfig, SimControl};
use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};

pub use feed::selection_of;
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
    halt: Res<'w, crate::sim::guard::Halt>,
    side: Option<ResMut<'w, crate::app::side_by_side::SideBySide>>,
}

impl UiState<'_, '_> {
    /// Sends a command through the command door, applied at the start of the next tick.
    fn send(&mut self, cmd: crate::sim::command::SimCommand) {
        let now = self.view.now();
        self.queue.schedule(now, cmd);
    }
}

/// Draws every panel and window.
pub fn draw_ui(
    mut contexts: EguiContexts,
    mut st: UiState,
    log: Res<crate::sim::decisions::DecisionLog>,
    mut stats: ResMut<crate::app::stats::FrameStats>,
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
    egui::Panel::top("controls")
        .exact_size(TOP)
        .show(&mut root, |ui| top::controls(ui, &mut st));
    egui::Panel::bottom("feed")
        .exact_size(BOTTOM)
        .show(&mut root, |ui| feed::decisions(ui, &mut st, &log));
    egui::Panel::left("what-if")
        .exact_size(LEFT)
        .show(&mut root, |ui| side::what_if_and_legend(ui, &mut st));
    egui::Panel::right("inspector")
        .exact_size(RIGHT)
        .show(&mut root, |ui| inspector::inspector(ui, &mut st));
    if let Some(side) = st.side.take() {
        if side.on {
            grid::grid(&mut root, &mut st, &side);
        }
        st.side = Some(side);
    }
    windows::banner(&ctx, &mut st);
    windows::help(&ctx, &mut st);
    windows::picker(&ctx, &mut st);
    // Panels drawn into this root Ui do not count as "pointer over egui": test the free area.
    let free = root.available_rect_before_wrap();
    st.hover.pointer = ctx.is_pointer_over_egui() || ctx.egui_is_using_pointer();
    st.hover.free = Some([free.min.x, free.min.y, free.max.x, free.max.y]);
    st.hover.keyboard = ctx.egui_wants_keyboard_input();
    crate::app::stats::panels_took(&mut stats, started.elapsed().as_secs_f64() * 1e3);
    Ok(())
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
