//! The agenda: the simulation's pending events, handed out in time order, ties in the order
//! they were scheduled. The flow phase (`sweep`) pushes and pops them.

use crate::sim::door::faults::FaultAction;
use crate::sim::flow::link::Link;
use crate::sim::flow::request::{Request, Response, Ret};
use crate::sim::schedule::dist::Nanos;
use bevy::prelude::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Something that happens at a point in simulated time.
#[derive(Debug, Clone, Copy)]
pub(in crate::sim) enum Ev {
    /// A request reaches the receiver of `link`.
    Arrive { link: u32, req: Request },
    /// A service timer fires.
    Timer {
        instance: u32,
        worker: u32,
        incarnation: u32,
    },
    /// A response reaches the sender of `link`; `local` when the sender's own flow control or
    /// breaker refused the request (not counted as an error of the receiver).
    Respond {
        link: u32,
        resp: Response,
        local: bool,
    },
    /// An instance is taken down, brought back, slowed or retired (the command door).
    Fault { instance: u32, action: FaultAction },
    /// Requests held at the sender of `link` by its rate limit may go.
    Release { link: u32 },
    /// A failed message leaves the retry queue of the `Pull` link `link` for its topic.
    Republish { link: u32, req: Request },
    /// A credit given back by the receiver of `link` reaches its sender.
    Credit { link: u32 },
}

/// What an event happens to, as far as its state in memory goes (for a prefetch).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::sim) enum Touch {
    /// A link, by index (an arrival, a response, a release, a credit).
    Link(u32),
    /// An instance, by index, and the worker whose timer fires, if it is a timer.
    Instance(u32, Option<u32>),
    /// A response coming back over `link` to a worker of `instance` waiting for it.
    Answer {
        /// The link it comes back over.
        link: u32,
        /// The caller's instance.
        instance: u32,
        /// The worker waiting.
        worker: u32,
    },
}

impl Ev {
    /// What the event happens to (`prefetch`).
    fn touch(&self) -> Touch {
        match *self {
            Ev::Respond {
                link,
                resp:
                    Response {
                        req:
                            Request {
                                ret:
                                    Ret::Worker {
                                        instance, worker, ..
                                    },
                                ..
                            },
                        ..
                    },
                ..
            } => Touch::Answer {
                link,
                instance,
                worker,
            },
            Ev::Arrive { link, .. }
            | Ev::Respond { link, .. }
            | Ev::Release { link }
            | Ev::Republish { link, .. }
            | Ev::Credit { link } => Touch::Link(link),
            Ev::Timer {
                instance, worker, ..
            } => Touch::Instance(instance, Some(worker)),
            Ev::Fault { instance, .. } => Touch::Instance(instance, None),
        }
    }
}

/// Ticks ahead the agenda's calendar holds; later events wait in its heap.
const CALENDAR: usize = 1024;

/// In a batch key: the event is in the slab (it came from the calendar), not in the batch.
const IN_SLAB: u32 = 1 << 31;

/// In a slab slot: the event is a service timer, kept in the timers' own slab. A timer is 12
/// bytes where any event takes 104: with thousands of workers busy, the timers waiting are most
/// of the agenda, and a dense slab of them stays in cache where the general one does not.
const TIMER: u32 = 1 << 30;

/// Puts `item` in a free slot of `slab` (or a new one) and returns the slot.
fn store<T>(slab: &mut Vec<T>, free: &mut Vec<u32>, item: T) -> u32 {
    match free.pop() {
        Some(s) => {
            slab[s as usize] = item;
            s
        }
        None => {
            slab.push(item);
            (slab.len() - 1) as u32
        }
    }
}

/// Pending events, handed out in time order (ties in order of scheduling). Four stores keep
/// the common cases cheap: what is known at the start of a tick (the wire's deliveries, the
/// sources' arrivals and the calendar's bucket for the tick) is sorted once; events at the
/// current instant (zero-latency hops) go to a FIFO; events due in a later tick (service timers)
/// go to the calendar, a bucket per tick; only the rest (latencies inside the tick, events more
/// than `CALENDAR` ticks ahead) use the binary heap. Every event keeps the sequence number it was
/// pushed with, so the order is the one a single heap would give.
#[derive(Resource, Default, Clone, Debug)]
pub struct Agenda {
    /// Keys (time, sequence, slab slot) of events due in a later tick, a bucket per tick.
    calendar: Vec<Vec<(Nanos, u64, u32)>>,
    /// Emptied buckets, kept for the next bucket that fills: only the buckets holding events
    /// hold memory, not every bucket the busiest tick ever filled.
    spare: Vec<Vec<(Nanos, u64, u32)>>,
    /// Events in the calendar, and the earliest one's time (`None`: the calendar is empty).
    in_calendar: usize,
    calendar_next: Option<Nanos>,
    /// The current tick: its index (`from / length`), its length (0: no calendar) and its end.
    tick_key: u64,
    tick_len: Nanos,
    until: Nanos,
    heap: BinaryHeap<Reverse<(Nanos, u64, u32)>>,
    slab: Vec<Option<Ev>>,
    free: Vec<u32>,
    /// Service timers waiting in the calendar or the heap: (instance, worker, incarnation).
    timers: Vec<[u32; 3]>,
    timers_free: Vec<u32>,
    /// The tick's known events, in the order they came; `order` sorts their keys, not them.
    batch: Vec<Ev>,
    order: Vec<(Nanos, u64, u32)>,
    cursor: usize,
    instant: std::collections::VecDeque<Ev>,
    /// Links with something on the wire (only these are looked at when a tick starts).
    pub(in crate::sim) wired: Vec<u32>,
    pub(in crate::sim) wired_flag: Vec<bool>,
    now: Nanos,
    filling: bool,
    seq: u64,
}

impl Agenda {
    pub(in crate::sim) fn push(&mut self, at: Nanos, ev: Ev) {
        self.seq += 1;
        if self.filling {
            self.order.push((at, self.seq, self.batch.len() as u32));
            self.batch.push(ev);
            return;
        }
        if at == self.now {
            self.instant.push_back(ev);
            return;
        }
        if at >= self.until && self.tick_len > 0 {
            let key = at / self.tick_len;
            if key - self.tick_key < CALENDAR as u64 {
                if self.calendar.is_empty() {
                    self.calendar.resize_with(CALENDAR, Vec::new);
                }
                let slot = self.slab_store(ev);
                let bucket = &mut self.calendar[key as usize % CALENDAR];
                if bucket.capacity() == 0
                    && let Some(spare) = self.spare.pop()
                {
                    *bucket = spare;
                }
                bucket.push((at, self.seq, slot));
                self.calendar_next = Some(self.calendar_next.map_or(at, |n| n.min(at)));
                self.in_calendar += 1;
                return;
            }
        }
        let slot = self.slab_store(ev);
        self.heap.push(Reverse((at, self.seq, slot)));
    }

    fn slab_store(&mut self, ev: Ev) -> u32 {
        if let Ev::Timer {
            instance,
            worker,
            incarnation,
        } = ev
        {
            let timer = [instance, worker, incarnation];
            return TIMER | store(&mut self.timers, &mut self.timers_free, timer);
        }
        store(&mut self.slab, &mut self.free, Some(ev))
    }

    /// Puts `req` on the wire of `link` (`l`): its arrival goes on the agenda if it falls in
    /// this tick (before `until`), else the link is noted as carrying something.
    pub(in crate::sim) fn send(&mut self, l: &mut Link, link: u32, req: Request, until: Nanos) {
        match l.send(req, until) {
            Some((t, req)) => self.push(t, Ev::Arrive { link, req }),
            None => self.wire(link),
        }
    }

    /// The earliest pending event (`Nanos::MAX`: none); between ticks the batch is spent.
    pub(in crate::sim) fn next_at(&self) -> Nanos {
        if !self.instant.is_empty() {
            return self.now;
        }
        let heap = self.heap.peek().map_or(Nanos::MAX, |r| r.0.0);
        let batch = self.order.get(self.cursor).map_or(Nanos::MAX, |e| e.0);
        let calendar = self.calendar_next.unwrap_or(Nanos::MAX);
        heap.min(batch).min(calendar)
    }

    /// Notes that `link` has something on the wire.
    pub(in crate::sim) fn wire(&mut self, link: u32) {
        let i = link as usize;
        if i >= self.wired_flag.len() {
            self.wired_flag.resize(i + 1, false);
        }
        if !self.wired_flag[i] {
            self.wired_flag[i] = true;
            self.wired.push(link);
        }
    }

    /// Starts collecting the known events of the tick `[from, until)`, first the calendar's.
    pub(in crate::sim) fn begin(&mut self, from: Nanos, until: Nanos) {
        self.batch.clear();
        self.order.clear();
        self.cursor = 0;
        self.filling = true;
        self.until = until;
        let len = until - from;
        if len != self.tick_len || !from.is_multiple_of(len) {
            // Ticks of another length (or not on the grid): the calendar's events to the heap.
            self.flush_calendar();
            self.tick_len = if from.is_multiple_of(len) { len } else { 0 };
        }
        if self.tick_len == 0 {
            return;
        }
        self.tick_key = from / len;
        if self.calendar_next.is_some_and(|n| n < until) {
            let slot = self.tick_key as usize % CALENDAR;
            let mut bucket = std::mem::take(&mut self.calendar[slot]);
            self.in_calendar -= bucket.len();
            self.order.extend(
                bucket
                    .drain(..)
                    .map(|(at, seq, slot)| (at, seq, slot | IN_SLAB)),
            );
            self.spare.push(bucket);
            self.calendar_next = self.calendar_first();
        }
    }

    /// The earliest time in the calendar (its first non-empty bucket after the current tick).
    fn calendar_first(&self) -> Option<Nanos> {
        if self.in_calendar == 0 {
            return None;
        }
        (1..CALENDAR)
            .map(|d| &self.calendar[(self.tick_key as usize + d) % CALENDAR])
            .find(|b| !b.is_empty())
            .and_then(|b| b.iter().map(|e| e.0).min())
    }

    /// Moves everything in the calendar to the heap.
    fn flush_calendar(&mut self) {
        let mut calendar = std::mem::take(&mut self.calendar);
        for bucket in &mut calendar {
            for (at, seq, slot) in bucket.drain(..) {
                self.heap.push(Reverse((at, seq, slot)));
            }
        }
        self.calendar = calendar;
        self.in_calendar = 0;
        self.calendar_next = None;
    }

    /// Sorts the collected events; from now on pushes are scheduled individually.
    pub(in crate::sim) fn seal(&mut self) {
        // (time, sequence) is unique: the same order as sorting the events themselves.
        self.order.sort_unstable();
        self.filling = false;
    }

    pub(in crate::sim) fn pop_before(&mut self, until: Nanos) -> Option<(Nanos, Ev)> {
        if let Some(ev) = self.instant.pop_front() {
            return Some((self.now, ev));
        }
        let batch = self.order.get(self.cursor).map(|e| (e.0, e.1));
        let heap = self.heap.peek().map(|r| (r.0.0, r.0.1));
        let take_batch = match (batch, heap) {
            (None, None) => return None,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(b), Some(h)) => b < h,
        };
        if take_batch {
            let (at, _, i) = self.order[self.cursor];
            if at >= until {
                return None;
            }
            self.cursor += 1;
            self.now = at;
            if i & IN_SLAB == 0 {
                Some((at, self.batch[i as usize]))
            } else {
                self.slab_take(i & !IN_SLAB).map(|e| (at, e))
            }
        } else {
            let &Reverse((at, _, slot)) = self.heap.peek()?;
            if at >= until {
                return None;
            }
            self.heap.pop();
            self.now = at;
            self.slab_take(slot).map(|e| (at, e))
        }
    }

    /// Takes the event in `slot` out of its slab; the slot is free again.
    fn slab_take(&mut self, slot: u32) -> Option<Ev> {
        if slot & TIMER != 0 {
            let s = slot & !TIMER;
            self.timers_free.push(s);
            let [instance, worker, incarnation] = *self.timers.get(s as usize)?;
            return Some(Ev::Timer {
                instance,
                worker,
                incarnation,
            });
        }
        self.free.push(slot);
        self.slab[slot as usize].take()
    }

    /// Where the batch's event `ahead` places behind the next waits: its batch or slab entry
    /// (for a prefetch; nothing is read).
    #[inline]
    pub(in crate::sim) fn entry_at(&self, ahead: usize) -> Option<*const u8> {
        let &(_, _, i) = self.order.get(self.cursor + ahead)?;
        Some(if i & IN_SLAB == 0 {
            self.batch.as_ptr().wrapping_add(i as usize).cast::<u8>()
        } else if i & TIMER != 0 {
            let s = (i & !(IN_SLAB | TIMER)) as usize;
            self.timers.as_ptr().wrapping_add(s).cast::<u8>()
        } else {
            let s = (i & !IN_SLAB) as usize;
            self.slab.as_ptr().wrapping_add(s).cast::<u8>()
        })
    }

    /// What the batch's event `ahead` places behind the next happens to, read without taking
    /// it (`prefetch`).
    #[inline]
    pub(in crate::sim) fn touch(&self, ahead: usize) -> Option<Touch> {
        let &(_, _, i) = self.order.get(self.cursor + ahead)?;
        if i & IN_SLAB == 0 {
            return self.batch.get(i as usize).map(Ev::touch);
        }
        let s = i & !(IN_SLAB | TIMER);
        if i & TIMER != 0 {
            let &[instance, worker, _] = self.timers.get(s as usize)?;
            return Some(Touch::Instance(instance, Some(worker)));
        }
        self.slab.get(s as usize)?.as_ref().map(Ev::touch)
    }

    /// Events waiting (service timers in progress, at a tick boundary).
    pub fn len(&self) -> usize {
        self.heap.len() + self.instant.len() + self.order.len() - self.cursor + self.in_calendar
    }

    /// True when nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn events_come_out_in_time_order_ties_in_scheduling_order_whatever_store_holds_them() {
        // Ticks of 10 ns; while a tick's events are handed out, new ones are scheduled inside
        // the tick (heap), in the next ticks (calendar), beyond the calendar (heap) and, at the
        // start of a tick, as its known events (batch); many share a time. The order must be
        // the one a single heap keyed by (time, scheduling order) gives. One event in three is a
        // service timer (kept in the timers' own slab), which must come back whole.
        let tick: Nanos = 10;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let (mut agenda, mut reference) = (Agenda::default(), BinaryHeap::new());
        let (mut seq, mut id, mut out, mut expected) = (0u64, 0u32, vec![], vec![]);
        let mut schedule = |agenda: &mut Agenda, reference: &mut BinaryHeap<_>, at: Nanos| {
            seq += 1;
            id += 1;
            let ev = if id % 3 == 0 {
                Ev::Timer {
                    instance: id,
                    worker: id.wrapping_mul(7),
                    incarnation: id + 1,
                }
            } else {
                Ev::Release { link: id }
            };
            agenda.push(at, ev);
            reference.push(Reverse((at, seq, id)));
        };
        for k in 0..3_000u64 {
            let (from, until) = (k * tick, (k + 1) * tick);
            agenda.begin(from, until);
            for _ in 0..rng.random_range(0..3) {
                schedule(
                    &mut agenda,
                    &mut reference,
                    from + rng.random_range(0..tick),
                );
            }
            agenda.seal();
            while let Some((at, ev)) = agenda.pop_before(until) {
                let link = match ev {
                    Ev::Release { link } => link,
                    Ev::Timer {
                        instance,
                        worker,
                        incarnation,
                    } => {
                        assert_eq!((worker, incarnation), (instance * 7, instance + 1));
                        instance
                    }
                    other => panic!("{other:?}"),
                };
                out.push((at, link));
                for _ in 0..rng.random_range(0..3) {
                    let later = match rng.random_range(0..4) {
                        0 => rng.random_range(1..tick),
                        1 => rng.random_range(1..30) * tick / 3,
                        2 => rng.random_range(1..3_000) * tick,
                        _ => (CALENDAR as u64 + rng.random_range(0..500)) * tick,
                    };
                    schedule(&mut agenda, &mut reference, at + later);
                }
            }
            while let Some(Reverse((at, _, id))) = reference.peek().copied() {
                if at >= until {
                    break;
                }
                reference.pop();
                expected.push((at, id));
            }
            assert_eq!(
                agenda.next_at(),
                reference.peek().map_or(Nanos::MAX, |r| r.0.0)
            );
        }
        assert!(out.len() > 5_000, "{} events", out.len());
        assert_eq!(out, expected);
    }

    #[test]
    fn the_events_ahead_are_named_in_the_order_they_come_out_for_the_prefetch() {
        // Tick 0 schedules timers and credits for tick 5 (the calendar; the timers wait in
        // their own slab); tick 5's own known events (arrivals, answers to a worker) join them
        // in its batch. Before each event is taken, `touch(k)` must name what the event taken
        // k places later happens to, and nothing past the last one.
        let tick: Nanos = 10;
        let mut agenda = Agenda::default();
        agenda.begin(0, tick);
        agenda.seal();
        for i in 0..20u32 {
            let at = 50 + u64::from(i * 7 % 10);
            let ev = match i % 2 {
                0 => Ev::Timer {
                    instance: i,
                    worker: i + 100,
                    incarnation: 0,
                },
                _ => Ev::Credit { link: i },
            };
            agenda.push(at, ev);
        }
        assert!(agenda.pop_before(tick).is_none());
        agenda.begin(5 * tick, 6 * tick);
        for i in 0..20u32 {
            let at = 50 + u64::from(i * 3 % 10);
            let mut req = Request::sample(
                u64::from(i),
                at,
                crate::sim::flow::request::Priority::Medium,
            );
            let ev = match i % 2 {
                0 => Ev::Arrive { link: 200 + i, req },
                _ => {
                    req.ret = Ret::Worker {
                        instance: 300 + i,
                        worker: 400 + i,
                        incarnation: 0,
                    };
                    let status = crate::sim::flow::request::Reply::Ok;
                    let resp = Response { at, req, status };
                    Ev::Respond {
                        link: 500 + i,
                        resp,
                        local: false,
                    }
                }
            };
            agenda.push(at, ev);
        }
        agenda.seal();
        let (mut named, mut came) = (vec![], vec![]);
        loop {
            named.push((0..6).map(|k| agenda.touch(k)).collect::<Vec<_>>());
            assert!((0..10).all(|k| agenda.entry_at(k).is_some() == agenda.touch(k).is_some()));
            let Some((_, ev)) = agenda.pop_before(6 * tick) else {
                break;
            };
            came.push(ev.touch());
        }
        assert_eq!(came.len(), 40);
        for (j, ahead) in named.iter().enumerate() {
            for (k, touch) in ahead.iter().enumerate() {
                assert_eq!(*touch, came.get(j + k).copied(), "{k} after event {j}");
            }
        }
        let kinds = |f: fn(&Touch) -> bool| came.iter().filter(|t| f(t)).count();
        assert_eq!(
            kinds(|t| matches!(t, Touch::Instance(i, Some(w)) if *w == i + 100)),
            10
        );
        assert_eq!(
            kinds(
                |t| matches!(t, Touch::Answer { instance, worker, .. } if *worker == instance + 100)
            ),
            10
        );
        assert_eq!(kinds(|t| matches!(t, Touch::Link(_))), 20);
    }
}
