//! Queue policies at an instance: `offer` an arriving request that found no idle worker, `pop`
//! the next one for a freed worker. The instance keeps the counts and does the departures: a
//! refused arrival or an evicted request leaves as `Dropped`.

use crate::sim::dist::Nanos;
use crate::sim::request::{Priority, Request};
use std::collections::VecDeque;
use std::fmt::Debug;

/// What became of an offered request.
#[derive(Debug)]
pub enum Offer {
    /// It waits.
    Queued,
    /// No room: the arrival is dropped.
    Refused(Request),
    /// It waits, and this one, which was waiting, is dropped to make room.
    Evicted(Request),
}

/// A queue strategy plugged in from outside (tests, experiments). Built-in ones are variants of
/// `QueuePolicy`.
pub trait QueueDiscipline: Debug + Send + Sync {
    /// An arrival at `now` finds no idle worker; `capacity` is the queue's size in simulated
    /// requests (`None`: unbounded).
    fn offer(&mut self, req: Request, capacity: Option<u64>, now: Nanos) -> Offer;
    /// The request a worker freed at `now` takes next.
    fn pop(&mut self, now: Nanos) -> Option<Request>;
    /// Requests waiting.
    fn len(&self) -> u64;
    /// True when nothing waits.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Takes every waiting request (the instance went down).
    fn drain(&mut self, out: &mut Vec<Request>);
    /// Requests waiting, by priority class.
    fn by_priority(&self) -> [u64; 4];
}

/// Today's queue: arrivals beyond the capacity are dropped (tail drop); waiting requests are
/// served first come, first served, or by priority class (CRITICAL first) and FIFO within one.
#[derive(Debug, Default)]
pub struct TailDrop {
    classes: [VecDeque<Request>; 4],
    by_priority: bool,
    len: u64,
}

impl TailDrop {
    /// FIFO, or by priority class.
    pub fn new(by_priority: bool) -> Self {
        Self {
            by_priority,
            ..Default::default()
        }
    }
}

impl QueueDiscipline for TailDrop {
    fn offer(&mut self, req: Request, capacity: Option<u64>, _now: Nanos) -> Offer {
        if capacity.is_some_and(|c| self.len >= c) {
            return Offer::Refused(req);
        }
        let class = if self.by_priority {
            req.priority as usize
        } else {
            0
        };
        self.classes[class].push_back(req);
        self.len += 1;
        Offer::Queued
    }

    fn pop(&mut self, _now: Nanos) -> Option<Request> {
        let r = self.classes.iter_mut().find_map(|q| q.pop_front())?;
        self.len -= 1;
        Some(r)
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn drain(&mut self, out: &mut Vec<Request>) {
        for q in &mut self.classes {
            out.extend(q.drain(..));
        }
        self.len = 0;
    }

    fn by_priority(&self) -> [u64; 4] {
        let mut out = [0; 4];
        if self.by_priority {
            for p in Priority::ALL {
                out[p as usize] = self.classes[p as usize].len() as u64;
            }
        } else {
            for r in &self.classes[0] {
                out[r.priority as usize] += 1;
            }
        }
        out
    }
}

/// The queue strategy of an instance, chosen per component from the scenario (`discipline`).
#[derive(Debug)]
pub enum QueuePolicy {
    /// Tail drop, FIFO or by priority (the scenario's `Fifo` and `Priority`).
    TailDrop(TailDrop),
    /// Anything else, plugged in from outside.
    Custom(Box<dyn QueueDiscipline>),
}

impl QueuePolicy {
    /// The policy a scenario's `discipline` names.
    pub fn of(discipline: crate::scenario::Discipline) -> Self {
        let priority = discipline == crate::scenario::Discipline::Priority;
        QueuePolicy::TailDrop(TailDrop::new(priority))
    }

    fn inner(&self) -> &dyn QueueDiscipline {
        match self {
            QueuePolicy::TailDrop(q) => q,
            QueuePolicy::Custom(q) => q.as_ref(),
        }
    }

    /// See `QueueDiscipline::offer`.
    #[inline]
    pub fn offer(&mut self, req: Request, capacity: Option<u64>, now: Nanos) -> Offer {
        match self {
            QueuePolicy::TailDrop(q) => q.offer(req, capacity, now),
            QueuePolicy::Custom(q) => q.offer(req, capacity, now),
        }
    }

    /// See `QueueDiscipline::pop`.
    #[inline]
    pub fn pop(&mut self, now: Nanos) -> Option<Request> {
        match self {
            QueuePolicy::TailDrop(q) => q.pop(now),
            QueuePolicy::Custom(q) => q.pop(now),
        }
    }

    /// See `QueueDiscipline::drain`.
    pub fn drain(&mut self, out: &mut Vec<Request>) {
        match self {
            QueuePolicy::TailDrop(q) => q.drain(out),
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

    /// Requests waiting, by priority class.
    pub fn by_priority(&self) -> [u64; 4] {
        self.inner().by_priority()
    }
}
