//! Queueing theory beside the simulation: for every component that a textbook model describes
//! at its current load, the predicted utilisation, probability of waiting, queue length, time
//! in the component and drop probability (M/M/c by Erlang C, M/M/c/K, M/G/1 by
//! Pollaczek-Khinchine), and where the model's assumptions do not hold, which one is broken.
//!
//! - [`formulas`]: the closed forms, pure functions of rates and sizes;
//! - [`assess`]: the traffic equations and each component's verdict, from the scenario and
//!   what the run looks like now ([`assess::Live`], filled from the read view by [`live`]);
//! - [`observe`]: the observed figures of a window of metric samples, with their confidence
//!   intervals, and Little's law checked on them; the table `flowlab run --theory` prints.
//!
//! docs/THEORY.md names each formula and when it applies.

pub mod assess;
pub mod formulas;
pub mod observe;

use crate::sim::read::view::SimView;
use crate::sim::schedule::states::BreakerState;

/// What the theory needs to know of the run now, read from `view`; `retrying[s]` says whether
/// source `s` sent retries over the last interval.
pub fn live(view: &SimView, retrying: Vec<bool>) -> assess::Live {
    let n = view.components().count();
    let mut broken = vec![Vec::new(); n];
    let mut instances_up = vec![0; n];
    for c in view.components() {
        let ci = c.index as usize;
        instances_up[ci] = c.instances_up;
        for i in view.instances_of(c.index) {
            if i.up && i.slowdown != 1.0 {
                broken[ci].push(format!("{} is slowed (service x{:.1})", i.name, i.slowdown));
            }
            if i.up && i.warming {
                broken[ci].push(format!("{} is warming up", i.name));
            }
        }
    }
    for l in view.links() {
        let Some(b) = broken.get_mut(l.to as usize) else {
            continue;
        };
        if l.rate_limit.is_some() {
            b.push(format!("flow control limits {}'s rate", l.name));
        }
        if l.breaker != BreakerState::Closed {
            b.push(format!("the breaker on {} is not closed", l.name));
        }
        if l.held > 0 {
            b.push(format!("{} holds requests back at the sender", l.name));
        }
    }
    assess::Live {
        t_s: view.seconds(),
        retrying,
        instances_up,
        broken,
    }
}
