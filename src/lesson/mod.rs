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
mod goals;
pub mod reel;
pub mod replay;
mod stage;
mod validate;
pub mod voice;

pub use check::{Outcome, Report, StepReport, check};
pub use figures::{BreakerIs, Condition, Expect, Judged, Moment, StatusIs, fill, placeholders};
pub use goals::{Goal, GoalDone, Goals};
pub use stage::{Callout, Camera, Show, Target};

use crate::scenario::{self, Scenario};
use crate::sim::door::command::SimCommand;
use serde::Deserialize;
use std::path::Path;

/// A lesson file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// The lesson's title.
    pub title: String,
    /// The scenario it plays: a path relative to the lesson file (or `inline`).
    #[serde(default)]
    pub scenario: String,
    /// The scenario written out in the lesson file itself, instead of a path.
    #[serde(default)]
    pub inline: Option<Box<Scenario>>,
    /// Lines under the title on the title card (what the lesson is about).
    #[serde(default)]
    pub subtitle: Vec<String>,
    /// The steps, in order.
    pub steps: Vec<Step>,
    /// What to try in free play once the lesson is left (Esc), each ticked when it happens.
    #[serde(default)]
    pub goals: Vec<Goal>,
    /// The takeaways on the end card (default: the steps' headings).
    #[serde(default)]
    pub takeaways: Vec<String>,
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
    /// What the camera shows: the whole system (default), some entities, or one zoomed.
    #[serde(default)]
    pub camera: Camera,
    /// Components (`db`), instances (`db#0`) and links (`web->db`) emphasised, the rest dimmed.
    #[serde(default)]
    pub highlight: Vec<String>,
    /// Arrows with a short label pointing at what the caption names.
    #[serde(default)]
    pub callouts: Vec<Callout>,
    /// Panels shown beside the canvas in this step (default: the canvas only).
    #[serde(default)]
    pub show: Vec<Show>,
    /// Simulated seconds per wall (or video) second while the step runs (default 1).
    #[serde(default)]
    pub speed: Option<f64>,
    /// Whether the presenter waits for a key at the step's end (default) or goes on.
    #[serde(default = "yes")]
    pub wait: bool,
    /// What `--narrate` speaks (default: the heading and the caption, figures filled in).
    #[serde(default)]
    pub narration: String,
}

fn yes() -> bool {
    true
}

impl Step {
    /// Simulated seconds per wall second while the step runs.
    pub fn pace(&self) -> f64 {
        self.speed.unwrap_or(1.0)
    }
}

/// Whether the file at `path` is a lesson (it has `steps` and `heading`), not a scenario.
pub fn is_lesson(path: &Path) -> bool {
    crate::files::read_text(path, "lesson")
        .is_ok_and(|t| t.contains("steps") && t.contains("heading"))
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
    let s = match (&lesson.inline, lesson.scenario.is_empty()) {
        (Some(s), true) => inline(s, path)?,
        (None, false) => {
            let at = path
                .parent()
                .unwrap_or(Path::new("."))
                .join(&lesson.scenario);
            crate::runner::load_checked(&at).map_err(|e| format!("scenario: {e}"))?
        }
        _ => {
            return Err(format!(
                "{}: scenario: give a path (scenario: \"../scenarios/x.ron\") or the scenario itself (inline: (..)), one of them",
                path.display()
            ));
        }
    };
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

/// A scenario written inside the lesson, checked as a file would be.
fn inline(s: &Scenario, path: &Path) -> Result<Scenario, String> {
    let mut problems = scenario::validate(s);
    if problems.is_empty() {
        problems = crate::runner::rehearse_commands(s);
    }
    if problems.is_empty() {
        return Ok(s.clone());
    }
    let lines: Vec<String> = problems
        .iter()
        .map(|p| format!("  - inline.{}: {} (hint: {})", p.field, p.message, p.hint))
        .collect();
    Err(format!(
        "{}: {} problem(s) in the inline scenario\n{}",
        path.display(),
        problems.len(),
        lines.join("\n")
    ))
}
