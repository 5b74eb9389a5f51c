//! Links: directed edges between nodes. Requests travel forward, responses travel back; both
//! lanes are visible to the visualizer, which draws each item at `(now - depart) / (arrive - depart)`.

use crate::scenario::{Balancing, CallKind};
use crate::sim::control::answers::{QueryStats, TargetView};
use crate::sim::flow::request::Priority;
use crate::sim::flow::request::{FlowHeaders, Request, Response};
pub use crate::sim::flow::wire::Transit;
use crate::sim::flow::wire::Wire;
use crate::sim::schedule::dist::{Duration, LazyStream, Nanos, Stream, stream};
pub use crate::sim::schedule::states::{BreakerState, Urgency};
pub use crate::sim::strategies::admission::Admit;
pub use crate::sim::strategies::breaker::Breaker;
use crate::sim::strategies::{Admission, LinkControl};
use bevy::prelude::*;
use rand_chacha::ChaCha8Rng;
use std::collections::VecDeque;

/// A sender or receiver of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum NodeRef {
    /// A traffic source, by index.
    Source(u32),
    /// A component, by index.
    Component(u32),
}

/// Counters of one link (simulated units).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LinkCounters {
    /// Requests sent forward.
    pub sent: u64,
    /// Of those, retries (a client's second or later attempt).
    pub sent_retries: u64,
    /// Requests delivered to the receiver.
    pub delivered: u64,
    /// Messages put on the topic of a `Pull` link (then pulled, or dropped when it is full).
    pub published: u64,
    /// Messages dropped because the topic was full.
    pub topic_dropped: u64,
    /// Responses sent back.
    pub responses_sent: u64,
    /// Responses delivered to the sender.
    pub responses_delivered: u64,
    /// Of those, errors from the receiver's side (a refusal at the sender is not one).
    pub response_errors: u64,
    /// Requests lost on the wire (a link fault); each answered to its sender as a failure.
    pub lost: u64,
    /// Requests its rate limiter refused (429).
    pub limited: u64,
    /// Requests refused because the window and its buffer were full (503).
    pub windowed_out: u64,
    /// Of the responses delivered, refusals at the sender itself (breaker, rate limit): not the receiver's answers.
    pub refused_locally: u64,
    /// `Pull` links with redelivery: failed deliveries sent back toward the topic.
    pub redelivered: u64,
    /// `Pull` links with redelivery: messages moved to the dead-letter queue.
    pub dead_lettered: u64,
}

/// A link entity's state.
#[derive(Component, Debug, Clone)]
pub struct Link {
    /// Index in `Topology::links`.
    pub index: u32,
    /// Display name `from->to`.
    pub name: String,
    /// Sender.
    pub from: NodeRef,
    /// Receiving component index.
    pub to: u32,
    /// Synchronous call or asynchronous send.
    pub call: CallKind,
    /// How the receiving instance is picked.
    pub strategy: Balancing,
    /// Round-robin cursor.
    pub cursor: u32,
    latency: Duration,
    rng: ChaCha8Rng,
    route: LazyStream,
    breaker_rng: LazyStream,
    seq: u64,
    /// Requests in transit toward the receiver.
    pub forward: Wire<Request>,
    /// Responses in transit back to the sender.
    pub backward: Wire<Response>,
    /// `Pull` links: messages waiting to be pulled (the topic).
    pub topic: std::collections::VecDeque<Request>,
    /// `Pull` links: most messages the topic holds (`None`: unbounded).
    pub topic_capacity: Option<u64>,
    /// `Pull` links: pulled messages on their way to the receiver.
    pub pulling: u64,
    /// Seed 000's flow control (links between components).
    pub flow: FlowControl,
    /// Seed 000's circuit breaker (links between components).
    pub breaker: Breaker,
    /// What the sender does with a request before it goes on the wire (the policy seam).
    pub admission: Admission,
    /// Who runs the link's per-cycle control (the policy seam).
    pub control: LinkControl,
    /// A degradation in force or scheduled (a fault or a command).
    pub fault: Option<LinkFault>,
    /// A rate limiter at the sender (429 with a Retry-After over it).
    pub limiter: Option<crate::sim::strategies::limit::Limiter>,
    /// A window of requests in flight, with the requests waiting for it to open.
    pub window: Option<Window>,
    /// A broker's redelivery and dead-letter queue (`Pull` links).
    pub redelivery: Option<crate::sim::strategies::redelivery::Redelivery>,
    /// The earliest arrival of anything on the wire (`Nanos::MAX`: nothing).
    due: Nanos,
    loss_rng: LazyStream,
    /// Running totals.
    pub counters: LinkCounters,
}

/// A link's window (simulated requests): at most `max` in flight; more wait, up to `buffer`.
/// With a sender-side adaptive concurrency limit, `max` follows the limit (under the fixed
/// window's `max`, if the link has one too).
#[derive(Debug, Clone, Default)]
pub struct Window {
    /// Most in flight.
    pub max: u64,
    /// The sender-side adaptive concurrency limit that moves `max`, if any.
    pub adaptive: Option<Box<Adaptive>>,
    /// Credits (an `Async` link): `max` is the credits granted, `in_flight` those in use; a
    /// credit comes back when the receiver is done with a message, not with an answer.
    pub credit: bool,
    /// Most waiting.
    pub buffer: u64,
    /// In flight now (sent, not answered).
    pub in_flight: u64,
    /// Waiting for the window to open, in order.
    pub waiting: VecDeque<Request>,
}

/// A sender-side adaptive concurrency limit (Netflix's client limiter): the limit learns from
/// each answer's round trip (sent to answered) and whether it was dropped (an error, or after
/// the client's deadline).
#[derive(Debug, Clone)]
pub struct Adaptive {
    /// The limiter (the same algorithms as a server's).
    pub limiter: crate::sim::strategies::concurrency::ConcurrencyLimit,
    /// The fixed window's `max` above it (`u64::MAX`: none).
    pub cap: u64,
    /// When each request in flight was sent, by (id, attempt, branch).
    sent: std::collections::HashMap<(u64, u8, u8), Nanos>,
}

impl Window {
    /// The window of `spec` in simulated requests (`unit` real ones each).
    pub fn new(spec: crate::scenario::WindowSpec, unit: u64) -> Self {
        Self {
            max: spec.max.div_ceil(unit.max(1)).max(1),
            buffer: spec.buffer.div_ceil(unit.max(1)),
            ..Default::default()
        }
    }

    /// A link's window from its spec: fixed (`window`), adaptive (`concurrency`, in simulated
    /// requests like a server's), both (the limit moves under the fixed `max`), credits
    /// (`credits`, an `Async` link), or none.
    pub fn of(l: &crate::scenario::LinkSpec, unit: u64) -> Option<Self> {
        if let Some(c) = l.credits {
            let spec = crate::scenario::WindowSpec {
                max: c.credits,
                buffer: c.buffer,
            };
            return Some(Self {
                credit: true,
                ..Self::new(spec, unit)
            });
        }
        let mut w = match l.window {
            Some(spec) => Self::new(spec, unit),
            None if l.concurrency.is_some() => Self {
                max: u64::MAX,
                ..Default::default()
            },
            None => return None,
        };
        if let Some(spec) = l.concurrency {
            let limiter = crate::sim::strategies::concurrency::ConcurrencyLimit::new(spec);
            let cap = w.max;
            w.max = limiter.limit().min(cap);
            w.adaptive = Some(Box::new(Adaptive {
                limiter,
                cap,
                sent: Default::default(),
            }));
        }
        Some(w)
    }

    /// `req` goes on the wire now: one more in flight (its send time kept for the limiter).
    fn sent(&mut self, req: &Request) {
        self.in_flight += 1;
        if let Some(a) = &mut self.adaptive {
            a.sent.insert((req.id, req.attempt, req.branch), req.at);
        }
    }

    /// If the window has room, the first request waiting for it goes at `at`.
    fn next_waiting(&mut self, at: Nanos) -> Option<Request> {
        if self.in_flight >= self.max {
            return None;
        }
        let mut r = self.waiting.pop_front()?;
        r.at = at;
        self.sent(&r);
        Some(r)
    }

    /// The answer `resp` came back: one fewer in flight; the limiter learns from it.
    fn answered(&mut self, resp: &Response) {
        if let Some(a) = &mut self.adaptive
            && let Some(sent) = a
                .sent
                .remove(&(resp.req.id, resp.req.attempt, resp.req.branch))
        {
            let dropped = matches!(resp.status, crate::sim::flow::request::Reply::Err(_))
                || resp.at > resp.req.deadline;
            let rtt = resp.at.saturating_sub(sent) as f64;
            a.limiter.sample(rtt, self.in_flight, dropped);
            self.max = a.limiter.limit().min(a.cap);
        }
        self.in_flight = self.in_flight.saturating_sub(1);
    }
}

/// A link degraded for a while: more latency, and a share of requests lost on the wire.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinkFault {
    /// From when (ns).
    pub from: Nanos,
    /// Until when (ns).
    pub until: Nanos,
    /// Added one-way latency (ns).
    pub added: Nanos,
    /// Share of requests lost.
    pub loss: f64,
    /// When the sender hears of a loss, after sending (ns).
    pub lost_after: Nanos,
}

impl Link {
    /// Creates an empty link.
    pub fn new(
        index: u32,
        name: String,
        from: NodeRef,
        to: u32,
        call: CallKind,
        strategy: Balancing,
        latency: Duration,
        seed: u64,
    ) -> Self {
        Self {
            index,
            name,
            from,
            to,
            call,
            strategy,
            cursor: 0,
            latency,
            rng: stream(seed, Stream::Latency, index as u64),
            route: LazyStream::new(seed, Stream::Route, (1 << 40) | index as u64),
            breaker_rng: LazyStream::new(seed, Stream::Breaker, index as u64),
            seq: 0,
            forward: Wire::default(),
            backward: Wire::default(),
            topic: std::collections::VecDeque::new(),
            topic_capacity: None,
            pulling: 0,
            flow: FlowControl::default(),
            breaker: Breaker::default(),
            admission: match from {
                NodeRef::Component(_) => Admission::Seed000,
                NodeRef::Source(_) => Admission::Open,
            },
            control: LinkControl::Seed000,
            fault: None,
            limiter: None,
            window: None,
            redelivery: None,
            due: Nanos::MAX,
            loss_rng: LazyStream::new(seed, Stream::Errors, (1 << 40) | index as u64),
            counters: LinkCounters::default(),
        }
    }

    /// Puts a request on the wire at `req.at`. If it arrives before `until` it is handed back
    /// (with its arrival time) to be scheduled in this tick; otherwise it waits on the wire.
    pub fn send(&mut self, mut req: Request, until: Nanos) -> Option<(Nanos, Request)> {
        let depart = req.at;
        let mut arrive = depart + self.flow.delay + self.latency.sample(&mut self.rng);
        req.via = self.index;
        if let Some(f) = self.fault_at(depart) {
            use rand::Rng;
            arrive += f.added;
            if f.loss > 0.0 && self.loss_rng.get().random::<f64>() < f.loss {
                self.lose(req, depart, f.lost_after);
                return None;
            }
        }
        if matches!(self.from, NodeRef::Component(_)) {
            let h = self.flow.headers;
            req.headers = FlowHeaders {
                max_attempts: req.headers.max_attempts,
                ..h
            };
        }
        self.counters.sent += 1;
        self.counters.sent_retries += u64::from(req.attempt > 1);
        self.breaker.calls.on_sent(&req, depart);
        if arrive < until {
            req.at = arrive;
            return Some((arrive, req));
        }
        self.seq += 1;
        self.due = self.due.min(arrive);
        self.forward.push(Transit {
            depart,
            arrive,
            seq: self.seq,
            msg: req,
        });
        None
    }

    /// The degradation in force at `at`, if any.
    #[inline]
    fn fault_at(&self, at: Nanos) -> Option<LinkFault> {
        match &self.fault {
            Some(f) if at >= f.from && at < f.until => Some(*f),
            _ => None,
        }
    }

    /// A request lost on the wire: the sender hears of it as a failure `after` it was sent (a
    /// pulled message frees its consumer's place at once).
    fn lose(&mut self, req: Request, depart: Nanos, after: Nanos) {
        self.counters.sent += 1;
        self.counters.sent_retries += u64::from(req.attempt > 1);
        self.breaker.calls.on_sent(&req, depart);
        self.counters.lost += 1;
        self.counters.responses_sent += 1;
        if self.call == CallKind::Pull {
            self.pulling = self.pulling.saturating_sub(1);
        }
        self.seq += 1;
        let arrive = depart + after;
        self.due = self.due.min(arrive);
        self.backward.push(Transit {
            depart,
            arrive,
            seq: self.seq,
            msg: Response {
                at: depart,
                req,
                status: crate::sim::flow::request::Reply::Err(
                    crate::sim::flow::request::Outcome::Failed,
                ),
            },
        });
    }

    /// Puts a response on the wire back to the sender at `resp.at`; like `send`.
    pub fn reply(&mut self, mut resp: Response, until: Nanos) -> Option<(Nanos, Response)> {
        let depart = resp.at;
        let added = self.fault_at(depart).map_or(0, |f| f.added);
        let arrive = depart + added + self.latency.sample(&mut self.rng);
        self.counters.responses_sent += 1;
        if arrive < until {
            resp.at = arrive;
            return Some((arrive, resp));
        }
        self.seq += 1;
        self.due = self.due.min(arrive);
        self.backward.push(Transit {
            depart,
            arrive,
            seq: self.seq,
            msg: resp,
        });
        None
    }

    /// Takes requests and responses arriving before `until` off the wire, in sending order,
    /// stamped with their arrival time.
    pub fn take_due(
        &mut self,
        until: Nanos,
        requests: &mut Vec<Request>,
        responses: &mut Vec<Response>,
    ) {
        self.take_due_each(until, |m| match m {
            Due::Request(r) => requests.push(r),
            Due::Response(r) => responses.push(r),
        });
    }

    /// Hands `f` each request, then each response, arriving before `until`, in sending order,
    /// stamped with its arrival time: straight from the wire to where it goes next.
    pub fn take_due_each(&mut self, until: Nanos, mut f: impl FnMut(Due)) {
        // Nothing due: no scan of what is on the wire.
        if self.due >= until {
            return;
        }
        let forward = self.forward.take_due(until, |t| {
            let mut r = t.msg;
            r.at = t.arrive;
            f(Due::Request(r));
        });
        let backward = self.backward.take_due(until, |t| {
            let mut r = t.msg;
            r.at = t.arrive;
            f(Due::Response(r));
        });
        self.due = forward.min(backward);
    }

    /// The earliest arrival of anything on the wire (`Nanos::MAX`: nothing).
    pub fn next_due(&self) -> Nanos {
        self.due
    }

    /// Puts a message on the topic; gives it back if the topic is full.
    pub fn publish(&mut self, req: Request) -> Result<(), Request> {
        self.counters.published += 1;
        if self
            .topic_capacity
            .is_some_and(|c| self.topic.len() as u64 >= c)
        {
            self.counters.topic_dropped += 1;
            return Err(req);
        }
        self.topic.push_back(req);
        Ok(())
    }

    /// A uniform draw from the link's stream (breaker decisions).
    pub fn chance(&mut self) -> f64 {
        use rand::Rng;
        self.breaker_rng.get().random()
    }

    /// Requests and responses currently on the wire.
    pub fn in_transit(&self) -> usize {
        self.forward.len() + self.backward.len()
    }
}

impl Link {
    /// Picks the receiving instance with the link's strategy. `loads[i]` is (can take work,
    /// outstanding requests, health); the pick's load is raised by one. When no instance can take work
    /// the request still goes to one, which refuses it.
    pub fn pick(&mut self, loads: &mut [(bool, u64, f64)]) -> usize {
        use rand::Rng;
        let n = loads.len();
        if n == 1 {
            loads[0].1 += 1;
            return 0;
        }
        let start = self.cursor as usize % n;
        let up = loads.iter().filter(|l| l.0).count();
        let i = if up == 0 {
            self.cursor = self.cursor.wrapping_add(1);
            start
        } else {
            match self.strategy {
                Balancing::RoundRobin => {
                    let i = (0..n)
                        .map(|k| (start + k) % n)
                        .find(|i| loads[*i].0)
                        .unwrap_or(start);
                    self.cursor = (i + 1) as u32;
                    i
                }
                Balancing::Random => {
                    let k = self.route.get().random_range(0..up);
                    loads
                        .iter()
                        .enumerate()
                        .filter(|l| l.1.0)
                        .nth(k)
                        .map_or(start, |l| l.0)
                }
                Balancing::LeastOutstanding => {
                    // Ties rotate, so equal instances share the load.
                    let i = (0..n)
                        .map(|k| (start + k) % n)
                        .filter(|i| loads[*i].0)
                        .min_by_key(|i| loads[*i].1)
                        .unwrap_or(start);
                    self.cursor = self.cursor.wrapping_add(1);
                    i
                }
                Balancing::Healthiest => {
                    // Outstanding work per unit of health: equal instances share the load like
                    // least-outstanding; one at half health gets about half the work, one at
                    // no health none. (Sending everything to the single best one would herd:
                    // it is overloaded before its next answer arrives.)
                    let cost = |i: usize| (loads[i].1 as f64 + 1.0) / loads[i].2.max(1e-6);
                    let i = (0..n)
                        .map(|k| (start + k) % n)
                        .filter(|i| loads[*i].0 && loads[*i].2 > 0.0)
                        .min_by(|a, b| cost(*a).total_cmp(&cost(*b)))
                        .or_else(|| (0..n).map(|k| (start + k) % n).find(|i| loads[*i].0))
                        .unwrap_or(start);
                    self.cursor = self.cursor.wrapping_add(1);
                    i
                }
            }
        };
        loads[i].1 += 1;
        i
    }
}

/// Seed 000's flow control on a link between two components: the allowed rate (a token bucket),
/// the requests waiting at the sender for it, the receiver's recommendation, the backpressure
/// delay, and the sender's cached view of the receiver's health.
#[derive(Debug, Clone, Default)]
pub struct FlowControl {
    /// Allowed rate in real requests/s (`None`: unlimited).
    pub limit: Option<f64>,
    /// Rate the controller is heading for (real requests/s).
    pub target: Option<f64>,
    /// The receiver's recommendation for this sender (real requests/s).
    pub recommended: Option<f64>,
    /// Why the rate was last changed.
    pub reason: crate::sim::schedule::states::RateReason,
    /// Urgency of the recommendation.
    pub urgency: Urgency,
    /// Requests offered to the link: sent, held or refused (simulated units).
    pub offered: u64,
    /// `offered` at the last control cycle.
    pub offered_at_cycle: u64,
    /// Offered rate over the last cycle (real requests/s).
    pub demand: f64,
    /// Extra delay before sending, from the backpressure delay table (ns).
    pub delay: Nanos,
    /// Requests waiting at the sender for the rate limit.
    pub held: VecDeque<Request>,
    /// Requests refused at the sender (simulated units).
    pub refused: u64,
    /// A release event is scheduled.
    pub release_pending: bool,
    /// Longest wait allowed at the sender (ns).
    pub max_hold: Nanos,
    /// Health queries the sender made to the receiver and its instances, and how they went.
    pub stats: QueryStats,
    /// The sender's view of the receiver component (cached answer, health-check breaker).
    pub view: TargetView,
    /// The sender's view of each of the receiver's instances (for `Healthiest`).
    pub instance_views: Vec<TargetView>,
    /// Health of each of the receiver's instances to route by, from those views.
    pub instance_health: Vec<f64>,
    /// Until then every instance view stays as it is (cached, or its breaker open).
    pub instance_fresh_until: Nanos,
    /// Headers stamped on every request sent over the link, refreshed each control cycle.
    pub headers: FlowHeaders,
    /// Since when the limit has not bound and the receiver has been calm (ns); the limit is
    /// lifted once this has lasted `capacity_hold_s`.
    pub slack_since: Option<Nanos>,
    per_ns: f64,
    tokens: f64,
    refilled: Nanos,
}

impl FlowControl {
    /// Sets the allowed rate (real requests/s; `None` lifts it). `unit` is the request unit.
    pub fn set_limit(&mut self, limit: Option<f64>, unit: f64, now: Nanos) {
        self.refill(now);
        self.limit = limit;
        self.per_ns = limit.map_or(0.0, |r| r / unit / 1e9);
    }

    fn burst(&self) -> f64 {
        (self.per_ns * 1e7).max(1.0)
    }

    fn refill(&mut self, now: Nanos) {
        if now > self.refilled {
            self.tokens =
                (self.tokens + (now - self.refilled) as f64 * self.per_ns).min(self.burst());
            self.refilled = now;
        }
    }

    /// Offers a request at `now`.
    pub fn admit(&mut self, req: Request, now: Nanos) -> Admit {
        self.offered += 1;
        if self.limit.is_none() {
            return Admit::Send(req);
        }
        self.refill(now);
        if self.held.is_empty() && self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Admit::Send(req);
        }
        let wait = (self.held.len() as f64 + 1.0 - self.tokens) / self.per_ns.max(1e-18);
        if wait > self.max_hold as f64 {
            self.refused += 1;
            return Admit::Refused(req);
        }
        self.held.push_back(req);
        Admit::Held
    }

    /// When the next held request may go.
    pub fn next_release(&self, now: Nanos) -> Nanos {
        let need = (1.0 - self.tokens).max(0.0);
        now + (need / self.per_ns.max(1e-18)).ceil().min(1e15) as Nanos
    }

    /// Lets held requests go as tokens allow, stamped `now`.
    pub fn release(&mut self, now: Nanos, out: &mut Vec<Request>) {
        if self.limit.is_none() {
            out.extend(self.held.drain(..).map(|mut r| {
                r.at = now;
                r
            }));
            return;
        }
        self.refill(now);
        while self.tokens >= 1.0 {
            let Some(mut r) = self.held.pop_front() else {
                break;
            };
            self.tokens -= 1.0;
            r.at = now;
            out.push(r);
        }
    }
}

/// The admission seam (`policy::admission`): what the flow phase asks of a link's sender.
impl Link {
    /// Offers `req` to the link's admission; counts it as offered (and refused) for the self.
    #[inline]
    pub fn admit(&mut self, req: Request) -> Admit {
        if let Some(limiter) = &mut self.limiter
            && let Err(after) = limiter.take(req.at)
        {
            let mut r = req;
            r.headers.retry_after_ms = (after as f64 / 1e6).ceil().min(65_535.0) as u16;
            self.counters.limited += 1;
            return Admit::Refused(r);
        }
        let admitted = self.admit_inner(req);
        match (admitted, &mut self.window) {
            (Admit::Send(r), Some(w)) if w.in_flight >= w.max => {
                if (w.waiting.len() as u64) < w.buffer {
                    w.waiting.push_back(r);
                    Admit::Windowed
                } else {
                    self.counters.windowed_out += 1;
                    Admit::Refused(r)
                }
            }
            (Admit::Send(r), Some(w)) => {
                w.sent(&r);
                Admit::Send(r)
            }
            (a, _) => a,
        }
    }

    /// The admission strategy's answer, before the window.
    #[inline]
    fn admit_inner(&mut self, req: Request) -> Admit {
        match &mut self.admission {
            Admission::Open => Admit::Send(req),
            Admission::Custom(p) => {
                self.flow.offered += 1;
                let a = p.admit(req, req.at);
                if matches!(a, Admit::Refused(_)) {
                    self.flow.refused += 1;
                }
                a
            }
            Admission::Seed000 => {
                let b = &mut self.breaker;
                if b.state == BreakerState::HalfOpen
                    && b.calls.trial_calls().is_some()
                    && !b.calls.take_permit()
                {
                    b.refused += 1;
                    self.flow.offered += 1;
                    self.flow.refused += 1;
                    return Admit::Refused(req);
                }
                let b = &self.breaker;
                if b.block > 0.0
                    && !(b.priority_passes && req.priority <= Priority::High)
                    && self.chance() < self.breaker.block
                {
                    self.breaker.refused += 1;
                    self.flow.offered += 1;
                    self.flow.refused += 1;
                    return Admit::Refused(req);
                }
                self.flow.admit(req, req.at)
            }
        }
    }

    /// Held requests that may go at `now`.
    pub fn release_held(&mut self, now: Nanos, out: &mut Vec<Request>) {
        match &mut self.admission {
            Admission::Custom(p) => p.release(now, out),
            _ => self.flow.release(now, out),
        }
    }

    /// When the next held request may go.
    pub fn next_release(&self, now: Nanos) -> Nanos {
        match &self.admission {
            Admission::Custom(p) => p.next_release(now),
            _ => self.flow.next_release(now),
        }
    }

    /// Requests held at the sender.
    pub fn held(&self) -> u64 {
        let window = self.window.as_ref().map_or(0, |w| w.waiting.len() as u64);
        window
            + match &self.admission {
                Admission::Custom(p) => p.held(),
                _ => self.flow.held.len() as u64,
            }
    }

    /// A credit came back at `at` (the receiver is done with a message): the next waiting
    /// message, if any, goes now with it.
    pub fn credit_returned(&mut self, at: Nanos) -> Option<Request> {
        let w = self.window.as_mut().filter(|w| w.credit)?;
        w.in_flight = w.in_flight.saturating_sub(1);
        w.next_waiting(at)
    }

    /// Whether the link runs on credits.
    pub fn has_credits(&self) -> bool {
        self.window.as_ref().is_some_and(|w| w.credit)
    }

    /// When a credit given back at `at` reaches the sender: one trip across the link.
    pub fn credit_arrives(&mut self, at: Nanos) -> Nanos {
        at + self.latency.sample(&mut self.rng)
    }

    /// The answer `resp` came back: the window opens by one (and an adaptive limit learns from
    /// it); the next waiting request, if any, goes now.
    pub fn window_answered(&mut self, resp: &Response) -> Option<Request> {
        let w = self.window.as_mut().filter(|w| !w.credit)?;
        w.answered(resp);
        w.next_waiting(resp.at)
    }
}

/// What arrives off a link's wire: a request at its receiver, or a response at its sender.
#[derive(Debug, Clone, Copy)]
pub enum Due {
    /// A request, at the link's receiver.
    Request(Request),
    /// A response, at the link's sender.
    Response(Response),
}

#[cfg(test)]
mod tests;
