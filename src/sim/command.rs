//! The command door: every change from outside the schedule (a what-if from the app, a lesson
//! step, a scenario's scheduled `faults`) is a typed `SimCommand`, queued with the time it is
//! due and applied in its own phase at the start of a tick (`SimSystems::Commands`, before the
//! clock moves). A command that acts on an instance (down, back, slow) takes effect at its exact
//! time inside the tick, like any other event of the flow phase. Every applied command is logged
//! with its time, so a run with interventions replays exactly: the same seed and the same
//! command list give byte-identical output.

use super::dist::{Nanos, SEC};
pub use super::events::Origin;
use super::events::{EventKind, SimEvent, Subject};
use super::instance::Instance;
use super::source::Source;
use super::sweep::{FaultAction, Faults, TimedFault};
use super::topology::Topology;
use super::{SimClock, SimConfig};
use crate::scenario::{QueueSpec, Scenario};
use bevy::ecs::message::Messages;
use bevy::prelude::*;
use serde::{Deserialize, Serialize};

/// A change to the running simulation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum SimCommand {
    /// Multiplies a source's traffic by `factor` (1 restores the scenario's rate).
    ScaleTraffic {
        /// Source name.
        source: String,
        /// Multiplier of the scenario's rate schedule.
        factor: f64,
    },
    /// Multiplies a source's traffic by `factor` for `for_s` seconds, on top of any scaling.
    Spike {
        /// Source name.
        source: String,
        /// Multiplier while the spike lasts.
        factor: f64,
        /// How long, s.
        for_s: f64,
    },
    /// Takes an instance down (what it holds fails, as in a crash) for `for_s` seconds, or until
    /// brought back (`None`).
    TakeDown {
        /// Component name.
        component: String,
        /// Instance ordinal.
        instance: u32,
        /// How long, s.
        for_s: Option<f64>,
    },
    /// Brings a downed instance back now.
    BringBack {
        /// Component name.
        component: String,
        /// Instance ordinal.
        instance: u32,
    },
    /// Multiplies an instance's service times by `factor` for `for_s` seconds.
    SlowDown {
        /// Component name.
        component: String,
        /// Instance ordinal.
        instance: u32,
        /// Service-time multiplier.
        factor: f64,
        /// How long, s.
        for_s: f64,
    },
    /// Sets the workers of every instance of a component (real workers, as in the scenario).
    SetWorkers {
        /// Component name.
        component: String,
        /// Workers per instance.
        workers: u32,
    },
    /// Sets the queue capacity of every instance of a component.
    SetQueue {
        /// Component name.
        component: String,
        /// Capacity per instance.
        queue: QueueSpec,
    },
    /// Sets how many instances of a component run (spares are provisioned first, then new
    /// instances spawned; extra ones are taken out, highest ordinal first).
    SetInstances {
        /// Component name.
        component: String,
        /// Instances.
        instances: u32,
    },
    /// Switches seed 000's flow control (rate control, breakers, fallbacks) on or off.
    FlowControl(bool),
    /// Switches predictive backpressure on or off.
    Predictive(bool),
    /// Sets one numeric parameter of `backpressure` or `health` by its path in the scenario
    /// format (e.g. `backpressure.safety_buffer`, `health.cycle_s`).
    SetParam {
        /// Dotted path.
        path: String,
        /// New value.
        value: f64,
    },
    /// Replaces the whole simulation by a new scenario, at t = 0.
    Load(Box<Scenario>),
    /// Starts the current scenario again at t = 0.
    Reset,
}

/// A command waiting for its time.
#[derive(Debug, Clone)]
struct Scheduled {
    at: Nanos,
    seq: u64,
    origin: Origin,
    cmd: SimCommand,
}

/// A command that was applied: when, what, and what came of it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Applied {
    /// Simulation time it took effect (ns).
    pub at: Nanos,
    /// Where it came from.
    pub origin: Origin,
    /// The command.
    pub cmd: SimCommand,
    /// What it did, or why it could not be applied.
    pub result: Result<String, String>,
}

/// Commands waiting to be applied, and the log of those applied in this run.
#[derive(Resource, Debug, Default, Clone)]
pub struct CommandQueue {
    scheduled: Vec<Scheduled>,
    seq: u64,
    /// Applied so far in this run (since the last load or reset), in order.
    pub applied: Vec<Applied>,
}

impl CommandQueue {
    /// Queues `cmd` for time `at` (ns); a time already past applies at the next tick.
    pub fn schedule(&mut self, at: Nanos, cmd: SimCommand) {
        self.push(at, Origin::Live, cmd);
    }

    fn push(&mut self, at: Nanos, origin: Origin, cmd: SimCommand) {
        self.seq += 1;
        self.scheduled.push(Scheduled {
            at,
            seq: self.seq,
            origin,
            cmd,
        });
    }

    /// Live commands applied so far, as (time, command): replaying them with `schedule` on the
    /// same scenario and seed gives the same run.
    pub fn replay_list(&self) -> Vec<(Nanos, SimCommand)> {
        self.applied
            .iter()
            .filter(|a| a.origin == Origin::Live)
            .map(|a| (a.at, a.cmd.clone()))
            .collect()
    }

    /// Commands still waiting.
    pub fn pending(&self) -> usize {
        self.scheduled.len()
    }

    /// Takes the commands due before `until`, in time order (ties in order of queueing).
    fn take_due(&mut self, until: Nanos) -> Vec<Scheduled> {
        let mut due: Vec<Scheduled> = vec![];
        self.scheduled.retain(|s| {
            if s.at < until {
                due.push(s.clone());
                false
            } else {
                true
            }
        });
        due.sort_by_key(|s| (s.at, s.seq));
        due
    }
}

/// Queues a scenario's `faults` as commands at their times.
pub fn queue_faults(queue: &mut CommandQueue, s: &Scenario) {
    for f in &s.faults {
        let at = (f.at_s * 1e9) as Nanos;
        let cmd = match f.slowdown {
            Some(factor) => SimCommand::SlowDown {
                component: f.component.clone(),
                instance: f.instance,
                factor,
                for_s: f.for_s,
            },
            None => SimCommand::TakeDown {
                component: f.component.clone(),
                instance: f.instance,
                for_s: Some(f.for_s),
            },
        };
        queue.push(at, Origin::Scenario, cmd);
    }
}

/// The commands phase: applies every command due in the coming tick `[now, now + tick)`.
pub fn apply_commands(world: &mut World) {
    let clock = *world.resource::<SimClock>();
    let due = world
        .resource_mut::<CommandQueue>()
        .take_due(clock.now + clock.tick);
    for s in due {
        let at = s.at.max(clock.now);
        if matches!(s.cmd, SimCommand::Load(_) | SimCommand::Reset) {
            let scenario = match &s.cmd {
                SimCommand::Load(sc) => (**sc).clone(),
                _ => world.resource::<SimConfig>().scenario.clone(),
            };
            // The new run starts with an empty log, as a fresh start would: a reset run and a
            // fresh one are byte-identical. Whatever else was due belonged to the old run.
            super::load::load_scenario(world, scenario);
            break;
        }
        let result = apply(world, at, &s.cmd, s.origin);
        log_applied(world, at, s.origin, s.cmd, result);
    }
}

fn log_applied(
    world: &mut World,
    at: Nanos,
    origin: Origin,
    cmd: SimCommand,
    result: Result<String, String>,
) {
    let text = match &result {
        Ok(t) => t.clone(),
        Err(e) => format!("not applied: {e}"),
    };
    let subject = subject_of(world.resource::<Topology>(), &cmd);
    world
        .resource_mut::<Messages<SimEvent>>()
        .write(SimEvent::new(
            at,
            subject,
            EventKind::Command { text, origin },
        ));
    world.resource_mut::<CommandQueue>().applied.push(Applied {
        at,
        origin,
        cmd,
        result,
    });
}

/// What a command is about, for the journal.
fn subject_of(topo: &Topology, cmd: &SimCommand) -> Subject {
    use SimCommand::*;
    match cmd {
        ScaleTraffic { source, .. } | Spike { source, .. } => topo
            .source_names
            .iter()
            .position(|n| n == source)
            .map_or(Subject::System, |i| Subject::Source(i as u32)),
        TakeDown {
            component,
            instance,
            ..
        }
        | BringBack {
            component,
            instance,
        }
        | SlowDown {
            component,
            instance,
            ..
        } => topo
            .component(component)
            .and_then(|c| c.instances.get(*instance as usize).map(|_| c))
            .map_or(Subject::System, |c| {
                Subject::Instance(instance_index(topo, c.index, *instance))
            }),
        SetWorkers { component, .. }
        | SetQueue { component, .. }
        | SetInstances { component, .. } => topo
            .component(component)
            .map_or(Subject::System, |c| Subject::Component(c.index)),
        _ => Subject::System,
    }
}

/// Global index of instance `k` of component `c`.
fn instance_index(topo: &Topology, c: u32, k: u32) -> u32 {
    topo.instance_index(c, k).unwrap_or(0)
}

/// Applies one command at `at`; says what it did or why it could not.
fn apply(world: &mut World, at: Nanos, cmd: &SimCommand, origin: Origin) -> Result<String, String> {
    use SimCommand::*;
    match cmd {
        ScaleTraffic { source, factor } => {
            check_factor(*factor, 0.0)?;
            let mut s = source_mut(world, source)?;
            s.what_if.scale = *factor;
            Ok(format!("{source}: traffic x{factor}"))
        }
        Spike {
            source,
            factor,
            for_s,
        } => {
            check_factor(*factor, 0.0)?;
            check_seconds(*for_s)?;
            let until = at + (for_s * SEC) as Nanos;
            let mut s = source_mut(world, source)?;
            s.what_if.spikes.push((at, until, *factor));
            Ok(format!("{source}: spike x{factor} for {for_s} s"))
        }
        TakeDown {
            component,
            instance,
            for_s,
        } => {
            if let Some(f) = for_s {
                check_seconds(*f)?;
            }
            let duration = for_s.map_or(Nanos::MAX / 4, |f| (f * SEC) as Nanos);
            let action = FaultAction::Down {
                duration,
                scheduled: origin == Origin::Scenario,
            };
            fault(world, at, component, *instance, action)
        }
        BringBack {
            component,
            instance,
        } => fault(world, at, component, *instance, FaultAction::Up),
        SlowDown {
            component,
            instance,
            factor,
            for_s,
        } => {
            check_factor(*factor, 0.0)?;
            check_seconds(*for_s)?;
            let action = FaultAction::Slow {
                duration: (for_s * SEC) as Nanos,
                factor: *factor,
            };
            fault(world, at, component, *instance, action)
        }
        SetWorkers { component, workers } => super::resize::set_workers(world, component, *workers),
        SetQueue { component, queue } => super::resize::set_queue(world, component, *queue),
        SetInstances {
            component,
            instances,
        } => super::resize::set_instances(world, at, component, *instances),
        FlowControl(on) => {
            world.resource_mut::<super::rate::FlowConfig>().spec.enabled = *on;
            world
                .resource_mut::<SimConfig>()
                .scenario
                .backpressure
                .enabled = *on;
            Ok(format!("flow control {}", if *on { "on" } else { "off" }))
        }
        Predictive(on) => {
            world
                .resource_mut::<super::rate::FlowConfig>()
                .spec
                .predictive = *on;
            world
                .resource_mut::<SimConfig>()
                .scenario
                .backpressure
                .predictive = *on;
            Ok(format!(
                "predictive backpressure {}",
                if *on { "on" } else { "off" }
            ))
        }
        SetParam { path, value } => super::params::set_param(world, path, *value),
        Load(_) | Reset => Err("handled by the commands phase".into()),
    }
}

fn check_factor(f: f64, min: f64) -> Result<(), String> {
    if f.is_finite() && f >= min && f <= 1e6 {
        Ok(())
    } else {
        Err(format!("factor {f} must be between {min} and 1e6"))
    }
}

fn check_seconds(s: f64) -> Result<(), String> {
    if s.is_finite() && s > 0.0 && s <= 1e7 {
        Ok(())
    } else {
        Err(format!("duration {s} s must be above 0 and at most 1e7 s"))
    }
}

fn source_mut<'w>(world: &'w mut World, name: &str) -> Result<Mut<'w, Source>, String> {
    let topo = world.resource::<Topology>();
    let e = topo
        .source_names
        .iter()
        .position(|n| n == name)
        .map(|i| topo.sources[i])
        .ok_or_else(|| format!("no source named {name:?}"))?;
    world
        .get_mut::<Source>(e)
        .ok_or_else(|| format!("source {name:?} is gone"))
}

/// Schedules an instance action at its exact time inside the coming tick.
fn fault(
    world: &mut World,
    at: Nanos,
    component: &str,
    instance: u32,
    action: FaultAction,
) -> Result<String, String> {
    let topo = world.resource::<Topology>();
    let c = topo
        .component(component)
        .ok_or_else(|| format!("no component named {component:?}"))?;
    let Some(&e) = c.instances.get(instance as usize) else {
        return Err(format!(
            "{component} has {} instances (0-{}), not {instance}",
            c.instances.len(),
            c.instances.len().saturating_sub(1)
        ));
    };
    let index = world
        .get::<Instance>(e)
        .map(|i| i.index)
        .ok_or("instance is gone")?;
    let what = match action {
        FaultAction::Down { duration, .. } if duration >= Nanos::MAX / 4 => {
            format!("{component}#{instance} down until brought back")
        }
        FaultAction::Down { duration, .. } => {
            format!(
                "{component}#{instance} down for {} s",
                duration as f64 / SEC
            )
        }
        FaultAction::Up => format!("{component}#{instance} brought back"),
        FaultAction::Retire => format!("{component}#{instance} taken out of service"),
        FaultAction::Slow { factor, duration } => format!(
            "{component}#{instance} slowed {factor}x for {} s",
            duration as f64 / SEC
        ),
    };
    world.resource_mut::<Faults>().add(TimedFault {
        at,
        instance: index,
        action,
    });
    Ok(what)
}
