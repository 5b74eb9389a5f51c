//! Loading a scenario into a running app: everything the simulation owns is despawned, the
//! clock and the command queue put back to t = 0, then the load schedule (`SimLoad`) runs:
//! each plugin fills it with what it puts back (`LoadSystems::Clear`: what lives between
//! ticks; `Spawn`: the scenario's entities and the flow's core; `Reset`: what is derived from
//! them), so no function here has to know every piece of state. `SimPlugin::build` never
//! spawns; the runner, the app's picker and the command door's `Load` and `Reset` all come
//! here, so a reload in the same `App` is the same as a fresh start.

use crate::scenario::Scenario;
use crate::sim::SimClock;
use crate::sim::SimConfig;
use crate::sim::SimDebt;
use crate::sim::door::command::{CommandQueue, queue_faults};
use crate::sim::read::events::{Journal, SimEvent};
use crate::sim::schedule::cadence::Cadence;
use crate::sim::schedule::dist::{MS, Nanos};
use crate::sim::schedule::topology::SimEntity;
use crate::sim::{LoadSystems, SimLoad};
use bevy::ecs::message::Messages;
use bevy::prelude::*;

/// The load schedule with its stages chained (`SimPlugin::build`).
pub(in crate::sim) fn plugin(app: &mut App) {
    app.init_schedule(SimLoad);
    app.configure_sets(
        SimLoad,
        (LoadSystems::Clear, LoadSystems::Spawn, LoadSystems::Reset).chain(),
    );
    app.add_systems(SimLoad, spawn.in_set(LoadSystems::Spawn));
}

/// The scenario in `SimConfig`, spawned.
fn spawn(world: &mut World) {
    // Spawned from the scenario in place (taken out of the world meanwhile), not from a copy.
    world.resource_scope(|world, config: Mut<SimConfig>| {
        crate::sim::schedule::spawn::spawn_scenario(world, &config.scenario);
    });
    crate::sim::schedule::spawn::insert_component_state(world);
}

/// Replaces whatever the simulation holds by `scenario`, at t = 0.
pub fn load_scenario(world: &mut World, scenario: Scenario) {
    let owned: Vec<Entity> = world
        .query_filtered::<Entity, (With<SimEntity>, Without<ChildOf>)>()
        .iter(world)
        .collect();
    for e in owned {
        // Despawning a parent despawns its children (instances, engines).
        world.despawn(e);
    }
    let tick = ((scenario.sim.tick_ms * MS).round() as Nanos).max(1);
    world.insert_resource(SimClock {
        start: 0,
        now: 0,
        tick,
        ticks: 0,
    });
    world.insert_resource(SimDebt::default());
    world.insert_resource(crate::sim::schedule::guard::Halt {
        max_held: scenario.sim.max_held,
        reason: None,
    });
    world.insert_resource(Cadence::new(scenario.health.cycle_s));
    world.insert_resource(Journal::default());
    world.resource_mut::<Messages<SimEvent>>().clear();
    let mut queue = CommandQueue::default();
    queue_faults(&mut queue, &scenario);
    world.insert_resource(queue);
    let shared = std::sync::Arc::new(scenario);
    world.insert_resource(SimConfig {
        scenario: shared.clone(),
        loaded: shared,
    });
    world.run_schedule(SimLoad);
    if let Some(mut runs) = world.get_resource_mut::<crate::sim::Runs>() {
        runs.0 += 1;
    }
}
