//! The queue seam's vocabulary: what an instance asks of its queue strategy (`offer`, `pop`)
//! and what an offer comes to. Built-in strategies (`queue::TailDrop`, `zoo::Zoo`) and custom
//! ones implement `QueueDiscipline`.

use crate::sim::flow::request::Request;
use crate::sim::schedule::dist::Nanos;
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
    /// Requests the last `pop` dropped instead of serving (CoDel, deadline-aware): they leave
    /// as `Dropped`.
    fn take_dropped(&mut self, _out: &mut Vec<Request>) {}
    /// A copy of this strategy with everything waiting in it (a timeline snapshot).
    fn clone_box(&self) -> Box<dyn QueueDiscipline>;
}

impl Clone for Box<dyn QueueDiscipline> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}
