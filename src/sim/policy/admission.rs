//! Admission on a link: what the sender does with a request before it goes on the wire. The
//! flow phase only asks `admit`, and for held requests `release` and `next_release`; the
//! strategy decides. Today's, seed 000's, is the circuit breaker's draw (OPEN refuses most
//! MEDIUM and LOW requests, HALF-OPEN lets a share through) and then the rate limit (a token
//! bucket): a request waits at the sender for a token, or is refused at once with a 503 when
//! the wait would exceed `max_hold_ms`.

use crate::sim::dist::Nanos;
use crate::sim::link::{Admit, Link};
use crate::sim::request::{Priority, Request};
use std::fmt::Debug;

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
}

/// The admission strategy of a link.
#[derive(Debug, Default)]
pub enum Admission {
    /// Seed 000's breaker and rate limit (links between components).
    #[default]
    Seed000,
    /// Everything passes (a client's first hop).
    Open,
    /// Anything else, plugged in from outside.
    Custom(Box<dyn AdmissionPolicy>),
}

/// Offers `req` to the link's admission; counts it as offered (and refused) for the link.
#[inline]
pub fn admit(link: &mut Link, req: Request) -> Admit {
    match &mut link.admission {
        Admission::Open => Admit::Send(req),
        Admission::Custom(p) => {
            link.flow.offered += 1;
            let a = p.admit(req, req.at);
            if matches!(a, Admit::Refused(_)) {
                link.flow.refused += 1;
            }
            a
        }
        Admission::Seed000 => {
            let b = &link.breaker;
            if b.block > 0.0
                && !(b.priority_passes && req.priority <= Priority::High)
                && link.chance() < link.breaker.block
            {
                link.breaker.refused += 1;
                link.flow.offered += 1;
                link.flow.refused += 1;
                return Admit::Refused(req);
            }
            link.flow.admit(req, req.at)
        }
    }
}

/// Held requests that may go at `now`.
pub fn release(link: &mut Link, now: Nanos, out: &mut Vec<Request>) {
    match &mut link.admission {
        Admission::Custom(p) => p.release(now, out),
        _ => link.flow.release(now, out),
    }
}

/// When the next held request may go.
pub fn next_release(link: &Link, now: Nanos) -> Nanos {
    match &link.admission {
        Admission::Custom(p) => p.next_release(now),
        _ => link.flow.next_release(now),
    }
}

/// Requests held at the sender.
pub fn held(link: &Link) -> u64 {
    match &link.admission {
        Admission::Custom(p) => p.held(),
        _ => link.flow.held.len() as u64,
    }
}
