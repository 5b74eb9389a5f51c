//! What a step puts on the stage besides the simulation: where the camera looks, what it
//! points at (callouts) and which panels sit beside the canvas. The app draws them
//! (`app::lesson`); here they are data, checked against the scenario (`validate`).

use serde::Deserialize;

/// What the camera shows during a step, reached with an eased move from where it was.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub enum Camera {
    /// The whole system, every box and label (the default).
    #[default]
    Whole,
    /// These components (by name), framed together with room around them.
    Frame(Vec<String>),
    /// One component, close: it fills about half the canvas.
    Zoom(String),
}

/// What a callout points at.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub enum Target {
    /// A component's box (by name).
    Component(String),
    /// An instance's tile (`db#0`).
    Instance(String),
    /// A link's curve (`web->db`).
    Link(String),
    /// The gate drawn on a link (`web->db`): its rate limit or breaker.
    Gate(String),
    /// An instance's queue and busy gauges (`db#0`): the bar along its tile.
    Gauge(String),
    /// The plots of the inspector (shown with `show: [Inspector(..)]`): the first one.
    Plot,
    /// The inspector's plot whose title starts with these words (`"latency"`, `"queue"`),
    /// shown with `show: [Inspector(..)]`; the first plot when none does.
    Chart(String),
}

/// An arrow with a short label, pointing at something on the canvas.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Callout {
    /// What it points at.
    pub at: Target,
    /// Its label (a few words).
    pub label: String,
    /// Seconds after the step starts that it appears (default: at once).
    #[serde(default)]
    pub from_s: f64,
}

/// A panel shown beside the canvas during a step.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub enum Show {
    /// The inspector of a component, instance (`db#0`) or link (`web->db`), with its plots.
    Inspector(String),
    /// The decision feed: rate changes, breaker transitions, crashes, as they happen.
    Feed,
    /// Every panel of the app (controls, what-if, inspector, feed).
    Panels,
}

impl Target {
    /// The name it refers to (empty for the plots).
    pub fn name(&self) -> &str {
        match self {
            Target::Component(n)
            | Target::Instance(n)
            | Target::Link(n)
            | Target::Gate(n)
            | Target::Gauge(n)
            | Target::Chart(n) => n,
            Target::Plot => "",
        }
    }
}
