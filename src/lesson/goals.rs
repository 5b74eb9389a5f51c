//! Goals for free play (Sam Rose's checklist): once a learner leaves the lesson (Esc) and plays,
//! each goal is ticked when the run shows it happened: a what-if of a kind was applied (from the
//! typed `Command` events), or a condition on the read view held.

use super::figures::{Condition, Judged, Moment};
use crate::sim::read::events::{EventKind, Journal};
use serde::Deserialize;

/// What ticks a goal.
#[derive(Debug, Clone, Deserialize)]
pub enum GoalDone {
    /// A command whose description contains these words was applied (`"spike"`, `"down"`).
    Command(String),
    /// The condition held at some moment of free play (losses and crashes counted from its
    /// start).
    Reached(Condition),
}

/// One thing to try.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Goal {
    /// What to do, in words ("Spike the traffic to x3").
    pub text: String,
    /// What shows it was done.
    pub done: GoalDone,
}

/// The checklist as free play goes on.
#[derive(Debug, Clone)]
pub struct Goals {
    /// Each goal and the simulated second it was ticked at.
    pub ticked: Vec<Option<f64>>,
    /// The moment free play began.
    start: Moment,
    /// Journal events seen so far.
    seen: usize,
    /// Moments of the last second, for rates.
    recent: std::collections::VecDeque<Moment>,
}

impl Goals {
    /// A fresh checklist from this moment; `journal_len` events already happened.
    pub fn new(goals: &[Goal], start: Moment, journal_len: usize) -> Self {
        Self {
            ticked: vec![None; goals.len()],
            start,
            seen: journal_len,
            recent: Default::default(),
        }
    }

    /// Ticks what the new events and this moment show.
    pub fn update(&mut self, goals: &[Goal], journal: &Journal, now: Moment) {
        let new = &journal.events[self.seen.min(journal.events.len())..];
        self.seen = journal.events.len();
        while self.recent.len() > 1 && self.recent[1].t <= now.t - 1.0 + 1e-9 {
            self.recent.pop_front();
        }
        let recent = self.recent.front().unwrap_or(&self.start).clone();
        let j = Judged {
            start: &self.start,
            recent: &recent,
            now: &now,
        };
        for (g, t) in goals.iter().zip(self.ticked.iter_mut()) {
            if t.is_some() {
                continue;
            }
            let done = match &g.done {
                GoalDone::Command(words) => {
                    let words = words.to_lowercase();
                    new.iter().any(|e| {
                        matches!(&e.kind, EventKind::Command { text, .. }
                            if text.to_lowercase().contains(&words))
                    })
                }
                GoalDone::Reached(c) => j.holds(c),
            };
            if done {
                *t = Some(now.t);
            }
        }
        self.recent.push_back(now);
    }

    /// Whether a tenth of a simulated second has passed since the last look (at `t`, s).
    pub fn due(&self, t: f64) -> bool {
        self.recent.back().is_none_or(|m| t >= m.t + 0.1 - 1e-9)
    }

    /// Goals ticked so far.
    pub fn done(&self) -> usize {
        self.ticked.iter().filter(|t| t.is_some()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::read::events::{Origin, SimEvent, Subject};

    fn moment(t: f64, crashes: u64) -> Moment {
        let mut m = Moment {
            t,
            ..Default::default()
        };
        m.crashes.insert("db".into(), crashes);
        m
    }

    #[test]
    fn a_goal_is_ticked_once_when_its_command_is_applied_or_its_condition_holds() {
        let goals: Vec<Goal> = ron::from_str(
            r#"[
                (text: "Spike the traffic", done: Command("SPIKE")),
                (text: "Crash the database", done: Reached(Crashed("db"))),
            ]"#,
        )
        .unwrap();
        let mut journal = Journal::default();
        journal.events.push(SimEvent::new(
            0,
            Subject::System,
            EventKind::Command {
                text: "users: spike x3 for 10 s".into(),
                origin: Origin::Live,
            },
        ));
        // Events before free play began do not count.
        let mut g = Goals::new(&goals, moment(0.0, 2), 1);
        g.update(&goals, &journal, moment(0.1, 2));
        assert_eq!(g.done(), 0);
        journal.events.push(SimEvent::new(
            200_000_000,
            Subject::System,
            EventKind::Command {
                text: "users: spike x3 for 10 s".into(),
                origin: Origin::Live,
            },
        ));
        g.update(&goals, &journal, moment(0.2, 2));
        assert_eq!(g.ticked, vec![Some(0.2), None]);
        // A crash since free play began (3 against 2 at its start).
        g.update(&goals, &journal, moment(0.3, 3));
        assert_eq!(g.ticked, vec![Some(0.2), Some(0.3)]);
        g.update(&goals, &journal, moment(0.4, 4));
        assert_eq!(g.ticked, vec![Some(0.2), Some(0.3)], "ticked once");
    }
}
