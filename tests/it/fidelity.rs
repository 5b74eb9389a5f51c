//! The engine against queueing theory, through the same path as the app: the shipped scenario
//! files in, simulation, exact measurements out. The closed forms are computed from each file's
//! own parameters. Means over replications with the warm-up removed.

use flowlab::runner::{ComponentBetween, Simulation, Snapshot};
use flowlab::scenario::{QueueSpec, RateSchedule, Scenario};
use flowlab::testing::{load_shipped, parse};

/// Runs the scenario once per seed over its own duration; returns (after warm-up, end) pairs.
fn replicate(scenario: &Scenario, seeds: &[u64]) -> Vec<(Snapshot, Snapshot)> {
    let (warmup_s, measure_s) = (
        scenario.sim.warmup_s,
        scenario.sim.duration_s - scenario.sim.warmup_s,
    );
    seeds
        .iter()
        .map(|seed| {
            let mut s = scenario.clone();
            s.sim.seed = *seed;
            let mut sim = Simulation::new(s);
            sim.run_for(warmup_s);
            let a = sim.snapshot();
            sim.run_for(measure_s);
            (a, sim.snapshot())
        })
        .collect()
}

fn station(runs: &[(Snapshot, Snapshot)], name: &str) -> Vec<ComponentBetween> {
    runs.iter()
        .map(|(a, b)| b.component_since(a, name).expect("component exists"))
        .collect()
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = xs.collect();
    v.iter().sum::<f64>() / v.len() as f64
}

fn assert_close(case: &str, what: &str, expected: f64, measured: f64, tolerance: f64) {
    let err = (measured - expected).abs() / expected.abs();
    println!(
        "{case:<28} {what:<28} expected {expected:>10.5}  measured {measured:>10.5}  error {:>5.2}%",
        err * 100.0
    );
    assert!(
        err <= tolerance,
        "{case}: {what}: expected {expected}, measured {measured} ({:.2}% off, allowed {:.1}%)",
        err * 100.0,
        tolerance * 100.0
    );
}

/// Arrival rate, mean service time (s), workers and waiting room of a one-station scenario.
fn station_parameters(s: &Scenario) -> (f64, f64, u32, Option<u64>) {
    let RateSchedule::Constant(lambda) = s.sources[0].rate else {
        panic!("constant rate expected")
    };
    let c = &s.components[0];
    let queue = match c.queue {
        QueueSpec::Bounded(k) => Some(k),
        QueueSpec::Unbounded => None,
    };
    (
        lambda,
        c.service.mean_ms.expect("mean given") / 1000.0,
        c.workers,
        queue,
    )
}

const SEEDS: [u64; 5] = [11, 12, 13, 14, 15];

#[test]
fn mm1_matches_closed_form() {
    let s = load_shipped("mm1.ron");
    let (lambda, service, _, _) = station_parameters(&s);
    let mu = 1.0 / service;
    let runs = replicate(&s, &SEEDS);
    let st = station(&runs, "server");
    let rho = lambda / mu;
    assert!(rho >= 0.8);
    assert_close(
        "M/M/1 rho=0.8",
        "W (s)",
        1.0 / (mu - lambda),
        mean(st.iter().map(|s| s.sojourn_s)),
        0.05,
    );
    assert_close(
        "M/M/1 rho=0.8",
        "L",
        rho / (1.0 - rho),
        mean(st.iter().map(|s| s.occupancy)),
        0.05,
    );
    let e2e = mean(runs.iter().map(|(a, b)| b.since(a).latency_s));
    assert_close(
        "M/M/1 rho=0.8",
        "end-to-end latency (s)",
        1.0 / (mu - lambda),
        e2e,
        0.05,
    );
}

/// Erlang C: probability that an arrival waits in M/M/c with offered load a = lambda/mu.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..c {
        term *= a / k as f64;
        sum += term;
    }
    let rho = a / c as f64;
    let top = term * a / c as f64 / (1.0 - rho);
    top / (sum + top)
}

#[test]
fn erlang_c_agrees_with_a_textbook_value() {
    // c = 2, a = 1: P(wait) = 1/3.
    assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
}

#[test]
fn mmc_matches_erlang_c() {
    let s = load_shipped("mmc.ron");
    let (lambda, service, c, _) = station_parameters(&s);
    let mu = 1.0 / service;
    let runs = replicate(&s, &SEEDS);
    let st = station(&runs, "server");
    let w = erlang_c(c, lambda / mu) / (c as f64 * mu - lambda) + 1.0 / mu;
    assert_close(
        "M/M/4 rho=0.85",
        "W (s)",
        w,
        mean(st.iter().map(|s| s.sojourn_s)),
        0.05,
    );
    assert_close(
        "M/M/4 rho=0.85",
        "L",
        lambda * w,
        mean(st.iter().map(|s| s.occupancy)),
        0.05,
    );
}

#[test]
fn mm1k_matches_blocking_probability_and_throughput() {
    let s = load_shipped("mm1k.ron");
    let (lambda, service, _, queue) = station_parameters(&s);
    let mu = 1.0 / service;
    let k = queue.expect("bounded") as i32 + 1;
    let runs = replicate(&s, &SEEDS);
    let st = station(&runs, "server");
    let rho: f64 = lambda / mu;
    let p_block = (1.0 - rho) * rho.powi(k) / (1.0 - rho.powi(k + 1));
    assert_close(
        "M/M/1/10 rho=0.9",
        "blocking probability",
        p_block,
        mean(st.iter().map(|s| s.drop_ratio)),
        0.05,
    );
    assert_close(
        "M/M/1/10 rho=0.9",
        "throughput (/s)",
        lambda * (1.0 - p_block),
        mean(st.iter().map(|s| s.ok_rate)),
        0.05,
    );
    let l: f64 = (0..=k).map(|n| n as f64 * rho.powi(n)).sum::<f64>() * (1.0 - rho)
        / (1.0 - rho.powi(k + 1));
    assert_close(
        "M/M/1/10 rho=0.9",
        "L",
        l,
        mean(st.iter().map(|s| s.occupancy)),
        0.05,
    );
}

#[test]
fn md1_matches_pollaczek_khinchine() {
    let s = load_shipped("md1.ron");
    let (lambda, service, _, _) = station_parameters(&s);
    let mu = 1.0 / service;
    let runs = replicate(&s, &SEEDS);
    let st = station(&runs, "server");
    let rho = lambda / mu;
    let w = 1.0 / mu + rho / (2.0 * mu * (1.0 - rho));
    assert_close(
        "M/D/1 rho=0.85",
        "W (s)",
        w,
        mean(st.iter().map(|s| s.sojourn_s)),
        0.05,
    );
    assert_close(
        "M/D/1 rho=0.85",
        "L",
        lambda * w,
        mean(st.iter().map(|s| s.occupancy)),
        0.05,
    );
}

#[test]
fn open_jackson_network_matches_product_form() {
    let s = load_shipped("jackson.ron");
    let RateSchedule::Constant(lambda0) = s.sources[0].rate else {
        panic!()
    };
    let runs = replicate(&s, &SEEDS);
    // Visit ratios from the route: a and d always, b and c half the time each.
    let visits = [("a", 1.0), ("b", 0.5), ("c", 0.5), ("d", 1.0)];
    let mut total_w = 0.0;
    for (name, v) in visits {
        let c = s.components.iter().find(|c| c.name == name).unwrap();
        let mu = 1000.0 / c.service.mean_ms.unwrap();
        let lambda = lambda0 * v;
        let w = 1.0 / (mu - lambda);
        total_w += v * w;
        let st = station(&runs, name);
        assert_close(
            &format!("Jackson station {name}"),
            "W (s)",
            w,
            mean(st.iter().map(|s| s.sojourn_s)),
            0.05,
        );
        assert_close(
            &format!("Jackson station {name}"),
            "arrival rate (/s)",
            lambda,
            mean(st.iter().map(|s| s.arrival_rate)),
            0.05,
        );
    }
    // Every hop after a is asynchronous: the client is answered when a hands the job on, and
    // the job's time through the network is the work it left behind.
    let e2e = mean(runs.iter().map(|(a, b)| b.since(a).background_latency_s));
    assert_close("Jackson network", "end-to-end W (s)", total_w, e2e, 0.05);
}

#[test]
fn littles_law_holds_within_one_percent() {
    let lognormal = r#"(
        name: "log-normal",
        sim: (duration_s: 200.0, warmup_s: 10.0),
        sources: [(name: "clients", rate: Constant(700.0), flows: [(name: "f", path: [To("server")])])],
        components: [(name: "server", kind: Service, queue: Unbounded, service: (mean_ms: Some(1.0), shape: LogNormal(sigma: 1.0)))],
        links: [(from: "clients", to: "server")],
    )"#;
    let mut cases: Vec<(&str, Scenario)> = ["mm1.ron", "mmc.ron", "mm1k.ron", "md1.ron"]
        .iter()
        .map(|n| (*n, load_shipped(n)))
        .collect();
    cases.push(("log-normal", parse(lognormal)));
    for (case, s) in cases {
        let runs = replicate(&s, &[3]);
        let st = &station(&runs, "server")[0];
        // L = lambda W, with lambda the rate of requests that enter (and leave) the station.
        assert_close(
            &format!("Little {case}"),
            "L = lambda W",
            st.ok_rate * st.sojourn_s,
            st.occupancy,
            0.01,
        );
    }
    let jackson = load_shipped("jackson.ron");
    let runs = replicate(&jackson, &[3]);
    for name in ["a", "b", "c", "d"] {
        let st = &station(&runs, name)[0];
        assert_close(
            &format!("Little jackson {name}"),
            "L = lambda W",
            st.ok_rate * st.sojourn_s,
            st.occupancy,
            0.01,
        );
    }
}

/// Every latency figure is in ms, as docs/METRICS.md says: checked against M/M/1's own values,
/// mean 1/(mu - lambda) = 5 ms and median ln 2/(mu - lambda) = 3.47 ms (the time in an M/M/1
/// system is exponential).
#[test]
fn latency_figures_are_in_milliseconds_as_documented() {
    let mut sim = flowlab::testing::simulation_app(flowlab::testing::load_shipped("mm1.ron"));
    sim.run_for(200.0);
    let (mean, median) = (5.0, std::f64::consts::LN_2 / 200.0 * 1000.0);
    let s = sim.summary();
    let within = |x: f64, want: f64, tol: f64| (x / want - 1.0).abs() < tol;
    assert!(
        within(s.system.mean_latency_ms, mean, 0.08),
        "summary mean {}",
        s.system.mean_latency_ms
    );
    assert!(
        within(s.system.latency_ms[0], median, 0.08),
        "summary p50 {}",
        s.system.latency_ms[0]
    );
    assert!(
        within(s.components[0].mean_latency_ms, mean, 0.08),
        "component mean"
    );
    let avg = |m: &str| {
        let v: Vec<f64> = sim
            .series("system", m)
            .iter()
            .skip(20)
            .map(|p| p.1)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    // Per-second samples: the mean of their means and of their medians.
    assert!(
        within(avg("latency_mean"), mean, 0.08),
        "latency_mean {}",
        avg("latency_mean")
    );
    assert!(
        within(avg("latency_p50"), median, 0.1),
        "latency_p50 {}",
        avg("latency_p50")
    );
    // The whole run's p99 is exact to the histogram's precision; a second's p99 is a noisy
    // estimate from about 800 requests, but in the same unit.
    let want99 = -(0.01f64).ln() / 200.0 * 1000.0;
    assert!(
        within(s.system.latency_ms[2], want99, 0.08),
        "summary p99 {:?}",
        s.system.latency_ms
    );
    let p99 = avg("latency_p99");
    assert!(
        p99 > 0.5 * want99 && p99 < 1.5 * want99,
        "latency_p99 {p99} ms vs {want99}"
    );
}

/// Mean end-to-end latency (s) per priority class after the warm-up, over `seeds`.
fn class_means(scenario: &Scenario, seeds: &[u64]) -> [f64; 4] {
    use flowlab::sim::read::classes::ClassStats;
    let mut sums = [0.0; 4];
    for seed in seeds {
        let mut s = scenario.clone();
        s.sim.seed = *seed;
        let mut sim = Simulation::new(s.clone());
        sim.run_for(s.sim.warmup_s);
        let a = sim.world().resource::<ClassStats>().clone();
        sim.run_for(s.sim.duration_s - s.sim.warmup_s);
        let b = sim.world().resource::<ClassStats>();
        for (k, sum) in sums.iter_mut().enumerate() {
            let (fa, fb) = (&a.priorities[k], &b.priorities[k]);
            let n = (fb.ended[0] - fa.ended[0]) as f64;
            *sum += (fb.latency_ns - fa.latency_ns) / n / 1e9;
        }
    }
    sums.map(|x| x / seeds.len() as f64)
}

#[test]
fn priority_classes_match_cobhams_non_preemptive_priority_queue() {
    // One exponential server (mean 1 ms) at 800/s, four classes served highest first, FIFO
    // within a class, without preemption (M/M/1 with non-preemptive priority).
    let (lambda, es) = (800.0, 0.001);
    let shares = [0.1, 0.2, 0.3, 0.4];
    let text = format!(
        r#"(
            name: "priority M/M/1",
            sim: (duration_s: 400.0, warmup_s: 20.0),
            sources: [(name: "clients", rate: Constant({lambda}), arrivals: Poisson,
                priorities: (critical: {}, high: {}, medium: {}, low: {}),
                flows: [(name: "job", path: [To("server")])])],
            components: [(name: "server", kind: Service, workers: 1, queue: Unbounded,
                discipline: Priority, service: (mean_ms: {}, shape: Exponential))],
            links: [(from: "clients", to: "server")],
        )"#,
        shares[0],
        shares[1],
        shares[2],
        shares[3],
        es * 1000.0
    );
    let measured = class_means(&parse(&text), &SEEDS);
    // Cobham (1954): W_k = W0 / ((1 - s_{k-1})(1 - s_k)) + E[S], with W0 = sum lambda_i E[S^2] / 2
    // = rho E[S] for exponential service, s_k the load of classes 1..k.
    let rho = lambda * es;
    let w0 = rho * es;
    let mut above = 0.0;
    for k in 0..4 {
        let upto = above + shares[k] * rho;
        let w = w0 / ((1.0 - above) * (1.0 - upto)) + es;
        assert_close(
            &format!("priority M/M/1, class {k}"),
            "end-to-end W (s)",
            w,
            measured[k],
            0.03,
        );
        above = upto;
    }
}

#[test]
fn a_jackson_network_with_feedback_and_exits_matches_its_traffic_equations() {
    let s = load_shipped("feedback.ron");
    let RateSchedule::Constant(lambda0) = s.sources[0].rate else {
        panic!()
    };
    // The routing matrix of the file: a -> b 0.7 (else leave), b -> a 0.25 (else leave).
    let (p_ab, p_ba) = (0.7, 0.25);
    let lambda_a = lambda0 / (1.0 - p_ab * p_ba);
    let lambda_b = p_ab * lambda_a;
    let runs = replicate(&s, &SEEDS);
    let mut in_network = 0.0;
    for (name, lambda) in [("a", lambda_a), ("b", lambda_b)] {
        let c = s.components.iter().find(|c| c.name == name).unwrap();
        let mu = 1000.0 / c.service.mean_ms.unwrap();
        let w = 1.0 / (mu - lambda);
        in_network += lambda * w / lambda0;
        let st = station(&runs, name);
        let case = format!("feedback station {name}");
        assert_close(
            &case,
            "arrival rate (/s)",
            lambda,
            mean(st.iter().map(|s| s.arrival_rate)),
            0.02,
        );
        assert_close(
            &case,
            "W (s)",
            w,
            mean(st.iter().map(|s| s.sojourn_s)),
            0.05,
        );
    }
    let e2e = mean(runs.iter().map(|(a, b)| b.since(a).background_latency_s));
    assert_close(
        "feedback network",
        "time in network (s)",
        in_network,
        e2e,
        0.05,
    );
}

#[test]
fn a_fork_join_of_two_servers_matches_nelson_and_tantawi() {
    // Every job is split at once to two identical exponential servers and waits for both: the
    // mean response time is (12 - rho) / 8 x 1 / (mu - lambda) (Nelson and Tantawi, 1988).
    let (lambda, mean_ms) = (500.0, 1.0);
    let text = format!(
        r#"(
            name: "fork-join",
            sim: (duration_s: 300.0, warmup_s: 20.0),
            sources: [(name: "jobs", rate: Constant({lambda}),
                flows: [(name: "job", path: [To("split"), Fan(to: ["s1", "s2"])])])],
            components: [
                (name: "split", kind: LoadBalancer, workers: 10000, queue: Unbounded,
                    service: (mean_ms: 0.000001, shape: Deterministic)),
                (name: "s1", kind: Service, queue: Unbounded, service: (mean_ms: {mean_ms})),
                (name: "s2", kind: Service, queue: Unbounded, service: (mean_ms: {mean_ms})),
            ],
            links: [(from: "jobs", to: "split"), (from: "split", to: "s1"), (from: "split", to: "s2")],
        )"#
    );
    let runs = replicate(&parse(&text), &SEEDS);
    let mu = 1000.0 / mean_ms;
    let rho = lambda / mu;
    let expected = (12.0 - rho) / 8.0 / (mu - lambda);
    let measured = mean(runs.iter().map(|(a, b)| b.since(a).latency_s));
    assert_close(
        "fork-join of two M/M/1",
        "response time (s)",
        expected,
        measured,
        0.03,
    );
    // Each branch alone is an M/M/1: the join is slower than either.
    let branch = mean(station(&runs, "s1").iter().map(|s| s.sojourn_s));
    assert_close(
        "fork-join branch s1",
        "W (s)",
        1.0 / (mu - lambda),
        branch,
        0.03,
    );
}
