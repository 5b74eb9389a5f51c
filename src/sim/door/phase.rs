//! The commands phase: what the command door applies at the start of a tick. Parameter and
//! size changes are validated on a copy of the scenario first (`params`, `resize`); instance
//! actions go to the flow phase at their exact time (`faults`); `Load` and `Reset` start a
//! fresh run (`load`).

use crate::sim::SimClock;
use crate::sim::SimConfig;
use crate::sim::door::command::{Applied, CommandQueue, Origin, SimCommand};
use crate::sim::door::faults::{FaultAction, Faults, TimedFault};
use crate::sim::flow::source::TrafficSource;
use crate::sim::read::events::{EventKind, SimEvent, Subject};
use crate::sim::schedule::dist::{MS, Nanos, SEC};
use crate::sim::schedule::topology::Topology;
use bevy::ecs::message::Messages;
use bevy::prelude::*;

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
                _ => (*world.resource::<SimConfig>().loaded).clone(),
            };
            // The new run starts with an empty log, as a fresh start would: a reset run and a
            // fresh one are byte-identical. Whatever else was due belonged to the old run.
            crate::sim::schedule::load::load_scenario(world, scenario);
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
        }
        | InjectErrors {
            component,
            instance,
            ..
        } => topo
            .component(component)
            .and_then(|c| topo.instance_index(c.index, *instance))
            .map_or(Subject::System, Subject::Instance),
        SetWorkers { component, .. }
        | TakeDownComponent { component, .. }
        | SetQueue { component, .. }
        | SetQueuePolicy { component, .. }
        | SetShed { component, .. }
        | SetConcurrency { component, .. }
        | SetInstances { component, .. } => topo
            .component(component)
            .map_or(Subject::System, |c| Subject::Component(c.index)),
        _ => Subject::System,
    }
}

/// Applies `cmds` (time, command), in order, to a world that is not run: what the command door
/// would refuse in a run, by the index of the command. `check` refuses the same commands a run
/// refuses, with the door's own reasons (`runner::rehearse_commands`).
pub fn rehearse(world: &mut World, cmds: &[(Nanos, &SimCommand)]) -> Vec<(usize, String)> {
    let mut refused = vec![];
    for (i, (at, cmd)) in cmds.iter().enumerate() {
        if matches!(cmd, SimCommand::Load(_) | SimCommand::Reset) {
            continue;
        }
        if let Err(e) = apply(world, *at, cmd, Origin::Scenario) {
            refused.push((i, e));
        }
    }
    refused
}

/// Applies one command at `at`; says what it did or why it could not.
fn apply(world: &mut World, at: Nanos, cmd: &SimCommand, origin: Origin) -> Result<String, String> {
    use SimCommand::*;
    match cmd {
        ScaleTraffic { source, factor } => {
            check_factor(*factor, 0.0)?;
            let s = source_mut(world, source)?;
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
            let s = source_mut(world, source)?;
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
        TakeDownComponent { component, for_s } => {
            take_down_component(world, at, origin, component, *for_s)
        }
        InjectErrors {
            component,
            instance,
            share,
            for_s,
        } => inject_errors(world, at, component, *instance, *share, *for_s),
        DegradeLink {
            link,
            added_latency_ms,
            loss,
            lost_after_ms,
            for_s,
        } => degrade_link(
            world,
            at,
            link,
            (*added_latency_ms, *loss, *lost_after_ms),
            *for_s,
        ),
        SetWorkers { component, workers } => super::resize::set_workers(world, component, *workers),
        SetQueue { component, queue } => super::resize::set_queue(world, component, *queue),
        SetLimit { .. }
        | SetWindow { .. }
        | SetClient { .. }
        | SetShed { .. }
        | SetConcurrency { .. }
        | SetLinkConcurrency { .. }
        | SetRedelivery { .. }
        | SetCredits { .. }
        | SetQueuePolicy { .. } => super::swap::apply(world, cmd),
        SetInstances {
            component,
            instances,
        } => super::resize::set_instances(world, at, component, *instances),
        FlowControl(on) => Ok(switch(world, *on, false)),
        Predictive(on) => Ok(switch(world, *on, true)),
        SetParam { path, value } => super::params::set_param(world, path, *value),
        Load(_) | Reset => Err("handled by the commands phase".into()),
    }
}

/// Flow control (or, with `predictive`, predictive backpressure) on or off.
fn switch(world: &mut World, on: bool, predictive: bool) -> String {
    let onoff = if on { "on" } else { "off" };
    let mut flow = world.resource_mut::<crate::sim::control::rate::FlowConfig>();
    if predictive {
        flow.spec.predictive = on;
    } else {
        flow.spec.enabled = on;
    }
    let mut config = world.resource_mut::<SimConfig>();
    let bp = &mut std::sync::Arc::make_mut(&mut config.scenario).backpressure;
    if predictive {
        bp.predictive = on;
        format!("predictive backpressure {onoff}")
    } else {
        bp.enabled = on;
        format!("flow control {onoff}")
    }
}

/// Every instance of a component down, as `TakeDown`.
fn take_down_component(
    world: &mut World,
    at: Nanos,
    origin: Origin,
    component: &str,
    for_s: Option<f64>,
) -> Result<String, String> {
    if let Some(f) = for_s {
        check_seconds(f)?;
    }
    let duration = for_s.map_or(Nanos::MAX / 4, |f| (f * SEC) as Nanos);
    let action = FaultAction::Down {
        duration,
        scheduled: origin == Origin::Scenario,
    };
    let n = world
        .resource::<Topology>()
        .component(component)
        .ok_or_else(|| format!("no component named {component:?}"))?
        .instances
        .len() as u32;
    for i in 0..n {
        fault(world, at, component, i, action)?;
    }
    Ok(match for_s {
        Some(f) => format!("{component}: all {n} instances down for {f} s"),
        None => format!("{component}: all {n} instances down until brought back"),
    })
}

/// An instance fails `share` of what it serves for `for_s` s.
fn inject_errors(
    world: &mut World,
    at: Nanos,
    component: &str,
    instance: u32,
    share: f64,
    for_s: f64,
) -> Result<String, String> {
    if !(share.is_finite() && share > 0.0 && share <= 1.0) {
        return Err(format!("share {share} must be above 0 and at most 1"));
    }
    check_seconds(for_s)?;
    let action = FaultAction::Errors {
        duration: (for_s * SEC) as Nanos,
        share,
    };
    fault(world, at, component, instance, action)
}

/// A link degraded for `for_s` s: (added latency ms, loss, lost after ms).
fn degrade_link(
    world: &mut World,
    at: Nanos,
    link: &str,
    (added_latency_ms, loss, lost_after_ms): (f64, f64, f64),
    for_s: f64,
) -> Result<String, String> {
    check_seconds(for_s)?;
    let tick_ms = world.resource::<SimClock>().tick as f64 / MS;
    crate::scenario::check_link_fault(added_latency_ms, loss, lost_after_ms, tick_ms)?;
    let (li, _) = crate::sim::door::swap::link_named(world, link)?;
    let core = crate::sim::flow::core::FlowCore::in_world(world);
    let l = core.link_mut(li as u32).ok_or("link is gone")?;
    let until = at + (for_s * SEC) as Nanos;
    l.fault = Some(crate::sim::flow::link::LinkFault {
        from: at,
        until,
        added: (added_latency_ms * MS).round() as Nanos,
        loss,
        lost_after: (lost_after_ms * MS).round() as Nanos,
    });
    let kind = EventKind::LinkFault {
        added_ms: added_latency_ms,
        loss,
        until,
    };
    let subject = Subject::Link(l.index);
    world
        .resource_mut::<Messages<SimEvent>>()
        .write(SimEvent::new(at, subject, kind));
    Ok(format!(
        "{link}: +{added_latency_ms} ms latency, {}% lost for {for_s} s",
        loss * 100.0
    ))
}

fn check_factor(f: f64, min: f64) -> Result<(), String> {
    if f.is_finite() && f >= min && f <= 1e6 {
        Ok(())
    } else {
        Err(format!(
            "factor {} must be between {min} and 1e6",
            crate::scenario::shown_number(f)
        ))
    }
}

fn check_seconds(s: f64) -> Result<(), String> {
    if s.is_finite() && s > 0.0 && s <= 1e7 {
        Ok(())
    } else {
        Err(format!(
            "duration {} s must be above 0 and at most 1e7 s",
            crate::scenario::shown_number(s)
        ))
    }
}

fn source_mut<'w>(world: &'w mut World, name: &str) -> Result<&'w mut TrafficSource, String> {
    let i = world
        .resource::<Topology>()
        .source_index(name)
        .ok_or_else(|| format!("no source named {name:?}"))?;
    crate::sim::flow::core::FlowCore::in_world(world)
        .source_mut(i as u32)
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
    let Some(&index) = c.instance_ids.get(instance as usize) else {
        return Err(format!(
            "{component} has {} instances (0-{}), not {instance}",
            c.instances.len(),
            c.instances.len().saturating_sub(1)
        ));
    };
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
        FaultAction::Errors { share, duration } => format!(
            "{component}#{instance} fails {}% of requests for {} s",
            share * 100.0,
            duration as f64 / SEC
        ),
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
