//! What the app keeps between frames: the picture of the simulation (from the read seam), its
//! layout and particles, what is selected, the open file and what happened to it, and how the
//! app is being run (interactive, a screenshot, a recording).

use crate::picture::layout::Layout;
use crate::picture::particles::{ParticleSettings, Particles};
use crate::picture::{Picture, Rates};
use crate::sim::SimConfig;
use crate::sim::flow::link::NodeRef;
use crate::sim::read::view::SimView;
use crate::sim::schedule::topology::{Routes, Topology};
use bevy::prelude::*;
use std::path::PathBuf;

/// The picture and everything it is drawn from.
#[derive(Resource)]
pub struct Scene {
    /// Node positions.
    pub layout: Layout,
    /// Rates measured over the last second of simulated time.
    pub rates: Rates,
    /// The particle model.
    pub particles: Particles,
    /// What is drawn now.
    pub picture: Picture,
    /// Colour particles by flow (else by priority).
    pub by_flow: bool,
    /// The run the scene was built for (bumped by every load and reset).
    pub generation: u64,
}

impl Default for Scene {
    fn default() -> Self {
        Self {
            layout: Layout::default(),
            rates: Rates::default(),
            particles: Particles::default(),
            picture: Picture::default(),
            by_flow: true,
            generation: 0,
        }
    }
}

/// What the user selected.
#[derive(Resource, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Selection {
    /// Nothing: the inspector shows the system.
    #[default]
    System,
    /// A component or source.
    Node(NodeRef),
    /// An instance, by global index.
    Instance(u32),
    /// A link.
    Link(u32),
}

/// The open scenario file and what the app has to say about it.
#[derive(Resource, Debug, Default, Clone)]
pub struct OpenFile {
    /// Its path.
    pub path: PathBuf,
    /// The last error reading it (file:line:col and hint), shown until the next good load.
    pub error: Option<String>,
    /// A short notice ("reloaded", "saved as ..."), with the wall time it was given.
    pub notice: Option<(String, f64)>,
}

/// How the app runs.
#[derive(Resource, Debug, Clone, PartialEq)]
pub enum RunMode {
    /// A person drives it.
    Interactive,
    /// Render the app at simulated time `at` (s), save `out`, exit.
    Shot {
        /// Simulated seconds.
        at: f64,
        /// PNG file.
        out: PathBuf,
    },
    /// Film the lesson (the app's `lesson::Presenter`) frame by frame from its reel to `out`.
    Film {
        /// MP4 file.
        out: PathBuf,
        /// A metadata file (chapters) for the MP4.
        chapters: Option<PathBuf>,
        /// An audio track muxed in (narration or a teacher's voice).
        audio: Option<PathBuf>,
        /// Only this frame, written as a PNG to `out`.
        only: Option<u64>,
    },
    /// Render frames from `from` to `to` (s) at `speed`, `fps` frames per second, to `out`.
    Record {
        /// Start (simulated s).
        from: f64,
        /// End (simulated s).
        to: f64,
        /// Simulated seconds per video second.
        speed: f64,
        /// Frames per second of the video.
        fps: f64,
        /// MP4 file.
        out: PathBuf,
    },
}

/// The particle budget and visible travel time for the scene.
pub const PARTICLES: ParticleSettings = ParticleSettings {
    budget: 20_000,
    visible_s: 1.2,
    exact_from_s: 0.15,
    floor_s: 2.0,
    // About 6 at once each way on the busiest link: each one can be followed by eye, even on a
    // short link.
    busiest_per_s: 5.0,
};

impl Scene {
    /// A fresh scene for the scenario in `view` (after a load or reset).
    pub fn rebuild(&mut self, view: &SimView, routes: &Routes, config: &SimConfig, speed: f64) {
        self.layout = Layout::of(view.topology(), &config.scenario);
        self.rates = Rates::default();
        self.rates.update(view, 0.0);
        let peak = peak_rate(config);
        self.particles = Particles::new(view, routes, peak, PARTICLES);
        self.particles.set_speed(speed, view);
        self.generation += 1;
    }

    /// The scene after a seek in the same run: the layout (and any box the user moved) and the
    /// drawn shapes stay; the rates and particles start again from the moment shown.
    pub fn rewound(&mut self, view: &SimView, routes: &Routes, config: &SimConfig, speed: f64) {
        self.rates = Rates::default();
        self.rates.update(view, 0.0);
        self.particles = Particles::new(view, routes, peak_rate(config), PARTICLES);
        self.particles.set_speed(speed, view);
    }
}

/// The busiest a link of the scenario gets (real requests/s): its sources' peak rate, plus
/// a share for retries. What one particle stands for is sized for it.
pub fn peak_rate(config: &SimConfig) -> f64 {
    let s = &config.scenario;
    let duration = s.sim.duration_s.max(1.0);
    let peak: f64 = s
        .sources
        .iter()
        .map(|src| {
            (0..=200)
                .map(|k| src.rate.rate_at(duration * k as f64 / 200.0))
                .fold(0.0, f64::max)
        })
        .sum();
    peak * 1.5
}

/// Panel sizes (pixels): the picture is framed in what they leave.
pub const TOP: f32 = 46.0;
/// The decision feed.
pub const BOTTOM: f32 = 160.0;
/// What-if and legend.
pub const LEFT: f32 = 235.0;
/// Inspector and plots.
pub const RIGHT: f32 = 315.0;
/// `--clean`: the clock's strip over the top of the picture.
pub const CLEAN_TOP: f32 = 40.0;
/// `--clean`: the legend's strip over the bottom of the picture.
pub const CLEAN_BOTTOM: f32 = 36.0;

/// Which panels and windows are open, requests the panels make of other systems, and the
/// what-if controls' values.
#[derive(Resource, Debug, Clone)]
pub struct Panels {
    /// The help overlay.
    pub help: bool,
    /// The scenario picker.
    pub picker: bool,
    /// Reload the open file (the button or `L`).
    pub reload_requested: bool,
    /// Frame the system (`F`).
    pub fit_requested: bool,
    /// The next run comes from an edit of the system: keep the camera where it is, so the
    /// boxes stay where the user put them.
    pub keep_frame: bool,
    /// Save a screenshot (the button or `P`).
    pub screenshot_requested: bool,
    /// Record the next seconds of the run (the button).
    pub record_requested: Option<f64>,
    /// "What if, from here?": branch the run at the moment shown (the button or `W`).
    pub branch_requested: bool,
    /// Close the branches shown (the button).
    pub close_branches: bool,
    /// Per source: the traffic multiplier on the slider.
    pub traffic: Vec<f64>,
    /// Spike: multiplier and seconds.
    pub spike: (f64, f64),
    /// Decision feed: kind filter ("" for all) and entity filter.
    pub feed_kind: String,
    /// Entity filter text.
    pub feed_entity: String,
    /// Include rate fine-tuning in the feed.
    pub feed_all: bool,
    /// Text sizes set.
    pub styled: bool,
    /// Centre the camera on the selection (a click in the feed).
    pub centre_requested: bool,
    /// The canvas only (`--clean`): no panels.
    pub clean: bool,
    /// A lesson is being presented or recorded: its keys and camera, not the app's.
    pub presenting: bool,
    /// The user panned or zoomed since the system was last framed: a resize no longer
    /// re-frames it.
    pub user_framed: bool,
    /// In a narrow window (compact): the what-if panel is open.
    pub left_open: bool,
    /// In a narrow window (compact): the inspector is open.
    pub right_open: bool,
    /// The picker's list, for the directory it was read from.
    picker_cache: Option<(PathBuf, Vec<PickerEntry>)>,
}

/// A scenario in the picker: its path and name and description, or what is wrong with it.
pub type PickerEntry = (PathBuf, Result<(String, String), String>);

impl Panels {
    /// The panels at start: none at all with `--clean`.
    pub fn with_clean(clean: bool) -> Self {
        Self { clean, ..default() }
    }

    /// The picker's list of `dir`, read once while the picker is open.
    pub fn cached_picker(
        &mut self,
        dir: &std::path::Path,
        read: impl FnOnce(&std::path::Path) -> Vec<PickerEntry>,
    ) -> Vec<PickerEntry> {
        if self.picker_cache.as_ref().is_none_or(|(d, _)| d != dir) {
            self.picker_cache = Some((dir.to_path_buf(), read(dir)));
        }
        self.picker_cache
            .as_ref()
            .map(|c| c.1.clone())
            .unwrap_or_default()
    }
}

impl Default for Panels {
    fn default() -> Self {
        Self {
            help: false,
            picker: false,
            reload_requested: false,
            fit_requested: false,
            keep_frame: false,
            screenshot_requested: false,
            record_requested: None,
            branch_requested: false,
            close_branches: false,
            traffic: vec![],
            spike: (3.0, 10.0),
            feed_kind: String::new(),
            feed_entity: String::new(),
            feed_all: false,
            styled: false,
            centre_requested: false,
            clean: false,
            presenting: false,
            user_framed: false,
            left_open: false,
            right_open: false,
            picker_cache: None,
        }
    }
}

/// Whether the pointer or the keyboard belongs to the panels this frame (set by the UI).
#[derive(Resource, Debug, Default, Clone)]
pub struct Hover {
    /// egui is using the pointer (a drag on a slider that left its panel).
    pub pointer: bool,
    /// Where the panels, windows, popups and menus are (logical px: min x, min y, max x,
    /// max y): a press there is theirs, wherever the pointer was the frame before.
    pub blocked: Vec<[f32; 4]>,
    /// A text field has the keyboard.
    pub keyboard: bool,
    /// The area the panels leave for the picture (logical px: min x, min y, max x, max y).
    pub free: Option<[f32; 4]>,
}

impl Hover {
    /// The picture, not a panel or window, gets a pointer event at `c`.
    pub fn picture_has(&self, c: Option<Vec2>) -> bool {
        let inside =
            |c: Vec2, r: &[f32; 4]| c.x >= r[0] && c.x <= r[2] && c.y >= r[1] && c.y <= r[3];
        let in_free = match (c, self.free) {
            (Some(c), Some(r)) => inside(c, &r),
            (Some(_), None) => true,
            (None, _) => false,
        };
        in_free && !self.pointer && c.is_some_and(|c| !self.blocked.iter().any(|r| inside(c, r)))
    }
}

/// Speed presets (simulated seconds per wall second).
pub const SPEEDS: [f64; 11] = [
    0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 100.0,
];

/// The next preset up (or down) from `speed`.
pub fn next_speed(speed: f64, up: bool) -> f64 {
    if up {
        SPEEDS
            .iter()
            .copied()
            .find(|s| *s > speed * 1.0001)
            .unwrap_or(100.0)
    } else {
        SPEEDS
            .iter()
            .rev()
            .copied()
            .find(|s| *s < speed * 0.9999)
            .unwrap_or(0.001)
    }
}

/// What a lesson's step emphasises: these boxes and links are drawn above a veil that dims the
/// rest (`scene::spotlight`). Empty: nothing is dimmed.
#[derive(Resource, Debug, Default, Clone, PartialEq)]
pub struct Spotlight {
    /// Components and sources lifted above the veil.
    pub nodes: Vec<NodeRef>,
    /// Links lifted above the veil (by index).
    pub links: Vec<u32>,
}

/// What a decision's entity name refers to.
/// (a component, instance `web#0`, link `web->db` or source, by name).
pub fn selection_of(topo: &Topology, entity: &str) -> Option<Selection> {
    let name = entity.split(" -> instance").next().unwrap_or(entity);
    if let Some(c) = topo.component(name) {
        return Some(Selection::Node(NodeRef::Component(c.index)));
    }
    if let Some(i) = topo.instance_names.iter().position(|n| n == name) {
        return Some(Selection::Instance(i as u32));
    }
    if let Some(l) = topo.link_names.iter().position(|n| n == name) {
        return Some(Selection::Link(l as u32));
    }
    topo.source_names
        .iter()
        .position(|n| n == name)
        .map(|s| Selection::Node(NodeRef::Source(s as u32)))
}

/// The left panel's edit box: the line being typed, the edits made (undo, redo), a draft
/// not yet complete enough to run.
#[derive(Resource, Default)]
pub struct Edits {
    /// The line being typed.
    pub line: String,
    /// Edits made, for undo and redo.
    pub history: crate::scenario::edit::History,
    /// An edited system not yet complete enough to run, and what it lacks.
    pub draft: Option<(crate::scenario::Scenario, Vec<String>)>,
    /// What the last action did: (it worked, in words).
    pub feedback: Option<(bool, String)>,
    /// Undo or redo asked by the keyboard (Ctrl+Z, Ctrl+Shift+Z).
    pub undo: bool,
    /// See `undo`.
    pub redo: bool,
    /// The palette is on the canvas (the Build button, `B`).
    pub building: bool,
    /// After an edit: re-simulate to the moment shown (true) or start again at t = 0.
    pub catch_up: bool,
    /// A palette entry let go over the picture, at this window point (the pointer system
    /// turns it into a picture point: `drop`).
    pub released: Option<(crate::scenario::edit::Palette, Vec2)>,
    /// A palette entry to add at this picture point.
    pub drop: Option<(crate::scenario::edit::Palette, (f32, f32))>,
    /// A drag from one box to another ended: connect them.
    pub connect: Option<(NodeRef, NodeRef)>,
    /// A connecting drag under way: from this window point to the pointer, over this box.
    pub band: Option<(Vec2, Vec2, Option<NodeRef>)>,
    /// Where each box's connecting handle is drawn (window points), while building.
    pub ports: Vec<Vec2>,
    /// The Delete key on a selection.
    pub delete: Option<Selection>,
    /// Boxes the user dragged, by name, where they are now (picture units): the next edit
    /// and "Save" write them as the boxes' `layout`.
    pub moved: Vec<(String, (f32, f32))>,
    /// The stem a save is named from when the system was started in the app ("New").
    pub stem: Option<String>,
    /// The inspector's last refused field change: target, field path, why.
    pub refused: Option<(String, String, String)>,
    /// The variants of enum fields, by the field's kind and path (the inspector's menus).
    pub variants: std::collections::HashMap<String, Option<Vec<String>>>,
}
