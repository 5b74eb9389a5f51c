//! The decision feed: the typed events in words (rate changes, breaker transitions, fallbacks,
//! crashes, what-ifs), newest first, filterable by kind and entity; clicking one selects and
//! centres what it concerns.

use super::{UiState, c32};
use crate::app::state::selection_of;
use crate::picture::style;
use crate::sim::read::decisions::{Decision, DecisionLog};
use bevy_egui::egui;

const KINDS: [&str; 18] = [
    "",
    "retry_budget",
    "throttle",
    "codel",
    "concurrency_limit",
    "rate_change",
    "breaker",
    "fallback",
    "crash",
    "outage",
    "restart",
    "slowdown",
    "errors",
    "link_fault",
    "scale_up",
    "health_check",
    "anomaly",
    "command",
];

fn colour_of(d: &Decision) -> style::Rgba {
    colour_of_kind(d.kind)
}

/// A decision's colour by its kind (the feed's lines, the timeline's marks).
pub(super) fn colour_of_kind(kind: &str) -> style::Rgba {
    match kind {
        "crash" | "outage" => style::FAILED,
        "breaker" => style::RED,
        "errors" => style::RED,
        "fallback" | "slowdown" | "link_fault" => style::YELLOW,
        "command" => style::REFUSED,
        "restart" | "scale_up" | "scale_down" => style::GREEN,
        _ => style::INK,
    }
}

fn line(d: &Decision) -> String {
    let rate = |r: Option<f64>| r.map_or("unlimited".to_string(), style::rate);
    match d.kind {
        "rate_change" => format!(
            "{:>7.1} s  {}  {} -> {}  ({}, receiver {})",
            d.t,
            d.entity,
            rate(d.old),
            rate(d.new),
            d.reason,
            d.state.as_deref().unwrap_or("")
        ),
        _ => format!(
            "{:>7.1} s  {}  {}: {}{}",
            d.t,
            d.entity,
            d.kind,
            d.reason,
            d.state
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default()
        ),
    }
}

pub(super) fn decisions(ui: &mut egui::Ui, st: &mut UiState, log: &DecisionLog) {
    ui.horizontal(|ui| {
        ui.heading("Decisions");
        egui::ComboBox::from_id_salt("feed kind")
            .selected_text(if st.panels.feed_kind.is_empty() {
                "every kind"
            } else {
                &st.panels.feed_kind
            })
            .show_ui(ui, |ui| {
                for k in KINDS {
                    let label = if k.is_empty() { "every kind" } else { k };
                    ui.selectable_value(&mut st.panels.feed_kind, k.to_string(), label);
                }
            });
        ui.label("entity");
        ui.add(egui::TextEdit::singleline(&mut st.panels.feed_entity).desired_width(140.0));
        ui.checkbox(&mut st.panels.feed_all, "with fine-tuning");
        ui.label(format!("{} in all", log.events.len()));
    });
    let kind = st.panels.feed_kind.clone();
    let entity = st.panels.feed_entity.clone();
    let all = st.panels.feed_all;
    let shown: Vec<&Decision> = log
        .events
        .iter()
        .rev()
        .filter(|d| kind.is_empty() || d.kind == kind)
        .filter(|d| entity.is_empty() || d.entity.contains(entity.as_str()))
        .filter(|d| all || d.importance >= 2)
        .take(300)
        .collect();
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            for d in shown {
                let text = egui::RichText::new(line(d))
                    .monospace()
                    .color(c32(colour_of(d)));
                if ui.selectable_label(false, text).clicked()
                    && let Some(sel) = selection_of(st.view.topology(), &d.entity)
                {
                    *st.selection = sel;
                    st.panels.centre_requested = true;
                }
            }
        });
}
