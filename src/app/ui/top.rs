//! The control bar: play, pause, step, speed, time and progress, reset, reload, open,
//! screenshot, record, colours, help; and the system's health and goodput, always in view.

use super::{UiState, c32};
use crate::app::state::{SPEEDS, next_speed};
use crate::picture::style;
use crate::sim::door::command::SimCommand;
use bevy_egui::egui;

pub(super) fn controls(ui: &mut egui::Ui, st: &mut UiState) {
    ui.horizontal_centered(|ui| {
        let playing = !st.control.paused;
        // A fixed width, so the bar does not shift when Pause becomes Play.
        if ui
            .add_sized(
                [58.0, 24.0],
                egui::Button::new(if playing { "Pause" } else { "Play" }),
            )
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
        // The figures get what the buttons on the right leave, and are cut (never pushed past
        // the window, which would shift every panel below) when that is too little.
        let right = if st.side.is_some() { 435.0 } else { 325.0 };
        let room = (ui.available_width() - right).max(60.0);
        ui.allocate_ui_with_layout(
            egui::vec2(room, 24.0),
            egui::Layout::left_to_right(egui::Align::Center),
            |ui| {
                ui.set_max_width(room);
                ui.set_clip_rect(ui.max_rect().intersect(ui.clip_rect()));
                system(ui, st);
            },
        );
        // The rest from the right edge, the file actions in one menu, so nothing is cut at
        // 1280 px.
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("Help").on_hover_text("( H )").clicked() {
                st.panels.help = !st.panels.help;
            }
            side_by_side_toggle(ui, st);
            let by = if st.scene.by_flow { "flow" } else { "priority" };
            if ui
                .button(format!("Colour: {by}"))
                .on_hover_text("colour particles by flow or by priority ( C )")
                .clicked()
            {
                st.scene.by_flow = !st.scene.by_flow;
            }
            ui.menu_button("Run", |ui| run_menu(ui, st));
            let build = if st.edits.building {
                "Done building"
            } else {
                "Build"
            };
            if st
                .button(ui, build)
                .on_hover_text(
                    "the palette: add, connect, delete boxes; every field in the inspector ( B )",
                )
                .clicked()
            {
                st.edits.building = !st.edits.building;
            }
        });
    });
}

/// Reset, reload, open, screenshot, record.
fn run_menu(ui: &mut egui::Ui, st: &mut UiState) {
    if ui.button("Reset to t = 0   ( R )").clicked() {
        st.send(SimCommand::Reset);
        ui.close();
    }
    if ui.button("Reload the file   ( L )").clicked() {
        st.panels.reload_requested = true;
        ui.close();
    }
    if ui.button("Open a scenario...   ( O )").clicked() {
        st.panels.picker = !st.panels.picker;
        ui.close();
    }
    if ui.button("Screenshot   ( P )").clicked() {
        st.panels.screenshot_requested = true;
        ui.close();
    }
    if ui
        .button("Record 10 s")
        .on_hover_text("the next 10 simulated seconds to MP4")
        .clicked()
    {
        st.panels.record_requested = Some(10.0);
        ui.close();
    }
}

fn side_by_side_toggle(ui: &mut egui::Ui, st: &mut UiState) {
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
}

fn speed(ui: &mut egui::Ui, st: &mut UiState) {
    ui.label("speed");
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
    // The length beside the bar, not on it, so the fill never covers it.
    ui.add(egui::ProgressBar::new((t / end.max(1e-9)).clamp(0.0, 1.0) as f32).desired_width(70.0));
    ui.label(format!("of {end:.0} s"));
    let seeking = st.timeline.as_ref().and_then(|t| t.seeking);
    if let Some((from, to)) = seeking {
        let done = (st.view.now() - from) as f64 / ((to - from) as f64).max(1.0);
        ui.label(
            egui::RichText::new(format!(
                "showing {:.1} s... {:.0}%",
                to as f64 / 1e9,
                done * 100.0
            ))
            .color(c32(style::YELLOW)),
        );
    } else if let Some(target) = st.control.catch_up {
        let done = st.view.now() as f64 / (target as f64).max(1.0);
        ui.label(
            egui::RichText::new(format!("re-simulating... {:.0}%", done * 100.0))
                .color(c32(style::YELLOW)),
        );
    }
}

fn system(ui: &mut egui::Ui, st: &mut UiState) {
    let sys = st.view.system();
    let h = sys.health;
    let goodput = st
        .view
        .series(
            crate::sim::read::series::SeriesEntity::System,
            crate::sim::read::series::Metric::Goodput,
        )
        .last()
        .map_or(0.0, |p| p.1);
    // A comparison: these figures are variant A's (the app's own simulation).
    if let Some(side) = st.side.as_ref()
        && let Some(name) = side.names().first()
    {
        ui.add(egui::Label::new(egui::RichText::new(format!("A: {name}")).strong()).truncate());
    }
    ui.label(egui::RichText::new(format!("goodput {}", style::rate(goodput))).strong());
    ui.add(
        egui::Label::new(
            egui::RichText::new(format!(
                "system health {}",
                super::inspector::system_health_text(&sys)
            ))
            .color(c32(style::health_colour(h)))
            .strong(),
        )
        .truncate(),
    )
    .on_hover_text(
        "the mean of each component's worse measure (resource health, status score / 100), \
         times 0.8 per CRITICAL and 0.9 per RED component",
    );
}
