//! Lessons: one RON file that teaches a backpressure idea step by step on a live, deterministic
//! simulation. Each step has a caption (a heading and a few lines), speaker notes, what-if
//! commands at offsets from its start, how long it runs (for some seconds, until a time, or until
//! a condition on the read view holds, within a limit) and the claims its caption makes, as
//! expectations checked against the run. `flowlab lesson FILE --check` runs every step headless
//! and fails, naming the step, the claim and the measured figure, when a caption stops being
//! true (`check`). Captions may quote the step's measured figures (`{goodput}`, `{queue:db}`),
//! so the words say what this run shows. docs/LESSONS.md has the format field by field.

mod check;
mod figures;
mod validate;

pub use check::{Outcome, Report, StepReport, check};
pub use figures::{BreakerIs, Condition, Expect, StatusIs};

use crate::scenario::{self, Scenario};
use crate::sim::command::SimCommand;
use serde::Deserialize;
use std::path::Path;

/// A lesson file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// The lesson's title.
    pub title: String,
    /// The scenario it plays: a path relative to the lesson file.
    pub scenario: String,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// One step of a lesson.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// The caption's heading.
    pub heading: String,
    /// The caption's lines (at most 4); `{figure}` quotes a measured figure of the step.
    #[serde(default)]
    pub caption: Vec<String>,
    /// What the presenter says or points at (not shown to the audience).
    #[serde(default)]
    pub notes: String,
    /// How long the step runs.
    pub run: Run,
    /// What-if commands, at seconds from the step's start.
    #[serde(default)]
    pub commands: Vec<StepCommand>,
    /// The claims the caption makes, checked against the run.
    #[serde(default)]
    pub expect: Vec<Expect>,
}

/// How long a step runs.
#[derive(Debug, Clone, Deserialize)]
pub enum Run {
    /// For this many simulated seconds.
    For(f64),
    /// Until this simulated time (s from the start of the run).
    Until(f64),
    /// Until the condition holds, at most this many seconds (the step fails if it never does).
    When(Condition, f64),
}

/// A what-if command at an offset from the step's start.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepCommand {
    /// Seconds after the step starts.
    #[serde(default)]
    pub at_s: f64,
    /// The command, as a scenario's `commands` write it.
    pub command: SimCommand,
}

/// Reads a lesson file and its scenario, with every field checked (names against the
/// scenario, numbers in range, commands rehearsed, placeholders known).
pub fn load(path: &Path) -> Result<(Lesson, Scenario), String> {
    let text = crate::files::read_text(path, "lesson").map_err(|e| e.to_string())?;
    let lesson: Lesson = scenario::from_ron(&text, path)?;
    let at = path
        .parent()
        .unwrap_or(Path::new("."))
        .join(&lesson.scenario);
    let s = crate::runner::load_checked(&at).map_err(|e| format!("scenario: {e}"))?;
    let problems = validate::problems(&lesson, &s);
    if !problems.is_empty() {
        let lines: Vec<String> = problems
            .iter()
            .map(|(field, why)| format!("  - {field}: {why}"))
            .collect();
        return Err(format!(
            "{}: {} problem(s) in lesson\n{}",
            path.display(),
            problems.len(),
            lines.join("\n")
        ));
    }
    Ok((lesson, s))
}
