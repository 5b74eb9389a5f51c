//! The four seams: commands change a run and replay exactly, a scenario reloads and resets in
//! one app, strategies plug in through the policy seam without touching the flow phase, and
//! tests read what happened from the typed events.

use flowlab::runner::Simulation;
use flowlab::scenario::QueueSpec;
use flowlab::sim::door::command::SimCommand;
use flowlab::sim::flow::core::FlowCore;
use flowlab::sim::flow::link::{Admit, Link};
use flowlab::sim::flow::request::{Outcome, Request};
use flowlab::sim::read::events::{EventKind, RateReason, Subject};
use flowlab::sim::schedule::dist::{Nanos, SEC};
use flowlab::sim::schedule::topology::Topology;
use flowlab::sim::strategies::control::CycleInput;
use flowlab::sim::strategies::queue::{Offer, QueueDiscipline, QueuePolicy};
use flowlab::sim::strategies::{Admission, AdmissionPolicy, LinkControl, LinkController};
use flowlab::testing::{load_shipped, parse, simulation_app};
use std::collections::VecDeque;

const S: Nanos = SEC as Nanos;

/// Two web instances behind a load balancer, a database; light load.
fn shop() -> String {
    r#"(
        name: "shop",
        sim: (duration_s: 60.0, seed: 7),
        sources: [(name: "users", rate: Constant(2000.0), flows: [(name: "page", path: [To("web"), To("db")])])],
        components: [
            (name: "web", kind: Service, instances: 2, workers: 8, queue: Bounded(200), service: (mean_ms: Some(2.0))),
            (name: "db", kind: Database, workers: 16, queue: Bounded(500), service: (mean_ms: Some(1.0))),
        ],
        links: [(from: "users", to: "web"), (from: "web", to: "db", latency: (mean_ms: 0.5))],
    )"#
    .to_string()
}

fn generated_between(sim: &mut Simulation, seconds: f64) -> f64 {
    let a = sim.snapshot();
    sim.run_for(seconds);
    sim.snapshot().since(&a).generated_rate
}

#[test]
fn a_what_if_changes_only_what_it_touches_and_the_command_list_replays_byte_identically() {
    let mut sim = simulation_app(parse(&shop()));
    let before = generated_between(&mut sim, 10.0);
    sim.command(SimCommand::ScaleTraffic {
        source: "users".into(),
        factor: 3.0,
    });
    let tripled = generated_between(&mut sim, 10.0);
    assert!(
        (tripled / before - 3.0).abs() < 0.15,
        "x3 traffic: {before:.0}/s -> {tripled:.0}/s"
    );
    // Take web#1 down for 5 s: what it held fails, the load balancer sends to web#0 meanwhile.
    sim.command(SimCommand::TakeDown {
        component: "web".into(),
        instance: 1,
        for_s: Some(5.0),
    });
    sim.command(SimCommand::Spike {
        source: "users".into(),
        factor: 2.0,
        for_s: 2.0,
    });
    sim.command(SimCommand::SetWorkers {
        component: "db".into(),
        workers: 4,
    });
    sim.run_for(10.0);
    let j = sim.journal();
    let outage = j
        .events
        .iter()
        .find(|e| matches!(e.kind, EventKind::Outage { .. }))
        .expect("an outage event");
    assert_eq!(
        outage.at,
        20 * S,
        "down at the start of the tick it was sent in"
    );
    assert!(
        j.events
            .iter()
            .any(|e| e.kind == EventKind::Restart && e.at == 25 * S),
        "back after 5 s: {:?}",
        j.events
    );
    let commands = j
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Command { .. }))
        .count();
    assert_eq!(commands, 4, "every applied command is in the journal");
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());

    // Replay: the same scenario and seed with the command log give the same run, byte for byte.
    let log = sim.command_log();
    assert_eq!(log.len(), 4);
    let mut replay = simulation_app(parse(&shop()));
    for (at, cmd) in log {
        replay.command_at(at, cmd);
    }
    replay.run_for(30.0);
    assert_eq!(replay.metrics_digest(), sim.metrics_digest());
    assert_eq!(replay.decisions_jsonl(), sim.decisions_jsonl());
    assert_eq!(replay.journal().events, sim.journal().events);

    // Without the commands the run differs (the digest is not blind to them).
    let mut plain = simulation_app(parse(&shop()));
    plain.run_for(30.0);
    assert_ne!(plain.metrics_digest(), sim.metrics_digest());
}

#[test]
fn a_bad_command_is_refused_with_what_and_why_and_changes_nothing() {
    let mut sim = simulation_app(parse(&shop()));
    sim.run_for(1.0);
    sim.command(SimCommand::SetQueue {
        component: "nowhere".into(),
        queue: QueueSpec::Bounded(10),
    });
    sim.command(SimCommand::TakeDown {
        component: "web".into(),
        instance: 7,
        for_s: None,
    });
    sim.command(SimCommand::SetWorkers {
        component: "db".into(),
        workers: 0,
    });
    sim.command(SimCommand::SetParam {
        path: "backpressure.safety_buffer".into(),
        value: 3.0,
    });
    sim.run_for(0.01);
    let texts: Vec<String> = sim
        .journal()
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Command { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(texts.len(), 4, "{texts:?}");
    assert!(
        texts[0].contains("no component named \"nowhere\""),
        "{texts:?}"
    );
    assert!(
        texts[1].contains("web has 2 instances (0-1), not 7"),
        "{texts:?}"
    );
    assert!(texts[2].contains("components[1].workers"), "{texts:?}");
    assert!(texts[3].contains("backpressure.safety_buffer"), "{texts:?}");
    assert!(
        texts.iter().all(|t| t.starts_with("not applied")),
        "{texts:?}"
    );
}

#[test]
fn parameters_workers_queue_and_instances_change_live() {
    let mut sim = simulation_app(parse(&shop()));
    sim.run_for(1.0);
    sim.command(SimCommand::SetInstances {
        component: "web".into(),
        instances: 4,
    });
    sim.command(SimCommand::SetQueue {
        component: "db".into(),
        queue: QueueSpec::Bounded(50),
    });
    sim.command(SimCommand::SetParam {
        path: "health.cycle_s".into(),
        value: 2.0,
    });
    sim.run_for(5.0);
    let topo = sim.world().resource::<Topology>().clone();
    let web = topo.component("web").unwrap();
    assert_eq!(web.instances.len(), 4, "two instances spawned");
    let served: Vec<u64> = web
        .instance_ids
        .iter()
        .map(|i| core(&sim).instance(*i).unwrap().counters.served)
        .collect();
    assert!(
        served.iter().all(|s| *s > 1000),
        "all four serve: {served:?}"
    );
    let db = topo.component("db").unwrap();
    let cap = core(&sim)
        .instance(db.instance_ids[0])
        .unwrap()
        .queue_capacity;
    assert_eq!(cap, Some(50));
    // Down to one web instance: the two spawned and web#1 are taken out.
    sim.command(SimCommand::SetInstances {
        component: "web".into(),
        instances: 1,
    });
    sim.run_for(2.0);
    let live = web
        .instance_ids
        .iter()
        .filter(|i| core(&sim).instance(**i).unwrap().provisioned)
        .count();
    assert_eq!(live, 1);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn reload_and_reset_in_one_app_are_the_same_as_fresh_starts() {
    let fresh = |name: &str| {
        let mut s = simulation_app(load_shipped(name));
        s.run_for(5.0);
        (s.metrics_digest(), s.decisions_jsonl())
    };
    let mut sim = simulation_app(load_shipped("breaker.ron"));
    sim.run_for(3.0);
    sim.command(SimCommand::Reset);
    sim.step();
    assert_eq!(
        sim.now(),
        sim.world().resource::<flowlab::sim::SimClock>().tick
    );
    sim.run_for(5.0 - 0.001);
    assert_eq!(
        (sim.metrics_digest(), sim.decisions_jsonl()),
        fresh("breaker.ron"),
        "reset = a fresh start"
    );
    // Load another scenario into the same app.
    sim.command(SimCommand::Load(Box::new(load_shipped("mmc.ron"))));
    sim.step();
    sim.run_for(5.0 - 0.001);
    let names: Vec<String> = sim
        .world()
        .resource::<Topology>()
        .components
        .iter()
        .map(|c| c.name.clone())
        .collect();
    assert!(!names.contains(&"payments".to_string()), "{names:?}");
    assert_eq!(
        sim.metrics_digest(),
        fresh("mmc.ron").0,
        "load = a fresh start"
    );
    let instances = sim
        .app
        .world_mut()
        .query::<&flowlab::sim::flow::core::InstanceQueue>()
        .iter(sim.app.world())
        .count();
    assert_eq!(
        instances,
        sim.world().resource::<Topology>().instances.len(),
        "nothing of the old scenario is left"
    );
}

/// Drop-oldest, written outside the simulation: the arrival always waits; when the queue is
/// full the request that has waited longest is dropped.
#[derive(Debug, Default, Clone)]
struct DropOldest {
    q: VecDeque<Request>,
}

impl QueueDiscipline for DropOldest {
    fn clone_box(&self) -> Box<dyn QueueDiscipline> {
        Box::new(self.clone())
    }

    fn offer(&mut self, req: Request, capacity: Option<u64>, _now: Nanos) -> Offer {
        self.q.push_back(req);
        match capacity {
            Some(c) if self.q.len() as u64 > c => Offer::Evicted(self.q.pop_front().unwrap()),
            _ => Offer::Queued,
        }
    }
    fn pop(&mut self, _now: Nanos) -> Option<Request> {
        self.q.pop_front()
    }
    fn len(&self) -> u64 {
        self.q.len() as u64
    }
    fn drain(&mut self, out: &mut Vec<Request>) {
        out.extend(self.q.drain(..));
    }
    fn by_priority(&self) -> [u64; 4] {
        let mut out = [0; 4];
        for r in &self.q {
            out[r.priority as usize] += 1;
        }
        out
    }
}

/// A single server at twice its capacity, with a queue of 50.
fn overloaded(policy: Option<QueuePolicy>) -> Simulation {
    let text = r#"(
        name: "overloaded",
        sim: (duration_s: 30.0, seed: 3),
        sources: [(name: "clients", rate: Constant(2000.0), flows: [(name: "r", path: [To("server")])])],
        components: [(name: "server", kind: Service, workers: 1, queue: Bounded(50), service: (mean_ms: Some(1.0)))],
        links: [(from: "clients", to: "server")],
    )"#;
    let mut sim = simulation_app(parse(text));
    if let Some(p) = policy {
        let core = sim.world_mut().resource_mut::<FlowCore>().into_inner();
        let inst = core.instance_mut(0).unwrap();
        inst.set_queue_policy(p).expect("nothing waits at t = 0");
    }
    sim.run_for(20.0);
    sim
}

#[test]
fn a_queue_strategy_plugs_in_through_the_policy_seam_without_touching_the_flow_phase() {
    let tail = overloaded(None).summary();
    let mut oldest_sim = overloaded(Some(QueuePolicy::Custom(Box::<DropOldest>::default())));
    let oldest = oldest_sim.summary();
    assert!(
        oldest_sim.violations().is_empty(),
        "{:?}",
        oldest_sim.violations()
    );
    let (t, o) = (&tail.components[0], &oldest.components[0]);
    // Both drop about half (arrivals at twice the capacity)...
    let share = |c: &flowlab::runner::ComponentSummary| c.dropped as f64 / c.arrivals as f64;
    assert!((share(t) - 0.5).abs() < 0.05 && (share(o) - 0.5).abs() < 0.05);
    // ...but drop-oldest serves the freshest: about K/lambda = 25 ms in the queue instead of
    // K/mu = 50 ms.
    assert!(
        t.latency_ms[0] > 45.0 && o.latency_ms[0] < 30.0,
        "median time in the server: tail drop {:.1} ms, drop oldest {:.1} ms",
        t.latency_ms[0],
        o.latency_ms[0]
    );
    // What they drop ends as `dropped`, counted once: the events say so too.
    let j = oldest_sim.journal();
    assert_eq!(
        j.ended(Outcome::Dropped),
        oldest.system.ended(Outcome::Dropped)
    );
}

/// Lets every other request through, refusing the rest (a 503 at the sender).
#[derive(Debug, Default, Clone)]
struct EveryOther(u64);

impl AdmissionPolicy for EveryOther {
    fn clone_box(&self) -> Box<dyn AdmissionPolicy> {
        Box::new(self.clone())
    }

    fn admit(&mut self, req: Request, _now: Nanos) -> Admit {
        self.0 += 1;
        if self.0.is_multiple_of(2) {
            Admit::Send(req)
        } else {
            Admit::Refused(req)
        }
    }
}

/// Caps its link at a fixed rate once the receiver has been seen.
#[derive(Debug, Clone)]
struct FixedCap(f64);

impl LinkController for FixedCap {
    fn clone_box(&self) -> Box<dyn LinkController> {
        Box::new(self.clone())
    }

    fn cycle(&mut self, input: &CycleInput) -> (Option<f64>, RateReason) {
        let cap = input.receiver.map(|_| self.0);
        (cap, RateReason::ApproachingCapacity)
    }
}

fn link_mut<'a>(sim: &'a mut Simulation, name: &str) -> &'a mut Link {
    let topo = sim.world().resource::<Topology>();
    let i = topo.link_names.iter().position(|n| n == name).unwrap();
    let core = sim.world_mut().resource_mut::<FlowCore>().into_inner();
    core.link_mut(i as u32).unwrap()
}

fn core(sim: &Simulation) -> &FlowCore {
    sim.world().resource::<FlowCore>()
}

#[test]
fn admission_and_control_strategies_plug_in_through_the_policy_seam() {
    let mut sim = simulation_app(parse(&shop()));
    link_mut(&mut sim, "web->db").admission = Admission::Custom(Box::<EveryOther>::default());
    sim.run_for(10.0);
    let web = sim.summary().components[0].clone();
    let db = sim.summary().components[1].clone();
    let ratio = db.arrivals as f64 / web.arrivals as f64;
    assert!(
        (ratio - 0.5).abs() < 0.01,
        "half reach the database: {ratio}"
    );
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());

    // A custom controller on a link sets its limit each cycle (flow control on).
    let text = shop().replace("sim: (", "backpressure: (enabled: true), sim: (");
    let mut sim = simulation_app(parse(&text));
    link_mut(&mut sim, "web->db").control = LinkControl::Custom(Box::new(FixedCap(500.0)));
    sim.run_for(10.0);
    let a = sim.snapshot();
    sim.run_for(10.0);
    let b = sim.snapshot();
    let db = b.component_since(&a, "db").unwrap();
    assert!(
        db.arrival_rate > 480.0 && db.arrival_rate <= 505.0,
        "capped at 500/s: {:.0}",
        db.arrival_rate
    );
    let link = sim
        .world()
        .resource::<Topology>()
        .link_names
        .iter()
        .position(|n| n == "web->db");
    let change = sim
        .journal()
        .about(Subject::Link(link.unwrap() as u32))
        .find(|e| matches!(e.kind, EventKind::RateChange { .. }))
        .expect("the limit was set");
    assert_eq!(change.at, 1_000_000, "at the first cycle (the first tick)");
}

#[test]
fn a_session_saved_as_a_scenario_file_replays_the_same_run_headless() {
    let mut sim = simulation_app(load_shipped("netflix_friday.ron"));
    sim.run_for(20.0);
    sim.command(SimCommand::Spike {
        source: "viewers".into(),
        factor: 1.5,
        for_s: 5.0,
    });
    sim.run_for(3.0);
    sim.command(SimCommand::TakeDown {
        component: "web".into(),
        instance: 2,
        for_s: Some(4.0),
    });
    sim.command(SimCommand::SetParam {
        path: "backpressure.safety_buffer".into(),
        value: 0.2,
    });
    sim.run_for(7.0);
    // Written as RON and read back like any file (validated), then run headless.
    let text = flowlab::scenario::fmt::canonical(&sim.session()).expect("serialises");
    let again = parse(&text);
    assert_eq!(again.commands.len(), 3, "{text}");
    let mut replay = simulation_app(again);
    replay.run_for(30.0);
    assert_eq!(replay.metrics_digest(), sim.metrics_digest());
    assert_eq!(replay.decisions_jsonl(), sim.decisions_jsonl());
    assert!(replay.violations().is_empty());
}

/// Generated requests every 2 s for 62 s, and the retries and losses at the end.
fn arrivals_and_retries(s: flowlab::scenario::Scenario) -> (Vec<u64>, u64, [u64; 5]) {
    let mut sim = simulation_app(s);
    let mut generated = Vec::new();
    for _ in 0..31 {
        sim.run_for(2.0);
        generated.push(sim.snapshot().generated);
    }
    let sum = sim.summary();
    (generated, sum.system.retries, sum.system.ended)
}

#[test]
fn swapping_the_load_balancers_strategy_leaves_the_arrivals_exactly_as_they_were() {
    use flowlab::scenario::Balancing;
    let base = load_shipped("netflix_friday.ron");
    let mut variant = base.clone();
    let lb = variant
        .components
        .iter_mut()
        .find(|c| c.name == "lb")
        .expect("netflix_friday has a load balancer");
    lb.strategy = Balancing::Random;
    let (a, a_retries, a_ended) = arrivals_and_retries(base);
    let (b, b_retries, b_ended) = arrivals_and_retries(variant);
    // The what-if did change the run: different instances, so different retries and outcomes...
    assert!(
        a_retries != b_retries || a_ended != b_ended,
        "the strategy swap changed nothing at all: {a_retries} retries both times"
    );
    // ...and not the traffic the users offered: retries and routing draw from their own streams.
    assert_eq!(a, b, "the offered arrivals moved when only routing changed");
}

#[test]
fn link_faults_add_latency_and_lose_requests_which_fail_after_the_connect_timeout() {
    use flowlab::sim::flow::request::Outcome;
    // Enough web workers to wait 100 ms longer on the database without queueing.
    let mut sim = simulation_app(parse(&shop().replace("workers: 8", "workers: 400")));
    sim.run_for(10.0);
    let a = sim.snapshot();
    sim.run_for(10.0);
    let b = sim.snapshot();
    let normal = b.since(&a);
    // 50 ms more each way between web and db: every request gains 100 ms.
    sim.command(SimCommand::DegradeLink {
        link: "web->db".into(),
        added_latency_ms: 50.0,
        loss: 0.0,
        lost_after_ms: 1000.0,
        for_s: 10.0,
    });
    sim.run_for(10.0);
    let c = sim.snapshot();
    let slow = c.since(&b);
    assert!(
        ((slow.latency_s - normal.latency_s) * 1000.0 - 100.0).abs() < 5.0,
        "latency {:.1} ms -> {:.1} ms",
        normal.latency_s * 1000.0,
        slow.latency_s * 1000.0
    );
    // A partition: nothing reaches the database; each call fails 100 ms after it was sent
    // (with 1 s, 2,000 calls a second would hold more than web's 800 workers, and web's queue
    // would overflow: what a long connect timeout does in a partition).
    sim.command(SimCommand::DegradeLink {
        link: "web->db".into(),
        added_latency_ms: 0.0,
        loss: 1.0,
        lost_after_ms: 100.0,
        for_s: 10.0,
    });
    sim.run_for(1.0);
    let c1 = sim.snapshot();
    sim.run_for(9.0);
    let d = sim.snapshot();
    let cut = d.since(&c);
    // (What was on the wire when it began still arrives, within the 50 ms of the last fault.)
    let db = d.component_since(&c1, "db").unwrap();
    assert!(
        db.arrival_rate < 1.0,
        "the database still gets {}/s",
        db.arrival_rate
    );
    assert!(
        cut.ended[Outcome::Failed as usize] as f64 > 0.85 * 2000.0 * 9.0,
        "requests fail in the partition: {:?}",
        cut.ended
    );
    let j = sim.journal();
    assert!(j.events.iter().any(|e| matches!(
        e.kind,
        EventKind::LinkFault { loss, .. } if loss == 1.0
    )));
    // Healed: back to normal.
    sim.run_for(12.0);
    let e = sim.snapshot();
    sim.run_for(8.0);
    let healed = sim.snapshot().since(&e);
    assert_eq!(healed.ended[Outcome::Failed as usize], 0);
    assert!((healed.latency_s - normal.latency_s).abs() < 0.002);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn a_whole_component_goes_down_and_an_instance_can_fail_a_share_of_requests() {
    use flowlab::sim::flow::request::Outcome;
    let mut sim = simulation_app(parse(&shop()));
    sim.run_for(5.0);
    sim.command(SimCommand::InjectErrors {
        component: "web".into(),
        instance: 0,
        share: 0.5,
        for_s: 10.0,
    });
    let a = sim.snapshot();
    sim.run_for(10.0);
    let b = sim.snapshot();
    let errs = b.since(&a);
    // web#0 takes half the traffic and fails half of it: a quarter of all requests.
    let failed = errs.ended[Outcome::Failed as usize] as f64 / (2000.0 * 10.0);
    assert!((failed - 0.25).abs() < 0.02, "failed share {failed}");
    sim.command(SimCommand::TakeDownComponent {
        component: "web".into(),
        for_s: Some(5.0),
    });
    sim.run_for(5.0);
    let c = sim.snapshot();
    let down = c.since(&b);
    assert_eq!(
        down.ended[Outcome::Completed as usize],
        0,
        "{:?}",
        down.ended
    );
    sim.run_for(5.0);
    let d = sim.snapshot();
    sim.run_for(5.0);
    let back = sim.snapshot().since(&d);
    assert_eq!(back.ended[Outcome::Failed as usize], 0);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn scenario_faults_name_links_whole_components_and_error_shares_and_bad_ones_are_refused() {
    let text = shop().replace(
        "links: [",
        r#"faults: [
            (component: "web", at_s: 5.0, for_s: 5.0, errors: Some(0.8)),
            (component: "db", all_instances: true, at_s: 20.0, for_s: 2.0),
            (link: "web->db", at_s: 30.0, for_s: 5.0, loss: Some(1.0), lost_after_ms: Some(200.0)),
        ],
        links: ["#,
    );
    let mut sim = simulation_app(parse(&text));
    sim.run_for(40.0);
    let kinds: Vec<&EventKind> = sim.journal().events.iter().map(|e| &e.kind).collect();
    assert!(
        kinds
            .iter()
            .any(|k| matches!(k, EventKind::Errors { share, .. } if *share == 0.8))
    );
    assert!(kinds.iter().any(|k| matches!(
        k,
        EventKind::Outage {
            scheduled: true,
            ..
        }
    )));
    assert!(
        kinds
            .iter()
            .any(|k| matches!(k, EventKind::LinkFault { .. }))
    );
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
    for (fault, says) in [
        (
            r#"(link: "web->nowhere", at_s: 1.0, for_s: 1.0, loss: Some(1.0))"#,
            "faults[0].link: `web->nowhere` is not a link",
        ),
        (
            r#"(component: "web", at_s: 1.0, for_s: 1.0, errors: Some(1.5))"#,
            "faults[0].errors: 1.5 is not a share",
        ),
        (
            r#"(component: "web", at_s: 1.0, for_s: 1.0, loss: Some(0.5))"#,
            "are for a link fault",
        ),
        (
            r#"(link: "web->db", at_s: 1.0, for_s: 1.0)"#,
            "needs added latency or loss",
        ),
        (
            r#"(link: "web->db", at_s: 1.0, for_s: 1.0, loss: Some(0.1), lost_after_ms: Some(0.1))"#,
            "at least one tick",
        ),
    ] {
        let text = shop().replace("links: [", &format!("faults: [{fault}], links: ["));
        let err = flowlab::scenario::parse(&text, std::path::Path::new("x.ron"))
            .expect_err(fault)
            .to_string();
        assert!(err.contains(says), "{fault}: {err}");
    }
}

#[test]
fn a_fan_out_waits_for_the_slowest_fails_on_a_required_call_and_not_on_an_optional_one() {
    use flowlab::sim::flow::request::Outcome;
    let base = load_shipped("fanout.ron");
    let run = |s: flowlab::scenario::Scenario, fail: &str| {
        let mut sim = simulation_app(s);
        sim.run_for(10.0);
        sim.command(SimCommand::InjectErrors {
            component: fail.into(),
            instance: 0,
            share: 1.0,
            for_s: 10.0,
        });
        sim.run_for(1.0);
        let a = sim.snapshot();
        sim.run_for(8.0);
        let b = sim.snapshot().since(&a);
        assert!(sim.violations().is_empty(), "{:?}", sim.violations());
        (sim.summary(), b)
    };
    // recs is optional: every page is still shown while it fails.
    let (_, optional) = run(base.clone(), "recs");
    assert_eq!(
        optional.ended[Outcome::Failed as usize],
        0,
        "{:?}",
        optional.ended
    );
    assert!(optional.ended[Outcome::Completed as usize] > 3_500);
    // prices is required: every page fails while it does.
    let (_, required) = run(base.clone(), "prices");
    assert_eq!(
        required.ended[Outcome::Completed as usize],
        0,
        "{:?}",
        required.ended
    );
    // The page waits for the slowest of five: its tail is well past any one call's.
    let (sum, _) = run(base.clone(), "recs");
    let fan = &sum.system.fans[0];
    let slowest_call = fan.calls.iter().map(|c| c.1).fold(0.0, f64::max);
    assert!(
        fan.wait_ms[1] > 1.3 * slowest_call,
        "wait p99 {} ms against calls up to {slowest_call} ms",
        fan.wait_ms[1]
    );
    assert!(
        sum.render()
            .contains("fan-out in flow page: the wait for 5 calls")
    );
    // Waiting for the first four of five cuts the tail.
    let mut four = base.clone();
    if let flowlab::scenario::Hop::Fan { wait_for, .. } = &mut four.sources[0].flows[0].path[1] {
        *wait_for = Some(4);
    }
    let (sum4, _) = run(four, "recs");
    assert!(
        sum4.system.fans[0].wait_ms[1] < 0.8 * fan.wait_ms[1],
        "first 4 of 5: p99 {} ms, all 5: {} ms",
        sum4.system.fans[0].wait_ms[1],
        fan.wait_ms[1]
    );
}

#[test]
fn a_limiter_refuses_with_429_and_a_retry_after_that_the_client_honours() {
    use flowlab::sim::flow::request::Outcome;
    let text = shop()
        .replace(
            r#"(from: "users", to: "web")"#,
            r#"(from: "users", to: "web", limit: TokenBucket(rate: 1000.0, burst: 10.0))"#,
        )
        .replace(
            r#"rate: Constant(2000.0),"#,
            r#"rate: Constant(2000.0), client: (timeout_ms: 5000.0, retry: (max_attempts: 2, base_backoff_ms: 0.0, jitter: None)),"#,
        );
    let mut sim = simulation_app(parse(&text));
    sim.run_for(5.0);
    let a = sim.snapshot();
    sim.run_for(10.0);
    let b = sim.snapshot().since(&a);
    // 2,000/s offered into a 1,000/s limit: about half refused on the first try. A retry that
    // waits its Retry-After (1 ms, the next token) gets some of the tokens the others leave;
    // the limiter still admits no more than 1,000/s.
    let completed = b.ended[Outcome::Completed as usize] as f64 / 10.0;
    assert!(
        (950.0..=1010.0).contains(&completed),
        "{completed}/s through the limit"
    );
    assert!(b.ended[Outcome::Rejected as usize] > 5_000, "{:?}", b.ended);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
    let refused = sim.view(|v| {
        v.links()
            .find(|l| l.name == "users->web")
            .map(|l| l.counters.limited)
    });
    assert!(refused.unwrap_or(0) > 10_000);
}

#[test]
fn load_shedding_keeps_critical_requests_and_sheds_low_ones_first() {
    use flowlab::sim::flow::request::Priority;
    let text = shop()
        .replace(
            r#"rate: Constant(2000.0),"#,
            r#"rate: Constant(6000.0), priorities: (critical: 0.2, high: 0.2, medium: 0.3, low: 0.3),"#,
        )
        .replace(
            r#"(name: "web", kind: Service, instances: 2, workers: 8, queue: Bounded(200), service: (mean_ms: Some(2.0))),"#,
            r#"(name: "web", kind: Service, instances: 2, workers: 8, queue: Bounded(200), service: (mean_ms: Some(2.0)), shed: (signal: Workers, high: 0.7, critical: 0.9)),"#,
        );
    let mut sim = simulation_app(parse(&text));
    sim.run_for(20.0);
    let mut served = |p: Priority| {
        sim.view(|v| {
            let c = v.classes().priority(p);
            c.ended[0] as f64 / c.ended.iter().sum::<u64>().max(1) as f64
        })
    };
    let (crit, low) = (served(Priority::Critical), served(Priority::Low));
    assert!(crit > 0.9, "CRITICAL served {crit}");
    assert!(low < 0.5 * crit, "LOW {low} against CRITICAL {crit}");
    // The same seen at the component, per class, in the metrics.
    let total = |m: &str| sim.series("web", m).iter().map(|x| x.1).sum::<f64>();
    assert!(
        total("errors_low") > 10.0 * total("errors_critical").max(1.0),
        "web refuses LOW ({}) far more than CRITICAL ({})",
        total("errors_low"),
        total("errors_critical")
    );
    assert!(!sim.series("web", "latency_mean_critical").is_empty());
}

#[test]
fn a_window_never_has_more_in_flight_than_it_allows_and_holds_the_rest_at_the_sender() {
    use flowlab::sim::flow::request::Outcome;
    // web calls db through a window of 4: db (16 workers) never holds more than 4 from web.
    let text = shop().replace(
        r#"(from: "web", to: "db", latency: (mean_ms: 0.5))"#,
        r#"(from: "web", to: "db", latency: (mean_ms: 0.5), window: (max: 4, buffer: 50))"#,
    );
    let mut sim = simulation_app(parse(&text));
    let mut most = 0;
    let end = sim.now() + 20 * S;
    sim.run_until(end, |w| {
        for l in &w.resource::<FlowCore>().links {
            if let Some(win) = l.window.as_ref() {
                most = most.max(win.in_flight);
                assert!(win.in_flight <= win.max && win.waiting.len() as u64 <= win.buffer);
            }
        }
    });
    assert_eq!(most, 4, "the window fills and never overflows");
    let s = sim.summary();
    // 2,000/s through 4 calls of ~2 ms each (1 ms service + 2 x 0.5 ms): about 2,000/s fit,
    // so few are refused; the database never holds more than the window.
    assert!(
        s.system.ended(Outcome::Completed) > 35_000,
        "{:?}",
        s.system.ended
    );
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn a_sender_side_aimd_limit_saw_tooths_below_the_clients_patience_and_never_overflows() {
    // The comparisons' one service (800/s, a queue of 400, clients that give up after 300 ms),
    // offered twice its capacity. Without a limit the queue fills and nearly every request
    // waits past its deadline; with AIMD at the clients the limit climbs while answers come in
    // time and backs off on each late one, so it saw-tooths below the depth where waiting
    // passes 300 ms (about 8 workers + 230 queued).
    let base = std::fs::read_to_string("scenarios/compare/server.ron")
        .unwrap()
        .replace("Constant(800.0)", "Constant(1600.0)");
    let limited = base.replace(
        r#"latency: (mean_ms: 1.0))"#,
        r#"latency: (mean_ms: 1.0), concurrency: Aimd(initial: 10.0, backoff: 0.9))"#,
    );
    assert_ne!(base, limited);
    let mut sim = simulation_app(parse(&limited));
    let (mut limits, mut cuts, mut last, mut held) = (vec![], 0, 0, 0);
    let end = sim.now() + 40 * S;
    sim.run_until(end, |w| {
        let win = (w.resource::<FlowCore>().link(0))
            .unwrap()
            .window
            .as_ref()
            .unwrap();
        // A cut leaves what is already in flight there; nothing more is sent until it drains.
        assert!(
            win.in_flight <= win.max.max(held),
            "{} in flight grew past the limit {}",
            win.in_flight,
            win.max
        );
        held = win.in_flight;
        if win.max < last {
            cuts += 1;
        }
        last = win.max;
        limits.push(win.max);
    });
    let tail = &limits[limits.len() / 2..];
    let (lo, hi) = (*tail.iter().min().unwrap(), *tail.iter().max().unwrap());
    // It climbs by about one per round trip (5 a second here) and loses 10% on a late answer.
    assert!(
        cuts >= 3,
        "the limit backs off again and again ({cuts} cuts)"
    );
    assert!(
        lo >= 100 && hi <= 300 && hi - lo >= 10,
        "saw-tooth between {lo} and {hi}, below the depth clients wait for"
    );
    let served = |sim: &mut Simulation| {
        let s = sim.summary();
        s.system.ended(Outcome::Completed) as f64 / s.system.generated as f64
    };
    let with = served(&mut sim);
    let mut open = simulation_app(parse(&base));
    open.run_for(40.0);
    let without = served(&mut open);
    assert!(
        with > 0.4 && with > 2.0 * without,
        "served {with:.2} with the limit, {without:.2} without"
    );
    assert!(sim.violations().is_empty(), "{:?}", sim.violations()); // Only a call that is answered has one, and its bounds are checked like a server's.
    for (bad, says) in [
        (
            "call: Async, concurrency: Aimd()",
            "links[0].concurrency: a sender-side concurrency limit counts requests until their answer",
        ),
        ("concurrency: Vegas(initial: 0.5)", "links[0].concurrency"),
    ] {
        let text = base.replace(
            r#"latency: (mean_ms: 1.0))"#,
            &format!("latency: (mean_ms: 1.0), {bad})"),
        );
        let err = flowlab::scenario::parse(&text, std::path::Path::new("x.ron"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[test]
fn a_broker_redelivers_through_retry_tiers_and_dead_letters_without_losing_a_message() {
    use flowlab::scenario::RedeliverySpec;
    let ends = |sim: &mut Simulation| {
        let s = sim.summary().system;
        let bg = s.background;
        (s, bg[0], bg.iter().sum::<u64>() - bg[0])
    };
    // As shipped: retry queues of 1 s, 5 s and 30 s ride out the fraud check's 10-s outage.
    let mut tiers = simulation_app(load_shipped("dead_letter.ron"));
    tiers.run_for(90.0);
    let (s, done, lost) = ends(&mut tiers);
    assert_eq!(lost, 0, "no payment is lost");
    assert!(s.redelivered > 10_000, "{} redelivered", s.redelivered);
    assert!(s.dead_lettered < 100, "{} dead-lettered", s.dead_lettered);
    // Every message handed off is accounted for: done, dead-lettered or still running.
    assert_eq!(
        s.handed_off,
        done + s.dead_lettered + s.background_in_flight
    );
    assert!(s.background_in_flight < 50, "{}", s.background_in_flight);
    assert!(tiers.violations().is_empty(), "{:?}", tiers.violations());
    // Two deliveries and no delay: a payment that fails twice inside the outage is
    // dead-lettered, and only after its second failed delivery.
    let mut quick = simulation_app(load_shipped("dead_letter.ron"));
    quick.command(SimCommand::SetRedelivery {
        link: "broker->payments".into(),
        redelivery: Some(RedeliverySpec {
            attempts: 2,
            delays_s: vec![],
        }),
    });
    quick.run_for(90.0);
    let (q, done, lost) = ends(&mut quick);
    assert_eq!(lost, 0);
    assert!(q.dead_lettered > 3_000, "{} dead-lettered", q.dead_lettered);
    assert!(q.redelivered >= q.dead_lettered);
    assert_eq!(
        q.handed_off,
        done + q.dead_lettered + q.background_in_flight
    );
    assert!(quick.violations().is_empty(), "{:?}", quick.violations());
    // No redelivery: the failed payments end as failures, and work that ends before its
    // client hears of the hand-off is still counted (nothing is left "running" for ever).
    let mut none = simulation_app(load_shipped("dead_letter.ron"));
    none.command(SimCommand::SetRedelivery {
        link: "broker->payments".into(),
        redelivery: None,
    });
    none.run_for(90.0);
    let (n, done, lost) = ends(&mut none);
    assert!(lost > 7_000 && n.redelivered == 0 && n.dead_lettered == 0);
    assert!(n.background_in_flight < 50, "{}", n.background_in_flight);
    assert_eq!(n.handed_off, done + lost + n.background_in_flight);
    // Redelivery belongs to a broker's Pull link, and its numbers are checked.
    for (bad, says) in [
        (
            r#"(from: "payments", to: "fraud", latency: (mean_ms: 0.5), redelivery: ())"#,
            "links[3].redelivery: only a broker redelivers",
        ),
        (
            r#"(from: "payments", to: "fraud", latency: (mean_ms: 0.5)), (from: "broker", to: "fraud", call: Pull, redelivery: (attempts: 0, delays_s: [-1.0]))"#,
            "links[4].redelivery.attempts",
        ),
    ] {
        let text = std::fs::read_to_string("scenarios/dead_letter.ron")
            .unwrap()
            .replace(
                r#"(from: "payments", to: "fraud", latency: (mean_ms: 0.5))"#,
                bad,
            );
        let err = flowlab::scenario::parse(&text, std::path::Path::new("x.ron"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[test]
fn a_bulkhead_keeps_a_slow_flow_from_starving_the_others() {
    use flowlab::sim::flow::request::Outcome;
    let text = std::fs::read_to_string("scenarios/bulkhead.ron").unwrap();
    let lost = |sim: &mut Simulation, flow: &str| {
        sim.view(|v| {
            let c = v.classes().flow(flow).expect("a flow");
            let all: u64 = c.ended.iter().sum();
            1.0 - c.ended[Outcome::Completed as usize] as f64 / all as f64
        })
    };
    // With the bulkhead: searches never hold more than their 24 workers and 50 waiting, and
    // checkouts lose nothing while recommendations are 20 times slower.
    let mut with = simulation_app(parse(&text));
    let end = with.now() + 60 * S;
    let mut most = 0;
    with.run_until(end, |w| {
        for inst in &w.resource::<FlowCore>().instances {
            let Some(b) = inst.bulkheads.as_ref() else {
                continue;
            };
            let (shared, search) = (&b.parts[0], &b.parts[1]);
            assert!(search.busy <= 24 && search.queue.len() <= 50);
            assert!(shared.workers == 16 && shared.busy <= 16);
            most = most.max(search.busy);
        }
    });
    assert_eq!(most, 24, "the searches fill their compartment");
    let (checkout, search) = (lost(&mut with, "checkout"), lost(&mut with, "search"));
    assert!(checkout < 0.001, "checkouts lost {checkout}");
    assert!(search > 0.1, "searches take the hit: {search}");
    assert!(with.violations().is_empty(), "{:?}", with.violations());
    // Without it, the slow searches hold every worker and checkouts time out with them.
    let mut without = simulation_app(parse(&text.replace(
        r#"bulkheads: [(flows: ["search"], workers: 24, queue: 50)],"#,
        "",
    )));
    without.run_for(60.0);
    let checkout = lost(&mut without, "checkout");
    assert!(
        checkout > 0.1,
        "checkouts lost {checkout} without a bulkhead"
    );
    // A bulkhead names real flows and owns no more workers than there are.
    for (bad, says) in [
        (
            r#"bulkheads: [(flows: ["serch"], workers: 24, queue: 50)],"#,
            "components[0].bulkheads[0].flows: `serch` is not a flow of any source",
        ),
        (
            r#"bulkheads: [(flows: ["search"], workers: 30), (flows: ["checkout"], workers: 30)],"#,
            "the bulkheads own 60 workers, the component has 40",
        ),
    ] {
        let t = text.replace(
            r#"bulkheads: [(flows: ["search"], workers: 24, queue: 50)],"#,
            bad,
        );
        let err = flowlab::scenario::parse(&t, std::path::Path::new("x.ron"))
            .unwrap_err()
            .to_string();
        assert!(err.contains(says), "{bad}: {err}");
    }
}

#[test]
fn credits_are_never_exceeded_and_a_burst_waits_at_the_sender_instead_of_overflowing_the_receiver()
{
    let text = std::fs::read_to_string("scenarios/credits.ron").unwrap();
    let background = |sim: &mut Simulation| sim.summary().system.background;
    let mut sim = simulation_app(parse(&text));
    let (mut most_held, mut most_waiting) = (0, 0);
    let end = sim.now() + 60 * S;
    sim.run_until(end, |w| {
        let core = w.resource::<FlowCore>();
        let l = core.link(1).unwrap();
        let win = l.window.as_ref().unwrap();
        assert!(win.credit && win.in_flight <= win.max && win.max == 64);
        most_waiting = most_waiting.max(win.waiting.len());
        // What the indexer holds from ingest never exceeds the credits it granted.
        let indexer = core.instance(1).unwrap();
        assert!(indexer.outstanding() <= 64, "{}", indexer.outstanding());
        most_held = most_held.max(indexer.outstanding());
    });
    assert_eq!(most_held, 64, "the indexer is kept busy up to its credits");
    assert!(
        most_waiting > 1_000,
        "the burst waits at the sender: {most_waiting}"
    );
    let bg = background(&mut sim);
    assert_eq!(bg[1] + bg[2] + bg[3], 0, "nothing lost: {bg:?}");
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
    // Taken off by a command: the indexer's queue overflows in the burst.
    let mut open = simulation_app(parse(&text));
    open.command(SimCommand::SetCredits {
        link: "ingest->indexer".into(),
        credits: None,
    });
    open.run_for(60.0);
    let bg = background(&mut open);
    assert!(
        bg[1] > 2_000,
        "dropped at the indexer without credits: {bg:?}"
    );
    // Credits belong to an Async link.
    let err = flowlab::scenario::parse(
        &text.replace("call: Async, ", ""),
        std::path::Path::new("x.ron"),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("links[1].credits"), "{err}");
}

#[test]
fn metrics_nobody_reads_are_not_written_yet_the_plots_and_the_summary_have_them() {
    // No `--metrics` and no digest asked for: the rows are neither formatted nor hashed, and the
    // series store (the app's plots, the summary) gets the same values as when they are kept.
    let run = |keep: bool| {
        let mut sim = Simulation::new(load_shipped("netflix_friday.ron"));
        if keep {
            sim.keep_metrics();
        }
        sim.run_for(20.0);
        let series = sim
            .world()
            .resource::<flowlab::sim::read::series::Series>()
            .clone();
        let values: Vec<_> = series
            .keys()
            .map(|(e, m)| {
                (
                    e,
                    m,
                    series
                        .get(e, m)
                        .map(|(t, v)| (t.to_bits(), v.to_bits()))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let digest = sim
            .world()
            .resource::<flowlab::sim::read::metrics::Recorder>()
            .digest();
        (sim.summary().render(), values, digest, sim.metrics_csv())
    };
    let (unread, kept) = (run(false), run(true));
    assert_eq!(unread.0, kept.0, "the summary differs");
    assert!(
        unread.1.len() > 50 && unread.1 == kept.1,
        "the series differ"
    );
    assert_eq!(unread.2, None, "unread rows have no digest");
    assert!(kept.2.is_some() && unread.3.is_none());
    assert!(kept.3.is_some_and(|csv| csv.lines().count() > 1_000));
}
