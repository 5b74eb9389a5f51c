//! An instance as a plain state machine, through its outputs: what it sends back, which
//! timers it asks for, what it counts, when requests arrive, services end and faults strike.

use super::*;
use crate::scenario::{Discipline, Kind, QueuePolicySpec, Shape};
use crate::sim::flow::request::Priority;
use crate::sim::schedule::topology::FlowRoute;

/// A millisecond in whole ns (the glob's `MS` is an `f64`).
const MS: Nanos = 1_000_000;
const SERVICE: Nanos = 10 * MS;

/// One component (index 0) on a one-hop flow: a request served here is done.
fn surroundings() -> (ComponentInfo, Routes) {
    let comp = ComponentInfo {
        index: 0,
        name: "api".into(),
        kind: Kind::Service,
        hit_ratio: 0.0,
        shed: None,
        entity: Entity::PLACEHOLDER,
        instances: vec![],
        instance_ids: vec![0],
        in_links: vec![0],
        out: vec![],
        pull_links: vec![],
        workers_real: 2,
        queue_real: Some(2),
    };
    let routes = Routes {
        flows: vec![FlowRoute {
            name: "f".into(),
            source: 0,
            hops: vec![vec![(0, 1.0)]],
            back: vec![None],
            fan: vec![None],
            plain: true,
        }],
    };
    (comp, routes)
}

/// An instance with `workers` workers, room for `queue` waiting and 10 ms of service each.
fn instance(workers: u32, queue: Option<u64>) -> Instance {
    let policy = QueuePolicy::of(
        Discipline::Fifo,
        QueuePolicySpec::DropNewest,
        stream(1, Stream::Service, 99),
    );
    let memory = Memory {
        base_mb: 0.0,
        per_request_mb: 0.0,
        capacity_mb: 1.0,
    };
    let service = Duration::new(SERVICE as f64, Shape::Deterministic);
    Instance::new(
        0,
        0,
        "api#0".into(),
        workers,
        queue,
        policy,
        service,
        (1, 0),
        memory,
        None,
        5 * SEC,
    )
}

const SEC: Nanos = 1_000 * MS;

fn job(id: u64, at: Nanos) -> Request {
    Request::sample(id, at, Priority::Medium)
}

/// What the instance sees around it: its component and the one-hop route, no fallbacks.
fn around<'a>(comp: &'a ComponentInfo, routes: &'a Routes) -> Surroundings<'a> {
    Surroundings {
        comp,
        routes,
        stale: 0.0,
        reroute: &[],
        sole: Default::default(),
    }
}

/// Drives one instance: arrivals and timers in time order, everything it put out collected.
struct Bench {
    inst: Instance,
    comp: ComponentInfo,
    routes: Routes,
    out: Outbox,
}

impl Bench {
    fn new(workers: u32, queue: Option<u64>) -> Self {
        let (comp, routes) = surroundings();
        Bench {
            inst: instance(workers, queue),
            comp,
            routes,
            out: Outbox::default(),
        }
    }

    fn arrive(&mut self, id: u64, at: Nanos) {
        let w = around(&self.comp, &self.routes);
        self.inst.arrive(job(id, at), &w, &mut self.out);
    }

    /// Fires the earliest timer asked for; false if there is none.
    fn fire_next(&mut self) -> bool {
        let Some(i) = (0..self.out.timers.len()).min_by_key(|i| self.out.timers[*i].0) else {
            return false;
        };
        let (at, _, worker, incarnation) = self.out.timers.remove(i);
        let w = around(&self.comp, &self.routes);
        self.inst.timer(worker, incarnation, at, &w, &mut self.out);
        true
    }

    /// The replies so far as (request id, time, status).
    fn replies(&self) -> Vec<(u64, Nanos, Reply)> {
        self.out
            .replies
            .iter()
            .map(|r| (r.req.id, r.at, r.status))
            .collect()
    }

    /// Requests the instance holds: what came in and has not left.
    fn held(&self) -> u64 {
        self.inst.queued + self.inst.busy + self.inst.waiting
    }
}

#[test]
fn two_workers_serve_two_at_once_and_the_third_waits_for_the_first_free_one() {
    let mut b = Bench::new(2, Some(2));
    for id in 1..=3 {
        b.arrive(id, 0);
    }
    assert_eq!((b.inst.busy, b.inst.queued), (2, 1));
    assert_eq!(b.out.timers.len(), 2, "a timer per busy worker");
    assert!(b.out.timers.iter().all(|t| t.0 == SERVICE));
    assert_eq!(b.inst.counters.waited, 1);

    assert!(b.fire_next());
    // The first finishes at 10 ms and its worker takes the waiting request at once.
    assert_eq!(b.replies(), vec![(1, SERVICE, Reply::Ok)]);
    assert_eq!((b.inst.busy, b.inst.queued), (2, 0));
    assert!(b.out.timers.iter().any(|t| t.0 == 2 * SERVICE));

    while b.fire_next() {}
    let r = b.replies();
    assert_eq!(r.len(), 3);
    assert_eq!(
        r[2],
        (3, 2 * SERVICE, Reply::Ok),
        "waited 10 ms, served 10 ms"
    );
    // Time in the component: 10, 10 and 20 ms.
    let mut sojourns = b.out.sojourns.clone();
    sojourns.sort_unstable();
    assert_eq!(sojourns, vec![SERVICE, SERVICE, 2 * SERVICE]);
    assert_eq!(b.inst.counters.sojourn_ns, (4 * SERVICE) as f64);
    assert_eq!((b.inst.counters.served, b.inst.counters.ok), (3, 3));
    assert_eq!(b.held(), 0);
}

#[test]
fn a_full_queue_refuses_the_newest_arrival_as_dropped_at_once() {
    let mut b = Bench::new(1, Some(1));
    for id in 1..=3 {
        b.arrive(id, 5 * MS);
    }
    // One in service, one waiting, the third refused when it came.
    assert_eq!(b.replies(), vec![(3, 5 * MS, Reply::Err(Outcome::Dropped))]);
    assert_eq!(b.inst.counters.dropped, 1);
    assert_eq!((b.inst.busy, b.inst.queued), (1, 1));
    while b.fire_next() {}
    assert_eq!(
        b.replies().iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![3, 1, 2]
    );
}

#[test]
fn a_crash_fails_everything_held_and_the_timers_of_before_are_ignored() {
    let mut b = Bench::new(1, Some(5));
    b.arrive(1, 0);
    b.arrive(2, 0);
    let down_at = 4 * MS;
    b.inst.apply_fault(
        down_at,
        FaultAction::Down {
            duration: SEC,
            scheduled: false,
        },
        &mut b.out,
    );
    // The one in service and the one waiting both fail at the moment it goes down.
    assert_eq!(
        b.replies(),
        vec![
            (1, down_at, Reply::Err(Outcome::Failed)),
            (2, down_at, Reply::Err(Outcome::Failed))
        ]
    );
    assert!(matches!(
        b.out.events.last().map(|e| &e.kind),
        Some(EventKind::Outage { until, .. }) if *until == down_at + SEC
    ));
    assert_eq!(b.held(), 0);
    // The service timer of the first incarnation fires: nothing happens.
    assert!(b.fire_next());
    assert_eq!(b.replies().len(), 2);
    assert_eq!(b.inst.counters.served, 0);
    // While down, an arrival fails at once.
    b.arrive(3, 100 * MS);
    assert_eq!(b.replies()[2], (3, 100 * MS, Reply::Err(Outcome::Failed)));
    // Back after its second: the next arrival restarts it and is served.
    b.arrive(4, down_at + SEC);
    assert!(b.inst.up);
    assert!(matches!(
        b.out.events.last().map(|e| &e.kind),
        Some(EventKind::Restart)
    ));
    assert!(b.fire_next());
    assert_eq!(b.replies()[3], (4, down_at + SEC + SERVICE, Reply::Ok));
    assert_eq!(b.inst.downs, 1);
}

#[test]
fn fewer_workers_by_command_leave_when_they_finish_and_the_rest_serve_the_queue() {
    let mut b = Bench::new(2, Some(10));
    for id in 1..=4 {
        b.arrive(id, 0);
    }
    b.inst.set_workers(1);
    assert_eq!(b.inst.workers(), 1);
    // Both finish at 10 ms: worker 0 takes the next waiting request, worker 1 leaves.
    assert!(b.fire_next());
    assert!(b.fire_next());
    assert_eq!((b.inst.busy, b.inst.queued), (1, 1));
    while b.fire_next() {}
    let done: Vec<Nanos> = b.replies().iter().map(|r| r.1).collect();
    assert_eq!(done, vec![SERVICE, SERVICE, 2 * SERVICE, 3 * SERVICE]);
}

#[test]
fn every_request_that_came_in_is_held_or_has_left_exactly_once() {
    // Random arrivals, services and outages: arrivals = departures + held, at every step, and
    // every request gets exactly one reply.
    let mut rng = stream(7, Stream::Service, 1);
    let mut b = Bench::new(3, Some(4));
    let mut now: Nanos = 0;
    for id in 1..=2_000u64 {
        now += rng.random_range(0..8 * MS);
        // Fire the timers due before this arrival.
        while b.out.timers.iter().any(|t| t.0 <= now) {
            b.fire_next();
        }
        if id % 400 == 0 {
            let down = FaultAction::Down {
                duration: 50 * MS,
                scheduled: true,
            };
            b.inst.apply_fault(now, down, &mut b.out);
        }
        b.arrive(id, now);
        let c = b.inst.counters;
        assert_eq!(c.arrivals, c.departures + b.held(), "after request {id}");
    }
    while b.fire_next() {}
    assert_eq!(b.held(), 0);
    let mut ids: Vec<u64> = b.replies().iter().map(|r| r.0).collect();
    ids.sort_unstable();
    assert_eq!(ids, (1..=2_000).collect::<Vec<_>>(), "one reply each");
    let c = b.inst.counters;
    assert_eq!(c.departures, c.ok + c.errors);
    assert!(c.dropped > 0 && c.failed > 0 && c.ok > 1_000, "{c:?}");
}
