//! The decision log: every decision of the flow-control system (rate changes, breaker
//! transitions, fallbacks, crashes) as a structured event with time and entities, written as
//! JSON Lines by `flowlab run --events FILE`.

use super::health::Status;
use super::link::Urgency;
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
    /// Importance for the summary: 3 crash or outage, 2 breaker or emergency cut, 1 other.
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
    pub fn rate_change(
        &mut self,
        t: f64,
        link: &str,
        old: Option<f64>,
        new: Option<f64>,
        reason: &str,
        urgency: Urgency,
        status: Status,
    ) {
        // An emergency cut of a quarter or more is a headline; a limit set or lifted, or a cut
        // of a tenth or more, is worth listing; the rest is fine-tuning.
        let emergency = urgency == Urgency::Immediate
            && matches!((old, new), (Some(a), Some(b)) if b <= 0.75 * a);
        let notable = match (old, new) {
            (Some(a), Some(b)) => b <= 0.9 * a,
            _ => true,
        };
        self.events.push(Decision {
            t,
            kind: "rate_change",
            entity: link.to_string(),
            old,
            new,
            reason: reason.to_string(),
            urgency: Some(urgency.name()),
            state: Some(status.name().to_string()),
            importance: if emergency {
                3
            } else if notable {
                2
            } else {
                1
            },
        });
    }

    /// Records any other decision.
    pub fn note(
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

    /// The most important decisions, at most `n`, in time order.
    pub fn highlights(&self, n: usize) -> Vec<&Decision> {
        let mut v: Vec<&Decision> = self.events.iter().collect();
        v.sort_by(|a, b| b.importance.cmp(&a.importance).then(a.t.total_cmp(&b.t)));
        v.truncate(n);
        v.sort_by(|a, b| a.t.total_cmp(&b.t));
        v
    }
}
