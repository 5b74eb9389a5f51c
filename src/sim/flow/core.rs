//! The flow's own state, dense: every traffic source, instance, link and component latency
//! buffer in a vector of one resource, indexed by the topology's indices (`Topology::sources`,
//! `instances`, `links`, `components`). Each event of the flow phase finds what it happens to
//! by index, with no entity lookup, table access or change tick; a snapshot of the whole flow
//! is one `clone`.
//!
//! The entities stay: each component, instance and engine is a Bevy entity with its health,
//! queue and rate components (`HealthStatus`, `InstanceHealth`, `InstanceQueue`, engines'
//! utilizations), which the ECS systems of the health cycle score and aggregate. The core
//! writes each instance's `InstanceQueue` at every health cycle (`sync_queues`); the control
//! systems, the command door and `SimView` read and change the flow only through this resource.

use crate::sim::flow::instance::Instance;
use crate::sim::flow::link::Link;
use crate::sim::flow::source::TrafficSource;
use crate::sim::read::latency::ComponentLatency;
use crate::sim::schedule::topology::Topology;
use bevy::prelude::*;

/// The flow's hot state, by topology index.
#[derive(Resource, Debug, Default, Clone)]
pub struct FlowCore {
    /// Traffic sources, by source index.
    pub sources: Vec<TrafficSource>,
    /// Instances (spares included), by instance index.
    pub instances: Vec<Instance>,
    /// Links, by link index.
    pub links: Vec<Link>,
    /// Per-component latency buffers and histograms, by component index.
    pub latency: Vec<ComponentLatency>,
}

impl FlowCore {
    /// The core of `world`, to change through its methods (the command door).
    pub fn in_world(world: &mut World) -> &mut FlowCore {
        world.resource_mut::<FlowCore>().into_inner()
    }

    /// Instance `i`, if there is one.
    pub fn instance(&self, i: u32) -> Option<&Instance> {
        self.instances.get(i as usize)
    }

    /// Instance `i`, to change.
    pub fn instance_mut(&mut self, i: u32) -> Option<&mut Instance> {
        self.instances.get_mut(i as usize)
    }

    /// Link `i`, if there is one.
    pub fn link(&self, i: u32) -> Option<&Link> {
        self.links.get(i as usize)
    }

    /// Link `i`, to change.
    pub fn link_mut(&mut self, i: u32) -> Option<&mut Link> {
        self.links.get_mut(i as usize)
    }

    /// Source `i`, if there is one.
    pub fn source(&self, i: u32) -> Option<&TrafficSource> {
        self.sources.get(i as usize)
    }

    /// Source `i`, to change.
    pub fn source_mut(&mut self, i: u32) -> Option<&mut TrafficSource> {
        self.sources.get_mut(i as usize)
    }

    /// The instances of component `c` (spares included), in ordinal order.
    pub fn instances_of<'a>(
        &'a self,
        topo: &'a Topology,
        c: u32,
    ) -> impl Iterator<Item = &'a Instance> + 'a {
        topo.components
            .get(c as usize)
            .map_or(&[][..], |c| c.instance_ids.as_slice())
            .iter()
            .filter_map(|i| self.instances.get(*i as usize))
    }
}

/// What an instance entity shows of its queue and workers: written from the core at every
/// health cycle (`sync_queues`), read by anything that looks at the entity.
#[derive(Component, Debug, Clone, Copy, Default, PartialEq)]
pub struct InstanceQueue {
    /// Instance index (`Topology::instances`, `FlowCore::instances`).
    pub index: u32,
    /// Requests waiting (simulated units).
    pub queued: u64,
    /// Busy workers.
    pub busy: u64,
    /// Workers.
    pub workers: u64,
    /// Up (not crashed, not retired).
    pub up: bool,
    /// Provisioned (not a spare).
    pub provisioned: bool,
}

impl InstanceQueue {
    /// What `inst` shows now.
    pub fn of(inst: &Instance) -> Self {
        InstanceQueue {
            index: inst.index,
            queued: inst.queued,
            busy: inst.busy,
            workers: inst.workers(),
            up: inst.up,
            provisioned: inst.provisioned,
        }
    }
}

/// Every instance entity's `InstanceQueue` from the core (once per health cycle).
pub fn sync_queues(core: Res<FlowCore>, mut queues: Query<&mut InstanceQueue>) {
    for mut q in &mut queues {
        if let Some(inst) = core.instances.get(q.index as usize) {
            q.set_if_neq(InstanceQueue::of(inst));
        }
    }
}
