//! The control bar: play, pause, step, speed, time and progress, reset, reload, open,
//! screenshot, record, colours, help; and the system's health and goodput, always in view.

use super::{UiState, c32};
use crate::app::state::{SPEEDS, next_speed};
use crate::picture::style;
use crate::sim::command::SimCommand;
use bevy_egui::egui;

pub(super) fn controls(ui: &mut egui::Ui, st: &mut UiState) {
    ui.horizontal_centered(|ui| {
        let playing = !st.control.paused;
        if ui
            .button(if playing { "Pause" } else { "Play" })
            .on_hover_text("Space")
            .clicked()
        {
            st.control.paused = playing;
        }
        if ui.button("Step").on_hover_text("one tick ( . )").clicked() {
            st.control.paused = true;
            st.control.pending_steps += 1;
        }
        speed(ui, st);
        ui.separator();
        clock(ui, st);
        ui.separator();
        if ui
            .button("Reset")
            .on_hover_text("back to t = 0 ( R )")
            .clicked()
        {
            st.send(SimCommand::Reset);
        }
        if ui
            .button("Reload")
            .on_hover_text("read the file again ( L )")
            .clicked()
        {
            st.panels.reload_requested = true;
        }
        if ui
            .button("Open")
            .on_hover_text("pick a scenario ( O )")
            .clicked()
        {
            st.panels.picker = !st.panels.picker;
        }
        if ui.button("Screenshot").on_hover_text("( P )").clicked() {
            st.panels.screenshot_requested = true;
        }
        if ui
            .button("Record 10 s")
            .on_hover_text("the next 10 simulated seconds to MP4")
            .clicked()
        {
            st.panels.record_requested = Some(10.0);
        }
        let by = if st.scene.by_flow {
            "by flow"
        } else {
            "by priority"
        };
        if ui
            .button(format!("Colour {by}"))
            .on_hover_text("( C )")
            .clicked()
        {
            st.scene.by_flow = !st.scene.by_flow;
        }
        if ui.button("Help").on_hover_text("( H )").clicked() {
            st.panels.help = !st.panels.help;
        }
        if let Some(side) = st.side.as_mut() {
            let label = if side.on {
                "Single view"
            } else {
                "Side by side"
            };
            if ui
                .button(label)
                .on_hover_text("the comparison's variants side by side, or variant A alone")
                .clicked()
            {
                side.on = !side.on;
            }
        }
        ui.separator();
        system(ui, st);
    });
}

fn speed(ui: &mut egui::Ui, st: &mut UiState) {
    let mut s = st.control.speed;
    ui.label("speed");
    ui.add(
        egui::Slider::new(&mut s, 0.001..=100.0)
            .logarithmic(true)
            .smallest_positive(0.001)
            .show_value(false),
    );
    if s != st.control.speed {
        st.control.speed = s;
    }
    egui::ComboBox::from_id_salt("speed presets")
        .width(70.0)
        .selected_text(format!("{}x", fmt_speed(st.control.speed)))
        .show_ui(ui, |ui| {
            for p in SPEEDS {
                ui.selectable_value(&mut st.control.speed, p, format!("{}x", fmt_speed(p)));
            }
        });
    if ui.small_button("-").on_hover_text("( [ )").clicked() {
        st.control.speed = next_speed(st.control.speed, false);
    }
    if ui.small_button("+").on_hover_text("( ] )").clicked() {
        st.control.speed = next_speed(st.control.speed, true);
    }
}

/// A speed in few characters.
pub fn fmt_speed(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

fn clock(ui: &mut egui::Ui, st: &mut UiState) {
    let t = st.view.seconds();
    let end = st.config.scenario.sim.duration_s;
    ui.label(
        egui::RichText::new(format!("t = {t:.1} s"))
            .monospace()
            .strong(),
    );
    ui.add(
        egui::ProgressBar::new((t / end.max(1e-9)).clamp(0.0, 1.0) as f32)
            .desired_width(120.0)
            .text(format!("of {end:.0} s")),
    );
}

fn system(ui: &mut egui::Ui, st: &mut UiState) {
    let h = st.view.system().health;
    let goodput = st
        .view
        .series(
            crate::sim::series::SeriesEntity::System,
            crate::sim::series::Metric::Goodput,
        )
        .last()
        .map_or(0.0, |p| p.1);
    // A comparison: these figures are variant A's (the app's own simulation).
    if let Some(side) = st.side.as_ref()
        && let Some(name) = side.names().first()
    {
        ui.label(egui::RichText::new(format!("A · {name}:")).strong());
    }
    ui.label(
        egui::RichText::new(format!("system health {h:.2}"))
            .color(c32(style::health_colour(h)))
            .strong(),
    );
    ui.label(egui::RichText::new(format!("goodput {}", style::rate(goodput))).strong());
}
