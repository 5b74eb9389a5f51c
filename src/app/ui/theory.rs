//! The inspector's queueing-theory section for a component: the model that describes it at its
//! current load and its prediction beside what the last half-minute observed (with 95%
//! intervals), Little's law checked on the same samples; or, where the model's assumptions do
//! not hold, which ones (docs/THEORY.md).

use super::{UiState, c32};
use crate::picture::style;
use crate::sim::read::series::{Metric, SeriesEntity};
use crate::sim::read::theory::assess::{self, Assessment, Verdict};
use crate::sim::read::theory::observe::{self, pm, sig};
use bevy_egui::egui;

/// Seconds of samples the observed column covers.
const WINDOW_S: f64 = 30.0;

/// Every component's verdict now.
fn assessed(st: &UiState) -> Vec<Assessment> {
    let retrying = (0..st.view.sources().count() as u32)
        .map(|i| {
            let e = SeriesEntity::Source(i);
            (st.view.series(e, Metric::Retries))
                .next_back()
                .is_some_and(|x| x.1 > 0.0)
        })
        .collect();
    let live = crate::sim::read::theory::live(&st.view, retrying);
    assess::assess(&st.config.scenario, &live)
}

/// What the theory says about one component now, with the last half-minute observed where
/// it applied: worked out once a frame for the headline and the section.
pub(super) struct Theory {
    a: Assessment,
    seen: Option<observe::Observed>,
}

/// Component `c`'s theory now (`None` for no such component).
pub(super) fn of(st: &UiState, c: u32) -> Option<Theory> {
    let a = assessed(st).into_iter().nth(c as usize)?;
    let seen = a.prediction().and_then(|_| {
        let series = st.view.all_series();
        let from = st.view.seconds() - WINDOW_S;
        let times: Vec<f64> = (observe::predicted(series, c, from).iter())
            .map(|r| r.0)
            .collect();
        let keep = |t: f64| times.binary_search_by(|x| x.total_cmp(&t)).is_ok();
        let servers = (a.servers as u64 * st.view.unit()) as f64;
        observe::observe(series, c, from, servers, &keep)
    });
    Some(Theory { a, seen })
}

/// One line under the component's heading: what the theory says, in short (the section at
/// the end of its figures has the rest).
pub(super) fn headline(ui: &mut egui::Ui, t: &Theory) {
    let a = &t.a;
    let muted = |t: String| egui::RichText::new(t).color(c32(style::MUTED));
    match &a.verdict {
        Verdict::Predicts(p) => {
            let seen = (t.seen.as_ref())
                .map_or(String::new(), |o| format!(", observed {} ms", pm(&o.w_ms)));
            ui.label(muted(format!(
                "theory ({}): W {} ms predicted{seen}",
                a.model,
                sig(p.w * 1000.0)
            )));
        }
        Verdict::Unstable { rho } => {
            ui.colored_label(
                c32(style::RED),
                format!(
                    "theory ({}): ρ = {} ≥ 1, no steady state",
                    a.model,
                    sig(*rho)
                ),
            );
        }
        Verdict::Broken(why) => {
            let more = match why.len() {
                0 | 1 => String::new(),
                n => format!(" (+{} more below)", n - 1),
            };
            let first = why.first().map_or("", String::as_str);
            ui.label(muted(format!("theory does not apply: {first}{more}")));
        }
    }
}

/// The section at the end of the component's figures.
pub(super) fn section(ui: &mut egui::Ui, t: &Theory) {
    let a = &t.a;
    ui.separator();
    ui.strong(format!("Queueing theory: {}", a.model));
    match &a.verdict {
        Verdict::Predicts(_) => prediction(ui, t),
        Verdict::Unstable { rho } => {
            ui.colored_label(
                c32(style::RED),
                format!(
                    "offered load ρ = {} ≥ 1: no steady state, the queue grows without bound",
                    sig(*rho)
                ),
            );
        }
        Verdict::Broken(why) => {
            ui.label(egui::RichText::new("does not apply here:").color(c32(style::MUTED)));
            for w in why {
                ui.label(format!("• {w}"));
            }
        }
    }
    for n in &a.notes {
        ui.label(egui::RichText::new(format!("note: {n}")).color(c32(style::MUTED)));
    }
}

/// Predicted against observed, as a grid.
fn prediction(ui: &mut egui::Ui, t: &Theory) {
    let a = &t.a;
    ui.label(
        egui::RichText::new(format!(
            "λ = {}/s (traffic equations), {} servers, mean service {} ms",
            sig(a.lambda),
            a.servers,
            sig(a.service_s * 1000.0)
        ))
        .color(c32(style::MUTED)),
    );
    let Some((p, o)) = a.prediction().zip(t.seen) else {
        ui.label("predicted; observed figures after the next samples");
        return;
    };
    let obs = [o.rho, o.p_wait, o.lq, o.l, o.w_ms, o.p_drop];
    let pred = [p.rho, p.p_wait, p.lq, p.l, p.w * 1000.0, p.p_drop];
    let labels = [
        "ρ busy",
        "P(wait)",
        "Lq waiting",
        "L inside",
        "W ms",
        "P(drop)",
    ];
    egui::Grid::new("theory").striped(true).show(ui, |ui| {
        ui.label("");
        ui.label(egui::RichText::new("predicted").color(c32(style::MUTED)));
        ui.label(
            egui::RichText::new(format!("observed, last {} s", o.samples)).color(c32(style::MUTED)),
        );
        ui.end_row();
        for k in 0..labels.len() {
            ui.label(labels[k]);
            ui.label(sig(pred[k]));
            // Outside its interval (and more than 5% off): the eye should stop there.
            let off =
                !obs[k].covers(pred[k]) && (obs[k].mean - pred[k]).abs() > 0.05 * pred[k].abs();
            let text = egui::RichText::new(pm(&obs[k]));
            ui.label(if off {
                text.color(c32(style::YELLOW))
            } else {
                text
            });
            ui.end_row();
        }
    });
    let (lw, gap) = o.little();
    ui.label(format!(
        "Little's law: L = {}, λW = {}/s × {} ms = {} ({:.1}% apart)",
        sig(o.l.mean),
        sig(o.admitted),
        sig(o.w_ms.mean),
        sig(lw),
        gap * 100.0
    ));
}

/// The system's Little's law over the last half-minute, for the system inspector.
pub(super) fn system_little(ui: &mut egui::Ui, st: &UiState) {
    let now = st.view.seconds();
    if let Some((l, lambda, w)) = observe::system_little(st.view.all_series(), now - WINDOW_S) {
        ui.label(format!(
            "Little's law, last {WINDOW_S:.0} s: L = {} in system (sampled), λW = {}/s × {} ms = {}",
            pm(&l),
            sig(lambda),
            sig(w),
            sig(lambda * w / 1000.0)
        ));
    }
}
