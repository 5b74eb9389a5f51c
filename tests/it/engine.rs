//! Engine behaviour a user would name: queues fill and drop, memory exhaustion crashes and
//! restarts, timeouts and retries, implicit backpressure through synchronous calls, load
//! balancing, caches, priorities, engines as bottlenecks, request units, pause/step/speed.

use bevy::prelude::*;
use bevy::time::TimeUpdateStrategy;
use flowlab::runner::Simulation;
use flowlab::sim::flow::core::FlowCore;
use flowlab::sim::flow::engines::{Engine, EngineKind};
use flowlab::sim::flow::instance::Instance;
use flowlab::sim::flow::request::Outcome;
use flowlab::sim::schedule::topology::Topology;
use flowlab::sim::{SimClock, SimControl, SimDriverPlugin, SimPlugin};
use flowlab::testing::{parse, simulation_app};

/// Clients -> web -> db with the given pieces spliced in.
fn two_tier(rate: f64, client: &str, web: &str, db: &str, call: &str) -> String {
    format!(
        r#"(
        name: "two tier",
        sources: [(name: "users", rate: Constant({rate}), flows: [(name: "q", path: [To("web"), To("db")])], client: ({client}))],
        components: [
            (name: "web", kind: Service, {web}),
            (name: "db", kind: Database, {db}),
        ],
        links: [(from: "users", to: "web"), (from: "web", to: "db", call: {call})],
    )"#
    )
}

fn instances_of<'a>(sim: &'a Simulation, name: &str) -> Vec<&'a Instance> {
    let w = sim.world();
    let topo = w.resource::<Topology>();
    let c = topo.component(name).expect("component");
    let core = w.resource::<FlowCore>();
    core.instances_of(topo, c.index).collect()
}

#[test]
fn a_full_bounded_queue_drops_and_nothing_crashes() {
    let text = two_tier(
        2000.0,
        "",
        "workers: 100, service: (mean_ms: Some(1.0))",
        "workers: 1, queue: Bounded(50), service: (mean_ms: Some(1.0))",
        "Sync",
    );
    let mut sim = simulation_app(parse(&text));
    sim.run_for(20.0);
    let s = sim.summary();
    let db = s.component("db").unwrap();
    assert!(
        db.dropped > 15_000,
        "about half of 40K should be dropped, got {}",
        db.dropped
    );
    assert_eq!(db.crashes, 0);
    assert!(
        db.peak_queue <= 50,
        "queue never exceeds its capacity: {}",
        db.peak_queue
    );
    assert!(s.system.ended(Outcome::Dropped) > 15_000);
    // The database serves at its capacity: 1000/s.
    assert!(
        (db.served as f64 / 20.0 - 1000.0).abs() < 50.0,
        "served {}",
        db.served
    );
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn an_unbounded_queue_grows_until_memory_runs_out_then_the_instance_restarts() {
    let text = two_tier(
        2000.0,
        "",
        "workers: 100000, queue: Unbounded, service: (mean_ms: Some(1.0))",
        "workers: 1, queue: Unbounded, restart_after_s: 5.0,
         service: (mean_ms: Some(1.0), demand: (memory_mb: 1.0)), engines: (memory_mb: 2048.0, base_memory_mb: 48.0)",
        "Sync",
    );
    let mut sim = simulation_app(parse(&text));
    // 1000/s of excess at 1 MB each fills 2000 MB in about 2 s.
    sim.run_for(1.5);
    assert!(instances_of(&sim, "db")[0].up);
    assert!(instances_of(&sim, "db")[0].queued > 1000);
    sim.run_for(1.0);
    let db = instances_of(&sim, "db")[0];
    assert!(
        !db.up,
        "the database should be down after running out of memory"
    );
    assert_eq!(db.counters.crashes, 1);
    let failed = sim.summary().system.ended(Outcome::Failed);
    assert!(failed > 1500, "what the database held fails: {failed}");
    sim.run_for(5.0);
    assert!(
        instances_of(&sim, "db")[0].up,
        "it restarts after restart_after_s"
    );
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn a_slow_synchronous_callee_fills_the_callers_worker_pool() {
    // web is fast but has 10 workers; each waits for db (5 ms), so web can do at most 2000/s.
    let sync = two_tier(
        3000.0,
        "",
        "workers: 10, queue: Bounded(200), service: (mean_ms: Some(0.1))",
        "workers: 1000, service: (mean_ms: Some(5.0), shape: Deterministic)",
        "Sync",
    );
    let mut sim = simulation_app(parse(&sync));
    sim.run_for(10.0);
    let s = sim.summary();
    let web = s.component("web").unwrap();
    assert!(
        web.dropped > 5000,
        "web's own queue overflows: {}",
        web.dropped
    );
    assert_eq!(s.component("db").unwrap().dropped, 0);
    let throughput = web.ok as f64 / 10.0;
    assert!(
        (throughput - 2000.0).abs() < 100.0,
        "web is limited to workers / call time: {throughput}"
    );

    // The same with an asynchronous send: web's workers are free at once.
    let async_ = sync.replace("call: Sync", "call: Async");
    let mut sim = simulation_app(parse(&async_));
    sim.run_for(10.0);
    let s = sim.summary();
    assert_eq!(s.component("web").unwrap().dropped, 0);
    assert!(s.system.ended(Outcome::Completed) > 29_000);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn clients_time_out_retry_with_backoff_and_servers_waste_work() {
    let text = two_tier(
        1500.0,
        "timeout_ms: Some(200.0), retry: (max_attempts: 3, base_backoff_ms: 50.0, jitter: Full)",
        "workers: 1000, service: (mean_ms: Some(0.5))",
        "workers: 1, queue: Bounded(2000), service: (mean_ms: Some(1.0))",
        "Sync",
    );
    let mut sim = simulation_app(parse(&text));
    sim.run_for(20.0);
    let s = sim.summary();
    assert!(s.system.retries > 10_000, "retries: {}", s.system.retries);
    assert_eq!(s.system.attempts, s.system.generated + s.system.retries);
    assert!(s.system.ended(Outcome::TimedOut) > 1000);
    assert!(
        s.system.wasted > 1000,
        "the database serves requests whose client gave up"
    );
    assert!(s.system.late_responses > 0);
    // Completed requests all finished within the timeout.
    assert!(s.system.latency_ms[2] <= 200.0);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

fn balanced(strategy: &str) -> String {
    format!(
        r#"(
        name: "lb",
        sources: [(name: "u", rate: Constant(3600.0), flows: [(name: "f", path: [To("lb"), To("app")])])],
        components: [
            (name: "lb", kind: LoadBalancer, workers: 10000, strategy: {strategy}, service: (mean_ms: Some(0.01), shape: Deterministic)),
            (name: "app", kind: Service, instances: 4, workers: 1, queue: Unbounded, service: (mean_ms: Some(1.0))),
        ],
        links: [(from: "u", to: "lb"), (from: "lb", to: "app")],
    )"#
    )
}

#[test]
fn load_balancer_strategies_spread_and_least_outstanding_cuts_the_tail() {
    let mut rr = simulation_app(parse(&balanced("RoundRobin")));
    rr.run_for(30.0);
    let arrivals: Vec<u64> = instances_of(&rr, "app")
        .iter()
        .map(|i| i.counters.arrivals)
        .collect();
    let max = *arrivals.iter().max().unwrap();
    let min = *arrivals.iter().min().unwrap();
    assert!(
        max - min <= 1,
        "round robin gives each instance its turn: {arrivals:?}"
    );

    let mut random = simulation_app(parse(&balanced("Random")));
    random.run_for(30.0);
    let mut lor = simulation_app(parse(&balanced("LeastOutstanding")));
    lor.run_for(30.0);
    let p99_random = random.summary().component("app").unwrap().latency_ms[2];
    let p99_lor = lor.summary().component("app").unwrap().latency_ms[2];
    assert!(
        p99_lor < p99_random * 0.6,
        "least outstanding p99 {p99_lor} vs random {p99_random}"
    );
}

#[test]
fn a_cache_answers_its_hit_ratio_and_passes_the_rest_on() {
    let text = r#"(
        name: "cache",
        sources: [(name: "u", rate: Constant(2000.0), flows: [(name: "f", path: [To("cache"), To("db")])])],
        components: [
            (name: "cache", kind: Cache, workers: 100, hit_ratio: Some(0.75), service: (mean_ms: Some(0.2))),
            (name: "db", kind: Database, workers: 100, service: (mean_ms: Some(2.0))),
        ],
        links: [(from: "u", to: "cache"), (from: "cache", to: "db")],
    )"#;
    let mut sim = simulation_app(parse(text));
    sim.run_for(20.0);
    let s = sim.summary();
    let cache = s.component("cache").unwrap().arrivals as f64;
    let db = s.component("db").unwrap().arrivals as f64;
    assert!(
        (db / cache - 0.25).abs() < 0.01,
        "miss share {}",
        db / cache
    );
}

#[test]
fn under_overload_a_priority_queue_holds_back_low_priority_work() {
    let text = r#"(
        name: "priorities",
        sources: [(name: "u", rate: Constant(1500.0), priorities: (critical: 0.1, high: 0.2, medium: 0.3, low: 0.4),
                   flows: [(name: "f", path: [To("s")])])],
        components: [(name: "s", kind: Service, queue: Bounded(500), discipline: Priority, service: (mean_ms: Some(1.0)))],
        links: [(from: "u", to: "s")],
    )"#;
    let mut sim = simulation_app(parse(text));
    sim.run_for(10.0);
    let q = instances_of(&sim, "s")[0].queued_by_priority();
    let total: u64 = q.iter().sum();
    assert!(
        q[3] as f64 > 0.95 * total as f64,
        "the queue is mostly LOW: {q:?}"
    );
    assert!(q[0] <= 2, "CRITICAL barely waits: {q:?}");
}

#[test]
fn the_bottleneck_engine_sets_the_pace() {
    // Storage: 1000 IOPS / 2 ops = 500 requests/s; CPU: 2 cores / 1 ms = 2000/s.
    let text = r#"(
        name: "engines",
        sources: [(name: "u", rate: Constant(800.0), flows: [(name: "f", path: [To("db")])])],
        components: [(name: "db", kind: Database, workers: 8, queue: Bounded(100),
                      service: (demand: (cpu_ms: 1.0, storage_ops: 2.0)),
                      engines: (cpu_cores: 2.0, storage_iops: 1000.0))],
        links: [(from: "u", to: "db")],
    )"#;
    let mut sim = simulation_app(parse(text));
    sim.run_for(20.0);
    let served = sim.summary().component("db").unwrap().served as f64 / 20.0;
    assert!((served - 500.0).abs() < 20.0, "throughput {served}");
    let w = sim.world();
    let inst = w.resource::<Topology>().component("db").unwrap().instances[0];
    let mut util = [0.0; 4];
    for child in w.get::<Children>(inst).unwrap().iter() {
        let e = w.get::<Engine>(child).unwrap();
        util[e.kind as usize] = e.utilization;
    }
    assert!(
        util[EngineKind::Storage as usize] > 0.95,
        "storage saturated: {util:?}"
    );
    assert!(
        (util[EngineKind::Cpu as usize] - 0.25).abs() < 0.05,
        "cpu at a quarter: {util:?}"
    );
}

#[test]
fn thrashing_lowers_throughput_at_saturation() {
    let base = r#"(
        name: "thrash",
        sources: [(name: "u", rate: Constant(1500.0), flows: [(name: "f", path: [To("s")])])],
        components: [(name: "s", kind: Service, queue: Bounded(100), service: (mean_ms: Some(1.0)) THRASH)],
        links: [(from: "u", to: "s")],
    )"#;
    let plain = base.replace("THRASH", "");
    let thrash = base.replace("THRASH", ", thrashing: Some((above: 0.8, slowdown: 1.0))");
    let mut a = simulation_app(parse(&plain));
    a.run_for(20.0);
    let mut b = simulation_app(parse(&thrash));
    b.run_for(20.0);
    let sa = a.summary().component("s").unwrap().served as f64;
    let sb = b.summary().component("s").unwrap().served as f64;
    assert!(sb < sa * 0.6, "thrashing halves throughput: {sb} vs {sa}");
}

/// A request unit keeps throughput exactly and latency closely at moderate load. (Each simulated
/// request carries `unit` real ones that arrive together, so queueing delay near saturation is
/// overstated; docs/SCENARIO_FORMAT.md says so.)
#[test]
fn a_request_unit_keeps_rates_and_latencies() {
    let text = |unit: u32| {
        format!(
            r#"(
            name: "unit", sim: (request_unit: {unit}),
            sources: [(name: "u", rate: Constant(25000.0), flows: [(name: "f", path: [To("s")])])],
            components: [(name: "s", kind: Service, workers: 100, queue: Bounded(1000), service: (mean_ms: Some(2.0)))],
            links: [(from: "u", to: "s")],
        )"#
        )
    };
    let mut exact = simulation_app(parse(&text(1)));
    exact.run_for(20.0);
    let mut scaled = simulation_app(parse(&text(10)));
    scaled.run_for(20.0);
    let (a, b) = (exact.summary(), scaled.summary());
    let ratio =
        b.system.ended(Outcome::Completed) as f64 / a.system.ended(Outcome::Completed) as f64;
    assert!((ratio - 1.0).abs() < 0.02, "completed ratio {ratio}");
    let lat = b.system.mean_latency_ms / a.system.mean_latency_ms;
    assert!((lat - 1.0).abs() < 0.05, "latency ratio {lat}");
}

#[test]
fn arrival_processes_keep_their_mean_rate() {
    for (arrivals, tolerance) in [
        ("Deterministic", 0.001),
        ("Poisson", 0.02),
        ("Bursty(on_s: 0.2, off_s: 0.6)", 0.05),
    ] {
        let text = format!(
            r#"(
            name: "arrivals",
            sources: [(name: "u", arrivals: {arrivals}, rate: Constant(1000.0), flows: [(name: "f", path: [To("s")])])],
            components: [(name: "s", kind: Service, workers: 1000, service: (mean_ms: Some(1.0)))],
            links: [(from: "u", to: "s")],
        )"#
        );
        let mut sim = simulation_app(parse(&text));
        sim.run_for(1000.0);
        let rate = sim.summary().system.generated as f64 / 1000.0;
        assert!(
            (rate / 1000.0 - 1.0).abs() < tolerance,
            "{arrivals}: {rate}/s"
        );
    }
}

#[test]
fn links_expose_what_is_in_transit() {
    let text = r#"(
        name: "wire",
        sources: [(name: "u", arrivals: Deterministic, rate: Constant(1000.0), flows: [(name: "f", path: [To("s")])])],
        components: [(name: "s", kind: Service, workers: 100, service: (mean_ms: Some(1.0)))],
        links: [(from: "u", to: "s", latency: (mean_ms: 50.0))],
    )"#;
    let mut sim = simulation_app(parse(text));
    sim.run_for(2.0);
    let w = sim.world();
    let l = w.resource::<FlowCore>().link(0).unwrap();
    // 50 requests on the way out and 50 responses on the way back.
    assert!(
        (l.forward.len() as i64 - 50).abs() <= 1,
        "forward {}",
        l.forward.len()
    );
    assert!(
        (l.backward.len() as i64 - 50).abs() <= 2,
        "backward {}",
        l.backward.len()
    );
    let now = w.resource::<SimClock>().now;
    assert!(l.forward.iter().all(|t| t.depart <= now && t.arrive >= now));
}

#[test]
fn pause_step_and_speed_drive_the_clock_under_minimal_plugins() {
    let scenario = parse(&balanced("RoundRobin"));
    let mut app = App::new();
    app.add_plugins(MinimalPlugins)
        .add_plugins((
            SimPlugin {
                scenario: Some(scenario),
            },
            SimDriverPlugin,
        ))
        .insert_resource(TimeUpdateStrategy::ManualDuration(
            std::time::Duration::from_millis(10),
        ));
    app.update();
    app.update();
    let t1 = app.world().resource::<SimClock>().now;
    app.update();
    let t2 = app.world().resource::<SimClock>().now;
    assert_eq!(
        t2 - t1,
        10_000_000,
        "speed 1: 10 ms of wall time is 10 ms simulated"
    );

    app.world_mut().resource_mut::<SimControl>().speed = 4.0;
    app.update();
    let t3 = app.world().resource::<SimClock>().now;
    assert_eq!(t3 - t2, 40_000_000, "speed 4");

    app.world_mut().resource_mut::<SimControl>().paused = true;
    app.update();
    assert_eq!(
        app.world().resource::<SimClock>().now,
        t3,
        "paused: the clock stands still"
    );
    app.world_mut().resource_mut::<SimControl>().pending_steps = 1;
    app.update();
    assert_eq!(
        app.world().resource::<SimClock>().now,
        t3 + 1_000_000,
        "one step is one tick"
    );
}

#[test]
fn consumers_pull_from_a_broker_only_when_idle_and_the_backlog_sits_on_the_topic() {
    let mut sim = simulation_app(flowlab::testing::load_shipped("broker_pull.ron"));
    sim.run_for(10.0);
    let s = sim.summary();
    let workers = s.component("workers").unwrap();
    assert_eq!(
        workers.dropped, 0,
        "pulling consumers never overflow their own queue"
    );
    assert_eq!(
        workers.peak_queue, 0,
        "a consumer pulls only into an idle worker"
    );
    // Each pull costs one link latency (0.5 ms) of idle time per 5 ms message: no prefetch.
    let rate = workers.served as f64 / 10.0;
    let expected = 1600.0 * 5.0 / 5.5;
    assert!(
        (rate / expected - 1.0).abs() < 0.03,
        "consumers run at capacity less the pull round trip: {rate}/s"
    );
    let w = sim.world();
    let link = (w.resource::<FlowCore>().links.iter())
        .find(|l| l.name == "broker->workers")
        .unwrap();
    let backlog = link.topic.len() as f64;
    let expected_backlog = (2000.0 - expected) * 10.0;
    assert!(
        (backlog / expected_backlog - 1.0).abs() < 0.1,
        "the excess builds up on the topic: {backlog}"
    );
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());

    // The same with a push (Async): the consumers' small queues overflow instead.
    let mut pushed = flowlab::testing::load_shipped("broker_pull.ron");
    pushed.links[2].call = flowlab::scenario::CallKind::Async;
    let mut sim = simulation_app(pushed);
    sim.run_for(10.0);
    assert!(sim.summary().component("workers").unwrap().dropped > 2000);
}

#[test]
fn an_async_hand_off_answers_the_client_at_once_and_counts_the_work_left_behind_apart() {
    // broker_pull: the API hands orders to the broker; the consumers fall behind (about 1,450/s
    // against 2,000/s), so the work left behind waits seconds, far past the client's 2 s timeout.
    let mut sim = simulation_app(flowlab::testing::load_shipped("broker_pull.ron"));
    sim.run_for(30.0);
    let s = sim.summary().system;
    // The client is answered when the broker has the order: completed, fast, never timed out.
    assert_eq!(s.ended(Outcome::TimedOut), 0);
    assert!(s.latency_ms[2] < 100.0, "client p99 {} ms", s.latency_ms[2]);
    assert!(s.ended(Outcome::Completed) as f64 > 0.99 * s.generated as f64);
    // Work no one waits for cannot be late: nothing is counted as wasted.
    assert_eq!(s.wasted, 0);
    // The work left behind is counted apart: every hand-off ends exactly once or still runs.
    let bg = s.background;
    assert_eq!(
        s.handed_off,
        bg.iter().sum::<u64>() + s.background_in_flight,
        "{s:?}"
    );
    assert!(
        s.background_mean_ms > 2000.0,
        "the backlog shows as the work's own latency: {} ms",
        s.background_mean_ms
    );
    assert!(
        s.background_in_flight > 10_000,
        "the backlog is still running"
    );
    let text = sim.summary().render();
    assert!(text.contains("clients answered at the hand-off"), "{text}");
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn the_summary_names_the_bottleneck_and_shows_losses_by_where_and_why_in_100_columns() {
    let mut sim = simulation_app(flowlab::testing::load_shipped("netflix_friday.ron"));
    sim.run_for(300.0);
    let s = sim.summary();
    let b = s.system.bottleneck.clone().expect("a bottleneck");
    assert_eq!((b.component.as_str(), b.engine), ("database", "storage"));
    assert!(
        b.from_s > 60.0 && b.from_s < 130.0,
        "saturated from {} s",
        b.from_s
    );
    // The load balancer's losses are refusals at its own sends (the rate limit), not failures.
    let lb = s.component("lb").unwrap();
    assert!(lb.rejected > 10 * lb.dropped.max(1), "{lb:?}");
    assert_eq!(lb.failed, 0);
    // Goodput is a rate, as the docs define it: near the peak offered load, not a count.
    let web = s.component("web").unwrap();
    assert!(
        (50_000.0..200_000.0).contains(&web.goodput_per_s),
        "{}",
        web.goodput_per_s
    );
    let text = s.render();
    let widest = text.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(widest <= 100, "{widest} columns:\n{text}");
    for needle in [
        "bottleneck: database (storage",
        "refused sending",
        "passed back",
        "goodput/s",
    ] {
        assert!(text.contains(needle), "{needle:?} not in\n{text}");
    }
}
