//! Resource engines (CPU, memory, storage, network) of each instance: capacities, the service
//! time they imply, and their live utilization, smoothed over about a second.

use crate::scenario::{ComponentSpec, EngineSpec};
use crate::sim::SimClock;
use crate::sim::SimSystems;
use crate::sim::SimTick;
use crate::sim::flow::core::FlowCore;
use crate::sim::flow::instance::Instance;
use crate::sim::read::events::SimEvent;
use crate::sim::schedule::cadence::{ENGINE_UPDATE_NS, on_engine_update};
use crate::sim::schedule::topology::Topology;
use bevy::prelude::*;

pub use crate::sim::schedule::states::EngineKind;

/// An engine entity, child of an instance.
#[derive(Component, Debug, Clone)]
pub struct Engine {
    /// Which resource.
    pub kind: EngineKind,
    /// Capacity in the engine's unit (cores, MB, IOPS, Mbit/s).
    pub capacity: f64,
    /// Utilization when every worker is busy (rate engines); 0 if requests do not use it.
    pub share: f64,
    /// Live utilization, 0-1 (smoothed; memory is instantaneous).
    pub utilization: f64,
}

impl Engine {
    /// Creates an idle engine.
    pub fn new(kind: EngineKind, spec: &EngineSpec, share: f64) -> Self {
        let capacity = match kind {
            EngineKind::Cpu => spec.cpu_cores,
            EngineKind::Memory => spec.memory_mb,
            EngineKind::Storage => spec.storage_iops,
            EngineKind::Network => spec.network_mbps,
        };
        Self {
            kind,
            capacity,
            share,
            utilization: 0.0,
        }
    }
}

/// Service time and engine shares of one component.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServicePlan {
    /// Mean service time per request (ms).
    pub mean_ms: f64,
    /// Utilization of each engine when all workers are busy (index: `EngineKind as usize`).
    pub share: [f64; 4],
}

/// Works out the service time: the given mean, or `workers / μ` where μ (requests per second
/// per instance) is set by the bottleneck engine, so a saturated instance runs exactly at μ.
pub fn plan(c: &ComponentSpec) -> ServicePlan {
    let d = c.service.demand;
    let rates = c.engine_rates();
    let workers = c.workers as f64;
    let mean_ms = c.service_mean_ms();
    let mu = workers / (mean_ms / 1000.0);
    let mut share = rates.map(|r| if r.is_finite() { mu / r } else { 0.0 });
    if d.cpu_ms <= 0.0 {
        // Without a CPU demand the workers themselves stand for the CPU.
        share[EngineKind::Cpu as usize] = 1.0;
    }
    ServicePlan { mean_ms, share }
}

/// Smoothing time of the utilization (ns of simulated time).
const SMOOTHING_NS: f64 = 1e9;
pub(in crate::sim) fn plugin(app: &mut App) {
    app.add_systems(
        SimTick,
        update_engines
            .run_if(on_engine_update)
            .in_set(SimSystems::Engines),
    );
}

/// Updates every engine's utilization from its instance's busy workers and memory, and the
/// instance's pressure (its busiest engine) used for thrashing.
pub fn update_engines(clock: Res<SimClock>, mut engines: EngineUpdate) {
    engines.run(&clock);
}

/// What the engine update works on.
#[derive(bevy::ecs::system::SystemParam)]
pub struct EngineUpdate<'w, 's> {
    core: ResMut<'w, FlowCore>,
    topo: Res<'w, Topology>,
    children: Query<'w, 's, &'static Children>,
    engines: Query<'w, 's, &'static mut Engine>,
    events: MessageWriter<'w, SimEvent>,
}

impl EngineUpdate<'_, '_> {
    /// The engine update at the end of the tick `clock`.
    pub fn run(&mut self, clock: &SimClock) {
        let EngineUpdate {
            core,
            topo,
            children,
            engines,
            events,
        } = self;
        let every = (ENGINE_UPDATE_NS / clock.tick).max(1);
        let alpha = ((every * clock.tick) as f64 / SMOOTHING_NS).min(1.0);
        for (inst, e) in core.instances.iter_mut().zip(&topo.instances) {
            let Ok(children) = children.get(*e) else {
                continue;
            };
            update_instance(inst, children, engines, events, clock.now, alpha);
        }
    }
}

/// One instance's engines from its busy workers and memory; its pressure (busiest engine).
fn update_instance(
    inst: &mut Instance,
    children: &Children,
    engines: &mut Query<&mut Engine>,
    events: &mut MessageWriter<SimEvent>,
    now: crate::sim::schedule::dist::Nanos,
    alpha: f64,
) {
    if let Some(e) = inst.refresh(now) {
        events.write(e);
    }
    let busy = if inst.up {
        inst.busy as f64 / inst.workers() as f64
    } else {
        0.0
    };
    let mut pressure: f64 = 0.0;
    for child in children.iter() {
        let Ok(mut e) = engines.get_mut(child) else {
            continue;
        };
        let now = match e.kind {
            EngineKind::Memory => inst.memory_used_mb() / e.capacity,
            _ => busy * e.share,
        };
        e.utilization = match e.kind {
            EngineKind::Memory => now,
            _ => e.utilization + alpha * (now - e.utilization),
        };
        pressure = pressure.max(e.utilization.min(1.0));
    }
    inst.pressure = pressure;
}
