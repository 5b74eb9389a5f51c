//! The topology's index tables: scenario order to entities, routes, names. Built by `spawn`;
//! read by the flow phase, the controllers and the read seam.

use crate::scenario::{CallKind, Kind};
use bevy::prelude::*;

/// Marks every entity the simulation owns (despawned when a scenario is loaded or reset).
#[derive(Component, Debug, Clone, Copy, Default)]
pub struct SimEntity;

/// A component entity (load balancer, service, cache, database, queue, external API).
#[derive(Component, Debug, Clone)]
pub struct ComponentNode {
    /// Component index.
    pub index: u32,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: Kind,
}

/// Static facts about a component used on the hot path.
#[derive(Debug, Clone)]
pub struct ComponentInfo {
    /// Component index.
    pub index: u32,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: Kind,
    /// Cache hit ratio (0 for non-caches).
    pub hit_ratio: f64,
    /// Load shedding by priority at arrival, if any.
    pub shed: Option<crate::scenario::ShedSpec>,
    /// The component entity.
    pub entity: Entity,
    /// Instance entities, by ordinal.
    pub instances: Vec<Entity>,
    /// Global instance indices, by ordinal (contiguous at spawn; instances added by a command
    /// are numbered after every other).
    pub instance_ids: Vec<u32>,
    /// Links that deliver to this component.
    pub in_links: Vec<u32>,
    /// Outgoing (target component, link, call kind).
    pub out: Vec<(u32, u32, CallKind)>,
    /// Incoming links this component's instances pull from (brokers' topics).
    pub pull_links: Vec<u32>,
    /// Workers per instance, real (before request-unit scaling).
    pub workers_real: u32,
    /// Queue capacity per instance, real (`None`: unbounded).
    pub queue_real: Option<u64>,
}

/// One flow's route: per hop, the options (component index, cumulative probability).
#[derive(Debug, Clone)]
pub struct FlowRoute {
    /// Flow name.
    pub name: String,
    /// Source index.
    pub source: u32,
    /// Options per hop: (component, cumulative probability). Options that add up to less than
    /// 1 leave the rest of the requests at the end of their route.
    pub hops: Vec<Vec<(u32, f64)>>,
    /// Per hop: a feedback hop (`Hop::Back`) as (hop to go back to, probability); its one
    /// option in `hops` is that hop's component.
    pub back: Vec<Option<(u16, f64)>>,
    /// Per hop: a fan-out (`Hop::Fan`); its options in `hops` are its targets.
    pub fan: Vec<Option<Fan>>,
    /// No feedback and no fan-out hop: the hot path skips looking for them.
    pub plain: bool,
}

/// A fan-out hop: called at once, awaited `need` answers, failures allowed by bit (branch i).
#[derive(Debug, Clone, PartialEq)]
pub struct Fan {
    /// Target components, by branch.
    pub targets: Vec<u32>,
    /// Successful answers awaited before going on.
    pub need: u8,
    /// Bit i set: a failure of branch i does not fail the request.
    pub optional: u32,
}

/// Every flow's route, indexed by global flow index.
#[derive(Resource, Debug, Clone, Default)]
pub struct Routes {
    /// Flows.
    pub flows: Vec<FlowRoute>,
}

/// Index tables from scenario order to entities.
#[derive(Resource, Debug, Clone, Default)]
pub struct Topology {
    /// Source entities by index.
    pub sources: Vec<Entity>,
    /// Source names by index.
    pub source_names: Vec<String>,
    /// Links leaving each source.
    pub source_links: Vec<Vec<u32>>,
    /// Components by index.
    pub components: Vec<ComponentInfo>,
    /// Component indices in topological order (every link goes forward in it, but the links
    /// that close a feedback cycle).
    pub order: Vec<u32>,
    /// Link entities by index.
    pub links: Vec<Entity>,
    /// Link names (`from->to`) by index.
    pub link_names: Vec<String>,
    /// Instance names (`component#k`) by global index.
    pub instance_names: Vec<String>,
    /// Instance entities by global index.
    pub instances: Vec<Entity>,
    /// One simulated request stands for this many real ones.
    pub unit: u64,
    /// Per link: the link to its alternative route, if the scenario names one.
    pub alternatives: Vec<Option<u32>>,
    /// Per component, dense: its one instance and its one way out, where it has only one
    /// (`Topology::refresh_sole`). The flow phase finds an arrival's instance here, with no
    /// walk through the component's info and instance list: two cache misses fewer per event
    /// once a system outgrows the cache.
    pub(crate) sole: Vec<Sole>,
}

/// A component's one instance and one way out, if it has exactly one of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sole {
    /// Global index of the component's instance, if it has exactly one (spares included).
    instance: u32,
    /// Index of the link the component calls, if it has exactly one way out.
    out: u32,
    /// The component that link leads to.
    out_to: u32,
    /// How that link is called.
    out_call: CallKind,
}

impl Default for Sole {
    /// Nothing known: every lookup goes through the component's info.
    fn default() -> Self {
        Self::NONE
    }
}

impl Sole {
    const NONE: Sole = Sole {
        instance: u32::MAX,
        out: u32::MAX,
        out_to: u32::MAX,
        out_call: CallKind::Sync,
    };

    /// The component's one instance, if it has exactly one.
    pub fn instance(self) -> Option<u32> {
        (self.instance != u32::MAX).then_some(self.instance)
    }

    /// The component's one way out, if it has exactly one.
    pub fn out(self) -> Option<u32> {
        (self.out != u32::MAX).then_some(self.out)
    }

    /// The link to `target` and how it is called, if it is the component's one way out.
    pub fn out_to(self, target: u32) -> Option<(u32, CallKind)> {
        (self.out != u32::MAX && self.out_to == target).then_some((self.out, self.out_call))
    }

    fn of(c: &ComponentInfo) -> Self {
        let (out, out_to, out_call) = match c.out[..] {
            [(to, l, call)] => (l, to, call),
            _ => (u32::MAX, u32::MAX, CallKind::Sync),
        };
        Sole {
            instance: match c.instance_ids[..] {
                [i] => i,
                _ => u32::MAX,
            },
            out,
            out_to,
            out_call,
        }
    }
}

impl Topology {
    /// Brings component `c`'s entry of `sole` up to date: called whenever its instances or
    /// its ways out change.
    pub fn refresh_sole(&mut self, c: u32) {
        let Some(info) = self.components.get(c as usize) else {
            return;
        };
        let sole = Sole::of(info);
        let c = c as usize;
        if self.sole.len() <= c {
            self.sole.resize(c + 1, Sole::NONE);
        }
        self.sole[c] = sole;
    }

    /// Component `c`'s one instance and one way out, where it has only one.
    #[inline]
    pub fn sole(&self, c: u32) -> Sole {
        self.sole.get(c as usize).copied().unwrap_or(Sole::NONE)
    }

    /// Index of the component called `name`.
    pub fn component(&self, name: &str) -> Option<&ComponentInfo> {
        self.components.iter().find(|c| c.name == name)
    }

    /// Index of the link named `from->to`.
    pub fn link_index(&self, name: &str) -> Option<usize> {
        self.link_names.iter().position(|n| n == name)
    }

    /// Index of the source called `name`.
    pub fn source_index(&self, name: &str) -> Option<usize> {
        self.source_names.iter().position(|n| n == name)
    }

    /// Global index of instance `k` of component `c`.
    pub fn instance_index(&self, c: u32, k: u32) -> Option<u32> {
        self.components
            .get(c as usize)?
            .instance_ids
            .get(k as usize)
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(instance_ids: Vec<u32>, out: Vec<(u32, u32, CallKind)>) -> ComponentInfo {
        ComponentInfo {
            index: 0,
            name: "web".into(),
            kind: Kind::Service,
            hit_ratio: 0.0,
            shed: None,
            entity: Entity::PLACEHOLDER,
            instances: instance_ids.iter().map(|_| Entity::PLACEHOLDER).collect(),
            instance_ids,
            in_links: vec![],
            out,
            pull_links: vec![],
            workers_real: 1,
            queue_real: None,
        }
    }

    #[test]
    fn the_sole_table_names_a_components_one_instance_and_way_out_and_nothing_else() {
        let mut topo = Topology {
            components: vec![
                component(vec![7], vec![(1, 3, CallKind::Async)]),
                component(
                    vec![8, 9],
                    vec![(0, 4, CallKind::Sync), (2, 5, CallKind::Sync)],
                ),
            ],
            ..default()
        };
        topo.refresh_sole(0);
        topo.refresh_sole(1);
        let one = topo.sole(0);
        assert_eq!(one.instance(), Some(7));
        assert_eq!(one.out(), Some(3));
        assert_eq!(one.out_to(1), Some((3, CallKind::Async)));
        assert_eq!(one.out_to(2), None, "a target it has no link to");
        let two = topo.sole(1);
        assert_eq!(
            (two.instance(), two.out(), two.out_to(0)),
            (None, None, None)
        );
        assert_eq!(topo.sole(5), Sole::NONE, "a component that is not there");
        // A second instance added later: the table follows.
        topo.components[0].instance_ids.push(10);
        topo.refresh_sole(0);
        assert_eq!(topo.sole(0).instance(), None);
    }
}
