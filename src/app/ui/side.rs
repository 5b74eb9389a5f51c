//! The left panel: what-if controls (traffic, spikes, flow control, predictive mode, saving
//! the session as a scenario) and the legend (what a particle stands for, colours, shapes).

use super::{UiState, c32};
use crate::picture::particles::Mode;
use crate::picture::style;
use crate::sim::door::command::SimCommand;
use bevy_egui::egui;

pub(super) fn what_if_and_legend(ui: &mut egui::Ui, st: &mut UiState) {
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.heading("What if");
        branch_target(ui, st);
        traffic(ui, st);
        ui.separator();
        switches(ui, st);
        ui.separator();
        super::edit::edit_box(ui, st);
        ui.separator();
        if st
            .button(ui, "Save session as scenario")
            .on_hover_text("the scenario plus every what-if so far, replayable headless")
            .clicked()
        {
            super::windows::save_session(st);
        }
        ui.separator();
        legend(ui, st);
    });
}

/// While branches are shown: which cell the what-ifs below go to.
fn branch_target(ui: &mut egui::Ui, st: &mut UiState) {
    let Some(side) = st.side.as_deref_mut().filter(|s| s.branches()) else {
        return;
    };
    let names: Vec<String> = side.names().iter().map(|n| n.to_string()).collect();
    ui.label(egui::RichText::new("what-ifs go to:").strong());
    let mut drawn = vec![];
    ui.horizontal_wrapped(|ui| {
        for (k, name) in names.iter().enumerate() {
            let letter = super::grid::LETTERS[k];
            let r = ui.selectable_value(&mut side.target, k, letter);
            drawn.push((format!("what-ifs go to {letter}"), r.rect));
            r.on_hover_text(format!("{letter}: {name}"));
        }
    });
    let k = side.target.min(names.len() - 1);
    let colour = if k == 0 {
        style::INK
    } else {
        super::grid::BRANCH
    };
    ui.label(
        egui::RichText::new(format!("{} · {}", super::grid::LETTERS[k], names[k]))
            .color(c32(colour)),
    );
    ui.separator();
    for (name, rect) in drawn {
        st.probe_rect(&name, rect);
    }
}

fn traffic(ui: &mut egui::Ui, st: &mut UiState) {
    let n = st.view.source_count();
    st.panels.traffic.resize(n, 1.0);
    for i in 0..n as u32 {
        let Some(src) = st.view.source(i) else {
            continue;
        };
        let name = src.name.to_string();
        ui.label(
            egui::RichText::new(format!("{name}: {}", style::rate(src.offered_rate))).strong(),
        );
        let mut f = st.panels.traffic[i as usize];
        let r = ui.add(
            egui::Slider::new(&mut f, 0.1..=10.0)
                .logarithmic(true)
                .text("x traffic"),
        );
        st.panels.traffic[i as usize] = f;
        if r.drag_stopped() || (r.changed() && !r.dragged()) {
            st.send(SimCommand::ScaleTraffic {
                source: name.clone(),
                factor: f,
            });
        }
        ui.horizontal(|ui| {
            let (mut x, mut s) = st.panels.spike;
            ui.add(
                egui::DragValue::new(&mut x)
                    .range(1.0..=50.0)
                    .prefix("x")
                    .speed(0.1),
            );
            ui.add(
                egui::DragValue::new(&mut s)
                    .range(1.0..=600.0)
                    .suffix(" s")
                    .speed(1.0),
            );
            st.panels.spike = (x, s);
            if st.button(ui, "Spike").clicked() {
                st.send(SimCommand::Spike {
                    source: name.clone(),
                    factor: x,
                    for_s: s,
                });
            }
        });
    }
}

fn switches(ui: &mut egui::Ui, st: &mut UiState) {
    let mut flow = st.target_config().scenario.backpressure.enabled;
    let r = ui.checkbox(&mut flow, "flow control (seed 000)");
    st.probe_rect("flow control", r.rect);
    if r.on_hover_text("adaptive rate limits, breakers, fallbacks")
        .changed()
    {
        st.send(SimCommand::FlowControl(flow));
    }
    let mut predictive = st.target_config().scenario.backpressure.predictive;
    if ui
        .checkbox(&mut predictive, "predictive backpressure")
        .on_hover_text("cap senders before a forecast overload lands")
        .changed()
    {
        st.send(SimCommand::Predictive(predictive));
    }
}

/// A colour square and its meaning on a line of their own.
pub(super) fn swatch(ui: &mut egui::Ui, c: style::Rgba, text: &str) {
    ui.horizontal(|ui| swatch_inline(ui, c, text));
}

/// A colour square and its meaning, in a row that wraps.
pub(super) fn swatch_inline(ui: &mut egui::Ui, c: style::Rgba, text: &str) {
    let (r, _) = ui.allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
    ui.painter().rect_filled(r, 2.0, c32(c));
    ui.label(text);
}

fn legend(ui: &mut egui::Ui, st: &mut UiState) {
    ui.heading("Legend");
    let p = &st.scene.particles;
    let mode = match p.mode {
        Mode::Exact => "exact: each request where it really is",
        Mode::Stretched => "stretched: travel slowed to stay visible",
    };
    ui.label(egui::RichText::new(format!("one particle = {} requests", p.per_particle)).strong());
    ui.label(mode);
    ui.label(format!("{} particles on screen", st.drawn.drawn));
    ui.label("square: request  diamond: response");
    swatch(ui, style::FAILED, "error / failed (X at instance)");
    swatch(ui, style::REFUSED, "refused at a gate");
    swatch(ui, style::DROPPED, "dropped: queue full (burst)");
    swatch(ui, style::TIMED_OUT, "timed out (ring at client)");
    ui.label("white outline: a retry");
    ui.separator();
    if st.scene.by_flow {
        ui.label("colour by flow:");
        for (i, f) in routes_names(st).iter().enumerate() {
            swatch(ui, style::FLOWS[i % style::FLOWS.len()], f);
        }
    } else {
        ui.label("colour by priority:");
        for (i, n) in ["CRITICAL", "HIGH", "MEDIUM", "LOW"].iter().enumerate() {
            swatch(ui, style::PRIORITIES[i], n);
        }
    }
    ui.separator();
    ui.label("status (badge, border): seed 000's score");
    for (c, n) in [
        (style::GREEN, "GREEN  80-100"),
        (style::YELLOW, "YELLOW 60-79"),
        (style::RED, "RED    30-59"),
        (style::CRITICAL, "CRITICAL <30"),
    ] {
        swatch(ui, c, n);
    }
    swatch(ui, style::BINDING, "gate: a rate limit that binds");
}

pub(super) fn routes_names(st: &UiState) -> Vec<String> {
    st.config
        .scenario
        .sources
        .iter()
        .flat_map(|s| s.flows.iter().map(|f| f.name.clone()))
        .collect()
}
