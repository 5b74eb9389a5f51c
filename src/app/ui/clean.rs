//! `--clean`: the canvas only, for slides and videos. Over the picture: the clock and system
//! health in the top left corner, and one strip along the bottom with what a particle stands
//! for and what each colour and shape means.

use super::side::{routes_names, swatch_inline as swatch};
use super::{UiState, c32};
use crate::app::state::{CLEAN_BOTTOM, CLEAN_TOP};
use crate::picture::style;
use bevy_egui::egui;

/// The clock and the legend strip.
pub(super) fn overlay(ctx: &egui::Context, st: &mut UiState) {
    let screen = ctx.viewport_rect();
    let frame = egui::Frame::new()
        .fill(c32(style::BACKGROUND.alpha(0.85)))
        .inner_margin(egui::Margin::symmetric(10, 4));
    egui::Area::new("clean clock".into())
        .fixed_pos(screen.min)
        .show(ctx, |ui| {
            ui.set_height(CLEAN_TOP - 8.0);
            frame.show(ui, |ui| {
                ui.horizontal(|ui| {
                    let t = st.view.seconds();
                    ui.label(
                        egui::RichText::new(format!("t = {t:.1} s"))
                            .monospace()
                            .size(20.0)
                            .strong(),
                    );
                    let sys = st.view.system();
                    ui.label(
                        egui::RichText::new(format!(
                            "   system health {}",
                            super::inspector::system_health_text(&sys)
                        ))
                        .size(17.0)
                        .color(c32(style::health_colour(sys.health))),
                    );
                });
            });
        });
    egui::Area::new("clean legend".into())
        .fixed_pos(egui::pos2(screen.min.x, screen.max.y - CLEAN_BOTTOM))
        .show(ctx, |ui| {
            ui.set_width(screen.width());
            frame.show(ui, |ui| {
                ui.set_width(screen.width() - 20.0);
                ui.horizontal_wrapped(|ui| legend_strip(ui, st));
            });
        });
}

fn legend_strip(ui: &mut egui::Ui, st: &UiState) {
    let p = &st.scene.particles;
    ui.label(egui::RichText::new(format!("1 dot = {} requests", p.per_particle)).strong());
    ui.separator();
    if st.scene.by_flow {
        for (i, f) in routes_names(st).iter().enumerate() {
            swatch(ui, style::FLOWS[i % style::FLOWS.len()], f);
        }
    }
    ui.separator();
    swatch(ui, style::FAILED, "error");
    swatch(ui, style::REFUSED, "refused");
    swatch(ui, style::DROPPED, "dropped");
    swatch(ui, style::TIMED_OUT, "timed out");
    ui.separator();
    for (c, n) in [
        (style::GREEN, "GREEN"),
        (style::YELLOW, "YELLOW"),
        (style::RED, "RED"),
        (style::CRITICAL, "CRITICAL"),
        (style::BINDING, "limit binds"),
        (style::BOTTLENECK, "bottleneck"),
    ] {
        swatch(ui, c, n);
    }
}
