//! A broker's redelivery on a `Pull` link: a message whose processing failed at the consumer
//! (an error, a crash, a full queue, a refusal, or a failure of a call it made) goes back to
//! the topic, after a retry queue's delay tier, until it has been delivered `attempts` times;
//! then it moves to the dead-letter queue, where it is counted and kept apart, never lost.
//! Conservation includes it: handed off = background ended + dead-lettered + still running.

use crate::scenario::RedeliverySpec;
use crate::sim::flow::request::Request;
use crate::sim::schedule::dist::{Nanos, SEC};

/// A link's redelivery state.
#[derive(Debug, Clone)]
pub struct Redelivery {
    /// Deliveries in all before the dead-letter queue.
    attempts: u32,
    /// Retry queues' delays (ns), by redelivery.
    tiers: Vec<Nanos>,
    /// Messages waiting in the retry queues now.
    pub waiting: u64,
    /// Taken off while messages waited: they still go back, nothing new is redelivered.
    pub off: bool,
}

/// What becomes of a message whose delivery failed.
#[derive(Debug, Clone, Copy)]
pub enum Fate {
    /// Back onto the topic at this time.
    Again(Nanos, Request),
    /// Into the dead-letter queue.
    DeadLetter,
}

impl Redelivery {
    /// The state for `spec`.
    pub fn new(spec: &RedeliverySpec) -> Self {
        Self {
            attempts: spec.attempts.clamp(1, 255),
            tiers: spec
                .delays_s
                .iter()
                .map(|d| (d * SEC).round() as Nanos)
                .collect(),
            waiting: 0,
            off: false,
        }
    }

    /// The delivery of `req` failed at `at` (`None`: redelivery is off, it ends as it failed).
    pub fn failed(&mut self, req: &Request, at: Nanos) -> Option<Fate> {
        if self.off {
            return None;
        }
        Some(self.fate(req, at))
    }

    fn fate(&mut self, req: &Request, at: Nanos) -> Fate {
        let n = req.redeliveries as u32 + 1;
        if n >= self.attempts {
            return Fate::DeadLetter;
        }
        let delay = match self.tiers.as_slice() {
            [] => 0,
            t => t[(n as usize - 1).min(t.len() - 1)],
        };
        let mut again = *req;
        again.redeliveries = n as u8;
        again.at = at + delay;
        self.waiting += 1;
        Fate::Again(at + delay, again)
    }
}
