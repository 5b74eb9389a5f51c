//! Resizing a running component through the command door: workers, queue capacity and the
//! number of instances. Each change is validated on a copy of the scenario first.

use crate::scenario::{QueuePolicySpec, QueueSpec};
use crate::sim::SimConfig;
use crate::sim::control::health::Capacities;
use crate::sim::door::faults::{FaultAction, Faults, TimedFault};
use crate::sim::door::params::validated;
use crate::sim::flow::core::FlowCore;

fn core_mut(world: &mut World) -> &mut FlowCore {
    FlowCore::in_world(world)
}
use crate::sim::schedule::dist::Nanos;
use crate::sim::schedule::dist::{Stream, instance_key, stream};
use crate::sim::schedule::topology::Topology;
use crate::sim::strategies::QueuePolicy;
use bevy::prelude::*;

fn component_index(world: &World, name: &str) -> Result<u32, String> {
    world
        .resource::<Topology>()
        .component(name)
        .map(|c| c.index)
        .ok_or_else(|| format!("no component named {name:?}"))
}

/// Sets the workers of every instance of `component` (real workers; scaled by the request unit).
pub fn set_workers(world: &mut World, component: &str, workers: u32) -> Result<String, String> {
    let ci = component_index(world, component)? as usize;
    let scenario = validated(world, |s| s.components[ci].workers = workers)?;
    let unit = world.resource::<Topology>().unit;
    let simulated = ((workers as f64 / unit as f64).round() as u32).max(1);
    let instances = world.resource::<Topology>().components[ci]
        .instance_ids
        .clone();
    for i in instances {
        if let Some(inst) = core_mut(world).instance_mut(i) {
            inst.set_workers(simulated);
        }
    }
    let plan = crate::sim::flow::engines::plan(&scenario.components[ci]);
    world.resource_mut::<Capacities>().per_component[ci] =
        (plan.mean_ms, workers as f64 / (plan.mean_ms / 1000.0));
    world.resource_mut::<Topology>().components[ci].workers_real = workers;
    world.resource_mut::<SimConfig>().scenario = std::sync::Arc::new(scenario);
    Ok(format!("{component}: {workers} workers per instance"))
}

/// Sets the queue capacity of every instance of `component`. Requests already waiting beyond a
/// smaller capacity stay; new ones are dropped until the queue is below it.
pub fn set_queue(world: &mut World, component: &str, queue: QueueSpec) -> Result<String, String> {
    let ci = component_index(world, component)? as usize;
    let scenario = validated(world, |s| s.components[ci].queue = queue)?;
    let unit = world.resource::<Topology>().unit;
    let (simulated, real) = match queue {
        QueueSpec::Bounded(n) => (Some(n.div_ceil(unit)), Some(n)),
        QueueSpec::Unbounded => (None, None),
    };
    let instances = world.resource::<Topology>().components[ci]
        .instance_ids
        .clone();
    for i in instances {
        if let Some(inst) = core_mut(world).instance_mut(i) {
            inst.queue_capacity = simulated;
        }
    }
    world.resource_mut::<Topology>().components[ci].queue_real = real;
    world.resource_mut::<SimConfig>().scenario = std::sync::Arc::new(scenario);
    let what = real.map_or("unbounded".to_string(), |n| n.to_string());
    Ok(format!("{component}: queue {what} per instance"))
}

/// Switches the queue strategy of every instance of `component`; what waits moves to the new
/// queue in its order (none is dropped by the switch).
pub fn set_queue_policy(
    world: &mut World,
    component: &str,
    spec: QueuePolicySpec,
) -> Result<String, String> {
    let ci = component_index(world, component)? as usize;
    let scenario = validated(world, |s| s.components[ci].queue_policy = spec)?;
    let (discipline, seed) = (scenario.components[ci].discipline, scenario.sim.seed);
    let instances = world.resource::<Topology>().components[ci]
        .instance_ids
        .clone();
    for (k, i) in instances.into_iter().enumerate() {
        if let Some(inst) = core_mut(world).instance_mut(i) {
            let rng = stream(seed, Stream::Queue, instance_key(ci as u32, k as u32));
            inst.replace_queue(QueuePolicy::of(discipline, spec, rng));
        }
    }
    world.resource_mut::<SimConfig>().scenario = std::sync::Arc::new(scenario);
    Ok(format!("{component}: queue policy {spec:?}"))
}

/// Sets how many instances of `component` run: spares are provisioned first (at once, without
/// warm-up), then new instances spawned; extra ones are taken out, highest ordinal first, and
/// what they hold fails as in a crash.
pub fn set_instances(
    world: &mut World,
    at: Nanos,
    component: &str,
    instances: u32,
) -> Result<String, String> {
    let ci = component_index(world, component)? as usize;
    let scenario = validated(world, |s| {
        s.components[ci].instances = instances;
        if let Some(a) = &mut s.components[ci].autoscale {
            a.max = a.max.max(instances);
            a.min = a.min.min(instances);
        }
    })?;
    let ids = world.resource::<Topology>().components[ci]
        .instance_ids
        .clone();
    let core = world.resource::<FlowCore>();
    let live: Vec<u32> = (ids.iter().copied())
        .filter(|i| core.instance(*i).is_some_and(|i| i.provisioned))
        .collect();
    let have = live.len() as u32;
    if instances > have {
        let mut need = instances - have;
        for &i in &ids {
            if need == 0 {
                break;
            }
            if let Some(inst) = core_mut(world).instance_mut(i)
                && !inst.provisioned
            {
                inst.provision(at, at, 1.0);
                need -= 1;
            }
        }
        for _ in 0..need {
            crate::sim::schedule::spawn::spawn_extra_instance(world, ci as u32, &scenario);
        }
    } else {
        for &index in live.iter().rev().take((have - instances) as usize) {
            world.resource_mut::<Faults>().add(TimedFault {
                at,
                instance: index,
                action: FaultAction::Retire,
            });
        }
    }
    world.resource_mut::<SimConfig>().scenario = std::sync::Arc::new(scenario);
    Ok(format!("{component}: {have} -> {instances} instances"))
}
