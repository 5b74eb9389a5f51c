//! Turns a validated scenario into entities: sources, components with instance children, each
//! instance with four engine children, and links; inserts `Topology` and `Routes`. Called when a
//! scenario is loaded (never from a plugin's `build`), and by the command door to add instances.

use crate::scenario::{CallKind, ComponentSpec, Hop, Kind, QueueSpec, Scenario};
use crate::sim::control::health::{HealthStatus, HealthTracker, InstanceHealth, InstanceTracker};
use crate::sim::flow::core::{FlowCore, InstanceQueue};
use crate::sim::flow::engines::{Engine, EngineKind};
use crate::sim::flow::instance::{Instance, Memory, restart_ns};
use crate::sim::flow::link::{Link, NodeRef};
use crate::sim::flow::source::TrafficSource;
use crate::sim::read::latency::ComponentLatency;
use crate::sim::schedule::dist::{Duration, MS, Stream, instance_key, stream};
use crate::sim::schedule::topology::{
    ComponentInfo, ComponentNode, Fan, FlowRoute, Routes, SimEntity, Topology,
};
use crate::sim::strategies::QueuePolicy;
use bevy::prelude::*;
use std::collections::{BTreeSet, HashMap};

/// The scenario's names, looked up in constant time: setup stays linear in the number of
/// sources, components and links (a search per link was quadratic: 20K sources took 2.3 s).
struct Names<'a> {
    sources: HashMap<&'a str, u32>,
    components: HashMap<&'a str, u32>,
    links: HashMap<(&'a str, &'a str), u32>,
}

impl<'a> Names<'a> {
    fn of(s: &'a Scenario) -> Self {
        let index = |it: &mut dyn Iterator<Item = &'a str>| {
            let mut m = HashMap::new();
            for (i, n) in it.enumerate() {
                m.entry(n).or_insert(i as u32);
            }
            m
        };
        let mut links = HashMap::new();
        for (i, l) in s.links.iter().enumerate() {
            links
                .entry((l.from.as_str(), l.to.as_str()))
                .or_insert(i as u32);
        }
        Names {
            sources: index(&mut s.sources.iter().map(|x| x.name.as_str())),
            components: index(&mut s.components.iter().map(|x| x.name.as_str())),
            links,
        }
    }

    /// Index of the component called `name` (validation guarantees it exists).
    fn comp(&self, name: &str) -> u32 {
        self.components.get(name).copied().unwrap_or(0)
    }
}

/// Spawns every entity of the scenario and inserts `Topology` and `Routes`.
pub fn spawn_scenario(world: &mut World, s: &Scenario) {
    let names = Names::of(s);
    let routes = flow_routes(s, &names);
    // The core's instances in one allocation of their size (an instance is about 1 KB).
    let instances: usize = s
        .components
        .iter()
        .map(|c| c.autoscale.map_or(c.instances, |a| a.max.max(c.instances)) as usize)
        .sum();
    let mut core = FlowCore::default();
    core.instances.reserve_exact(instances);
    world.insert_resource(core);
    let mut topo = Topology {
        unit: s.sim.request_unit.max(1) as u64,
        ..default()
    };
    for (ci, c) in s.components.iter().enumerate() {
        spawn_component(world, &mut topo, s, ci as u32, c);
    }
    spawn_links(world, &mut topo, s, &names);
    mark_credited(world, &topo, s, &names);
    let mut by_source: Vec<Vec<usize>> = vec![vec![]; s.sources.len()];
    for (gi, f) in routes.flows.iter().enumerate() {
        if let Some(v) = by_source.get_mut(f.source as usize) {
            v.push(gi);
        }
    }
    let made: Vec<TrafficSource> = by_source
        .iter()
        .enumerate()
        .map(|(si, flows)| make_source(&mut topo, &routes, s, si, flows))
        .collect();
    // One batch, as the links; each source's state is in the core.
    topo.sources = world.spawn_batch(made.iter().map(|_| SimEntity)).collect();
    world.resource_mut::<FlowCore>().sources = made;
    topo.order = topological_order(&topo);
    world.insert_resource(topo);
    world.insert_resource(routes);
}

/// The instances of every component that a link with credits leads to give credits back.
fn mark_credited(world: &mut World, topo: &Topology, s: &Scenario, names: &Names) {
    for l in s.links.iter().filter(|l| l.credits.is_some()) {
        let ci = names.comp(&l.to) as usize;
        let mut core = world.resource_mut::<FlowCore>();
        for &i in &topo.components[ci].instance_ids {
            if let Some(inst) = core.instance_mut(i) {
                inst.credited = true;
            }
        }
    }
}

/// Every flow's route, numbered globally in source order: per hop, the options with their
/// cumulative probabilities.
fn flow_routes(s: &Scenario, names: &Names) -> Routes {
    let mut routes = Routes::default();
    for (si, src) in s.sources.iter().enumerate() {
        for f in &src.flows {
            let mut hops = Vec::with_capacity(f.path.len());
            let mut back = Vec::with_capacity(f.path.len());
            let mut fan = Vec::with_capacity(f.path.len());
            for (k, h) in f.path.iter().enumerate() {
                let opts: Vec<(&str, f64)> = match h {
                    Hop::To(n) => vec![(n.as_str(), 1.0)],
                    Hop::OneOf(v) => v.iter().map(|(n, p)| (n.as_str(), *p)).collect(),
                    Hop::Back(n, _) => vec![(n.as_str(), 1.0)],
                    // Every target is called: each is its own "option" with the full share.
                    Hop::Fan { to, .. } => to.iter().map(|n| (n.as_str(), 0.0)).collect(),
                };
                fan.push(match h {
                    Hop::Fan {
                        to,
                        wait_for,
                        optional,
                    } => Some(Fan {
                        targets: to.iter().map(|n| names.comp(n)).collect(),
                        need: wait_for.unwrap_or(to.len() as u32).min(255) as u8,
                        optional: to
                            .iter()
                            .enumerate()
                            .filter(|(_, n)| optional.contains(n))
                            .fold(0, |m, (i, _)| m | (1 << i)),
                    }),
                    _ => None,
                });
                back.push(match h {
                    Hop::Back(n, p) => Some((back_to(&f.path[..k], n), *p)),
                    _ => None,
                });
                let mut acc = 0.0;
                let mut options: Vec<(u32, f64)> = opts
                    .iter()
                    .map(|(n, p)| {
                        acc += p;
                        (names.comp(n), acc)
                    })
                    .collect();
                // Shares that add up to 1 (within rounding) leave no exit.
                if let Some(last) = options.last_mut()
                    && (last.1 - 1.0).abs() <= 1e-6
                {
                    last.1 = 1.0;
                }
                hops.push(options);
            }
            let plain = back.iter().all(Option::is_none) && fan.iter().all(Option::is_none);
            routes.flows.push(FlowRoute {
                name: f.name.clone(),
                source: si as u32,
                hops,
                back,
                fan,
                plain,
            });
        }
    }
    routes
}

/// The latest hop before a `Back` hop that may visit `name` (validation guarantees one).
fn back_to(before: &[Hop], name: &str) -> u16 {
    before
        .iter()
        .rposition(|h| match h {
            Hop::To(n) => n == name,
            Hop::OneOf(v) => v.iter().any(|o| o.0 == name),
            Hop::Back(..) => false,
            Hop::Fan { .. } => false,
        })
        .unwrap_or(0) as u16
}

/// Workers and queue capacity per instance in simulated units.
fn simulated_size(c: &ComponentSpec, unit: u64) -> (u32, Option<u64>) {
    let workers = ((c.workers as f64 / unit as f64).round() as u32).max(1);
    let queue = match c.queue {
        QueueSpec::Bounded(n) => Some(n.div_ceil(unit)),
        QueueSpec::Unbounded => None,
    };
    (workers, queue)
}

/// A component entity with its instances (spares for autoscaling included).
fn spawn_component(
    world: &mut World,
    topo: &mut Topology,
    s: &Scenario,
    ci: u32,
    c: &ComponentSpec,
) {
    let entity = world
        .spawn((
            SimEntity,
            ComponentNode {
                index: ci,
                name: c.name.clone(),
                kind: c.kind,
            },
        ))
        .id();
    topo.components.push(ComponentInfo {
        index: ci,
        name: c.name.clone(),
        kind: c.kind,
        hit_ratio: c.hit_ratio.unwrap_or(0.0),
        shed: c.shed,
        entity,
        instances: vec![],
        instance_ids: vec![],
        in_links: vec![],
        out: vec![],
        pull_links: vec![],
        workers_real: c.workers,
        queue_real: match c.queue {
            QueueSpec::Bounded(n) => Some(n),
            QueueSpec::Unbounded => None,
        },
    });
    topo.refresh_sole(ci);
    let spawned = c.autoscale.map_or(c.instances, |a| a.max.max(c.instances));
    for k in 0..spawned {
        let inst = spawn_instance(world, topo, s, ci);
        if k >= c.instances {
            // A spare for autoscaling, not provisioned yet.
            if let Some(i) = world.resource_mut::<FlowCore>().instance_mut(inst) {
                i.deprovision();
            }
        }
    }
}

/// One instance of component `ci`, numbered after every instance so far, with its four engines.
/// Returns its index.
fn spawn_instance(world: &mut World, topo: &mut Topology, s: &Scenario, ci: u32) -> u32 {
    let c = &s.components[ci as usize];
    let plan = crate::sim::flow::engines::plan(c);
    let unit = topo.unit;
    let (workers, queue) = simulated_size(c, unit);
    let idx = topo.instances.len() as u32;
    let k = topo.components[ci as usize].instances.len();
    let name = format!("{}#{k}", c.name);
    let inst = Instance::new(
        idx,
        ci,
        name.clone(),
        workers,
        queue,
        QueuePolicy::of(
            c.discipline,
            c.queue_policy,
            stream(s.sim.seed, Stream::Queue, instance_key(ci, k as u32)),
        ),
        Duration::new(plan.mean_ms * MS, c.service.shape),
        (s.sim.seed, instance_key(ci, k as u32)),
        Memory {
            base_mb: c.engines.base_memory_mb,
            per_request_mb: c.service.demand.memory_mb * unit as f64,
            capacity_mb: c.engines.memory_mb,
        },
        c.thrashing,
        restart_ns(c.restart_after_s),
    );
    let mut inst = inst;
    inst.bulkheads = crate::sim::strategies::bulkhead::Bulkheads::of(s, ci as usize, workers, unit);
    // Known once the links are spawned (`mark_credited`); an instance added later asks here.
    inst.credited = !topo.links.is_empty()
        && s.links
            .iter()
            .any(|l| l.credits.is_some() && l.to == c.name);
    inst.concurrency = c.concurrency.map(|spec| {
        Box::new(crate::sim::strategies::concurrency::ConcurrencyLimit::new(
            spec,
        ))
    });
    let parent = topo.components[ci as usize].entity;
    let queue = InstanceQueue::of(&inst);
    world.resource_mut::<FlowCore>().instances.push(inst);
    let ie = world
        .spawn((
            SimEntity,
            queue,
            ChildOf(parent),
            InstanceHealth(1.0, [1.0; 4]),
            HealthStatus::initial(),
            InstanceTracker::default(),
        ))
        .id();
    for kind in EngineKind::ALL {
        world.spawn((
            SimEntity,
            Engine::new(kind, &c.engines, plan.share[kind as usize]),
            ChildOf(ie),
        ));
    }
    let info = &mut topo.components[ci as usize];
    info.instances.push(ie);
    info.instance_ids.push(idx);
    topo.refresh_sole(ci);
    topo.instances.push(ie);
    topo.instance_names.push(name);
    idx
}

/// Adds a new instance to a running component (the command door's `SetInstances`); returns
/// its index.
pub fn spawn_extra_instance(world: &mut World, ci: u32, s: &Scenario) -> u32 {
    let mut topo = world.resource::<Topology>().clone();
    let e = spawn_instance(world, &mut topo, s, ci);
    world.insert_resource(topo);
    e
}

/// Every link, with the tables of who sends to whom; and each link's alternative route.
fn spawn_links(world: &mut World, topo: &mut Topology, s: &Scenario, names: &Names) {
    topo.source_links = vec![vec![]; s.sources.len()];
    let made: Vec<Link> = s
        .links
        .iter()
        .enumerate()
        .map(|(li, l)| make_link(topo, s, names, li, l))
        .collect();
    // Spawned as one batch; each link's state is in the core.
    topo.links = world.spawn_batch(made.iter().map(|_| SimEntity)).collect();
    world.resource_mut::<FlowCore>().links = made;
    // Alternative routes: the link from the same sender to the alternative.
    topo.alternatives = s
        .links
        .iter()
        .map(|l| {
            let alt = l.alternative.as_ref()?;
            names.links.get(&(l.from.as_str(), alt.as_str())).copied()
        })
        .collect();
}

/// Link `li`, with the tables of who sends to whom updated for it.
fn make_link(
    topo: &mut Topology,
    s: &Scenario,
    names: &Names,
    li: usize,
    l: &crate::scenario::LinkSpec,
) -> Link {
    let from = match names.sources.get(l.from.as_str()) {
        Some(&i) => NodeRef::Source(i),
        None => NodeRef::Component(names.comp(&l.from)),
    };
    let to = names.comp(&l.to);
    // A load balancer's own strategy picks the instance it sends to; otherwise the receiver's.
    let strategy = match from {
        NodeRef::Component(f) if s.components[f as usize].kind == Kind::LoadBalancer => {
            s.components[f as usize].strategy
        }
        _ => s.components[to as usize].strategy,
    };
    let name = format!("{}->{}", l.from, l.to);
    let mut link = Link::new(
        li as u32,
        name.clone(),
        from,
        to,
        l.call,
        strategy,
        Duration::from_timing(&l.latency),
        s.sim.seed,
    );
    link.control = crate::sim::strategies::LinkControl::of(l.control);
    link.window = crate::sim::flow::link::Window::of(l, s.sim.request_unit.max(1) as u64);
    link.redelivery = l
        .redelivery
        .as_ref()
        .map(crate::sim::strategies::redelivery::Redelivery::new);
    link.limiter = l.limit.map(|spec| {
        crate::sim::strategies::limit::Limiter::new(spec, s.sim.request_unit.max(1) as u64)
    });
    if l.call == CallKind::Pull
        && let NodeRef::Component(f) = from
    {
        link.topic_capacity = match s.components[f as usize].queue {
            QueueSpec::Bounded(n) => Some(n.div_ceil(topo.unit)),
            QueueSpec::Unbounded => None,
        };
        topo.components[to as usize].pull_links.push(li as u32);
    }
    topo.link_names.push(name);
    topo.components[to as usize].in_links.push(li as u32);
    match from {
        NodeRef::Component(f) => topo.components[f as usize]
            .out
            .push((to, li as u32, l.call)),
        NodeRef::Source(si) => topo.source_links[si as usize].push(li as u32),
    }
    if let NodeRef::Component(f) = from {
        topo.refresh_sole(f);
    }
    link
}

/// Source `si`, after its first-hop links are known.
fn make_source(
    topo: &mut Topology,
    routes: &Routes,
    s: &Scenario,
    si: usize,
    own: &[usize],
) -> TrafficSource {
    let src = &s.sources[si];
    let mut flows = vec![];
    let mut first_hops = vec![];
    for &gi in own {
        let f = &routes.flows[gi];
        let weight = src
            .flows
            .iter()
            .find(|x| x.name == f.name)
            .map(|x| x.weight)
            .unwrap_or(1.0);
        flows.push((gi as u16, weight));
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
    let source = TrafficSource::new(
        si as u32,
        src.name.clone(),
        src.arrivals,
        src.rate.clone(),
        s.sim.request_unit.max(1),
        flows,
        first_hops,
        [p.critical, p.high, p.medium, p.low],
        src.client.timeout_ms,
        src.client.retry.clone(),
        src.client.throttle,
        s.sim.seed,
    );
    topo.source_names.push(src.name.clone());
    source
}

/// Inserts the per-component state the health model and the latency metrics keep.
pub fn insert_component_state(world: &mut World) {
    let entities: Vec<Entity> = world
        .resource::<Topology>()
        .components
        .iter()
        .map(|c| c.entity)
        .collect();
    let n = entities.len();
    for e in entities {
        world
            .entity_mut(e)
            .insert((HealthStatus::initial(), HealthTracker::default()));
    }
    world.resource_mut::<FlowCore>().latency = vec![ComponentLatency::default(); n];
}

/// Kahn's algorithm with ties broken by component index, so the order is stable. Links may form
/// cycles (feedback): when none is ready, the first component left (by index) goes next, as if
/// its links from later components were not there.
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
    let mut placed = vec![false; n];
    while order.len() < n {
        let i = match ready.pop_first() {
            Some(i) => i,
            None => match (0..n as u32).find(|i| !placed[*i as usize]) {
                Some(i) => i,
                None => break,
            },
        };
        if placed[i as usize] {
            continue;
        }
        placed[i as usize] = true;
        order.push(i);
        for (to, _, _) in &topo.components[i as usize].out {
            indegree[*to as usize] = indegree[*to as usize].saturating_sub(1);
            if indegree[*to as usize] == 0 && !placed[*to as usize] {
                ready.insert(*to);
            }
        }
    }
    order
}
