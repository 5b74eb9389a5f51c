//! The desktop app (cargo feature `desktop`): a window onto a running simulation. It reads the
//! simulation only through the read seam (`SimView`), changes it only through the command door
//! (`CommandQueue`), and shows what happened from the typed events (`Journal`).
//!
//! - `scene`: components, instances, links, gates and labels;
//! - `particles`: requests and responses moving, losses where they happen;
//! - `ui`: controls, inspector, plots, decision feed, what-if, picker, help;
//! - `input`: camera, selection, dragging, keyboard;
//! - `capture`: `flowlab shot` and `flowlab record`, frame by frame in simulated time;
//! - `watch`: hot reload of the open scenario file.

pub mod capture;
pub mod input;
pub mod lesson;
pub mod particles;
pub mod probe;
pub mod scene;
pub mod side_by_side;
pub mod state;
pub mod stats;
pub mod ui;
pub mod watch;

use crate::scenario::Scenario;
use crate::sim::read::view::SimView;
use crate::sim::schedule::topology::Routes;
use crate::sim::{Runs, SimConfig, SimControl, SimDriveSystems, SimDriverPlugin, SimPlugin};
use bevy::prelude::*;
use bevy::window::{PresentMode, WindowResolution};
use bevy_egui::{EguiPlugin, EguiPrimaryContextPass};
use bevy_prototype_lyon::prelude::ShapePlugin;
use state::{OpenFile, RunMode, Scene, Selection};
use std::path::PathBuf;

/// How to start the app.
#[derive(Debug, Clone)]
pub struct AppOptions {
    /// The scenario file.
    pub path: PathBuf,
    /// Window size in pixels.
    pub size: (u32, u32),
    /// Interactive, a screenshot or a recording.
    pub mode: RunMode,
    /// Starting speed (simulated seconds per wall second).
    pub speed: f64,
    /// Close after this many wall seconds and print frame statistics (benchmarks).
    pub quit_after: Option<f64>,
    /// Open at this simulated time (s): the run before it is simulated headless first.
    pub start: Option<f64>,
    /// Select this component, instance (`web#0`), link (`web->db`) or source once loaded, so a
    /// shot shows its inspector.
    pub select: Option<String>,
    /// A comparison opened side by side (the scenario given is its first variant).
    pub compare: Option<(crate::compare::Comparison, Scenario, f64)>,
    /// The canvas only (`--clean`): no panels, the clock and a legend strip over the picture.
    pub clean: bool,
    /// A lesson presented (`flowlab lesson FILE`) or filmed (`flowlab record LESSON`).
    pub lesson: Option<lesson::LessonRun>,
}

/// A selection asked for on the command line, made once the scenario is in the world.
#[derive(Resource, Debug, Default)]
struct SelectOnStart(Option<String>);

fn select_on_start(
    mut wanted: ResMut<SelectOnStart>,
    topo: Res<crate::sim::schedule::topology::Topology>,
    mut selection: ResMut<Selection>,
) {
    let Some(name) = wanted.0.as_deref() else {
        return;
    };
    if let Some(s) = ui::selection_of(&topo, name) {
        *selection = s;
        wanted.0 = None;
    }
}

/// The app's systems, in order within a frame.
#[derive(SystemSet, Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppSystems {
    /// Keyboard, mouse, camera, reload requests.
    Input,
    /// The picture follows the simulation.
    Picture,
    /// Entities and the particle mesh follow the picture.
    Draw,
}

/// Runs the app until its window closes (or the shot or recording is done).
pub fn run(opts: AppOptions, scenario: Option<Scenario>, error: Option<String>) -> AppExit {
    let mut app = App::new();
    let interactive = opts.mode == RunMode::Interactive;
    app.insert_resource(ClearColor(scene::colour(crate::picture::style::BACKGROUND)))
        .add_plugins(DefaultPlugins.set(WindowPlugin {
            primary_window: Some(Window {
                title: "flowlab: watch backpressure happen".into(),
                resolution:
                    WindowResolution::new(opts.size.0, opts.size.1).with_scale_factor_override(1.0),
                present_mode: if interactive {
                    PresentMode::AutoVsync
                } else {
                    PresentMode::AutoNoVsync
                },
                resizable: interactive,
                ..default()
            }),
            ..default()
        }))
        .add_plugins((EguiPlugin::default(), ShapePlugin))
        .add_plugins((SimPlugin { scenario }, SimDriverPlugin))
        .insert_resource(OpenFile {
            path: opts.path.clone(),
            error,
            notice: None,
        })
        .insert_resource(opts.mode.clone())
        .init_resource::<Scene>()
        .init_resource::<Selection>()
        .insert_resource(SelectOnStart(opts.select.clone()))
        .add_systems(Update, select_on_start.in_set(AppSystems::Input))
        .init_resource::<scene::Drawn>()
        .insert_resource(state::Panels::with_clean(opts.clean))
        .init_resource::<state::Hover>()
        .init_resource::<state::Spotlight>()
        .configure_sets(Update, AppSystems::Input.before(SimDriveSystems))
        .configure_sets(
            Update,
            (AppSystems::Picture, AppSystems::Draw)
                .chain()
                .after(SimDriveSystems),
        )
        .add_systems(
            Startup,
            (
                input::spawn_camera,
                particles::setup_particles,
                scene::spawn_veil,
            ),
        )
        .add_systems(
            Update,
            (
                scene::spawn_scene,
                scene::update_scene,
                scene::spotlight,
                particles::draw_particles,
            )
                .chain()
                .in_set(AppSystems::Draw),
        )
        .add_systems(EguiPrimaryContextPass, ui::draw_ui);
    side_by_side::plugin(&mut app, opts.compare);
    input::plugin(&mut app);
    stats::plugin(&mut app);
    probe::plugin(&mut app);
    watch::plugin(&mut app);
    capture::plugin(&mut app, &opts.mode);
    lesson::plugin(&mut app, opts.lesson.clone());
    app.world_mut().resource_mut::<SimControl>().speed = opts.speed;
    if !interactive {
        app.world_mut().resource_mut::<SimControl>().paused = true;
    }
    if let Some(start) = opts.start {
        let to = (start * 1e9) as crate::sim::schedule::dist::Nanos;
        crate::sim::schedule::idle::run_until(app.world_mut(), to, |_| {});
    }
    if let Some(after) = opts.quit_after {
        app.add_systems(
            Last,
            move |time: Res<Time<Real>>,
                  mut exit: MessageWriter<AppExit>,
                  stats: Res<stats::FrameStats>| {
                if time.elapsed_secs_f64() >= after {
                    println!("{}", stats.report());
                    exit.write(AppExit::Success);
                }
            },
        );
    }
    app.run()
}

/// Brings the picture to the simulation: a new run or a seek rebuilds the layout and
/// particles; then rates, particles and the picture follow the clock.
pub fn refresh_picture(
    view: SimView,
    routes: Res<Routes>,
    config: Res<SimConfig>,
    runs: Res<Runs>,
    timeline: Option<Res<crate::sim::timeline::Timeline>>,
    control: Res<SimControl>,
    mut scene: ResMut<Scene>,
    mut seen: Local<Option<(u64, u64, f64)>>,
) {
    let scene = &mut *scene;
    let speed = control.speed;
    let seeks = timeline.map_or(0, |t| t.seeks);
    match *seen {
        Some((run, k, s)) if run == runs.0 && k == seeks => {
            if s != speed {
                scene.particles.set_speed(speed, &view);
            }
        }
        Some((run, _, _)) if run == runs.0 => scene.rewound(&view, &routes, &config, speed),
        _ => scene.rebuild(&view, &routes, &config, speed),
    }
    *seen = Some((runs.0, seeks, speed));
    scene.rates.update(&view, 1.0);
    scene.particles.update(&view);
    scene.picture = crate::picture::picture(&view, &scene.layout, &scene.rates);
}
