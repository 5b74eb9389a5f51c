//! Loading a scenario into a running app: everything the simulation owns is despawned and its
//! resources put back to t = 0, then the scenario is spawned. `SimPlugin::build` never spawns;
//! the runner, the app's picker and the command door's `Load` and `Reset` all come here, so a
//! reload in the same `App` is the same as a fresh start.

use crate::scenario::Scenario;
use crate::sim::SimClock;
use crate::sim::SimConfig;
use crate::sim::SimDebt;
use crate::sim::door::command::{CommandQueue, queue_faults};
use crate::sim::read::events::{Journal, SimEvent};
use crate::sim::schedule::cadence::Cadence;
use crate::sim::schedule::dist::{MS, Nanos};
use crate::sim::schedule::topology::SimEntity;
use bevy::ecs::message::Messages;
use bevy::prelude::*;

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
    crate::sim::flow::sweep::reset(world);
    world.insert_resource(SimConfig {
        scenario: scenario.clone(),
        loaded: scenario.clone(),
    });
    world.insert_resource(crate::sim::read::decisions::DecisionLog::default());
    crate::sim::schedule::spawn::spawn_scenario(world, &scenario);
    crate::sim::schedule::spawn::insert_component_state(world);
    crate::sim::control::health::reset(world, &scenario);
    crate::sim::control::rate::reset(world, &scenario);
    crate::sim::control::autoscale::reset(world);
    crate::sim::read::watch::reset(world);
    crate::sim::read::metrics::init_scenario(world);
    crate::sim::schedule::verify::reset(world);
    if let Some(mut runs) = world.get_resource_mut::<crate::sim::Runs>() {
        runs.0 += 1;
    }
}
