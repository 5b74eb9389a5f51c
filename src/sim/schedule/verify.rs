//! Conservation: every request ends exactly once. Checked every tick when `Conservation` is
//! enabled (tests, debug builds): per source (generated = ended + live), per instance
//! (arrived = left + queued + in service + waiting), per link (sent = delivered + in transit),
//! and for the whole system.

use crate::sim::SimClock;
use crate::sim::SimFlowTick;
use crate::sim::SimSystems;
use crate::sim::SimTick;
use crate::sim::flow::core::FlowCore;
use bevy::prelude::*;

/// Whether to check, and what was found.
#[derive(Resource, Debug, Clone, Default)]
pub struct Conservation {
    /// Check every tick.
    pub enabled: bool,
    /// Ticks checked.
    pub checks: u64,
    /// First violations found (at most 20 kept).
    pub violations: Vec<String>,
}

pub(in crate::sim) fn plugin(app: &mut App) {
    app.insert_resource(Conservation {
        enabled: cfg!(debug_assertions),
        ..default()
    })
    .add_systems(
        crate::sim::SimLoad,
        reset.in_set(crate::sim::LoadSystems::Reset),
    )
    .add_systems(
        SimTick,
        check_conservation
            .in_set(SimSystems::Verify)
            .run_if(|c: Res<Conservation>| c.enabled),
    )
    .add_systems(
        SimFlowTick,
        check_conservation
            .in_set(SimSystems::Verify)
            .run_if(|c: Res<Conservation>| c.enabled),
    );
}

/// Back to t = 0: nothing checked or found yet (the switch stays as it is).
fn reset(world: &mut World) {
    let enabled = world.resource::<Conservation>().enabled;
    world.insert_resource(Conservation {
        enabled,
        ..default()
    });
}

fn check_conservation(clock: Res<SimClock>, core: Res<FlowCore>, mut cons: ResMut<Conservation>) {
    cons.checks += 1;
    let mut found = vec![];
    let (mut generated, mut ended, mut live) = (0u64, 0u64, 0u64);
    for s in &core.sources {
        let c = &s.counters;
        let e: u64 = c.ended.iter().sum();
        let (w, h, b) = s.live_breakdown();
        if c.generated != e + s.live || s.live != w + b || h != s.background_live() {
            found.push(format!(
                "source {}: generated {} != ended {} + live {} (waiting {w}, handed off {h}, backoff {b})",
                s.name, c.generated, e, s.live
            ));
        }
        generated += c.generated;
        ended += e;
        live += s.live;
    }
    if generated != ended + live {
        found.push(format!(
            "system: generated {generated} != ended {ended} + in system {live}"
        ));
    }
    for i in &core.instances {
        let c = &i.counters;
        if c.arrivals != c.departures + i.outstanding() || c.departures != c.ok + c.errors {
            found.push(format!(
                "instance {}: arrived {} != left {} + queued {} + in service {} + waiting {}",
                i.name, c.arrivals, c.departures, i.queued, i.busy, i.waiting
            ));
        }
    }
    for l in &core.links {
        let c = &l.counters;
        let pulled = c.published - c.topic_dropped - l.topic.len() as u64;
        if c.sent != c.delivered + c.lost + l.forward.len() as u64
            || c.responses_sent != c.responses_delivered + l.backward.len() as u64
            || (c.published > 0 && pulled != c.sent)
            || (l.flow.offered > 0 && l.flow.offered != c.sent + l.held() + l.flow.refused)
        {
            found.push(format!(
                "link {}: sent/delivered/in transit do not add up: {c:?}",
                l.name
            ));
        }
    }
    if !found.is_empty() {
        for f in found {
            if cons.violations.len() < 20 {
                cons.violations
                    .push(format!("t={:.3}s: {f}", clock.seconds()));
            }
        }
    }
}
