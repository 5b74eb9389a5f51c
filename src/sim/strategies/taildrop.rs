//! Today's queue, tail drop: its storage (one FIFO, or one per priority class) is also what the
//! other built-in strategies (`zoo`) keep their waiting requests in.

use super::discipline::{Offer, QueueDiscipline};
use crate::sim::flow::request::{Priority, Request};
use crate::sim::schedule::dist::Nanos;
use std::collections::VecDeque;

/// Today's queue: arrivals beyond the capacity are dropped (tail drop); waiting requests are
/// served first come, first served, or by priority class (CRITICAL first) and FIFO within one.
#[derive(Debug, Default, Clone)]
pub struct TailDrop {
    /// Waiting requests: one FIFO, or one per class (CRITICAL first) by priority.
    pub(super) classes: [VecDeque<Request>; 4],
    by_priority: bool,
    /// Requests waiting.
    pub(super) len: u64,
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
    fn clone_box(&self) -> Box<dyn QueueDiscipline> {
        Box::new(self.clone())
    }

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
