//! Seed 000's autoscaling ("Automatic Scaling"), once per cycle after rate control: a component
//! whose live instances are all below `scale_up_below` health gets a spare provisioned (warming
//! up); one whose live instances are all healthy and underused gives its last idle one back; at
//! most one action per `cooldown_s`, within `min` and `max`.

use crate::scenario::AutoscaleSpec;
use crate::sim::SimClock;
use crate::sim::SimConfig;
use crate::sim::control::health::InstanceHealth;
use crate::sim::flow::core::FlowCore;
use crate::sim::read::events::{EventKind, SimEvent, Subject};
use crate::sim::schedule::dist::{Nanos, SEC};
use crate::sim::schedule::topology::{ComponentInfo, Topology};
use bevy::prelude::*;

/// When each component last scaled (ns), for the cooldown.
#[derive(Resource, Debug, Default, Clone)]
pub struct LastScaled(pub Vec<Option<Nanos>>);

/// Back to t = 0: nothing scaled yet.
pub(in crate::sim) fn reset(world: &mut World) {
    world.insert_resource(LastScaled::default());
}

/// Scales every component with an `autoscale` section, at most once per cooldown.
pub(in crate::sim) fn autoscale(
    clock: Res<SimClock>,
    topo: Res<Topology>,
    scenario: Res<SimConfig>,
    mut core: ResMut<FlowCore>,
    health: Query<&InstanceHealth>,
    mut last: ResMut<LastScaled>,
    mut events: MessageWriter<SimEvent>,
) {
    last.0.resize(topo.components.len(), None);
    for (ci, spec) in scenario.scenario.components.iter().enumerate() {
        let Some(a) = spec.autoscale else { continue };
        let cooling = (a.cooldown_s * SEC) as Nanos;
        if last.0[ci].is_some_and(|at| clock.now.saturating_sub(at) < cooling) {
            continue;
        }
        let c = &topo.components[ci];
        if let Some((from, to)) = scale_once(c, &mut core, &health, &a, clock.now) {
            last.0[ci] = Some(clock.now);
            let below = (to > from).then_some(a.scale_up_below);
            let kind = EventKind::Scale { from, to, below };
            events.write(SimEvent::new(clock.now, Subject::Component(c.index), kind));
        }
    }
}

/// Provisions a spare or hands one back if the rule says so; (live before, live after).
fn scale_once(
    c: &ComponentInfo,
    core: &mut FlowCore,
    health: &Query<&InstanceHealth>,
    a: &AutoscaleSpec,
    now: Nanos,
) -> Option<(u32, u32)> {
    let ids = &c.instance_ids;
    let provisioned = |core: &FlowCore, i: u32| core.instance(i).is_some_and(|i| i.provisioned);
    let live: Vec<(f64, f64)> = (c.instances.iter().zip(ids))
        .filter_map(|(e, i)| Some((health.get(*e).ok()?, core.instance(*i)?)))
        .filter(|(_, i)| i.provisioned)
        .map(|(h, i)| (h.0, i.pressure))
        .collect();
    let n = live.len() as u32;
    let all_weak = !live.is_empty() && live.iter().all(|(h, _)| *h < a.scale_up_below);
    let all_idle = live
        .iter()
        .all(|(h, p)| *h >= a.healthy_above && *p < a.underused_below);
    if all_weak && n < a.max {
        let spare = ids
            .iter()
            .find(|i| core.instance(**i).is_some() && !provisioned(core, **i))?;
        let inst = core.instance_mut(*spare)?;
        let warm = now + (a.warmup_s * SEC) as Nanos;
        inst.provision(now, warm, a.warmup_speed);
        Some((n, n + 1))
    } else if all_idle && n > a.min {
        let victim = ids.iter().rev().find(|i| provisioned(core, **i))?;
        let inst = core.instance_mut(*victim)?;
        inst.deprovision().then_some((n, n - 1))
    } else {
        None
    }
}
