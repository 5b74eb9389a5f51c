//! Strategy menus of the inspector: switch a component's queue policy or a link's sender-side
//! concurrency limit while the run goes on (through the command door).

use super::UiState;
use crate::scenario::{ConcurrencySpec, QueuePolicySpec};
use crate::sim::door::command::SimCommand;
use bevy_egui::egui;

/// The queue strategies, with their default parameters, to switch live.
const QUEUE_POLICIES: [(&str, QueuePolicySpec); 9] = [
    ("drop newest (tail drop)", QueuePolicySpec::DropNewest),
    ("drop oldest", QueuePolicySpec::DropOldest),
    ("drop random", QueuePolicySpec::DropRandom),
    (
        "early drop (depth²)",
        QueuePolicySpec::EarlyDrop { exponent: 2.0 },
    ),
    ("priority shedding", QueuePolicySpec::PriorityShed),
    (
        "CoDel 5 / 100 ms",
        QueuePolicySpec::CoDel {
            target_ms: 5.0,
            interval_ms: 100.0,
            rfc8289: false,
        },
    ),
    (
        "CoDel, RFC 8289's restart",
        QueuePolicySpec::CoDel {
            target_ms: 5.0,
            interval_ms: 100.0,
            rfc8289: true,
        },
    ),
    (
        "adaptive LIFO (10 ms)",
        QueuePolicySpec::AdaptiveLifo { after_ms: 10.0 },
    ),
    ("skip the given-up", QueuePolicySpec::DeadlineAware),
];

/// A menu that switches the component's queue strategy while it runs.
pub(super) fn queue_policy(
    ui: &mut egui::Ui,
    st: &mut UiState,
    name: &str,
    current: QueuePolicySpec,
) {
    let shown = QUEUE_POLICIES
        .iter()
        .find(|p| std::mem::discriminant(&p.1) == std::mem::discriminant(&current))
        .map_or("custom", |p| p.0);
    let mut chosen = None;
    ui.horizontal(|ui| {
        ui.label("queue policy");
        egui::ComboBox::from_id_salt(("queue_policy", name.to_string()))
            .selected_text(shown)
            .show_ui(ui, |ui| {
                for (label, spec) in QUEUE_POLICIES {
                    if ui.selectable_label(label == shown, label).clicked() {
                        chosen = Some(spec);
                    }
                }
            });
    });
    if let Some(policy) = chosen {
        st.send(SimCommand::SetQueuePolicy {
            component: name.into(),
            policy,
        });
    }
}

/// The sender-side concurrency limits, with their defaults, to switch live.
fn sender_limits() -> [(&'static str, Option<ConcurrencySpec>); 4] {
    [
        ("none", None),
        ("AIMD", Some(ConcurrencySpec::aimd())),
        ("Vegas", Some(ConcurrencySpec::vegas())),
        ("Gradient2", Some(ConcurrencySpec::gradient2())),
    ]
}

/// A menu that switches a `Sync` link's sender-side adaptive concurrency limit.
pub(super) fn sender_limit(ui: &mut egui::Ui, st: &mut UiState, link: &str) {
    let current = st
        .config
        .scenario
        .links
        .iter()
        .find(|l| format!("{}->{}", l.from, l.to) == link)
        .and_then(|l| l.concurrency);
    let limits = sender_limits();
    let shown = limits
        .iter()
        .find(|p| {
            p.1.map(|s| std::mem::discriminant(&s)) == current.map(|s| std::mem::discriminant(&s))
        })
        .map_or("custom", |p| p.0);
    let mut chosen = None;
    ui.horizontal(|ui| {
        ui.label("sender limit").on_hover_text(
            "an adaptive concurrency limit at the sender: at most `limit` calls in flight, the rest refused with 503 at once",
        );
        egui::ComboBox::from_id_salt(("sender_limit", link.to_string()))
            .selected_text(shown)
            .show_ui(ui, |ui| {
                for (label, spec) in limits {
                    if ui.selectable_label(label == shown, label).clicked() {
                        chosen = Some(spec);
                    }
                }
            });
    });
    if let Some(limit) = chosen {
        st.send(SimCommand::SetLinkConcurrency {
            link: link.into(),
            limit,
        });
    }
}
