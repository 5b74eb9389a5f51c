//! Admission on a link: what the sender does with a request before it goes on the wire. The
//! flow phase only asks `admit`, and for held requests `release` and `next_release`; the
//! strategy decides. Today's, seed 000's, is the circuit breaker's draw (OPEN refuses most
//! MEDIUM and LOW requests, HALF-OPEN lets a share through) and then the rate limit (a token
//! bucket): a request waits at the sender for a token, or is refused at once with a 503 when
//! the wait would exceed `max_hold_ms`.

use crate::sim::flow::request::Request;
use crate::sim::schedule::dist::Nanos;
use std::fmt::Debug;

/// What happens to a request offered to a rate-limited link.
#[derive(Debug)]
pub enum Admit {
    /// Send it now.
    Send(Request),
    /// It waits at the sender; a release is due.
    Held,
    /// Waiting would take longer than allowed: refused at the sender.
    Refused(Request),
    /// It waits at the sender for the link's window to open (an answer to come back).
    Windowed,
}

/// An admission strategy plugged in from outside (tests, experiments). Built-in ones are
/// variants of `Admission`.
pub trait AdmissionPolicy: Debug + Send + Sync {
    /// A request offered at `now`.
    fn admit(&mut self, req: Request, now: Nanos) -> Admit;
    /// Held requests that may go at `now`, stamped `now`.
    fn release(&mut self, _now: Nanos, _out: &mut Vec<Request>) {}
    /// When the next held request may go (`Nanos::MAX`: none held).
    fn next_release(&self, _now: Nanos) -> Nanos {
        Nanos::MAX
    }
    /// Requests held.
    fn held(&self) -> u64 {
        0
    }
    /// A copy of this policy with its state (a timeline snapshot).
    fn clone_box(&self) -> Box<dyn AdmissionPolicy>;
}

impl Clone for Box<dyn AdmissionPolicy> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// The admission strategy of a link.
#[derive(Debug, Default, Clone)]
pub enum Admission {
    /// Seed 000's breaker and rate limit (links between components).
    #[default]
    Seed000,
    /// Everything passes (a client's first hop).
    Open,
    /// Anything else, plugged in from outside.
    Custom(Box<dyn AdmissionPolicy>),
}
