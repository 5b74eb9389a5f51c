//! Queue policies at an instance: `offer` an arriving request that found no idle worker, `pop`
//! the next one for a freed worker. The instance keeps the counts and does the departures: a
//! refused arrival or an evicted request leaves as `Dropped`.

pub use super::discipline::{Offer, QueueDiscipline};
pub use super::taildrop::TailDrop;
use crate::sim::flow::request::Request;
use crate::sim::schedule::dist::Nanos;

/// The queue strategy of an instance, chosen per component from the scenario (`discipline`).
#[derive(Debug, Clone)]
pub enum QueuePolicy {
    /// Tail drop, FIFO or by priority (the scenario's `Fifo` and `Priority`).
    TailDrop(TailDrop),
    /// Any other built-in strategy (the scenario's `queue_policy`).
    Zoo(Box<super::zoo::Zoo>),
    /// Anything else, plugged in from outside.
    Custom(Box<dyn QueueDiscipline>),
}

impl QueuePolicy {
    /// The policy a component's `discipline` and `queue_policy` name; `rng` is the instance's
    /// own queue stream (drawn from only by the strategies that need chance).
    pub fn of(
        discipline: crate::scenario::Discipline,
        spec: crate::scenario::QueuePolicySpec,
        rng: rand_chacha::ChaCha8Rng,
    ) -> Self {
        match spec {
            crate::scenario::QueuePolicySpec::DropNewest => {
                let priority = discipline == crate::scenario::Discipline::Priority;
                QueuePolicy::TailDrop(TailDrop::new(priority))
            }
            _ => QueuePolicy::Zoo(Box::new(super::zoo::Zoo::new(spec, rng))),
        }
    }

    fn inner(&self) -> &dyn QueueDiscipline {
        match self {
            QueuePolicy::TailDrop(q) => q,
            QueuePolicy::Zoo(q) => q.as_ref(),
            QueuePolicy::Custom(q) => q.as_ref(),
        }
    }

    /// See `QueueDiscipline::take_dropped`.
    pub fn take_dropped(&mut self, out: &mut Vec<Request>) {
        match self {
            QueuePolicy::TailDrop(_) => {}
            QueuePolicy::Zoo(q) => q.take_dropped(out),
            QueuePolicy::Custom(q) => q.take_dropped(out),
        }
    }

    /// See `QueueDiscipline::offer`.
    #[inline]
    pub fn offer(&mut self, req: Request, capacity: Option<u64>, now: Nanos) -> Offer {
        match self {
            QueuePolicy::TailDrop(q) => q.offer(req, capacity, now),
            QueuePolicy::Zoo(q) => q.offer(req, capacity, now),
            QueuePolicy::Custom(q) => q.offer(req, capacity, now),
        }
    }

    /// See `QueueDiscipline::pop`.
    #[inline]
    pub fn pop(&mut self, now: Nanos) -> Option<Request> {
        match self {
            QueuePolicy::TailDrop(q) => q.pop(now),
            QueuePolicy::Zoo(q) => q.pop(now),
            QueuePolicy::Custom(q) => q.pop(now),
        }
    }

    /// See `QueueDiscipline::drain`.
    pub fn drain(&mut self, out: &mut Vec<Request>) {
        match self {
            QueuePolicy::TailDrop(q) => q.drain(out),
            QueuePolicy::Zoo(q) => q.drain(out),
            QueuePolicy::Custom(q) => q.drain(out),
        }
    }

    /// Requests waiting.
    pub fn len(&self) -> u64 {
        self.inner().len()
    }

    /// True when nothing waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// CoDel's state, if this is CoDel.
    pub fn codel(&self) -> Option<super::zoo::CodelState> {
        match self {
            QueuePolicy::Zoo(q) => q.codel(),
            _ => None,
        }
    }

    /// Requests waiting, by priority class.
    pub fn by_priority(&self) -> [u64; 4] {
        self.inner().by_priority()
    }
}
