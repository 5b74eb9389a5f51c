//! Seed 000's direct health queries as a user would check them: every instance answers with its
//! own status, a load balancer asks through a 100 ms cache, stops asking an instance that keeps
//! failing to answer and asks again later, never has more queries in flight than allowed, and
//! the broadcast design sends far more messages than direct queries on a larger system.

use bevy::ecs::system::RunSystemOnce;
use flowlab::runner::Simulation;
use flowlab::sim::control::health::{HealthBand, HealthStatus};
use flowlab::sim::control::queries::{HealthQueries, QueryStats};
use flowlab::sim::flow::core::FlowCore;
use flowlab::sim::read::decisions::{Decision, DecisionLog};
use flowlab::sim::schedule::topology::Topology;
use flowlab::testing::{generated_topology, parse, simulation_app};

/// users -> lb (Healthiest) -> web with `instances` instances; `extra` is spliced into the
/// scenario's top level (faults, backpressure).
fn pool(rate: f64, instances: u32, extra: &str) -> Simulation {
    simulation_app(parse(&format!(
        r#"(
        name: "pool",
        sources: [(name: "users", rate: Constant({rate}), flows: [(name: "q", path: [To("lb"), To("web")])])],
        components: [
            (name: "lb", kind: LoadBalancer, workers: 1000, queue: Bounded(1000), service: (mean_ms: Some(0.05)), strategy: Healthiest),
            (name: "web", kind: Service, instances: {instances}, workers: 50, queue: Bounded(500), service: (mean_ms: Some(10.0))),
        ],
        links: [(from: "users", to: "lb"), (from: "lb", to: "web", latency: (mean_ms: 0.5))],
        {extra}
    )"#
    )))
}

fn link_stats(sim: &Simulation, name: &str) -> QueryStats {
    let w = sim.world();
    (w.resource::<FlowCore>().links.iter())
        .find(|l| l.name == name)
        .map(|l| l.flow.stats)
        .expect("link")
}

fn log(sim: &Simulation) -> Vec<Decision> {
    sim.world().resource::<DecisionLog>().events.clone()
}

fn instance_status(sim: &Simulation, component: &str, k: usize) -> HealthStatus {
    let w = sim.world();
    let topo = w.resource::<Topology>();
    let e = topo.component(component).expect("component").instances[k];
    w.get::<HealthStatus>(e)
        .expect("instances expose health")
        .clone()
}

#[test]
fn every_instance_answers_with_its_own_status_and_a_down_one_does_not_answer() {
    let mut sim = pool(
        9000.0,
        3,
        "faults: [(component: \"web\", instance: 1, at_s: 5.0, for_s: 20.0)],",
    );
    sim.run_for(10.0);
    let up = instance_status(&sim, "web", 0);
    let down = instance_status(&sim, "web", 1);
    // 9,000/s over two live instances of 5,000/s each: busy, queue not full, answering.
    assert!(up.answering && up.accepting_load, "{up:?}");
    assert!(up.throughput > 3500.0 && up.throughput < 5100.0, "{up:?}");
    assert!(up.cpu > 70.0, "the busy instance's CPU: {up:?}");
    assert!(!down.answering && !down.accepting_load, "{down:?}");
    assert_eq!(down.status, HealthBand::Critical);

    // The seed's three questions, asked from a system.
    let (e0, e1) = {
        let topo = sim.world().resource::<Topology>();
        let c = topo.component("web").expect("web");
        (c.instances[0], c.instances[1])
    };
    let answers = sim
        .world_mut()
        .run_system_once(move |q: HealthQueries| {
            (
                q.get_health_status(e0).map(|h| h.status),
                q.can_accept_load(e0, 1.0),
                q.can_accept_load(e0, 100.0),
                q.get_health_status(e1).is_none(),
                q.is_healthy(e1),
            )
        })
        .expect("runs");
    assert_eq!(
        (answers.0, answers.1, answers.2, answers.3, answers.4),
        (Some(up.status), up.can_accept_load(1.0), false, true, false)
    );
}

#[test]
fn a_load_balancer_asks_through_its_cache_and_stops_asking_an_instance_that_keeps_failing() {
    let mut sim = pool(
        3000.0,
        3,
        "faults: [(component: \"web\", instance: 1, at_s: 5.0, for_s: 20.0)],",
    );
    sim.run_for(40.0);
    let q = link_stats(&sim, "lb->web");
    // 3 instances re-asked every 100 ms at most: about 30 queries a second, the rest of the
    // ~120,000 answers come from the cache.
    assert!(q.queries > 900 && q.queries <= 1230, "{q:?}");
    assert!(q.cache_hits > 100 * q.queries, "{q:?}");
    // The down instance fails three checks, then is left alone for 5 s at a time (each
    // routing round that would have asked it counts as skipped: about 10 a second).
    assert!(q.failures >= 3 && q.skipped > 150, "{q:?}");
    assert!(q.breaker_opens >= 3, "re-opened while still down: {q:?}");
    let events = log(&sim);
    let checks: Vec<&Decision> = events
        .iter()
        .filter(|d| d.kind == "health_check" && d.entity == "lb->web -> instance 1")
        .collect();
    assert!(
        checks
            .first()
            .is_some_and(|d| d.t > 5.0 && d.t < 7.0 && d.reason.contains("failing")),
        "{checks:?}"
    );
    assert!(
        checks
            .iter()
            .any(|d| d.t >= 25.0 && d.t < 32.0 && d.reason.contains("answered again")),
        "asked again once it is back: {checks:?}"
    );
    // While nobody asks it, nothing is routed to it.
    let arrivals: f64 = sim
        .series("web#1", "arrivals")
        .iter()
        .filter(|(t, _)| *t > 7.0 && *t < 25.0)
        .map(|(_, v)| v)
        .sum();
    assert_eq!(arrivals, 0.0);
}

#[test]
fn an_asker_never_has_more_queries_in_flight_than_its_limit() {
    // 20 instances whose cached answers all expire together; 4 query slots of 1 ms each.
    let mut sim = pool(
        20000.0,
        20,
        "backpressure: (max_concurrent_queries: 4, query_time_ms: 1.0),",
    );
    sim.run_for(10.0);
    let q = link_stats(&sim, "lb->web");
    assert!(q.limited > 0, "{q:?}");
    // Every answer is still at most a few ms past its TTL: 20 instances every ~100 ms.
    assert!(q.queries > 1500 && q.queries <= 2020, "{q:?}");
}

#[test]
fn broadcast_sends_far_more_health_messages_than_direct_queries_as_the_system_grows() {
    let run = |broadcast: bool| {
        let text = generated_topology(20, 5, 20000.0).replacen(
            "sim: (duration_s: 10.0),",
            &format!(
                "sim: (duration_s: 10.0), backpressure: (enabled: true, broadcast: {broadcast}),"
            ),
            1,
        );
        let mut sim = simulation_app(parse(&text));
        sim.run_for(10.0);
        let last = |metric: &str| -> f64 { sim.series("system", metric).last().expect("metric").1 };
        (last("health_queries"), last("health_broadcast_messages"))
    };
    let (direct, none) = run(false);
    let (asked, pushed) = run(true);
    assert_eq!(none, 0.0);
    assert_eq!(asked, 0.0, "in broadcast mode nobody queries");
    // 80 links between components queried once a cycle against 200 senders x 99 receivers.
    assert!(direct > 700.0 && direct < 900.0, "{direct}");
    assert!(pushed > 100.0 * direct, "{pushed} vs {direct}");
}

#[test]
fn an_alternative_route_without_the_links_it_needs_is_refused_with_where_and_what() {
    let text = r#"(
        name: "bad alternative",
        sources: [(name: "users", rate: Constant(10.0), flows: [(name: "q", path: [To("api"), To("db")])])],
        components: [
            (name: "api", kind: Service, service: (mean_ms: Some(1.0))),
            (name: "db", kind: Database, service: (mean_ms: Some(1.0))),
            (name: "replica", kind: Database, service: (mean_ms: Some(1.0))),
        ],
        links: [(from: "users", to: "api"), (from: "api", to: "db", alternative: Some("replica"))],
    )"#;
    let err = flowlab::scenario::parse(text, std::path::Path::new("bad.ron"))
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("links[1].alternative") && err.contains("`api` has no link to `replica`"),
        "{err}"
    );
}

#[test]
fn the_event_log_writes_every_rate_change_the_controller_made() {
    let mut sim = simulation_app(flowlab::testing::load_shipped("netflix_friday.ron"));
    sim.run_for(300.0);
    let made = sim
        .journal()
        .events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                flowlab::sim::read::events::EventKind::RateChange { .. }
            )
        })
        .count();
    let jsonl = sim.decisions_jsonl();
    let written = jsonl
        .lines()
        .filter(|l| l.contains("\"kind\":\"rate_change\""))
        .count();
    assert_eq!(written, made, "every rate change is in --events");
    let small = jsonl
        .lines()
        .filter(|l| l.contains("\"importance\":0"))
        .count();
    assert!(small > 0, "fine-tuning is written too (importance 0)");
}

#[test]
fn the_summary_highlights_tell_onset_peak_and_recovery() {
    let mut sim = simulation_app(flowlab::testing::load_shipped("netflix_friday.ron"));
    sim.run_for(600.0);
    let log = sim.world().resource::<DecisionLog>();
    let h = log.highlights(12);
    assert!(
        h.len() == 12 && h.windows(2).all(|w| w[0].t <= w[1].t),
        "12, in time order"
    );
    let has = |f: &dyn Fn(&Decision) -> bool| h.iter().any(|d| f(d));
    assert!(
        has(&|d| d.kind == "fallback" && d.reason.contains("fresh data again")),
        "{h:#?}"
    );
    assert!(
        has(&|d| d.kind == "fallback" && d.reason.contains("stale")),
        "{h:#?}"
    );
    assert!(
        has(&|d| d.kind == "rate_change" && d.new.is_none() && d.t > 350.0),
        "a limit lifted late: {h:#?}"
    );
    assert!(
        has(&|d| d.t < 100.0) && has(&|d| d.t > 400.0),
        "onset and recovery: {h:#?}"
    );
    // breaker.ron: its breaker transitions are in the highlights.
    let mut sim = simulation_app(flowlab::testing::load_shipped("breaker.ron"));
    sim.run_for(300.0);
    let log = sim.world().resource::<DecisionLog>();
    let all = log.events.iter().filter(|d| d.kind == "breaker").count();
    let shown = log
        .highlights(12)
        .iter()
        .filter(|d| d.kind == "breaker")
        .count();
    assert!(
        all >= 3 && shown >= all.min(6),
        "{shown} of {all} breaker transitions"
    );
}

/// The issue's spike: netflix_friday with the viewers at x3 from t = 38 s. Whenever a component
/// reads RED or CRITICAL, system health is below 0.9 (RED) or 0.8 (CRITICAL), and it counts
/// exactly the components whose badges say so.
#[test]
fn system_health_agrees_with_the_badges_under_a_spike() {
    use flowlab::sim::door::command::SimCommand;
    let mut sim = simulation_app(flowlab::testing::load_shipped("netflix_friday.ron"));
    sim.run_for(38.0);
    sim.command(SimCommand::Spike {
        source: "viewers".into(),
        factor: 3.0,
        for_s: 20.0,
    });
    let mut seen_bad = 0;
    for _ in 0..30 {
        sim.run_for(1.0);
        let (worst, critical, red, health) = sim.view(|v| {
            let bands: Vec<HealthBand> = v
                .components()
                .filter_map(|c| c.health.map(|h| h.status))
                .collect();
            let critical = bands.iter().filter(|b| **b == HealthBand::Critical).count();
            let red = bands.iter().filter(|b| **b == HealthBand::Red).count();
            let worst = bands.iter().copied().max_by_key(|b| *b as u8);
            let sys = v.system();
            assert!(
                sys.critical as usize >= critical,
                "{sys:?} against {bands:?}"
            );
            (worst, critical, red, sys.health)
        });
        if critical > 0 {
            assert!(health < 0.8, "{critical} CRITICAL, system health {health}");
            seen_bad += 1;
        } else if red > 0 {
            assert!(health < 0.9, "{red} RED, system health {health}");
            seen_bad += 1;
        } else {
            assert!(worst.is_some());
        }
    }
    assert!(seen_bad > 3, "the spike turns something RED or CRITICAL");
}
