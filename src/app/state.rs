//! What the app keeps between frames: the picture of the simulation (from the read seam), its
//! layout and particles, what is selected, the open file and what happened to it, and how the
//! app is being run (interactive, a screenshot, a recording).

use crate::picture::layout::Layout;
use crate::picture::particles::{ParticleSettings, Particles};
use crate::picture::{Picture, Rates};
use crate::sim::SimConfig;
use crate::sim::link::NodeRef;
use crate::sim::topology::Routes;
use crate::sim::view::SimView;
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
    busiest_per_s: 50.0,
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
