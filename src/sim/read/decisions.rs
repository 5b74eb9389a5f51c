//! The decision log: the journal's typed events (rate changes, breaker transitions, fallbacks,
//! crashes, commands) in words, with time and entity names, written as JSON Lines by `flowlab
//! run --events FILE` and summarised after a run. It is rebuilt from the events at the end of
//! every tick (the `Record` phase); nothing here is decided, only described.

use crate::sim::SimFlowTick;
use crate::sim::SimSystems;
use crate::sim::SimTick;
use crate::sim::control::health::HealthBand;
use crate::sim::flow::link::Urgency;
use crate::sim::read::events::{self, EventKind, Fallback, Journal, Origin, SimEvent, Subject};
use crate::sim::schedule::topology::Topology;
use crate::sim::{LoadSystems, SimLoad};
use bevy::ecs::message::Messages;
use bevy::prelude::*;
use serde::Serialize;

/// One decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// Simulation time (s).
    pub t: f64,
    /// What kind: `rate_change`, `breaker`, `crash`, `restart`, `fallback`.
    pub kind: &'static str,
    /// Who decided or what it concerns (a link `from->to`, a component, an instance).
    pub entity: String,
    /// Old value (rate in real requests/s; `null` for unlimited), if any.
    pub old: Option<f64>,
    /// New value, if any.
    pub new: Option<f64>,
    /// Why.
    pub reason: String,
    /// `immediate` or `gradual`, for rate changes.
    pub urgency: Option<&'static str>,
    /// The receiver's status as the sender saw it, for rate changes; breaker states otherwise.
    pub state: Option<String>,
    /// Importance for the summary: 3 crashes, outages, slowdowns, emergency cuts; 2 limits set
    /// or lifted, large cuts, breakers, fallbacks, commands; 1 other; 0 rate changes of 1% or
    /// less (written to the log, left out of summaries and the app's feed by default).
    pub importance: u8,
}

/// Every decision so far.
#[derive(Resource, Debug, Clone, Default)]
pub struct DecisionLog {
    /// In time order.
    pub events: Vec<Decision>,
}

impl DecisionLog {
    /// Records a rate change on a link.
    fn rate_change(
        &mut self,
        t: f64,
        link: &str,
        old: Option<f64>,
        new: Option<f64>,
        reason: &str,
        urgency: Urgency,
        status: HealthBand,
        actual: HealthBand,
    ) {
        // An emergency cut of a quarter or more is a headline; a limit set or lifted, or a cut
        // of a tenth or more, is worth listing; the rest is fine-tuning.
        let emergency = urgency == Urgency::Immediate
            && matches!((old, new), (Some(a), Some(b)) if b <= 0.75 * a);
        let notable = match (old, new) {
            (Some(a), Some(b)) => b <= 0.9 * a,
            _ => true,
        };
        let tuning = matches!((old, new), (Some(a), Some(b)) if (a - b).abs() <= 0.01 * a);
        self.events.push(Decision {
            t,
            kind: "rate_change",
            entity: link.to_string(),
            old,
            new,
            reason: reason.to_string(),
            urgency: Some(urgency.name()),
            // The receiver's status at that moment, and what the sender heard when it differs
            // (a cached answer from before the change).
            state: Some(if status == actual {
                actual.name().to_string()
            } else {
                format!("{} (heard {})", actual.name(), status.name())
            }),
            importance: if emergency {
                3
            } else if notable {
                2
            } else if tuning {
                // A change of 1% or less: written, as every decision is, but never a headline.
                0
            } else {
                1
            },
        });
    }

    /// Records any other decision.
    fn note(
        &mut self,
        t: f64,
        kind: &'static str,
        entity: &str,
        reason: String,
        state: Option<String>,
        importance: u8,
    ) {
        self.events.push(Decision {
            t,
            kind,
            entity: entity.to_string(),
            old: None,
            new: None,
            reason,
            urgency: None,
            state,
            importance,
        });
    }

    /// Adds the decision an event stands for, if it is one.
    fn describe(&mut self, e: &SimEvent, topo: &Topology) {
        let t = e.seconds();
        let who = name_of(e.subject, topo);
        let (kind, what, state, importance) = match &e.kind {
            &EventKind::RateChange {
                old,
                new,
                reason,
                urgency,
                status,
                actual,
            } => {
                // Changes of 1% or less are fine-tuning, left out of the log.
                self.rate_change(t, &who, old, new, reason.name(), urgency, status, actual);
                return;
            }
            EventKind::Crash => ("crash", "out of memory".to_string(), None, 3),
            EventKind::Outage { scheduled, .. } => {
                let why = if *scheduled {
                    "scheduled fault"
                } else {
                    "taken down by a command"
                };
                ("outage", why.to_string(), None, 3)
            }
            EventKind::Restart => ("restart", "back up".to_string(), None, 1),
            EventKind::Slowdown { factor, until } => {
                let what = format!("slowed down {factor}x until t = {} s", *until as f64 / 1e9);
                ("slowdown", what, None, 3)
            }
            EventKind::Errors { share, until } => {
                let what = format!(
                    "fails {}% of requests until t = {} s",
                    share * 100.0,
                    *until as f64 / 1e9
                );
                ("errors", what, None, 3)
            }
            EventKind::LinkFault {
                added_ms,
                loss,
                until,
            } => {
                let what = format!(
                    "degraded until t = {} s: +{added_ms} ms latency, {}% of requests lost",
                    *until as f64 / 1e9,
                    loss * 100.0
                );
                ("link_fault", what, None, 3)
            }
            EventKind::Scale { from, to, below } => {
                let (kind, what) = match below {
                    Some(b) => ("scale_up", format!("every instance below {b} health")),
                    None => (
                        "scale_down",
                        "all instances healthy and underused".to_string(),
                    ),
                };
                (kind, what, Some(format!("{from} -> {to} instances")), 2)
            }
            EventKind::Breaker { from, to, reason } => {
                let state = format!("{} -> {}", from.name(), to.name());
                ("breaker", reason.text().to_string(), Some(state), 2)
            }
            EventKind::Fallback(f) => ("fallback", fallback_text(*f, topo), None, 2),
            EventKind::Mechanism(m) => {
                let (kind, what) = m.text();
                // A concurrency limit moves all the time: fine-tuning, like a small rate change.
                let importance = if kind == "concurrency_limit" { 0 } else { 1 };
                (kind, what, None, importance)
            }
            EventKind::HealthCheck { opened, open_s } => {
                let what = if *opened {
                    format!(
                        "health checks keep failing: target treated as down, not asked for {open_s} s"
                    )
                } else {
                    "health checks answered again".to_string()
                };
                ("health_check", what, None, 2)
            }
            EventKind::Anomaly { queue } => (
                "anomaly",
                format!("queue {queue} far off its forecast"),
                None,
                1,
            ),
            // A scenario's faults show as the outages and slowdowns they cause.
            EventKind::Command {
                origin: Origin::Scenario,
                ..
            }
            | EventKind::Ended { .. } => return,
            EventKind::Command { text, .. } => ("command", text.clone(), None, 2),
        };
        self.note(t, kind, &who, what, state, importance);
    }

    /// The log as JSON Lines.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for e in &self.events {
            if let Ok(line) = serde_json::to_string(e) {
                out.push_str(&line);
                out.push('\n');
            }
        }
        out
    }

    /// The decisions that tell the run's story, at most `n`, in time order: breaker
    /// transitions, crashes, outages and fallbacks first (up to half of `n`); then the first and
    /// the last decision of every other kind (onset and recovery); then the most important of
    /// what is left, taken in turn from the first, middle and last third of the run.
    pub fn highlights(&self, n: usize) -> Vec<&Decision> {
        let cands: Vec<usize> = (0..self.events.len())
            .filter(|&i| self.events[i].importance > 0)
            .collect();
        let mut chosen = std::collections::BTreeSet::new();
        let headline = |k: &str| matches!(k, "breaker" | "crash" | "outage" | "fallback");
        for &i in cands.iter().filter(|&&i| headline(self.events[i].kind)) {
            if chosen.len() >= n / 2 {
                break;
            }
            chosen.insert(i);
        }
        for kind in STORY_ORDER {
            let of_kind = || cands.iter().filter(|&&i| self.events[i].kind == kind);
            for i in [of_kind().next(), of_kind().next_back()]
                .into_iter()
                .flatten()
            {
                if chosen.len() < n {
                    chosen.insert(*i);
                }
            }
        }
        let end = self
            .events
            .iter()
            .map(|d| d.t)
            .fold(0.0, f64::max)
            .max(1e-9);
        let mut thirds: [Vec<usize>; 3] = Default::default();
        for &i in &cands {
            thirds[((self.events[i].t / end * 3.0) as usize).min(2)].push(i);
        }
        for t in &mut thirds {
            t.sort_by(|a, b| self.events[*b].importance.cmp(&self.events[*a].importance));
        }
        let mut k = 0;
        while chosen.len() < n.min(cands.len()) && k < cands.len() {
            for t in &thirds {
                if let Some(&i) = t.iter().find(|i| !chosen.contains(*i))
                    && chosen.len() < n
                {
                    chosen.insert(i);
                }
            }
            k += 1;
        }
        chosen.into_iter().map(|i| &self.events[i]).collect()
    }
}

/// The kinds of decision, in the order a run's story needs them.
const STORY_ORDER: [&str; 14] = [
    "crash",
    "outage",
    "breaker",
    "fallback",
    "errors",
    "link_fault",
    "slowdown",
    "restart",
    "scale_up",
    "scale_down",
    "health_check",
    "command",
    "rate_change",
    "anomaly",
];

/// Words for a fallback.
fn fallback_text(f: Fallback, topo: &Topology) -> String {
    match f {
        Fallback::StaleOn => "serving stale data: downstream RED or CRITICAL".into(),
        Fallback::Fresh => "fresh data again".into(),
        Fallback::StaleReturning => "sending misses back to the database gradually".into(),
        Fallback::Reroute { to } => {
            let to = topo
                .components
                .get(to as usize)
                .map_or("?", |c| c.name.as_str());
            format!("rerouting to {to}: target cannot accept load")
        }
        Fallback::RouteBack => "back on its own route".into(),
    }
}

/// The display name of what an event concerns.
pub fn name_of(subject: Subject, topo: &Topology) -> String {
    let get = |v: &Vec<String>, i: u32| v.get(i as usize).cloned().unwrap_or_default();
    match subject {
        Subject::System => "system".to_string(),
        Subject::Source(i) => get(&topo.source_names, i),
        Subject::Component(i) => topo
            .components
            .get(i as usize)
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        Subject::Instance(i) => get(&topo.instance_names, i),
        Subject::Link(i) => get(&topo.link_names, i),
        Subject::LinkInstance(l, k) => format!("{} -> instance {k}", get(&topo.link_names, l)),
    }
}

pub(in crate::sim) fn plugin(app: &mut App) {
    app.init_resource::<DecisionLog>()
        .add_systems(SimTick, record.in_set(SimSystems::Record))
        .add_systems(SimFlowTick, record.in_set(SimSystems::Record))
        .add_systems(SimLoad, clear.in_set(LoadSystems::Clear));
}

/// Nothing decided yet (the load schedule).
fn clear(world: &mut World) {
    world.insert_resource(DecisionLog::default());
}

/// The `Record` phase: this tick's events into the journal, and the decisions they stand for
/// into the log (rebuilt in time order when an event arrived late, like a restart noticed at
/// the next engine update).
fn record(
    mut messages: ResMut<Messages<SimEvent>>,
    mut journal: ResMut<Journal>,
    mut log: ResMut<DecisionLog>,
    topo: Res<Topology>,
) {
    match events::collect(&mut messages, &mut journal) {
        Some(first) => {
            for e in &journal.events[first..] {
                log.describe(e, &topo);
            }
        }
        None => {
            log.events.clear();
            for e in &journal.events {
                log.describe(e, &topo);
            }
        }
    }
}
