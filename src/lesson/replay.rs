//! Playing a lesson from its plan (the check's step clocks) on any world that holds the
//! simulation: a step's commands queued at their planned times, and the run rebuilt from t = 0
//! to a step's start. The same scenario, seed and commands at the same times give the same run,
//! so a step rebuilt this way starts where the check's step started (`tests/it/lessons.rs`).

use super::{Lesson, Report};
use crate::scenario::Scenario;
use crate::sim::door::command::CommandQueue;
use crate::sim::schedule::dist::{Nanos, SEC};
use bevy::prelude::World;

fn ns(s: f64) -> Nanos {
    (s.max(0.0) * SEC).round() as Nanos
}

/// Queues step k's commands at their planned times.
pub fn queue_step(world: &mut World, lesson: &Lesson, plan: &Report, k: usize) {
    let (Some(step), Some(r)) = (lesson.steps.get(k), plan.steps.get(k)) else {
        return;
    };
    let mut q = world.resource_mut::<CommandQueue>();
    for c in &step.commands {
        q.schedule(r.clock.0 + ns(c.at_s), c.command.clone());
    }
}

/// Loads `scenario` afresh and runs it to step k's planned start, every earlier step's commands
/// at their times; step k's own commands are not queued.
pub fn rebuild_to(
    world: &mut World,
    lesson: &Lesson,
    plan: &Report,
    scenario: &Scenario,
    k: usize,
) {
    crate::sim::schedule::load::load_scenario(world, scenario.clone());
    for j in 0..k {
        queue_step(world, lesson, plan, j);
    }
    let start = plan.steps.get(k).map_or(0, |r| r.clock.0);
    crate::sim::schedule::idle::run_until(world, start, |_| {});
}
