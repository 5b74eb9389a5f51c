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

/// What the legend strip says: what a particle stands for, each flow's colour, how a request
/// ends, each status: (a swatch colour, its words); `None` begins a new group.
pub(super) fn legend_entries(st: &UiState) -> Vec<Option<(Option<style::Rgba>, String)>> {
    let p = &st.scene.particles;
    let mut out = vec![
        Some((None, format!("1 dot = {} requests", p.per_particle))),
        None,
    ];
    if st.scene.by_flow {
        for (i, f) in routes_names(st).iter().enumerate() {
            out.push(Some((
                Some(style::FLOWS[i % style::FLOWS.len()]),
                f.clone(),
            )));
        }
        out.push(None);
    }
    for (c, n) in [
        (style::FAILED, "error"),
        (style::REFUSED, "refused"),
        (style::DROPPED, "dropped"),
        (style::TIMED_OUT, "timed out"),
    ] {
        out.push(Some((Some(c), n.into())));
    }
    out.push(None);
    for (c, n) in [
        (style::GREEN, "GREEN"),
        (style::YELLOW, "YELLOW"),
        (style::RED, "RED"),
        (style::CRITICAL, "CRITICAL"),
        (style::BINDING, "limit binds"),
        (style::BOTTLENECK, "bottleneck"),
    ] {
        out.push(Some((Some(c), n.into())));
    }
    out
}

pub(super) fn legend_strip(ui: &mut egui::Ui, st: &UiState) {
    for e in legend_entries(st) {
        match e {
            None => {
                ui.separator();
            }
            Some((None, text)) => {
                ui.label(egui::RichText::new(text).strong());
            }
            Some((Some(c), text)) => swatch(ui, c, &text),
        }
    }
}
