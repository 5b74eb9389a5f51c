//! A lesson in the app: presented live (`flowlab lesson FILE`) or filmed (`flowlab record
//! FILE --out lesson.mp4`). The plan is the check's run of the lesson (`lesson::check`): each
//! step's clock at its start and end. Presenting plays each step on the live simulation to
//! exactly its planned end and waits for a key; going back rebuilds the run to a step's start
//! (the same scenario, seed and commands at the same times give the same run). Filming takes
//! every frame's moment from the reel (`lesson::reel`).
//!
//! Keys: Right or Space, next (a running step skips to its end); Left, previous; R, replay the
//! step; 1-9, jump to a step; B, blank; Esc, leave the lesson and play freely, every what-if at
//! hand, with the lesson's goals as a checklist.

pub mod stage;

use super::AppSystems;
use super::state::{Panels, Selection, Spotlight};
use crate::lesson::reel::{FrameAt, Part, Reel};
use crate::lesson::{Goals, Lesson, Moment, Report, Show, replay};
use crate::scenario::Scenario;
use crate::sim::SimControl;
use crate::sim::read::view::SimView;
use crate::sim::schedule::dist::SEC;
use bevy::ecs::system::SystemState;
use bevy::prelude::*;
use std::path::PathBuf;

pub use stage::Anchors;

/// A lesson to present or film, and its plan.
#[derive(Debug, Clone)]
pub struct LessonRun {
    /// The lesson file's path.
    pub path: PathBuf,
    /// The lesson.
    pub lesson: Lesson,
    /// Its scenario.
    pub scenario: Scenario,
    /// The check's run: every step's clock, filled caption and claims.
    pub plan: Report,
    /// Filming: the video's frames.
    pub reel: Option<Reel>,
}

/// Where the lesson is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Phase {
    /// The title card (the run at t = 0).
    Title,
    /// Step k runs (`done`: it reached its planned end and waits for a key).
    Step {
        /// The step, from 0.
        k: usize,
        /// Reached its end.
        done: bool,
    },
    /// The end card.
    End,
    /// The lesson was left (Esc): free play.
    Free,
}

/// The lesson being presented or filmed.
#[derive(Resource)]
pub struct Presenter {
    /// The lesson and its plan.
    pub run: LessonRun,
    /// Where it is.
    pub phase: Phase,
    /// The screen is blanked (B).
    pub blank: bool,
    /// Lesson seconds (wall seconds presenting, video seconds filming).
    pub clock: f64,
    /// Lesson seconds when the phase began (camera moves and callouts count from it).
    pub since: f64,
    /// Filming (frames from the reel) rather than presenting.
    pub filming: bool,
    /// The free-play checklist, once the lesson is left.
    pub goals: Option<Goals>,
}

impl Presenter {
    /// The step shown, if one is.
    pub fn step(&self) -> Option<usize> {
        match self.phase {
            Phase::Step { k, .. } => Some(k),
            _ => None,
        }
    }

    /// Whether the lesson still drives the app (not left for free play).
    pub fn on(&self) -> bool {
        self.phase != Phase::Free
    }

    fn enter(&mut self, phase: Phase) {
        if std::mem::discriminant(&phase) != std::mem::discriminant(&self.phase)
            || self.step() != step_of(phase)
        {
            self.since = self.clock;
        }
        self.phase = phase;
    }
}

fn step_of(p: Phase) -> Option<usize> {
    match p {
        Phase::Step { k, .. } => Some(k),
        _ => None,
    }
}

pub(super) fn plugin(app: &mut App, run: Option<LessonRun>) {
    let Some(run) = run else {
        return;
    };
    let filming = run.reel.is_some();
    app.insert_resource(Presenter {
        run,
        phase: Phase::Title,
        blank: false,
        clock: 0.0,
        since: 0.0,
        filming,
        goals: None,
    })
    .init_resource::<Anchors>()
    .add_systems(Startup, begin)
    .add_systems(
        Update,
        present
            .in_set(AppSystems::Input)
            .after(super::input::InputSystems),
    )
    .add_systems(
        Update,
        (stage::frame_camera, stage::anchors)
            .chain()
            .after(super::AppSystems::Picture)
            .before(super::AppSystems::Draw),
    );
}

/// At start: the title card, the run paused at t = 0; filming, every step's commands queued
/// at their planned times.
fn begin(world: &mut World) {
    world.resource_mut::<Panels>().presenting = true;
    world.resource_mut::<Panels>().clean = true;
    world.resource_mut::<SimControl>().paused = true;
    let p = world.resource::<Presenter>();
    let (filming, run) = (p.filming, p.run.clone());
    if filming {
        for k in 0..run.lesson.steps.len() {
            replay::queue_step(world, &run.lesson, &run.plan, k);
        }
    } else {
        println!(
            "{}: {} steps. Right or Space: next; Left: back; R: replay; 1-9: jump; B: blank; Esc: play freely",
            run.lesson.title,
            run.lesson.steps.len()
        );
    }
}

/// The presenter's keys, and a running step brought to its planned end.
fn present(world: &mut World) {
    if world.resource::<Presenter>().filming {
        return;
    }
    let dt = world.resource::<Time<Real>>().delta_secs_f64();
    world.resource_mut::<Presenter>().clock += dt;
    let keys = world.resource::<ButtonInput<KeyCode>>().clone();
    let phase = world.resource::<Presenter>().phase;
    if phase == Phase::Free {
        tick_goals(world);
        return;
    }
    let n = world.resource::<Presenter>().run.lesson.steps.len();
    let pressed = |k: KeyCode| keys.just_pressed(k);
    if pressed(KeyCode::KeyB) {
        let mut p = world.resource_mut::<Presenter>();
        p.blank = !p.blank;
    }
    if pressed(KeyCode::Escape) {
        leave(world);
        return;
    }
    let digit = (1..=9).find(|d| {
        let key = [
            KeyCode::Digit1,
            KeyCode::Digit2,
            KeyCode::Digit3,
            KeyCode::Digit4,
            KeyCode::Digit5,
            KeyCode::Digit6,
            KeyCode::Digit7,
            KeyCode::Digit8,
            KeyCode::Digit9,
        ][d - 1];
        pressed(key)
    });
    if let Some(d) = digit.filter(|d| *d <= n) {
        goto(world, d - 1);
        return;
    }
    if pressed(KeyCode::ArrowRight) || pressed(KeyCode::Space) || pressed(KeyCode::PageDown) {
        next(world);
        return;
    }
    if pressed(KeyCode::ArrowLeft) || pressed(KeyCode::PageUp) {
        match phase {
            Phase::Step { k: 0, .. } | Phase::Title => title(world),
            Phase::Step { k, .. } => goto(world, k - 1),
            Phase::End => goto(world, n - 1),
            Phase::Free => {}
        }
        return;
    }
    if pressed(KeyCode::KeyR)
        && let Phase::Step { k, .. } = phase
    {
        goto(world, k);
        return;
    }
    if let Phase::Step { k, done: false } = phase {
        let end = world.resource::<Presenter>().run.plan.steps[k].clock.1;
        let now = world.resource::<crate::sim::SimClock>().now;
        if now >= end || crate::sim::halted(world) {
            finish_step(world, k);
        }
    }
}

/// Right: the next step (or skip a running one to its end, or the end card).
fn next(world: &mut World) {
    let p = world.resource::<Presenter>();
    let n = p.run.lesson.steps.len();
    match p.phase {
        Phase::Title => start_step(world, 0),
        Phase::Step { k, done: false } => {
            let end = p.run.plan.steps[k].clock.1;
            crate::sim::schedule::idle::run_until(world, end, |_| {});
            finish_step(world, k);
        }
        Phase::Step { k, done: true } if k + 1 < n => start_step(world, k + 1),
        Phase::Step { .. } => {
            world.resource_mut::<Presenter>().enter(Phase::End);
            world
                .resource_mut::<Spotlight>()
                .clone_from(&Spotlight::default());
            println!("end of the lesson: Esc to play freely from here");
        }
        Phase::End | Phase::Free => {}
    }
}

/// The step reached its end: it waits for a key, or goes on if it does not wait.
fn finish_step(world: &mut World, k: usize) {
    {
        let mut c = world.resource_mut::<SimControl>();
        c.paused = true;
        c.stop_at = None;
    }
    let (wait, report) = {
        let p = world.resource::<Presenter>();
        (p.run.lesson.steps[k].wait, p.run.plan.steps[k].clone())
    };
    world
        .resource_mut::<Presenter>()
        .enter(Phase::Step { k, done: true });
    for o in &report.outcomes {
        println!(
            "  {} {}: {}",
            if o.ok { "ok  " } else { "FAIL" },
            o.claim,
            o.detail
        );
    }
    if !wait {
        next(world);
    }
}

/// Starts step k from where the run is (its planned start): its commands queued at their
/// times, the run going at its speed up to its planned end.
fn start_step(world: &mut World, k: usize) {
    let run = world.resource::<Presenter>().run.clone();
    let (step, r) = (&run.lesson.steps[k], &run.plan.steps[k]);
    replay::queue_step(world, &run.lesson, &run.plan, k);
    {
        let mut c = world.resource_mut::<SimControl>();
        c.speed = step.pace();
        c.paused = false;
        c.stop_at = Some(r.clock.1);
    }
    show_panels(world, &step.show);
    let n = run.lesson.steps.len();
    world
        .resource_mut::<Presenter>()
        .enter(Phase::Step { k, done: false });
    println!("\nstep {}/{n}: {}", k + 1, step.heading);
    if !step.notes.is_empty() {
        println!("  notes: {}", step.notes);
    }
}

/// The panels a step shows beside the canvas.
fn show_panels(world: &mut World, show: &[Show]) {
    let all = show.contains(&Show::Panels);
    world.resource_mut::<Panels>().clean = !all;
    let inspect = show.iter().find_map(|s| match s {
        Show::Inspector(n) => Some(n.clone()),
        _ => None,
    });
    let sel = inspect.and_then(|n| {
        let topo = world.resource::<crate::sim::schedule::topology::Topology>();
        super::state::selection_of(topo, &n)
    });
    *world.resource_mut::<Selection>() = sel.unwrap_or_default();
}

/// The run rebuilt from t = 0 to step k's start (every earlier step's commands at their
/// planned times), then step k started.
fn goto(world: &mut World, k: usize) {
    let run = world.resource::<Presenter>().run.clone();
    replay::rebuild_to(world, &run.lesson, &run.plan, &run.scenario, k);
    start_step(world, k);
}

/// Back to the title card, the run at t = 0.
fn title(world: &mut World) {
    let s = world.resource::<Presenter>().run.scenario.clone();
    crate::sim::schedule::load::load_scenario(world, s);
    world.resource_mut::<SimControl>().paused = true;
    world.resource_mut::<Presenter>().enter(Phase::Title);
    show_panels(world, &[]);
}

/// Esc: the lesson is left; the run goes on from this moment with every panel and what-if.
fn leave(world: &mut World) {
    {
        let mut p = world.resource_mut::<Panels>();
        p.presenting = false;
        p.clean = false;
        p.fit_requested = true;
    }
    {
        let mut c = world.resource_mut::<SimControl>();
        c.paused = false;
        c.stop_at = None;
        c.speed = 1.0;
    }
    *world.resource_mut::<Spotlight>() = Spotlight::default();
    let start = moment(world);
    let len = world
        .resource::<crate::sim::read::events::Journal>()
        .events
        .len();
    let mut p = world.resource_mut::<Presenter>();
    p.blank = false;
    p.goals = Some(Goals::new(&p.run.lesson.goals, start, len));
    p.enter(Phase::Free);
    println!("free play: every what-if is yours");
}

fn moment(world: &mut World) -> Moment {
    let mut state = SystemState::<SimView>::new(world);
    let view = state
        .get(world)
        .expect("the app holds every resource SimView reads");
    Moment::of(&view)
}

/// Free play: ticks the goals the run shows done, a tenth of a simulated second apart.
fn tick_goals(world: &mut World) {
    let t = world.resource::<crate::sim::SimClock>().now as f64 / SEC;
    let due = world
        .resource::<Presenter>()
        .goals
        .as_ref()
        .is_some_and(|g| g.due(t));
    if !due || world.resource::<Presenter>().run.lesson.goals.is_empty() {
        return;
    }
    let now = moment(world);
    world.resource_scope(|world, mut p: Mut<Presenter>| {
        let p = &mut *p;
        let journal = world.resource::<crate::sim::read::events::Journal>();
        if let Some(g) = p.goals.as_mut() {
            let before = g.ticked.clone();
            g.update(&p.run.lesson.goals, journal, now);
            for ((goal, t), was) in p.run.lesson.goals.iter().zip(&g.ticked).zip(&before) {
                if let (Some(t), None) = (t, was) {
                    println!("  done at t = {t:.1} s: {}", goal.text);
                }
            }
        }
    });
}

/// Filming: the presenter shows frame `f` of the reel.
pub fn film(world: &mut World, f: u64, at: FrameAt) {
    let fps = world
        .resource::<Presenter>()
        .run
        .reel
        .as_ref()
        .map_or(30.0, |r| r.fps);
    let phase = match at.part {
        Part::Title => Phase::Title,
        Part::Step(k) => Phase::Step { k, done: at.done },
        Part::End => Phase::End,
    };
    let entered = {
        let mut p = world.resource_mut::<Presenter>();
        p.clock = f as f64 / fps;
        let new = step_of(phase) != p.step()
            || std::mem::discriminant(&phase) != std::mem::discriminant(&p.phase);
        p.enter(phase);
        p.since = p.clock - at.into_s;
        new
    };
    if entered {
        let show = world
            .resource::<Presenter>()
            .step()
            .map(|k| {
                world.resource::<Presenter>().run.lesson.steps[k]
                    .show
                    .clone()
            })
            .unwrap_or_default();
        show_panels(world, &show);
    }
}
