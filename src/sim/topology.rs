//! Turns a validated scenario into entities: sources, components with instance children, each
//! instance with four engine children, and links. Also holds the index tables the sweep uses.

use super::dist::{Duration, MS, Stream, stream};
use super::engines::{Engine, EngineKind};
use super::instance::{Instance, Memory, restart_ns};
use super::link::{Link, NodeRef};
use super::source::Source;
use crate::scenario::{CallKind, Hop, Kind, QueueSpec, Scenario, Strategy};
use bevy::prelude::*;
use std::collections::BTreeSet;

/// A component entity (load balancer, service, cache, database, queue, external API).
#[derive(Component, Debug, Clone)]
pub struct Node {
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
    /// The component entity.
    pub entity: Entity,
    /// Instance entities, by ordinal.
    pub instances: Vec<Entity>,
    /// Global index of the first instance (instances are numbered contiguously).
    pub first_instance: u32,
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
    /// Options per hop.
    pub hops: Vec<Vec<(u32, f64)>>,
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
    /// Component indices in topological order (every link goes forward in it).
    pub order: Vec<u32>,
    /// Link entities by index.
    pub links: Vec<Entity>,
    /// Instance entities by global index.
    pub instances: Vec<Entity>,
    /// One simulated request stands for this many real ones.
    pub unit: u64,
    /// Per link: the link to its alternative route, if the scenario names one.
    pub alternatives: Vec<Option<u32>>,
}

impl Topology {
    /// Index of the component called `name`.
    pub fn component(&self, name: &str) -> Option<&ComponentInfo> {
        self.components.iter().find(|c| c.name == name)
    }
}

/// Spawns every entity of the scenario and inserts `Topology` and `Routes`.
pub fn spawn_scenario(world: &mut World, s: &Scenario) {
    let seed = s.sim.seed;
    let unit = s.sim.request_unit.max(1);
    let comp_index = |name: &str| {
        s.components
            .iter()
            .position(|c| c.name == name)
            .map(|i| i as u32)
    };
    let node_of = |name: &str| match s.sources.iter().position(|x| x.name == name) {
        Some(i) => NodeRef::Source(i as u32),
        None => NodeRef::Component(comp_index(name).unwrap_or(0)),
    };

    // Flows, numbered globally in source order.
    let mut routes = Routes::default();
    for (si, src) in s.sources.iter().enumerate() {
        for f in &src.flows {
            let hops = f
                .path
                .iter()
                .map(|h| {
                    let opts: Vec<(&str, f64)> = match h {
                        Hop::To(n) => vec![(n.as_str(), 1.0)],
                        Hop::OneOf(v) => v.iter().map(|(n, p)| (n.as_str(), *p)).collect(),
                    };
                    let mut acc = 0.0;
                    opts.iter()
                        .map(|(n, p)| {
                            acc += p;
                            (comp_index(n).unwrap_or(0), acc)
                        })
                        .collect()
                })
                .collect();
            routes.flows.push(FlowRoute {
                name: f.name.clone(),
                source: si as u32,
                hops,
            });
        }
    }

    // Components and their instances and engines.
    let mut topo = Topology {
        unit: unit as u64,
        ..default()
    };
    let mut next_instance = 0u32;
    for (ci, c) in s.components.iter().enumerate() {
        let entity = world
            .spawn(Node {
                index: ci as u32,
                name: c.name.clone(),
                kind: c.kind,
            })
            .id();
        let plan = super::engines::plan(c);
        let workers = ((c.workers as f64 / unit as f64).round() as u32).max(1);
        let queue = match c.queue {
            QueueSpec::Bounded(n) => Some(n.div_ceil(unit as u64)),
            QueueSpec::Unbounded => None,
        };
        let first = next_instance;
        let mut instances = vec![];
        let spawned = c.autoscale.map_or(c.instances, |a| a.max.max(c.instances));
        for k in 0..spawned {
            let idx = next_instance;
            next_instance += 1;
            let mut inst = Instance::new(
                idx,
                ci as u32,
                format!("{}#{k}", c.name),
                workers,
                queue,
                c.discipline == crate::scenario::Discipline::Priority,
                Duration::new(plan.mean_ms * MS, c.service.shape),
                stream(seed, Stream::Instance, idx),
                Memory {
                    base_mb: c.engines.base_memory_mb,
                    per_request_mb: c.service.demand.memory_mb * unit as f64,
                    capacity_mb: c.engines.memory_mb,
                },
                c.thrashing,
                restart_ns(c.restart_after_s),
            );
            if k >= c.instances {
                // A spare for autoscaling, not provisioned yet.
                inst.deprovision();
            }
            let ie = world.spawn((inst, ChildOf(entity))).id();
            for kind in EngineKind::ALL {
                world.spawn((
                    Engine::new(kind, &c.engines, plan.share[kind as usize]),
                    ChildOf(ie),
                ));
            }
            instances.push(ie);
            topo.instances.push(ie);
        }
        topo.components.push(ComponentInfo {
            index: ci as u32,
            name: c.name.clone(),
            kind: c.kind,
            hit_ratio: c.hit_ratio.unwrap_or(0.0),
            entity,
            instances,
            first_instance: first,
            in_links: vec![],
            out: vec![],
            pull_links: vec![],
            workers_real: c.workers,
            queue_real: match c.queue {
                QueueSpec::Bounded(n) => Some(n),
                QueueSpec::Unbounded => None,
            },
        });
    }

    // Sources: spawned after their first-hop links are known.
    topo.source_links = vec![vec![]; s.sources.len()];
    for (li, l) in s.links.iter().enumerate() {
        let from = node_of(&l.from);
        let to = comp_index(&l.to).unwrap_or(0);
        let strategy = match from {
            NodeRef::Component(f) if s.components[f as usize].kind == Kind::LoadBalancer => {
                s.components[f as usize].strategy
            }
            _ => s.components[to as usize].strategy,
        };
        let link = Link::new(
            li as u32,
            format!("{}->{}", l.from, l.to),
            from,
            to,
            l.call,
            strategy,
            Duration::from_timing(&l.latency),
            stream(seed, Stream::Link, li as u32),
        );
        let mut link = link;
        if l.call == CallKind::Pull
            && let NodeRef::Component(f) = from
        {
            link.topic_capacity = match s.components[f as usize].queue {
                QueueSpec::Bounded(n) => Some(n.div_ceil(unit as u64)),
                QueueSpec::Unbounded => None,
            };
            topo.components[to as usize].pull_links.push(li as u32);
        }
        topo.links.push(world.spawn(link).id());
        topo.components[to as usize].in_links.push(li as u32);
        match from {
            NodeRef::Component(f) => topo.components[f as usize]
                .out
                .push((to, li as u32, l.call)),
            NodeRef::Source(si) => topo.source_links[si as usize].push(li as u32),
        }
    }
    // Alternative routes: the link from the same sender to the alternative.
    topo.alternatives = s
        .links
        .iter()
        .map(|l| {
            let alt = l.alternative.as_ref()?;
            s.links
                .iter()
                .position(|m| m.from == l.from && &m.to == alt)
                .map(|i| i as u32)
        })
        .collect();
    let _ = Strategy::RoundRobin;

    for (si, src) in s.sources.iter().enumerate() {
        let mut flows = vec![];
        let mut first_hops = vec![];
        for (gi, f) in routes.flows.iter().enumerate() {
            if f.source != si as u32 {
                continue;
            }
            let spec = src
                .flows
                .iter()
                .find(|x| x.name == f.name)
                .map(|x| x.weight)
                .unwrap_or(1.0);
            flows.push((gi as u16, spec));
            let opts = f.hops[0]
                .iter()
                .map(|(comp, cum)| {
                    let link = topo.source_links[si]
                        .iter()
                        .copied()
                        .find(|l| s.links[*l as usize].to == s.components[*comp as usize].name)
                        .unwrap_or(0);
                    (*cum, link)
                })
                .collect();
            first_hops.push(opts);
        }
        let p = src.priorities;
        let source = Source::new(
            si as u32,
            src.name.clone(),
            src.arrivals,
            src.rate.clone(),
            unit,
            flows,
            first_hops,
            [p.critical, p.high, p.medium, p.low],
            src.client.timeout_ms,
            src.client.retry.clone(),
            stream(seed, Stream::Source, si as u32),
        );
        topo.sources.push(world.spawn(source).id());
        topo.source_names.push(src.name.clone());
    }

    topo.order = topological_order(&topo);
    world.insert_resource(topo);
    world.insert_resource(routes);
}

/// Kahn's algorithm with ties broken by component index, so the order is stable.
fn topological_order(topo: &Topology) -> Vec<u32> {
    let n = topo.components.len();
    let mut indegree = vec![0usize; n];
    for c in &topo.components {
        for (to, _, _) in &c.out {
            indegree[*to as usize] += 1;
        }
    }
    let mut ready: BTreeSet<u32> = (0..n as u32)
        .filter(|i| indegree[*i as usize] == 0)
        .collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for (to, _, _) in &topo.components[i as usize].out {
            indegree[*to as usize] -= 1;
            if indegree[*to as usize] == 0 {
                ready.insert(*to);
            }
        }
    }
    order
}
