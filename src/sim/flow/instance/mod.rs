//! Instances (replicas): a bounded queue, a pool of workers and a service-time distribution.
//! The flow phase calls them at the exact time of each event (arrival, service completion,
//! response from a call), so queueing and latency are exact, not quantised to the tick.

use crate::scenario::{CallKind, Thrashing};
use crate::sim::door::faults::FaultAction;
use crate::sim::flow::request::{Outcome, Reply, Request, Response, Ret};
use crate::sim::read::events::{EventKind, SimEvent, Subject};
use crate::sim::schedule::dist::{Duration, LazyStream, MS, Nanos, Stream, stream};
use crate::sim::schedule::topology::{ComponentInfo, Routes};
use crate::sim::strategies::queue::{Offer, QueuePolicy};
use bevy::prelude::*;
use rand::Rng;
use rand_chacha::ChaCha8Rng;

/// The idle workers, in the order they are taken: the last freed first, then those never used
/// yet, lowest first (the order a stack of every worker, lowest on top, would give).
#[derive(Debug, Clone, Default)]
struct IdleWorkers {
    /// Freed workers (and workers added by a command), taken from the end.
    freed: Vec<u32>,
    /// The next never-used worker.
    fresh: u32,
    /// Never-used workers are those below this.
    end: u32,
}

impl IdleWorkers {
    fn new(n: u32) -> Self {
        Self {
            freed: Vec::new(),
            fresh: 0,
            end: n,
        }
    }

    fn pop(&mut self) -> Option<u32> {
        if let Some(w) = self.freed.pop() {
            return Some(w);
        }
        (self.fresh < self.end).then(|| {
            self.fresh += 1;
            self.fresh - 1
        })
    }

    fn push(&mut self, w: u32) {
        self.freed.push(w);
    }

    fn len(&self) -> usize {
        self.freed.len() + self.end.saturating_sub(self.fresh) as usize
    }

    /// Idle workers at or above `n` leave.
    fn keep_below(&mut self, n: u32) {
        self.freed.retain(|w| *w < n);
        self.end = self.end.min(n);
    }
}

/// What one worker is doing.
#[derive(Debug, Clone, Copy)]
pub(in crate::sim) enum Worker {
    Idle,
    /// Serving `job` since `start`.
    Busy {
        job: Request,
    },
    /// Local work done; waiting for a synchronous call downstream, made for hop `hop`.
    Waiting {
        job: Request,
        hop: u16,
    },
    /// Local work done; waiting for the answers of a fan-out.
    Fanning(Fanning),
}

/// A worker waiting for the answers of a fan-out.
#[derive(Debug, Clone, Copy)]
pub struct Fanning {
    /// The request, at the caller's hop.
    pub job: Request,
    /// The fan-out's hop in the path.
    pub hop: u16,
    /// Successful answers still needed to go on.
    pub need: u8,
    /// Answers still due.
    pub left: u8,
    /// Bit i set: branch i may fail without failing the request.
    pub optional: u32,
    /// When the calls went out (for the fan-in's wait).
    pub since: Nanos,
}

/// Running totals of one instance, in simulated requests.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct InstanceCounters {
    /// Requests that reached the instance.
    pub arrivals: u64,
    /// Requests that left it, whatever the outcome.
    pub departures: u64,
    /// Departures with an OK or hand-off status.
    pub ok: u64,
    /// Successful departures before the client's deadline (goodput).
    pub ok_in_time: u64,
    /// Departures with an error status.
    pub errors: u64,
    /// Local services completed.
    pub served: u64,
    /// Services completed after the client had already given up.
    pub wasted: u64,
    /// Requests refused because the queue was full.
    pub dropped: u64,
    /// Requests failed here (crash, instance down, an error fault).
    pub failed: u64,
    /// Of those, failed by an error fault.
    pub injected: u64,
    /// Arrivals refused by load shedding (503).
    pub shed: u64,
    /// Arrivals refused by the adaptive concurrency limit (503).
    pub over_limit: u64,
    /// Per priority class (`Priority as usize`): successful departures, their time here (ns),
    /// and departures with an error.
    pub class_ok: [u64; 4],
    /// See `class_ok`.
    pub class_sojourn_ns: [f64; 4],
    /// See `class_ok`.
    pub class_errors: [u64; 4],
    /// Out-of-memory crashes.
    pub crashes: u64,
    /// Cache misses answered with stale data.
    pub stale: u64,
    /// Responses that came back for calls this instance no longer waits for.
    pub orphans: u64,
    /// Sum of the time successful departures spent here (ns), for exact means.
    pub sojourn_ns: f64,
    /// Integral of requests held (queued + in service + waiting) over time (request·ns), up to
    /// the last change; see `Instance::occupancy_area`.
    pub area: f64,
    /// Integral of requests waiting in the queue over time (request·ns), up to the last change;
    /// see `Instance::queue_area`.
    pub queue_area: f64,
    /// Arrivals that found no idle worker and waited in the queue.
    pub waited: u64,
}

/// Memory model of an instance (MB).
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// In use with nothing queued.
    pub base_mb: f64,
    /// Held by each queued or in-flight simulated request.
    pub per_request_mb: f64,
    /// Capacity; above it the instance crashes.
    pub capacity_mb: f64,
}

/// Where an instance's window sends its results.
#[derive(Default)]
pub struct Outbox {
    /// Requests to put on links: (link index, request departing at `req.at`).
    pub sends: Vec<(u32, Request)>,
    /// Responses to put on the link each request arrived by.
    pub replies: Vec<Response>,
    /// Logical requests that ended here (detached after an asynchronous hop).
    pub ends: Vec<(Request, Outcome, Nanos)>,
    /// Time spent in the component by requests that left it successfully (ns).
    pub sojourns: Vec<Nanos>,
    /// Messages for brokers' topics: (link index, request published at `req.at`).
    pub publishes: Vec<(u32, Request)>,
    /// Service completions to schedule: (time, instance, worker, incarnation).
    pub timers: Vec<(Nanos, u32, u32, u32)>,
    /// Instance whose departures `sojourns` holds.
    pub sojourns_of: Option<u32>,
    /// What happened to the instance (crash, outage, restart, slowdown).
    pub events: Vec<SimEvent>,
    /// Fan-ins completed: (flow, fan-out hop, wait from the calls to the answer awaited).
    pub fan_waits: Vec<(u16, u16, Nanos)>,
    /// Scratch: requests a queue strategy dropped at a pop.
    pub skipped: Vec<Request>,
    /// Credits given back: (link a message came by, when the receiver was done with it).
    pub credits: Vec<(u32, Nanos)>,
}

/// What an instance sees around it when it handles an event (read-only): its component, the
/// routes, and the fallbacks in force.
pub struct Surroundings<'a> {
    /// The component this instance belongs to.
    pub comp: &'a ComponentInfo,
    /// Every flow's route.
    pub routes: &'a Routes,
    /// The share of a cache's misses answered with stale data (its next component is RED or
    /// CRITICAL, or the cache is sending its misses back gradually).
    pub stale: f64,
    /// Per link: the alternative route in use instead, if any.
    pub reroute: &'a [Option<(u32, CallKind)>],
    /// The component's one instance and way out, from the topology's dense table.
    pub sole: crate::sim::schedule::topology::Sole,
}

/// An instance entity's state.
#[derive(Component, Debug, Clone)]
pub struct Instance {
    /// Global instance index.
    pub index: u32,
    /// Component index.
    pub component: u32,
    /// Display name `component#i`.
    pub name: String,
    /// False while crashed.
    pub up: bool,
    /// When a crashed instance comes back (ns).
    pub down_until: Nanos,
    /// When it last went down (crash or outage).
    pub down_at: Nanos,
    /// Times it went down (crashes and outages).
    pub downs: u64,
    /// False for an autoscaling spare that is not running.
    pub provisioned: bool,
    /// Until then the instance is warming up (serves at `warm_speed`).
    pub warm_until: Nanos,
    /// Share of full speed while warming up.
    pub warm_speed: f64,
    /// From then until `slow_until` service times are multiplied by `slowdown` (a scenario fault).
    pub slow_from: Nanos,
    /// See `slow_from`.
    pub slow_until: Nanos,
    /// Service-time multiplier of a slowdown fault.
    pub slowdown: f64,
    /// Until then (an error fault) the instance fails `fail_share` of what it serves.
    pub fail_until: Nanos,
    /// Share of requests an error fault fails.
    pub fail_share: f64,
    /// Bumped at each crash; calls made by an earlier incarnation are orphans.
    pub incarnation: u32,
    queue: QueuePolicy,
    /// Requests waiting.
    pub queued: u64,
    /// Waiting-room size in simulated requests (`None`: unbounded).
    pub queue_capacity: Option<u64>,
    /// Worker slots, allocated the first time each worker is used (an instance that never
    /// runs more than a few at once holds only a few).
    pub(in crate::sim) workers: Vec<Worker>,
    /// Workers there are (some may be leaving after a command reduced them).
    total_workers: u32,
    /// Workers in service (fewer than `total_workers` after a command reduced them).
    active_workers: u32,
    idle: IdleWorkers,
    /// Workers serving.
    pub busy: u64,
    /// Workers waiting on a downstream call.
    pub waiting: u64,
    service: Duration,
    rng: ChaCha8Rng,
    cache: LazyStream,
    pub(in crate::sim) route: LazyStream,
    errors: LazyStream,
    /// Memory model.
    pub memory: Memory,
    thrashing: Option<Thrashing>,
    /// Utilization of the busiest engine (smoothed), written by the engine system.
    pub pressure: f64,
    restart_after: Nanos,
    area_at: Nanos,
    /// An adaptive concurrency limit, if the component has one.
    pub concurrency: Option<Box<crate::sim::strategies::concurrency::ConcurrencyLimit>>,
    /// Bulkheads: compartments of the workers by flow, if the component has them.
    pub bulkheads: Option<Box<crate::sim::strategies::bulkhead::Bulkheads>>,
    /// Some link into this component runs on credits: every message it is done with gives one
    /// back to the link it came by.
    pub credited: bool,
    /// Running totals.
    pub counters: InstanceCounters,
}

impl Instance {
    /// Creates an idle instance.
    pub fn new(
        index: u32,
        component: u32,
        name: String,
        workers: u32,
        queue_capacity: Option<u64>,
        queue: QueuePolicy,
        service: Duration,
        (seed, key): (u64, u64),
        memory: Memory,
        thrashing: Option<Thrashing>,
        restart_after: Nanos,
    ) -> Self {
        Self {
            index,
            component,
            name,
            up: true,
            down_at: 0,
            downs: 0,
            provisioned: true,
            warm_until: 0,
            warm_speed: 1.0,
            slow_from: 0,
            slow_until: 0,
            slowdown: 1.0,
            fail_until: 0,
            fail_share: 0.0,
            down_until: 0,
            incarnation: 0,
            queue,
            queued: 0,
            queue_capacity,
            workers: Vec::new(),
            total_workers: workers,
            active_workers: workers,
            idle: IdleWorkers::new(workers),
            busy: 0,
            waiting: 0,
            service,
            rng: stream(seed, Stream::Service, key),
            cache: LazyStream::new(seed, Stream::Cache, key),
            route: LazyStream::new(seed, Stream::Route, key),
            errors: LazyStream::new(seed, Stream::Errors, key),
            memory,
            thrashing,
            pressure: 0.0,
            restart_after,
            area_at: 0,
            concurrency: None,
            bulkheads: None,
            credited: false,
            counters: InstanceCounters::default(),
        }
    }

    /// Number of workers.
    pub fn workers(&self) -> u64 {
        self.active_workers as u64
    }

    /// Workers that could start a pulled message right now.
    pub fn pull_capacity(&self) -> u64 {
        if self.up && self.queued == 0 {
            self.idle.len() as u64
        } else {
            0
        }
    }

    /// Worker `w`'s slot (the prefetch asks for its memory).
    #[inline]
    pub(in crate::sim) fn worker_slot(&self, w: u32) -> Option<&Worker> {
        self.workers.get(w as usize)
    }

    /// Requests queued, in service or waiting downstream.
    pub fn outstanding(&self) -> u64 {
        self.queued + self.busy + self.waiting
    }

    /// Memory in use (MB).
    pub fn memory_used_mb(&self) -> f64 {
        if self.up {
            self.memory.base_mb + self.outstanding() as f64 * self.memory.per_request_mb
        } else {
            0.0
        }
    }

    /// Brings a crashed instance back once its restart delay has passed; the restart event if
    /// it came back.
    pub fn refresh(&mut self, now: Nanos) -> Option<SimEvent> {
        if self.provisioned && !self.up && self.down_until <= now {
            self.up = true;
            self.area_at = self.area_at.max(self.down_until);
            return Some(self.event(self.down_until, EventKind::Restart));
        }
        None
    }

    fn event(&self, at: Nanos, kind: EventKind) -> SimEvent {
        SimEvent::new(at, Subject::Instance(self.index), kind)
    }

    /// True if the instance takes work at `at` (up, or back by then).
    pub fn accepts_at(&self, at: Nanos) -> bool {
        self.up || (self.provisioned && self.down_until <= at)
    }

    /// Takes an idle instance out of service (autoscaling); false if it still holds work.
    pub fn deprovision(&mut self) -> bool {
        if self.outstanding() > 0 {
            return false;
        }
        self.provisioned = false;
        self.up = false;
        self.down_until = Nanos::MAX;
        true
    }

    /// Puts a spare into service at `now`, warming up until `warm_until`.
    pub fn provision(&mut self, now: Nanos, warm_until: Nanos, warm_speed: f64) {
        self.provisioned = true;
        self.up = true;
        self.down_until = 0;
        self.area_at = self.area_at.max(now);
        self.warm_until = warm_until;
        self.warm_speed = warm_speed;
    }

    /// A request arrives at `job.at`.
    pub fn arrive(&mut self, job: Request, w: &Surroundings, out: &mut Outbox) {
        out.events.extend(self.refresh(job.at));
        self.admit(job, w, out);
    }

    /// The service timer of `worker` fires at `at`; stale timers (from before a crash) are ignored.
    pub fn timer(
        &mut self,
        worker: u32,
        incarnation: u32,
        at: Nanos,
        w: &Surroundings,
        out: &mut Outbox,
    ) {
        if incarnation == self.incarnation && self.up {
            self.complete(worker, at, w, out);
        }
    }

    /// Adds the requests held since the last change to the occupancy integral.
    pub(in crate::sim) fn account(&mut self, at: Nanos) {
        if at > self.area_at {
            let dt = (at - self.area_at) as f64;
            self.counters.area += self.outstanding() as f64 * dt;
            self.counters.queue_area += self.queued as f64 * dt;
            self.area_at = at;
        }
    }

    /// Its queue strategy's CoDel state, if it runs CoDel.
    pub fn codel(&self) -> Option<crate::sim::strategies::zoo::CodelState> {
        self.queue.codel()
    }

    /// Integral of requests held over time up to `now` (request·ns); divide a difference by
    /// the time between two readings for the mean number held.
    pub fn occupancy_area(&self, now: Nanos) -> f64 {
        self.counters.area + self.outstanding() as f64 * now.saturating_sub(self.area_at) as f64
    }

    /// Integral of requests waiting in the queue over time up to `now` (request·ns).
    pub fn queue_area(&self, now: Nanos) -> f64 {
        self.counters.queue_area + self.queued as f64 * now.saturating_sub(self.area_at) as f64
    }

    fn admit(&mut self, job: Request, w: &Surroundings, out: &mut Outbox) {
        self.account(job.at);
        self.counters.arrivals += 1;
        if !self.up {
            self.counters.failed += 1;
            self.depart(job, Reply::Err(Outcome::Failed), job.at, out);
            return;
        }
        if let Some(shed) = w.comp.shed
            && self.sheds(&shed, job.priority)
        {
            self.counters.shed += 1;
            self.depart(job, Reply::Err(Outcome::Rejected), job.at, out);
            return;
        }
        if let Some(limit) = self.concurrency.as_ref().map(|c| c.limit())
            && self.outstanding() >= limit
        {
            // Over the adaptive limit: 503 at once, and not a sample of the limiter's.
            self.counters.over_limit += 1;
            let limiter = self.concurrency.take();
            self.depart(job, Reply::Err(Outcome::Rejected), job.at, out);
            self.concurrency = limiter;
            return;
        }
        if let Some(b) = &mut self.bulkheads {
            let p = b.part(job.flow);
            if b.has_room(p)
                && let Some(worker) = self.idle.pop()
            {
                b.parts[p].busy += 1;
                self.start(worker, job, job.at, out);
            } else if p > 0 {
                // A bulkhead's own queue (first in, first out; full: dropped).
                let part = &mut b.parts[p];
                if (part.queue.len() as u64) < part.capacity {
                    part.queue.push_back(job);
                    self.queued += 1;
                    self.counters.waited += 1;
                } else {
                    part.refused += 1;
                    self.counters.dropped += 1;
                    self.depart(job, Reply::Err(Outcome::Dropped), job.at, out);
                    return;
                }
            } else {
                self.enqueue(job, out);
            }
        } else if let Some(worker) = self.idle.pop() {
            self.start(worker, job, job.at, out);
        } else {
            self.enqueue(job, out);
        }
        if self.memory.per_request_mb > 0.0 && self.memory_used_mb() > self.memory.capacity_mb {
            self.crash(job.at, w, out);
        }
    }

    /// `job` waits in the instance's queue, under its policy.
    fn enqueue(&mut self, job: Request, out: &mut Outbox) {
        match self.queue.offer(job, self.queue_capacity, job.at) {
            Offer::Queued => {
                self.queued += 1;
                self.counters.waited += 1;
            }
            Offer::Refused(job) => {
                self.counters.dropped += 1;
                self.depart(job, Reply::Err(Outcome::Dropped), job.at, out);
            }
            Offer::Evicted(victim) => {
                self.counters.dropped += 1;
                self.depart(victim, Reply::Err(Outcome::Dropped), job.at, out);
            }
        }
    }

    fn start(&mut self, worker: u32, job: Request, at: Nanos, out: &mut Outbox) {
        let mut s = self.service.sample(&mut self.rng);
        if at < self.warm_until {
            s = crate::sim::schedule::dist::to_ns(s as f64 / self.warm_speed);
        }
        let slowdown = self.slowdown_at(at);
        if slowdown != 1.0 {
            s = crate::sim::schedule::dist::to_ns(s as f64 * slowdown);
        }
        if let Some(th) = self.thrashing {
            let mem = self.memory_used_mb() / self.memory.capacity_mb;
            let u = self.pressure.max(mem);
            if u > th.above {
                let x = ((u - th.above) / (1.0 - th.above)).min(1.0);
                s = crate::sim::schedule::dist::to_ns(s as f64 * (1.0 + th.slowdown * x));
            }
        }
        if worker as usize >= self.workers.len() {
            self.workers.resize(worker as usize + 1, Worker::Idle);
        }
        self.workers[worker as usize] = Worker::Busy { job };
        self.busy += 1;
        // A service time longer than the clock can hold waits for ever instead of wrapping.
        out.timers
            .push((at.saturating_add(s), self.index, worker, self.incarnation));
    }

    /// Frees a worker at `at` and gives it the next queued request, if any (a worker beyond a
    /// reduced number of workers leaves instead).
    pub(in crate::sim) fn free(&mut self, worker: u32, at: Nanos, out: &mut Outbox) {
        // With bulkheads the worker goes back to its compartment, which serves its own next.
        let part = self.bulkheads.as_mut().map(|b| {
            let p = match self.workers[worker as usize] {
                Worker::Busy { job } | Worker::Waiting { job, .. } => b.part(job.flow),
                Worker::Fanning(f) => b.part(f.job.flow),
                Worker::Idle => 0,
            };
            b.parts[p].busy = b.parts[p].busy.saturating_sub(1);
            p
        });
        let next = match (worker < self.active_workers, part) {
            (false, _) => None,
            (true, Some(p)) if p > 0 => self.bulkheads.as_mut().and_then(|b| {
                let job = b.parts[p].queue.pop_front()?;
                b.parts[p].busy += 1;
                Some(job)
            }),
            (true, Some(_)) => {
                let job = self.queue.pop(at);
                if job.is_some()
                    && let Some(b) = self.bulkheads.as_mut()
                {
                    b.parts[0].busy += 1;
                }
                job
            }
            (true, None) => self.queue.pop(at),
        };
        if !matches!(self.queue, QueuePolicy::TailDrop(_)) {
            self.drop_skipped(at, out);
        }
        match next {
            Some(job) => {
                self.queued -= 1;
                self.start(worker, job, at, out);
            }
            None => {
                self.workers[worker as usize] = Worker::Idle;
                if worker < self.active_workers {
                    self.idle.push(worker);
                }
            }
        }
    }

    /// Load shedding by load (seed 004): whether an arrival of `priority` is refused now.
    fn sheds(
        &self,
        shed: &crate::scenario::ShedSpec,
        priority: crate::sim::flow::request::Priority,
    ) -> bool {
        use crate::sim::flow::request::Priority;
        let load = match shed.signal {
            crate::scenario::ShedSignal::Workers => {
                (self.busy + self.waiting) as f64 / self.active_workers.max(1) as f64
            }
            crate::scenario::ShedSignal::Queue => self
                .queue_capacity
                .map_or(0.0, |c| self.queued as f64 / c.max(1) as f64),
        };
        if load >= shed.critical {
            priority != Priority::Critical
        } else if load >= shed.high {
            priority > Priority::High
        } else {
            false
        }
    }

    /// Puts `queue` in place of the queue strategy; what waits moves over in its order.
    pub fn replace_queue(&mut self, mut queue: QueuePolicy) {
        let mut waiting = Vec::new();
        self.queue.drain(&mut waiting);
        for r in waiting {
            let _ = queue.offer(r, None, r.at);
        }
        self.queue = queue;
    }

    /// Requests the queue strategy dropped instead of serving (CoDel, deadline-aware) leave.
    fn drop_skipped(&mut self, at: Nanos, out: &mut Outbox) {
        let mut skipped = std::mem::take(&mut out.skipped);
        self.queue.take_dropped(&mut skipped);
        for job in skipped.drain(..) {
            self.queued -= 1;
            self.counters.dropped += 1;
            self.depart(job, Reply::Err(Outcome::Dropped), at, out);
        }
        out.skipped = skipped;
    }

    fn complete(&mut self, worker: u32, at: Nanos, w: &Surroundings, out: &mut Outbox) {
        let Worker::Busy { job } = self.workers[worker as usize] else {
            return;
        };
        self.account(at);
        self.busy -= 1;
        self.counters.served += 1;
        if at > job.deadline {
            self.counters.wasted += 1;
        }
        // An error fault: a share of what is served fails (a draw only while one is in force).
        if at < self.fail_until && self.errors.get().random::<f64>() < self.fail_share {
            self.counters.failed += 1;
            self.counters.injected += 1;
            self.depart(job, Reply::Err(Outcome::Failed), at, out);
            self.free(worker, at, out);
            return;
        }
        let flow = &w.routes.flows[job.flow as usize];
        // One call of a fan-out: it ends here, and answers its caller.
        if !flow.plain && flow.fan.get(job.hop as usize).is_some_and(Option::is_some) {
            self.depart(job, Reply::Ok, at, out);
            self.free(worker, at, out);
            return;
        }
        let hit = w.comp.hit_ratio > 0.0 && self.cache.get().random::<f64>() < w.comp.hit_ratio;
        let next_hop = job.hop as usize + 1;
        // A draw only while returning gradually, so runs without a fallback keep their streams.
        let stale = !hit
            && next_hop < flow.hops.len()
            && (w.stale >= 1.0 || (w.stale > 0.0 && self.cache.get().random::<f64>() < w.stale));
        if stale {
            self.counters.stale += 1;
        }
        if hit || stale || next_hop >= flow.hops.len() {
            self.depart(job, Reply::Ok, at, out);
            self.free(worker, at, out);
            return;
        }
        self.route_on(worker, job, next_hop, at, w, out);
    }

    /// A response to one of this instance's calls arrives at `resp.at`.
    pub fn on_response(&mut self, resp: Response, w: &Surroundings, out: &mut Outbox) {
        let at = resp.at;
        let Ret::Worker {
            worker,
            incarnation,
            ..
        } = resp.req.ret
        else {
            self.counters.orphans += 1;
            return;
        };
        let slot = self.workers.get(worker as usize).copied();
        match slot {
            Some(Worker::Waiting { job, hop })
                if self.up
                    && incarnation == self.incarnation
                    && job.id == resp.req.id
                    && hop == resp.req.hop =>
            {
                self.account(at);
                self.waiting -= 1;
                // A refusal's Retry-After goes back up with the failure it causes.
                let mut job = job;
                job.headers.retry_after_ms = resp.req.headers.retry_after_ms;
                self.depart(job, resp.status, at, out);
                self.free(worker, at, out);
            }
            Some(Worker::Fanning(f))
                if self.up && incarnation == self.incarnation && f.job.id == resp.req.id =>
            {
                self.fan_answer(worker, f, &resp, w, out);
            }
            _ => self.counters.orphans += 1,
        }
    }

    /// A request leaves the instance with `status` at `at`.
    pub(in crate::sim) fn depart(
        &mut self,
        job: Request,
        status: Reply,
        at: Nanos,
        out: &mut Outbox,
    ) {
        self.counters.departures += 1;
        if let Some(c) = &mut self.concurrency {
            let dropped = matches!(status, Reply::Err(_)) || at > job.deadline;
            let held = self.queued + self.busy + self.waiting;
            c.sample(at.saturating_sub(job.at) as f64, held, dropped);
        }
        match status {
            Reply::Ok | Reply::Ack => {
                self.counters.ok += 1;
                if at <= job.deadline {
                    self.counters.ok_in_time += 1;
                }
                let sojourn = at.saturating_sub(job.at);
                out.sojourns_of = Some(self.index);
                self.counters.sojourn_ns += sojourn as f64;
                out.sojourns.push(sojourn);
                let p = job.priority as usize;
                self.counters.class_ok[p] += 1;
                self.counters.class_sojourn_ns[p] += sojourn as f64;
            }
            Reply::Err(_) => {
                self.counters.errors += 1;
                self.counters.class_errors[job.priority as usize] += 1;
            }
        }
        if self.credited && job.ret == Ret::Detached {
            out.credits.push((job.via, at));
        }
        match (job.ret, status) {
            (Ret::Detached, Reply::Ok) => out.ends.push((job, Outcome::Completed, at)),
            (Ret::Detached, Reply::Ack) => {}
            (Ret::Detached, Reply::Err(o)) => out.ends.push((job, o, at)),
            _ => out.replies.push(Response {
                at,
                req: job,
                status,
            }),
        }
    }

    /// Out of memory: everything held fails; the instance restarts after its delay.
    fn crash(&mut self, at: Nanos, _w: &Surroundings, out: &mut Outbox) {
        self.counters.crashes += 1;
        self.go_down(at, self.restart_after, out);
        out.events.push(self.event(at, EventKind::Crash));
    }

    /// The service-time multiplier of a slowdown fault in force at `at` (1 when none).
    pub fn slowdown_at(&self, at: Nanos) -> f64 {
        if at >= self.slow_from && at < self.slow_until {
            self.slowdown
        } else {
            1.0
        }
    }

    /// Queue capacity in simulated requests (an unbounded queue counts as 100 per worker).
    pub fn queue_limit(&self) -> u64 {
        self.queue_capacity.unwrap_or(self.workers() * 100)
    }

    /// A scheduled slowdown (scenario `faults` with `slowdown`): requests started from `at` for
    /// `duration` take `factor` times as long.
    pub fn slow_down(&mut self, at: Nanos, duration: Nanos, factor: f64) {
        self.slow_from = at;
        self.slow_until = at + duration;
        self.slowdown = factor;
    }

    /// An outage (a scheduled fault or a command): like a crash, for `duration`, not counted as
    /// one.
    pub fn outage(&mut self, at: Nanos, duration: Nanos, scheduled: bool, out: &mut Outbox) {
        if !self.provisioned {
            return;
        }
        if self.up {
            self.go_down(at, duration, out);
            let until = self.down_until;
            out.events
                .push(self.event(at, EventKind::Outage { until, scheduled }));
        } else {
            self.down_until = self.down_until.max(at.saturating_add(duration));
        }
    }

    /// Applies an action of the command door at `at`.
    pub fn apply_fault(&mut self, at: Nanos, action: FaultAction, out: &mut Outbox) {
        match action {
            FaultAction::Down {
                duration,
                scheduled,
            } => self.outage(at, duration, scheduled, out),
            FaultAction::Slow { duration, factor } => {
                self.slow_down(at, duration, factor);
                let until = self.slow_until;
                out.events
                    .push(self.event(at, EventKind::Slowdown { factor, until }));
            }
            FaultAction::Errors { duration, share } => {
                self.fail_until = at.saturating_add(duration);
                self.fail_share = share;
                let until = self.fail_until;
                out.events
                    .push(self.event(at, EventKind::Errors { share, until }));
            }
            FaultAction::Up => {
                if self.provisioned && !self.up {
                    self.down_until = at;
                    out.events.extend(self.refresh(at));
                }
            }
            FaultAction::Retire => {
                if self.up {
                    self.go_down(at, 0, out);
                }
                self.deprovision();
            }
        }
    }

    /// Changes the number of workers. New workers are idle at once; when there are fewer, idle
    /// ones beyond the new number leave now and busy ones when they finish.
    pub fn set_workers(&mut self, n: u32) {
        let n = n.max(1);
        let len = self.total_workers;
        if n > len {
            self.total_workers = n;
            self.idle.freed.extend((len..n).rev());
        }
        self.active_workers = n;
        self.idle.keep_below(n);
        if let Some(b) = &mut self.bulkheads {
            b.resize(n);
        }
    }

    fn go_down(&mut self, at: Nanos, duration: Nanos, out: &mut Outbox) {
        self.account(at);
        self.up = false;
        self.down_at = at;
        self.downs += 1;
        self.down_until = at + duration;
        self.incarnation += 1;
        let mut held: Vec<Request> = self
            .workers
            .iter()
            .filter_map(|w| match w {
                Worker::Busy { job } | Worker::Waiting { job, .. } => Some(*job),
                Worker::Fanning(f) => Some(f.job),
                Worker::Idle => None,
            })
            .collect();
        self.queue.drain(&mut held);
        if let Some(b) = &mut self.bulkheads {
            b.drain(&mut held);
        }
        for job in held {
            self.counters.failed += 1;
            self.depart(job, Reply::Err(Outcome::Failed), at, out);
        }
        let n = self.active_workers;
        self.workers.clear();
        self.total_workers = n;
        self.idle = IdleWorkers::new(n);
        self.queued = 0;
        self.busy = 0;
        self.waiting = 0;
    }

    /// Requests waiting, by priority class (for the inspector).
    pub fn queued_by_priority(&self) -> [u64; 4] {
        self.queue.by_priority()
    }

    /// Plugs in another queue policy (the policy seam). Only while nothing waits: the
    /// policy is given back otherwise.
    pub fn set_queue_policy(&mut self, policy: QueuePolicy) -> Result<(), Box<QueuePolicy>> {
        if self.queued > 0 {
            return Err(Box::new(policy));
        }
        self.queue = policy;
        Ok(())
    }
}

/// Converts seconds into the restart delay.
pub fn restart_ns(seconds: f64) -> Nanos {
    (seconds * 1000.0 * MS).round() as Nanos
}

#[cfg(test)]
mod tests;
