//! A snapshot: a copy of everything the simulation holds at a tick boundary (every component of
//! every simulation entity and every simulation resource), and putting it back. The list of
//! parts is here, in one place; `every_part_is_named` (the integration tests) fails when a
//! simulation type is neither in it nor in `LEFT_OUT`, so a new piece of state cannot be
//! forgotten silently.
//!
//! What is left out, and why: the app's controls (`SimControl`: pause and speed are the
//! user's, not the run's), the wall clock's debt (`SimDebt`), the count of runs (`Runs`: a
//! rewind is the same run), the metrics sink (rows already written stay written; the app's
//! sink is `Unread`), this tick's messages (drained by the `Record` phase at the end of every
//! tick, so empty between ticks) and the timeline itself.

use crate::sim::control::autoscale::LastScaled;
use crate::sim::control::health::{
    Capacities, HealthConfig, HealthStatus, HealthTracker, InstanceHealth, InstanceTracker,
    SystemHealth,
};
use crate::sim::control::queries::QuerySlots;
use crate::sim::control::rate::{Fallbacks, FlowConfig};
use crate::sim::door::command::CommandQueue;
use crate::sim::door::faults::Faults;
use crate::sim::flow::agenda::Agenda;
use crate::sim::flow::core::{FlowCore, InstanceQueue};
use crate::sim::flow::engines::Engine;
use crate::sim::flow::routing::FanWaits;
use crate::sim::flow::sweep::QueuePeaks;
use crate::sim::read::classes::ClassStats;
use crate::sim::read::decisions::DecisionLog;
use crate::sim::read::events::{Journal, SimEvent};
use crate::sim::read::latency::SystemLatency;
use crate::sim::read::metrics::Recorder;
use crate::sim::read::series::Series;
use crate::sim::read::watch::Watch;
use crate::sim::schedule::cadence::Cadence;
use crate::sim::schedule::dist::Nanos;
use crate::sim::schedule::guard::Halt;
use crate::sim::schedule::idle::{EngineTick, SkipIdle};
use crate::sim::schedule::stretch::Stretch;
use crate::sim::schedule::topology::{ComponentNode, Routes, SimEntity, Topology};
use crate::sim::schedule::verify::Conservation;
use crate::sim::{SimClock, SimConfig};
use bevy::ecs::message::Messages;
use bevy::prelude::*;
use std::any::Any;

type Held = Box<dyn Any + Send + Sync>;

/// One kind of state: how to copy it out of a world and put a copy back.
pub struct Part {
    /// The Rust type's name (what `every_part_is_named` compares).
    pub name: &'static str,
    capture: fn(&mut World) -> Held,
    restore: fn(&mut World, &Held),
    show: fn(&mut World) -> String,
}

/// A resource, copied whole (absent stays absent).
fn resource<R: Resource + Clone + std::fmt::Debug>() -> Part {
    Part {
        name: std::any::type_name::<R>(),
        capture: |w| Box::new(w.get_resource::<R>().cloned()),
        restore: |w, held| match held.downcast_ref::<Option<R>>() {
            Some(Some(r)) => w.insert_resource(r.clone()),
            Some(None) => {
                w.remove_resource::<R>();
            }
            None => {}
        },
        show: |w| format!("{:?}", w.get_resource::<R>()),
    }
}

/// A component, on every entity that has it. Written in place where the entity still has it
/// (no archetype moves, so every query visits the entities in the same order as before).
fn component<C>() -> Part
where
    C: Component<Mutability = bevy::ecs::component::Mutable> + Clone + std::fmt::Debug,
{
    Part {
        name: std::any::type_name::<C>(),
        capture: |w| {
            let list: Vec<(Entity, C)> = w
                .query::<(Entity, &C)>()
                .iter(w)
                .map(|(e, c)| (e, c.clone()))
                .collect();
            Box::new(list)
        },
        restore: |w, held| {
            let Some(list) = held.downcast_ref::<Vec<(Entity, C)>>() else {
                return;
            };
            let keep: bevy::platform::collections::HashSet<Entity> =
                list.iter().map(|x| x.0).collect();
            let now: Vec<Entity> = w.query_filtered::<Entity, With<C>>().iter(w).collect();
            for e in now.into_iter().filter(|e| !keep.contains(e)) {
                w.entity_mut(e).remove::<C>();
            }
            for (e, c) in list {
                let Ok(mut entity) = w.get_entity_mut(*e) else {
                    continue;
                };
                match entity.get_mut::<C>() {
                    Some(mut here) => *here = c.clone(),
                    None => {
                        entity.insert(c.clone());
                    }
                }
            }
        },
        // In entity order: which archetype is visited first is not part of the state (an
        // instance a replayed command spawned again moves through other archetypes).
        show: |w| {
            let mut list: Vec<(Entity, &C)> = w.query::<(Entity, &C)>().iter(w).collect();
            list.sort_by_key(|x| x.0);
            format!("{list:?}")
        },
    }
}

/// Who is whose child (an instance of a component, an engine of an instance): put back only
/// where it changed (an entity spawned again), so the children keep their order.
fn parents() -> Part {
    Part {
        name: std::any::type_name::<ChildOf>(),
        capture: |w| {
            let list: Vec<(Entity, Entity)> = (w
                .query_filtered::<(Entity, &ChildOf), With<SimEntity>>()
                .iter(w))
            .map(|(e, c)| (e, c.parent()))
            .collect();
            Box::new(list)
        },
        restore: |w, held| {
            let Some(list) = held.downcast_ref::<Vec<(Entity, Entity)>>() else {
                return;
            };
            let keep: bevy::platform::collections::HashSet<Entity> =
                list.iter().map(|x| x.0).collect();
            let now: Vec<Entity> = (w.query_filtered::<Entity, (With<ChildOf>, With<SimEntity>)>())
                .iter(w)
                .filter(|e| !keep.contains(e))
                .collect();
            for e in now {
                w.entity_mut(e).remove::<ChildOf>();
            }
            for (e, parent) in list {
                let now = w.get::<ChildOf>(*e).map(|c| c.parent());
                if now != Some(*parent)
                    && let Ok(mut entity) = w.get_entity_mut(*e)
                {
                    entity.insert(ChildOf(*parent));
                }
            }
        },
        // In entity order: which archetype is visited first is not part of the state.
        show: |w| {
            let mut list: Vec<(Entity, Entity)> = (w
                .query_filtered::<(Entity, &ChildOf), With<SimEntity>>()
                .iter(w))
            .map(|(e, c)| (e, c.parent()))
            .collect();
            list.sort();
            format!("{list:?}")
        },
    }
}

/// The command queue, keeping the tape of live commands (`CommandQueue::rewound_to`).
fn commands() -> Part {
    Part {
        name: std::any::type_name::<CommandQueue>(),
        capture: |w| Box::new(w.get_resource::<CommandQueue>().cloned()),
        restore: |w, held| {
            if let Some(Some(q)) = held.downcast_ref::<Option<CommandQueue>>() {
                let now = w.remove_resource::<CommandQueue>().unwrap_or_default();
                w.insert_resource(now.rewound_to(q));
            }
        },
        // What was applied and how much waits (a replayed command is marked as such).
        show: |w| {
            (w.get_resource::<CommandQueue>()).map_or(String::new(), |q| {
                format!("{:?} {}", q.applied, q.pending_first_time())
            })
        },
    }
}

/// The metrics recorder, keeping its sink (`Recorder::restore`).
fn recorder() -> Part {
    Part {
        name: std::any::type_name::<Recorder>(),
        capture: |w| Box::new(w.get_resource::<Recorder>().map(Recorder::snapshot)),
        restore: |w, held| {
            if let (Some(Some(r)), Some(mut here)) = (
                held.downcast_ref::<Option<Recorder>>(),
                w.get_resource_mut::<Recorder>(),
            ) {
                here.restore(r);
            }
        },
        show: |w| {
            w.get_resource::<Recorder>().map_or(String::new(), |r| {
                format!("rows {} next {} every {}", r.rows, r.next, r.every)
            })
        },
    }
}

/// Every part of the simulation's state, in the order they are put back.
pub fn parts() -> Vec<Part> {
    vec![
        resource::<SimClock>(),
        resource::<SimConfig>(),
        commands(),
        resource::<Faults>(),
        resource::<QueuePeaks>(),
        resource::<Agenda>(),
        resource::<FanWaits>(),
        resource::<SystemHealth>(),
        resource::<HealthConfig>(),
        resource::<Capacities>(),
        resource::<QuerySlots>(),
        resource::<LastScaled>(),
        resource::<FlowConfig>(),
        resource::<Fallbacks>(),
        resource::<SkipIdle>(),
        resource::<EngineTick>(),
        resource::<Conservation>(),
        resource::<Topology>(),
        resource::<Routes>(),
        resource::<Cadence>(),
        resource::<Stretch>(),
        resource::<Halt>(),
        resource::<Series>(),
        resource::<SystemLatency>(),
        resource::<Journal>(),
        resource::<ClassStats>(),
        resource::<Watch>(),
        resource::<DecisionLog>(),
        recorder(),
        resource::<FlowCore>(),
        parents(),
        component::<Engine>(),
        component::<InstanceQueue>(),
        component::<HealthStatus>(),
        component::<InstanceHealth>(),
        component::<InstanceTracker>(),
        component::<HealthTracker>(),
        component::<ComponentNode>(),
    ]
}

/// Simulation types a snapshot does not copy, each for the reason in the module's doc.
pub const LEFT_OUT: &[&str] = &[
    "flowlab::sim::SimControl",
    "flowlab::sim::SimDebt",
    "flowlab::sim::Runs",
    "flowlab::sim::schedule::topology::SimEntity",
    "flowlab::sim::timeline::Timeline",
];

/// Every part of the state in words (`Debug`), by type name: two worlds at the same moment
/// of the same run give the same list (the timeline's tests compare them).
pub fn fingerprint(world: &mut World) -> Vec<(&'static str, String)> {
    parts().iter().map(|p| (p.name, (p.show)(world))).collect()
}

/// The whole simulation at one tick boundary.
pub struct Snapshot {
    /// Simulation time (ns).
    pub at: Nanos,
    held: Vec<Held>,
}

impl Snapshot {
    /// Copies everything the simulation holds now.
    pub fn take(world: &mut World, parts: &[Part]) -> Self {
        let held = parts.iter().map(|p| (p.capture)(world)).collect();
        Self {
            at: world.resource::<SimClock>().now,
            held,
        }
    }

    /// Puts the simulation back as it was. An entity spawned since (an instance a command
    /// added) loses every simulation component and its parent, and is left as an empty
    /// `SimEntity` (its id is not handed out again, so a later snapshot that holds it can give
    /// it back its components); every part is written back.
    pub fn restore(&self, world: &mut World, parts: &[Part]) {
        for (p, held) in parts.iter().zip(&self.held) {
            (p.restore)(world, held);
        }
        world.resource_mut::<Messages<SimEvent>>().clear();
    }
}
