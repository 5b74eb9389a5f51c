//! Decisions a strategy makes inside itself, made visible: once a cycle, each strategy's inner
//! state is compared with the last cycle's and a `Mechanism` event is written where it changed
//! (a retry budget spent or refilled, the SRE throttle starting or stopping to reject, CoDel
//! entering or leaving its dropping state, an adaptive concurrency limit cut by a tenth or
//! more). The metrics rows carry the values at every sample; these mark the moments.

use crate::sim::read::events::{EventKind, Mechanism, SimEvent, Subject};
use crate::sim::read::view::SimView;
use bevy::prelude::*;

/// Last cycle's inner states, by source and by instance (global index).
#[derive(Resource, Debug, Default, Clone)]
pub struct Watch {
    /// Per source: (budget spent, throttle rejecting).
    sources: Vec<(bool, bool)>,
    /// Per instance: (CoDel dropping, its count, concurrency limit).
    instances: Vec<(bool, u32, u64)>,
}

/// Starts afresh (a load or a reset).
pub fn reset(world: &mut World) {
    world.insert_resource(Watch::default());
}

/// Compares every strategy's state with the last cycle's and writes what changed.
pub fn watch_mechanisms(
    view: SimView,
    mut watch: ResMut<Watch>,
    mut events: MessageWriter<SimEvent>,
) {
    let now = view.now();
    let mut write = |subject, m| {
        events.write(SimEvent::new(now, subject, EventKind::Mechanism(m)));
    };
    let w = &mut *watch;
    w.sources.resize(view.source_count(), (false, false));
    for s in view.sources() {
        let last = &mut w.sources[s.index as usize];
        let spent = s.budget_balance.is_some_and(|b| b < 1.0);
        let rejecting = s.throttle_p.is_some_and(|p| p > 0.0);
        let who = Subject::Source(s.index);
        match (last.0, spent) {
            (false, true) => write(who, Mechanism::BudgetSpent),
            (true, false) => write(who, Mechanism::BudgetRefilled),
            _ => {}
        }
        match (last.1, rejecting) {
            (false, true) => write(
                who,
                Mechanism::ThrottleOn {
                    p: s.throttle_p.unwrap_or(0.0),
                },
            ),
            (true, false) => write(who, Mechanism::ThrottleOff),
            _ => {}
        }
        *last = (spent, rejecting);
    }
    w.instances.resize(view.instance_count(), (false, 0, 0));
    for i in view.instances() {
        let last = &mut w.instances[i.index as usize];
        let who = Subject::Instance(i.index);
        let (dropping, count) = i.codel.map_or((false, 0), |c| (c.dropping, c.count));
        match (last.0, dropping) {
            (false, true) => write(who, Mechanism::CodelDropping),
            (true, false) => write(
                who,
                Mechanism::CodelStopped {
                    count: last.1.max(count),
                },
            ),
            _ => {}
        }
        let limit = i.concurrency_limit.unwrap_or(0);
        if limit > 0 && last.2 > 0 && limit * 10 <= last.2 * 9 {
            write(
                who,
                Mechanism::LimitCut {
                    from: last.2,
                    to: limit,
                },
            );
        }
        *last = (dropping, count, limit);
    }
}
