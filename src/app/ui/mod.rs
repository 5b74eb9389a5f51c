//! The panels (egui): controls across the top, what-if and the legend on the left, the
//! inspector and its plots on the right, the decision feed at the bottom; the help overlay, the
//! scenario picker and the error banner as windows.

mod feed;
mod inspector;
mod plots;
mod side;
mod top;
mod windows;

use super::input::Hover;
use super::state::{OpenFile, Scene, Selection};
use crate::sim::command::CommandQueue;
use crate::sim::events::Journal;
use crate::sim::view::SimView;
use crate::sim::{SimConfig, SimControl};
use bevy::ecs::system::SystemParam;
use bevy::prelude::*;
use bevy_egui::{EguiContexts, egui};
use std::path::PathBuf;

pub use windows::SHORTCUTS;

/// Panel sizes (pixels): the picture is framed in what they leave.
pub const TOP: f32 = 46.0;
/// The decision feed.
pub const BOTTOM: f32 = 160.0;
/// What-if and legend.
pub const LEFT: f32 = 235.0;
/// Inspector and plots.
pub const RIGHT: f32 = 315.0;

/// Which panels and windows are open, requests the panels make of other systems, and the
/// what-if controls' values.
#[derive(Resource, Debug, Clone)]
pub struct Panels {
    /// The help overlay.
    pub help: bool,
    /// The scenario picker.
    pub picker: bool,
    /// Reload the open file (the button or `L`).
    pub reload_requested: bool,
    /// Frame the system (`F`).
    pub fit_requested: bool,
    /// Save a screenshot (the button or `P`).
    pub screenshot_requested: bool,
    /// Record the next seconds of the run (the button).
    pub record_requested: Option<f64>,
    /// Per source: the traffic multiplier on the slider.
    pub traffic: Vec<f64>,
    /// Spike: multiplier and seconds.
    pub spike: (f64, f64),
    /// Decision feed: kind filter ("" for all) and entity filter.
    pub feed_kind: String,
    /// Entity filter text.
    pub feed_entity: String,
    /// Include rate fine-tuning in the feed.
    pub feed_all: bool,
    /// Text sizes set.
    pub styled: bool,
    /// Centre the camera on the selection (a click in the feed).
    pub centre_requested: bool,
    /// The picker's list, for the directory it was read from.
    picker_cache: Option<(PathBuf, Vec<PickerEntry>)>,
}

/// A scenario in the picker: its path and name and description, or what is wrong with it.
pub type PickerEntry = (PathBuf, Result<(String, String), String>);

impl Panels {
    /// The picker's list of `dir`, read once while the picker is open.
    fn cached_picker(
        &mut self,
        dir: &std::path::Path,
        read: impl FnOnce(&std::path::Path) -> Vec<PickerEntry>,
    ) -> Vec<PickerEntry> {
        if self.picker_cache.as_ref().is_none_or(|(d, _)| d != dir) {
            self.picker_cache = Some((dir.to_path_buf(), read(dir)));
        }
        self.picker_cache
            .as_ref()
            .map(|c| c.1.clone())
            .unwrap_or_default()
    }
}

impl Default for Panels {
    fn default() -> Self {
        Self {
            help: false,
            picker: false,
            reload_requested: false,
            fit_requested: false,
            screenshot_requested: false,
            record_requested: None,
            traffic: vec![],
            spike: (3.0, 10.0),
            feed_kind: String::new(),
            feed_entity: String::new(),
            feed_all: false,
            styled: false,
            centre_requested: false,
            picker_cache: None,
        }
    }
}

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
