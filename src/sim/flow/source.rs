//! Traffic sources: clients that create logical requests, send attempts, wait with a timeout,
//! retry with exponential backoff and jitter, and record how each logical request ended.

use crate::scenario::{Arrivals, Jitter, RateSchedule, RetryOn, RetrySpec};
use crate::sim::flow::request::{FlowHeaders, Outcome, Priority, Reply, Request, Response, Ret};
use crate::sim::schedule::dist::{LazyStream, MS, Nanos, SEC, Stream, stream, to_ns};
use bevy::prelude::*;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// State of one logical request at its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotState {
    Free,
    /// An attempt is out; the client waits until the deadline.
    Waiting,
    /// The request crossed an asynchronous hop: its client was answered at the hand-off (a
    /// 202 Accepted); the work it left behind runs on and its end is counted as background.
    HandedOff,
    /// Between attempts.
    Backoff,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    state: SlotState,
    generation: u32,
    id: u64,
    created: Nanos,
    deadline: Nanos,
    flow: u16,
    priority: Priority,
    attempt: u8,
    /// The last backoff (decorrelated jitter grows from it).
    prev_backoff: Nanos,
    /// The work left behind at a hand-off ended before the client heard of the hand-off: how
    /// (`None`: dead-lettered) and when, counted when the acknowledgement arrives.
    early: Option<(Option<Outcome>, Nanos)>,
}

/// What a source hands to the sweep: a request to put on the link to `to_link`.
pub type Send = (u32, Request);

/// Running totals of a source, in simulated requests.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SourceCounters {
    /// Logical requests created.
    pub generated: u64,
    /// Attempts sent (first tries and retries).
    pub attempts: u64,
    /// Retries sent.
    pub retries: u64,
    /// Logical requests ended, by outcome (index: `Outcome as usize`).
    pub ended: [u64; 5],
    /// Attempts that failed, by outcome.
    pub attempt_failures: [u64; 5],
    /// Responses that arrived after the client gave up.
    pub late_responses: u64,
    /// Sum of end-to-end latencies of completed logical requests (ns), for exact means.
    pub latency_ns: f64,
    /// Requests whose client was answered at an asynchronous hand-off, leaving work behind.
    pub handed_off: u64,
    /// How the work left behind at a hand-off ended, by outcome (`Outcome as usize`).
    pub background: [u64; 5],
    /// Background messages moved to a dead-letter queue (a broker gave up redelivering them).
    pub dead_lettered: u64,
    /// Sum of creation-to-end times of background work that completed (ns).
    pub background_latency_ns: f64,
    /// Retries scheduled after a backoff (each counted when its backoff is drawn).
    pub backoffs: u64,
    /// Sum of those backoffs (ns), Retry-After included where it set the wait.
    pub backoff_ns: f64,
    /// Sum of the attempt numbers of those retries (2 for the first retry).
    pub retry_attempt_sum: u64,
    /// Failed attempts whose refusal named a Retry-After.
    pub retry_after_hints: u64,
    /// Sum of the Retry-After values those refusals named (ns).
    pub retry_after_ns: f64,
    /// Retries the retry budget could not pay for (each ended its request).
    pub over_budget: u64,
    /// Attempts the client's adaptive throttle rejected locally.
    pub throttled: u64,
}

/// A finished logical request, for the latency histograms.
#[derive(Debug, Clone, Copy)]
pub struct Finished {
    /// How it ended.
    pub outcome: Outcome,
    /// Time from creation to the end (ns).
    pub latency: Nanos,
    /// When it ended.
    pub at: Nanos,
    /// Global flow index.
    pub flow: u16,
    /// Priority class.
    pub priority: Priority,
}

/// A source entity's state.
#[derive(Component, Debug, Clone)]
pub struct TrafficSource {
    /// Source index.
    pub index: u32,
    /// Name.
    pub name: String,
    arrivals: Arrivals,
    /// Rate schedule in simulated requests per second.
    pub schedule: RateSchedule,
    rate_scale: f64,
    /// Global flow indices with cumulative weights, and the first-hop link per option.
    flows: Vec<(u16, f64)>,
    first_hops: Vec<Vec<(f64, u32)>>,
    priorities: [f64; 4],
    timeout: Option<Nanos>,
    retry: RetrySpec,
    rng: ChaCha8Rng,
    /// Retry budget and adaptive throttling.
    pub client: crate::sim::flow::client::ClientPolicy,
    mix: ChaCha8Rng,
    route: LazyStream,
    retry_rng: LazyStream,
    next_arrival: Nanos,
    burst_on: bool,
    burst_switch: Nanos,
    burst_start: Nanos,
    slots: Vec<Slot>,
    free_slots: Vec<u32>,
    /// Attempt deadlines in sending order. The timeout is the same for every attempt, so this is
    /// in deadline order up to the order of sends within one tick; an entry stuck behind a later
    /// one is handled at most a tick late, still at its exact deadline.
    deadlines: std::collections::VecDeque<(Nanos, u32, u32)>,
    backoffs: BinaryHeap<Reverse<(Nanos, u32, u32)>>,
    next_id: u64,
    /// Logical requests in progress (waiting, handed off, or between attempts).
    pub live: u64,
    /// Running totals.
    pub counters: SourceCounters,
    /// Logical requests that ended this tick (drained by the metrics system).
    pub finished: Vec<Finished>,
    /// What-if changes to the traffic (the command door).
    pub what_if: WhatIf,
}

/// What-if changes to a source's traffic: a multiplier and spikes, on top of its schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct WhatIf {
    /// Multiplier of the schedule (1: as in the scenario).
    pub scale: f64,
    /// Spikes: (from, until, multiplier), in ns.
    pub spikes: Vec<(Nanos, Nanos, f64)>,
}

impl Default for WhatIf {
    fn default() -> Self {
        Self {
            scale: 1.0,
            spikes: vec![],
        }
    }
}

impl WhatIf {
    /// The multiplier in force at `t`.
    pub fn factor_at(&self, t: Nanos) -> f64 {
        self.spikes
            .iter()
            .filter(|(from, until, _)| t >= *from && t < *until)
            .fold(self.scale, |f, s| f * s.2)
    }
}

impl TrafficSource {
    /// Creates a source. `flows` are (global flow index, weight); `first_hops[i]` lists the
    /// (cumulative probability, link) options of flow i's first hop.
    pub fn new(
        index: u32,
        name: String,
        arrivals: Arrivals,
        schedule: RateSchedule,
        request_unit: u32,
        flows: Vec<(u16, f64)>,
        first_hops: Vec<Vec<(f64, u32)>>,
        priorities: [f64; 4],
        timeout_ms: Option<f64>,
        retry: RetrySpec,
        throttle: Option<crate::scenario::ThrottleSpec>,
        seed: u64,
    ) -> Self {
        let key = index as u64;
        let budget = retry.budget;
        let total: f64 = flows.iter().map(|f| f.1).sum();
        let mut acc = 0.0;
        let flows = flows
            .into_iter()
            .map(|(f, w)| {
                acc += w / total;
                (f, acc)
            })
            .collect();
        let ptotal: f64 = priorities.iter().sum();
        let mut pacc = 0.0;
        let priorities = priorities.map(|p| {
            pacc += p / ptotal;
            pacc
        });
        let mut s = Self {
            index,
            name,
            arrivals,
            schedule,
            rate_scale: 1.0 / request_unit.max(1) as f64,
            flows,
            first_hops,
            priorities,
            timeout: timeout_ms.map(|t| (t * MS).round() as Nanos),
            retry,
            rng: stream(seed, Stream::Arrivals, key),
            client: crate::sim::flow::client::ClientPolicy::new(
                budget,
                throttle,
                stream(seed, Stream::Retry, (3 << 40) | key),
            ),
            mix: stream(seed, Stream::Mix, key),
            route: LazyStream::new(seed, Stream::Route, (2 << 40) | key),
            retry_rng: LazyStream::new(seed, Stream::Retry, key),
            next_arrival: 0,
            burst_on: true,
            burst_switch: Nanos::MAX,
            burst_start: 0,
            slots: Vec::new(),
            free_slots: Vec::new(),
            deadlines: std::collections::VecDeque::new(),
            backoffs: BinaryHeap::new(),
            next_id: (index as u64) << 40,
            live: 0,
            counters: SourceCounters::default(),
            finished: Vec::new(),
            what_if: WhatIf::default(),
        };
        if let Arrivals::Bursty { on_s, .. } = arrivals {
            s.burst_switch = s.exp_ns(on_s * SEC);
        }
        s.next_arrival = s.gap(0);
        s
    }

    fn exp_ns(&mut self, mean_ns: f64) -> Nanos {
        let e: f64 = Exp1.sample(&mut self.rng);
        to_ns(e * mean_ns)
    }

    /// Whether its clients retry (more than one attempt allowed).
    pub fn retries(&self) -> bool {
        self.retry.max_attempts > 1
    }

    /// Replaces the retry policy (a what-if).
    pub fn set_retry(&mut self, retry: RetrySpec) {
        self.retry = retry;
    }

    /// Simulated requests per second at `t`.
    fn rate(&self, t: Nanos) -> f64 {
        self.offered_rate_at(t) * self.rate_scale
    }

    /// Offered traffic at `t` (real requests/s): the schedule with any what-if changes.
    pub fn offered_rate_at(&self, t: Nanos) -> f64 {
        let r = self.schedule.rate_at(t as f64 / SEC);
        if self.what_if.scale == 1.0 && self.what_if.spikes.is_empty() {
            r
        } else {
            r * self.what_if.factor_at(t)
        }
    }

    /// Time from `t` to the next arrival.
    fn gap(&mut self, t: Nanos) -> Nanos {
        // A zero rate polls again after 1 ms of simulated time.
        const IDLE: Nanos = 1_000_000;
        let rate = self.rate(t);
        match self.arrivals {
            _ if rate <= 0.0 => IDLE,
            Arrivals::Poisson => self.exp_ns(SEC / rate).max(1),
            Arrivals::Deterministic => (SEC / rate).round().max(1.0) as Nanos,
            Arrivals::Bursty { on_s, off_s } => {
                let boost = (on_s + off_s) / on_s;
                self.exp_ns(SEC / (rate * boost)).max(1)
            }
        }
    }

    /// Generates this tick's traffic: timeouts that expired before `from` (every response
    /// older than that has been handled by now), then retries and new arrivals in time order up
    /// to `until`.
    pub fn emit(&mut self, from: Nanos, until: Nanos, sends: &mut Vec<Send>) {
        while let Some(&(t, slot, generation)) = self.deadlines.front() {
            if t >= from {
                break;
            }
            self.deadlines.pop_front();
            let s = self.slots[slot as usize];
            if s.generation == generation && s.state == SlotState::Waiting {
                self.attempt_failed(slot, Outcome::TimedOut, t, 0);
            }
        }
        loop {
            let retry_at = self.backoffs.peek().map(|r| r.0.0).unwrap_or(Nanos::MAX);
            let arrival_at = self.next_arrival;
            if retry_at.min(arrival_at) >= until {
                break;
            }
            if retry_at <= arrival_at {
                let Reverse((t, slot, generation)) = self.backoffs.pop().expect("peeked");
                if self.slots[slot as usize].generation == generation {
                    self.counters.retries += 1;
                    self.send_attempt(slot, t.max(from), sends);
                }
            } else {
                self.arrival(arrival_at, sends);
            }
        }
    }

    /// When `emit` next has something to do: (the first deadline, handled in the tick after
    /// the one it falls in; the next retry or arrival, handled in the tick it falls in).
    pub fn next_due(&self) -> (Nanos, Nanos) {
        let deadline = self.deadlines.front().map_or(Nanos::MAX, |d| d.0);
        let retry = self.backoffs.peek().map_or(Nanos::MAX, |r| r.0.0);
        (deadline, retry.min(self.next_arrival))
    }

    fn arrival(&mut self, t: Nanos, sends: &mut Vec<Send>) {
        if let Arrivals::Bursty { on_s, off_s } = self.arrivals {
            // An arrival drawn past the end of an ON period is void: start again from the next
            // ON period (memoryless, so no residual time carries over).
            let mut toggled = false;
            while t >= self.burst_switch {
                toggled = true;
                self.burst_on = !self.burst_on;
                self.burst_start = self.burst_switch;
                let mean = if self.burst_on { on_s } else { off_s };
                self.burst_switch += self.exp_ns(mean * SEC).max(1);
            }
            if toggled || !self.burst_on {
                self.next_arrival = if self.burst_on {
                    self.burst_start + self.gap(self.burst_start)
                } else {
                    self.burst_switch
                };
                return;
            }
        }
        self.next_arrival = t + self.gap(t);
        if self.rate(t) <= 0.0 {
            return;
        }
        let x: f64 = self.mix.random();
        let fi = self
            .flows
            .iter()
            .position(|f| x < f.1)
            .unwrap_or(self.flows.len() - 1);
        let flow = self.flows[fi].0;
        let y: f64 = self.mix.random();
        let p = self.priorities.iter().position(|c| y < *c).unwrap_or(3);
        let priority = Priority::ALL[p];
        let slot = match self.free_slots.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Slot {
                    state: SlotState::Free,
                    generation: 0,
                    id: 0,
                    created: 0,
                    deadline: 0,
                    flow: 0,
                    priority,
                    attempt: 0,
                    prev_backoff: 0,
                    early: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let s = &mut self.slots[slot as usize];
        s.id = self.next_id;
        s.created = t;
        s.flow = flow;
        s.priority = priority;
        s.attempt = 0;
        s.prev_backoff = 0;
        self.next_id += 1;
        self.live += 1;
        self.counters.generated += 1;
        self.client.first_attempt(t);
        self.send_attempt(slot, t, sends);
    }

    fn send_attempt(&mut self, slot: u32, t: Nanos, sends: &mut Vec<Send>) {
        let fi = self.slots[slot as usize].flow;
        let local = self.flows.iter().position(|f| f.0 == fi).unwrap_or(0);
        let hops = &self.first_hops[local];
        let link = if hops.len() == 1 {
            hops[0].1
        } else {
            let x: f64 = self.route.get().random();
            hops.iter()
                .find(|h| x < h.0)
                .unwrap_or(&hops[hops.len() - 1])
                .1
        };
        let deadline = self.timeout.map_or(Nanos::MAX, |d| t + d);
        let throttled = self.client.throttles(t);
        let s = &mut self.slots[slot as usize];
        s.generation += 1;
        s.early = None;
        s.attempt = s.attempt.saturating_add(1);
        s.state = SlotState::Waiting;
        s.deadline = deadline;
        if throttled {
            // Rejected at the client itself: nothing is sent.
            self.counters.attempts += 1;
            self.counters.throttled += 1;
            self.attempt_failed(slot, Outcome::Rejected, t, 0);
            return;
        }
        let req = Request {
            id: s.id,
            created: s.created,
            deadline,
            at: t,
            ret: Ret::Client,
            via: link,
            slot,
            generation: s.generation,
            flow: s.flow,
            hop: 0,
            priority: s.priority,
            branch: 0,
            redeliveries: 0,
            attempt: s.attempt,
            headers: FlowHeaders {
                max_attempts: self.retry.max_attempts.min(255) as u8,
                ..FlowHeaders::default()
            },
        };
        if deadline != Nanos::MAX {
            self.deadlines.push_back((deadline, slot, s.generation));
        }
        self.counters.attempts += 1;
        sends.push((link, req));
    }

    /// A response arrives at `r.at`; a retry it causes that falls before `until` is sent at once.
    pub fn on_response(&mut self, r: Response, until: Nanos, sends: &mut Vec<Send>) {
        self.handle_response(r);
        while let Some(&Reverse((t, slot, generation))) = self.backoffs.peek() {
            if t >= until {
                break;
            }
            self.backoffs.pop();
            if self.slots[slot as usize].generation == generation {
                self.counters.retries += 1;
                self.send_attempt(slot, t, sends);
            }
        }
    }

    fn handle_response(&mut self, r: Response) {
        let slot = r.req.slot;
        let s = self.slots[slot as usize];
        if s.generation != r.req.generation || s.state != SlotState::Waiting || r.at > s.deadline {
            self.counters.late_responses += 1;
            return;
        }
        if matches!(r.status, Reply::Ok | Reply::Ack) {
            self.client.accepted(r.at);
        }
        match r.status {
            Reply::Ok => self.end(slot, Outcome::Completed, r.at),
            // Acknowledged at the hand-off: the client is answered now, and it is completed for
            // it; the slot stays taken until the work left behind ends.
            Reply::Ack => {
                self.answer(slot, Outcome::Completed, r.at);
                self.slots[slot as usize].state = SlotState::HandedOff;
                self.counters.handed_off += 1;
                if let Some((outcome, at)) = self.slots[slot as usize].early.take() {
                    self.background_end(slot, outcome, at);
                }
            }
            Reply::Err(o) => {
                let retry_after = r.req.headers.retry_after_ms as Nanos * 1_000_000;
                self.attempt_failed(slot, o, r.at, retry_after)
            }
        }
    }

    /// The work a request left behind at an asynchronous hop ended with `outcome` at `at`
    /// (counted as background; its client had its answer at the hand-off).
    pub fn detached_end(&mut self, req: &Request, outcome: Outcome, at: Nanos) {
        self.work_ended(req, Some(outcome), at);
    }

    /// A background message moved to a dead-letter queue: its work ends there, kept apart.
    pub fn dead_lettered(&mut self, req: &Request, at: Nanos) {
        self.work_ended(req, None, at);
    }

    /// The work left behind by `req` ended (`None`: dead-lettered). If its acknowledgement is
    /// still on its way to the client, the end is counted when it arrives.
    fn work_ended(&mut self, req: &Request, outcome: Option<Outcome>, at: Nanos) {
        let s = &mut self.slots[req.slot as usize];
        if s.generation != req.generation {
            return;
        }
        match s.state {
            SlotState::HandedOff => self.background_end(req.slot, outcome, at),
            SlotState::Waiting => s.early = Some((outcome, at)),
            _ => {}
        }
    }

    /// Counts how the work left behind at a hand-off ended, and frees its slot.
    fn background_end(&mut self, slot: u32, outcome: Option<Outcome>, at: Nanos) {
        match outcome {
            Some(o) => {
                self.counters.background[o as usize] += 1;
                if o == Outcome::Completed {
                    let created = self.slots[slot as usize].created;
                    self.counters.background_latency_ns += at.saturating_sub(created) as f64;
                }
            }
            None => self.counters.dead_lettered += 1,
        }
        self.release(slot);
    }

    /// Background work still running (requests handed off whose work has not ended).
    pub fn background_live(&self) -> u64 {
        self.counters.handed_off
            - self.counters.background.iter().sum::<u64>()
            - self.counters.dead_lettered
    }

    /// An attempt failed with `outcome` at `at` (a refusal may say when to come back): retry
    /// after a backoff if the policy and the budget allow, or end the request.
    fn attempt_failed(&mut self, slot: u32, outcome: Outcome, at: Nanos, retry_after: Nanos) {
        self.counters.attempt_failures[outcome as usize] += 1;
        let s = self.slots[slot as usize];
        let retry_on = match outcome {
            Outcome::Dropped => RetryOn::Dropped,
            Outcome::Rejected => RetryOn::Rejected,
            Outcome::Failed => RetryOn::Failed,
            Outcome::TimedOut => RetryOn::TimedOut,
            Outcome::Completed => return,
        };
        if retry_after > 0 {
            self.counters.retry_after_hints += 1;
            self.counters.retry_after_ns += retry_after as f64;
        }
        let wants =
            (s.attempt as u32) < self.retry.max_attempts && self.retry.on.contains(&retry_on);
        let allowed = wants && self.client.may_retry(at);
        if wants && !allowed {
            self.counters.over_budget += 1;
        }
        if allowed {
            let mut backoff = self.backoff(s.attempt as u32, s.prev_backoff);
            if self.retry.honor_retry_after {
                backoff = backoff.max(retry_after);
            }
            self.counters.backoffs += 1;
            self.counters.backoff_ns += backoff as f64;
            self.counters.retry_attempt_sum += s.attempt as u64 + 1;
            self.slots[slot as usize].prev_backoff = backoff;
            let st = &mut self.slots[slot as usize];
            st.state = SlotState::Backoff;
            st.generation += 1;
            self.backoffs
                .push(Reverse((at + backoff, slot, st.generation)));
        } else {
            self.end(slot, outcome, at);
        }
    }

    /// Backoff before retry number `n` (1-based): base × multiplier^(n-1), capped, with jitter;
    /// decorrelated jitter grows from the previous backoff `prev` (0 before the first retry,
    /// taken as base) instead.
    fn backoff(&mut self, n: u32, prev: Nanos) -> Nanos {
        let r = &self.retry;
        let raw = (r.base_backoff_ms * r.multiplier.powi(n as i32 - 1)).min(r.max_backoff_ms) * MS;
        let ns = match r.jitter {
            Jitter::None => raw,
            Jitter::Full => self.retry_rng.get().random::<f64>() * raw,
            Jitter::Equal => raw / 2.0 + self.retry_rng.get().random::<f64>() * raw / 2.0,
            Jitter::Decorrelated => {
                // sleep = min(cap, uniform(base, 3 × sleep)), sleep starting at base: the first
                // retry is drawn too (AWS's "Exponential Backoff And Jitter").
                let base = r.base_backoff_ms * MS;
                let hi = 3.0 * (prev as f64).max(base);
                (base + self.retry_rng.get().random::<f64>() * (hi - base))
                    .min(r.max_backoff_ms * MS)
            }
        };
        to_ns(ns)
    }

    /// The logical request ends for its client with `outcome` at `at`, and its slot is free.
    fn end(&mut self, slot: u32, outcome: Outcome, at: Nanos) {
        self.answer(slot, outcome, at);
        self.release(slot);
    }

    /// The client has its outcome (counted once, with its latency); the slot is not freed.
    fn answer(&mut self, slot: u32, outcome: Outcome, at: Nanos) {
        let s = &self.slots[slot as usize];
        self.live -= 1;
        self.counters.ended[outcome as usize] += 1;
        let latency = at.saturating_sub(s.created);
        if outcome == Outcome::Completed {
            self.counters.latency_ns += latency as f64;
        }
        self.finished.push(Finished {
            outcome,
            latency,
            at,
            flow: s.flow,
            priority: s.priority,
        });
    }

    fn release(&mut self, slot: u32) {
        let s = &mut self.slots[slot as usize];
        s.state = SlotState::Free;
        s.generation += 1;
        self.free_slots.push(slot);
    }

    /// Slots waiting for a response, handed off (background work running), and between
    /// attempts. `live` counts the first and the last.
    pub fn live_breakdown(&self) -> (u64, u64, u64) {
        let mut out = (0, 0, 0);
        for s in &self.slots {
            match s.state {
                SlotState::Waiting => out.0 += 1,
                SlotState::HandedOff => out.1 += 1,
                SlotState::Backoff => out.2 += 1,
                SlotState::Free => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(jitter: Jitter) -> TrafficSource {
        let retry = RetrySpec {
            max_attempts: 8,
            jitter,
            ..RetrySpec::default()
        };
        let (flows, hops) = (vec![(0, 1.0)], vec![vec![(1.0, 0)]]);
        let priorities = [0.0, 0.0, 1.0, 0.0];
        let rate = RateSchedule::Constant(1.0);
        TrafficSource::new(
            0,
            "c".into(),
            Arrivals::Poisson,
            rate,
            1,
            flows,
            hops,
            priorities,
            None,
            retry,
            None,
            7,
        )
    }

    /// Kolmogorov-Smirnov distance of `xs` from uniform(lo, hi).
    fn ks_uniform(mut xs: Vec<f64>, lo: f64, hi: f64) -> f64 {
        xs.sort_by(f64::total_cmp);
        let n = xs.len() as f64;
        let cdf = |x: f64| ((x - lo) / (hi - lo)).clamp(0.0, 1.0);
        (xs.iter().enumerate())
            .map(|(i, &x)| (cdf(x) - i as f64 / n).max((i + 1) as f64 / n - cdf(x)))
            .fold(0.0, f64::max)
    }

    #[test]
    fn decorrelated_jitter_draws_every_retry_from_uniform_base_to_three_times_the_last_sleep() {
        // The reference (AWS, "Exponential Backoff And Jitter"): sleep = min(cap, uniform(base,
        // sleep × 3)), sleep starting at base, so the first retry is spread over [100, 300] ms.
        let mut s = source(Jitter::Decorrelated);
        let n = 20_000;
        let first: Vec<f64> = (0..n).map(|_| s.backoff(1, 0) as f64 / MS).collect();
        // The 0.1% critical value of the one-sample KS statistic is 1.95 / sqrt(n).
        let critical = 1.95 / (n as f64).sqrt();
        let d = ks_uniform(first.clone(), 100.0, 300.0);
        assert!(
            d < critical,
            "first retries: KS distance {d:.4} >= {critical:.4}"
        );
        assert!(first.iter().all(|&x| (100.0..=300.0).contains(&x)));
        // A later retry after a 250 ms sleep: uniform(100, 750).
        let later: Vec<f64> = (0..n)
            .map(|_| s.backoff(3, 250 * MS as Nanos) as f64 / MS)
            .collect();
        let d = ks_uniform(later, 100.0, 750.0);
        assert!(d < critical, "after 250 ms: KS distance {d:.4}");
        // The cap holds: after a 9 s sleep, never above 10 s.
        assert!((0..1000).all(|_| s.backoff(5, 9 * SEC as Nanos) <= 10 * SEC as Nanos));
    }

    #[test]
    fn full_and_equal_jitter_spread_the_exponential_backoff_as_published() {
        // Full: uniform(0, base × 2^(n-1)); equal: half of it plus uniform over the other half.
        let n = 20_000;
        let critical = 1.95 / (n as f64).sqrt();
        let mut full = source(Jitter::Full);
        let xs: Vec<f64> = (0..n).map(|_| full.backoff(3, 0) as f64 / MS).collect();
        assert!(ks_uniform(xs, 0.0, 400.0) < critical);
        let mut equal = source(Jitter::Equal);
        let xs: Vec<f64> = (0..n).map(|_| equal.backoff(3, 0) as f64 / MS).collect();
        assert!(ks_uniform(xs, 200.0, 400.0) < critical);
        let mut none = source(Jitter::None);
        assert_eq!(none.backoff(3, 0), 400 * MS as Nanos);
    }
}
