//! The host's memory guard: the whole system may hold at most `sim.max_held` simulated requests
//! at once (queued, in service, waiting on a call, on a topic, held at a sender). An unbounded
//! queue flooded without backpressure is a lesson worth watching, but it must stop the run with a
//! clear message before it takes the host down. Checked at the engine cadence (every 10 ms of
//! simulated time): between two checks the system can gain at most 10 ms of arrivals.

use crate::sim::SimClock;
use crate::sim::SimSystems;
use crate::sim::SimTick;
use crate::sim::flow::core::FlowCore;
use crate::sim::flow::engines::update_engines;
use crate::sim::schedule::cadence::on_engine_update;
use crate::sim::schedule::dist::SEC;
use crate::sim::schedule::topology::Topology;
use bevy::prelude::*;

/// Why the run stopped, once it has (`None` while it runs).
#[derive(Resource, Debug, Default, Clone)]
pub struct Halt {
    /// Most simulated requests allowed at once.
    pub max_held: u64,
    /// The message, once the run has stopped.
    pub reason: Option<String>,
}

pub(in crate::sim) fn plugin(app: &mut App) {
    app.init_resource::<Halt>().add_systems(
        SimTick,
        guard_held
            .run_if(on_engine_update)
            .after(update_engines)
            .in_set(SimSystems::Engines),
    );
}

/// Counts what the system holds; past the cap, says where it piles up and stops the run.
pub(in crate::sim) fn guard_held(clock: Res<SimClock>, mut guard: HeldGuard) {
    guard.check(&clock);
}

/// What the memory guard looks at.
#[derive(bevy::ecs::system::SystemParam)]
pub struct HeldGuard<'w> {
    topo: Res<'w, Topology>,
    core: Res<'w, FlowCore>,
    halt: ResMut<'w, Halt>,
}

impl HeldGuard<'_> {
    /// Checks what the system holds at the end of the tick `clock`; true if the run stops.
    pub fn check(&mut self, clock: &SimClock) -> bool {
        stop_if_over(self, clock);
        self.halt.reason.is_some()
    }
}

/// Stops the run (sets `Halt::reason`) if the system holds more than `max_held`.
fn stop_if_over(guard: &mut HeldGuard, clock: &SimClock) {
    let HeldGuard { topo, core, halt } = guard;
    if halt.reason.is_some() || halt.max_held == 0 {
        return;
    }
    let mut held: u64 = 0;
    let mut most = (0u64, "");
    for i in &core.instances {
        let n = i.outstanding();
        held += n;
        if n > most.0 {
            most = (n, &i.name);
        }
    }
    for l in &core.links {
        let n = l.topic.len() as u64 + l.held();
        held += n;
        if n > most.0 {
            most = (n, &l.name);
        }
    }
    if held <= halt.max_held {
        return;
    }
    let unit = topo.unit;
    halt.reason = Some(format!(
        "stopped at t = {:.3} s: the system holds {} requests, past sim.max_held ({}); {} holds {} of them. \
         Without backpressure an unbounded queue grows for as long as arrivals outpace service. \
         Bound the queue (queue: Bounded(n)), turn flow control on, or raise sim.max_held \
         (about 100 bytes of memory each)",
        clock.now as f64 / SEC,
        held * unit,
        halt.max_held * unit,
        most.1,
        most.0 * unit
    ));
}
