//! The flow's core and the plain state machines it holds, driven through their outputs: an
//! instance's queue and workers event by event, a link's window, and the core as the one owner
//! of the flow's state (the instance entities show it, a snapshot is a clone).

use flowlab::sim::control::health::HealthStatus;
use flowlab::sim::door::faults::FaultAction;
use flowlab::sim::flow::core::{FlowCore, InstanceQueue};
use flowlab::sim::flow::instance::{Instance, Outbox, Surroundings};
use flowlab::sim::flow::link::Admit;
use flowlab::sim::flow::request::{FlowHeaders, Outcome, Priority, Reply, Request, Response, Ret};
use flowlab::sim::schedule::topology::{Routes, Topology};
use flowlab::testing::{parse, simulation_app};

const MS: u64 = 1_000_000;

/// One client, one server with `workers` workers, a queue of `queue` and a fixed service time
/// of 10 ms.
fn one_server(workers: u32, queue: u32) -> flowlab::runner::Simulation {
    let text = format!(
        r#"(
        name: "one server",
        sim: (duration_s: 10.0, seed: 3),
        sources: [(name: "clients", rate: Constant(50.0), flows: [(name: "f", path: [To("server")])])],
        components: [(name: "server", kind: Service, workers: {workers}, queue: Bounded({queue}),
            service: (mean_ms: Some(10.0), shape: Deterministic))],
        links: [(from: "clients", to: "server")],
    )"#
    );
    simulation_app(parse(&text))
}

fn request(id: u64, at: u64) -> Request {
    Request {
        id,
        created: at,
        deadline: u64::MAX,
        at,
        ret: Ret::Client,
        via: 0,
        slot: id as u32,
        generation: 0,
        flow: 0,
        hop: 0,
        priority: Priority::Medium,
        attempt: 1,
        branch: 0,
        redeliveries: 0,
        headers: FlowHeaders::default(),
    }
}

/// Instance 0 of the loaded scenario, with what it needs to handle events.
fn server(sim: &flowlab::runner::Simulation) -> (Instance, Topology, Routes) {
    let w = sim.world();
    let inst = w.resource::<FlowCore>().instance(0).unwrap().clone();
    (
        inst,
        w.resource::<Topology>().clone(),
        w.resource::<Routes>().clone(),
    )
}

fn replies(out: &mut Outbox) -> Vec<(u64, Reply, u64)> {
    out.replies
        .drain(..)
        .map(|r| (r.req.id, r.status, r.at))
        .collect()
}

#[test]
fn an_instance_serves_one_per_worker_queues_to_its_capacity_drops_past_it_and_a_crash_fails_what_it_holds()
 {
    let sim = one_server(1, 1);
    let (mut inst, topo, routes) = server(&sim);
    let w = Surroundings {
        comp: &topo.components[0],
        routes: &routes,
        stale: 0.0,
        reroute: &[None],
        sole: topo.sole(0),
    };
    let mut out = Outbox::default();
    // Three arrive at once: one is served, one waits, the third finds the queue full.
    for id in 1..=3 {
        inst.arrive(request(id, 0), &w, &mut out);
    }
    assert_eq!((inst.busy, inst.queued), (1, 1));
    let timers = std::mem::take(&mut out.timers);
    assert_eq!(timers.len(), 1, "one service timer: {timers:?}");
    let (at, instance, worker, incarnation) = timers[0];
    assert_eq!((at, instance), (10 * MS, 0), "served in its 10 ms");
    let dropped = replies(&mut out);
    assert_eq!(dropped, vec![(3, Reply::Err(Outcome::Dropped), 0)]);
    // The timer fires: the first is answered, the waiting one starts.
    inst.timer(worker, incarnation, at, &w, &mut out);
    let answered = replies(&mut out);
    assert_eq!(answered.len(), 1);
    assert_eq!((answered[0].0, answered[0].2), (1, 10 * MS));
    assert_eq!(answered[0].1, Reply::Ok);
    assert_eq!((inst.busy, inst.queued), (1, 0));
    let next = std::mem::take(&mut out.timers);
    assert_eq!(next.len(), 1);
    assert_eq!(
        next[0].0,
        20 * MS,
        "the second starts when the first leaves"
    );
    // A crash at 15 ms: the one in service fails, its timer is stale.
    let down = FaultAction::Down {
        duration: 1_000 * MS,
        scheduled: true,
    };
    inst.apply_fault(15 * MS, down, &mut out);
    let failed = replies(&mut out);
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, 2);
    assert!(matches!(failed[0].1, Reply::Err(_)), "{failed:?}");
    assert!(!inst.up && inst.busy == 0 && inst.queued == 0);
    inst.timer(next[0].2, next[0].3, next[0].0, &w, &mut out);
    assert!(
        replies(&mut out).is_empty(),
        "a timer from before the crash is ignored"
    );
    let c = inst.counters;
    assert_eq!(
        (c.arrivals, c.dropped, c.ok, c.departures),
        (3, 1, 1, 3),
        "every arrival left exactly once: {c:?}"
    );
}

#[test]
fn an_instance_with_two_workers_serves_two_at_once() {
    let sim = one_server(2, 10);
    let (mut inst, topo, routes) = server(&sim);
    let w = Surroundings {
        comp: &topo.components[0],
        routes: &routes,
        stale: 0.0,
        reroute: &[None],
        sole: topo.sole(0),
    };
    let mut out = Outbox::default();
    for id in 1..=3 {
        inst.arrive(request(id, 0), &w, &mut out);
    }
    assert_eq!((inst.busy, inst.queued), (2, 1));
    let timers: Vec<u64> = out.timers.iter().map(|t| t.0).collect();
    assert_eq!(timers, vec![10 * MS, 10 * MS]);
}

#[test]
fn the_instance_entities_show_the_core_after_each_health_cycle_and_a_snapshot_of_the_core_is_a_clone()
 {
    let mut sim = one_server(1, 20);
    // 50/s against 100/s: something is queued or in service now and then.
    sim.run_for(3.0);
    let before = sim.world().resource::<FlowCore>().clone();
    let (mut seen_busy, mut cycles) = (false, 0);
    for _ in 0..5_000 {
        sim.step();
        let now = sim.now();
        let w = sim.app.world_mut();
        let shown: Vec<(InstanceQueue, u64)> = (w.query::<(&InstanceQueue, &HealthStatus)>())
            .iter(w)
            .map(|(q, h)| (*q, h.last_updated))
            .collect();
        let core = w.resource::<FlowCore>();
        assert_eq!(shown.len(), core.instances.len(), "one entity per instance");
        // In a tick with a health cycle the entity shows what the core held after the flow.
        for (q, _) in shown.into_iter().filter(|(_, at)| *at == now) {
            assert_eq!(q, InstanceQueue::of(&core.instances[q.index as usize]));
            seen_busy |= q.busy > 0 || q.queued > 0;
            cycles += 1;
        }
    }
    assert!(cycles >= 4, "{cycles} health cycles seen");
    let now = sim.world().resource::<FlowCore>();
    assert!(
        now.instances[0].counters.arrivals > before.instances[0].counters.arrivals,
        "the clone taken at 3 s stayed as it was while the run went on"
    );
    assert_eq!(before.sources.len(), 1);
    assert_eq!(before.links.len(), 1);
    assert!(seen_busy, "at some whole second the server was busy");
}

#[test]
fn a_link_carries_requests_for_its_latency_in_sending_order_and_its_window_lets_max_fly_queues_its_buffer_and_refuses_past_it()
 {
    let text = r#"(
        name: "a window",
        sim: (duration_s: 10.0, seed: 3),
        sources: [(name: "clients", rate: Constant(50.0), flows: [(name: "f", path: [To("server")])])],
        components: [(name: "server", kind: Service, workers: 10, service: (mean_ms: Some(1.0)))],
        links: [(from: "clients", to: "server", latency: (mean_ms: 5.0, shape: Deterministic),
            window: Some((max: 2, buffer: 1)))],
    )"#;
    let sim = simulation_app(parse(text));
    let mut l = sim.world().resource::<FlowCore>().link(0).unwrap().clone();
    // Two go at t = 0, inside the tick [0, 1 ms): both arrive after it, so both are on the wire.
    for id in 1..=2 {
        match l.admit(request(id, 0)) {
            Admit::Send(r) => assert!(l.send(r, MS).is_none(), "arrives after the tick"),
            other => panic!("request {id}: {other:?}"),
        }
    }
    assert_eq!(l.forward.len(), 2);
    // The window is full: the third waits in the buffer, the fourth is refused.
    assert!(matches!(l.admit(request(3, 0)), Admit::Windowed));
    assert!(matches!(l.admit(request(4, 0)), Admit::Refused(_)));
    assert_eq!(l.counters.windowed_out, 1);
    // Nothing arrives before 5 ms; then both, in sending order, stamped with their arrival.
    let (mut reqs, mut resps) = (vec![], vec![]);
    l.take_due(5 * MS, &mut reqs, &mut resps);
    assert!(reqs.is_empty() && resps.is_empty());
    l.take_due(6 * MS, &mut reqs, &mut resps);
    let got: Vec<(u64, u64)> = reqs.iter().map(|r| (r.id, r.at)).collect();
    assert_eq!(got, vec![(1, 5 * MS), (2, 5 * MS)]);
    assert!(l.forward.is_empty() && l.next_due() == u64::MAX);
    // An answer to the first opens the window: the waiting one goes, sent at the answer's time.
    let resp = Response {
        at: 12 * MS,
        req: reqs[0],
        status: Reply::Ok,
    };
    let next = l.window_answered(&resp).expect("the waiting one goes");
    assert_eq!((next.id, next.at), (3, 12 * MS));
    assert!(l.window_answered(&resp).is_none(), "nothing else waits");
}
