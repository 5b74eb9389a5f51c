//! The engine against queueing theory, through the same path as the app: scenario text in,
//! simulation, exact measurements out. Means over replications with the warm-up removed.

use flowlab::runner::{ComponentBetween, Simulation, Snapshot};
use flowlab::testing::parse;

/// Runs `text` once per seed; returns (warm-up snapshot, final snapshot) pairs.
fn replicate(text: &str, seeds: &[u64], warmup_s: f64, measure_s: f64) -> Vec<(Snapshot, Snapshot)> {
    seeds
        .iter()
        .map(|seed| {
            let mut s = parse(text);
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
    runs.iter().map(|(a, b)| b.component_since(a, name).expect("component exists")).collect()
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = xs.collect();
    v.iter().sum::<f64>() / v.len() as f64
}

fn assert_close(case: &str, what: &str, expected: f64, measured: f64, tolerance: f64) {
    let err = (measured - expected).abs() / expected.abs();
    println!("{case:<28} {what:<28} expected {expected:>10.5}  measured {measured:>10.5}  error {:>5.2}%", err * 100.0);
    assert!(
        err <= tolerance,
        "{case}: {what}: expected {expected}, measured {measured} ({:.2}% off, allowed {:.1}%)",
        err * 100.0,
        tolerance * 100.0
    );
}

/// One station with `c` servers: Poisson arrivals, a service shape, a queue.
fn single_station(lambda: f64, mean_ms: f64, shape: &str, workers: u32, queue: &str) -> String {
    format!(
        r#"(
        name: "fidelity",
        sim: (tick_ms: 1.0),
        sources: [(name: "src", rate: Constant({lambda}), flows: [(name: "f", path: [To("s")])])],
        components: [(name: "s", kind: Service, workers: {workers}, queue: {queue},
                      service: (mean_ms: Some({mean_ms}), shape: {shape}))],
        links: [(from: "src", to: "s")],
    )"#
    )
}

const SEEDS: [u64; 5] = [11, 12, 13, 14, 15];

#[test]
fn mm1_matches_closed_form() {
    let (lambda, mu) = (800.0, 1000.0);
    let runs = replicate(&single_station(lambda, 1.0, "Exponential", 1, "Unbounded"), &SEEDS, 20.0, 300.0);
    let st = station(&runs, "s");
    let rho: f64 = lambda / mu;
    assert_close("M/M/1 rho=0.8", "W (s)", 1.0 / (mu - lambda), mean(st.iter().map(|s| s.sojourn_s)), 0.05);
    assert_close("M/M/1 rho=0.8", "L", rho / (1.0 - rho), mean(st.iter().map(|s| s.occupancy)), 0.05);
    let e2e = mean(runs.iter().map(|(a, b)| b.since(a).latency_s));
    assert_close("M/M/1 rho=0.8", "end-to-end latency (s)", 1.0 / (mu - lambda), e2e, 0.05);
}

/// Erlang C: probability that an arrival waits in M/M/c.
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..c {
        term *= a / k as f64;
        sum += term;
    }
    let last = term * a / c as f64;
    let rho = a / c as f64;
    let top = last / (1.0 - rho);
    top / (sum + top)
}

#[test]
fn mmc_matches_erlang_c() {
    let (lambda, mu, c) = (3400.0, 1000.0, 4u32);
    let runs = replicate(&single_station(lambda, 1.0, "Exponential", c, "Unbounded"), &SEEDS, 20.0, 200.0);
    let st = station(&runs, "s");
    let a = lambda / mu;
    let w = erlang_c(c, a) / (c as f64 * mu - lambda) + 1.0 / mu;
    assert_close("M/M/4 rho=0.85", "W (s)", w, mean(st.iter().map(|s| s.sojourn_s)), 0.05);
    assert_close("M/M/4 rho=0.85", "L", lambda * w, mean(st.iter().map(|s| s.occupancy)), 0.05);
}

#[test]
fn mm1k_matches_blocking_probability_and_throughput() {
    // K = 10 in the system: 1 in service and 9 waiting.
    let (lambda, mu, k) = (900.0, 1000.0, 10i32);
    let runs = replicate(&single_station(lambda, 1.0, "Exponential", 1, "Bounded(9)"), &SEEDS, 10.0, 200.0);
    let st = station(&runs, "s");
    let rho: f64 = lambda / mu;
    let p_block = (1.0 - rho) * rho.powi(k) / (1.0 - rho.powi(k + 1));
    assert_close("M/M/1/10 rho=0.9", "blocking probability", p_block, mean(st.iter().map(|s| s.drop_ratio)), 0.05);
    assert_close("M/M/1/10 rho=0.9", "throughput (/s)", lambda * (1.0 - p_block), mean(st.iter().map(|s| s.ok_rate)), 0.05);
    let l: f64 = (0..=k).map(|n| n as f64 * rho.powi(n)).sum::<f64>() * (1.0 - rho) / (1.0 - rho.powi(k + 1));
    assert_close("M/M/1/10 rho=0.9", "L", l, mean(st.iter().map(|s| s.occupancy)), 0.05);
}

#[test]
fn md1_matches_pollaczek_khinchine() {
    let (lambda, mu) = (850.0, 1000.0);
    let runs = replicate(&single_station(lambda, 1.0, "Deterministic", 1, "Unbounded"), &SEEDS, 20.0, 200.0);
    let st = station(&runs, "s");
    let rho = lambda / mu;
    let w = 1.0 / mu + rho / (2.0 * mu * (1.0 - rho));
    assert_close("M/D/1 rho=0.85", "W (s)", w, mean(st.iter().map(|s| s.sojourn_s)), 0.05);
    assert_close("M/D/1 rho=0.85", "L", lambda * w, mean(st.iter().map(|s| s.occupancy)), 0.05);
}

const JACKSON: &str = r#"(
    name: "open Jackson network",
    sim: (tick_ms: 1.0),
    sources: [(name: "src", rate: Constant(600.0),
               flows: [(name: "f", path: [To("a"), OneOf([("b", 0.5), ("c", 0.5)]), To("d")])])],
    components: [
        (name: "a", kind: Service, queue: Unbounded, service: (mean_ms: Some(1.25))),
        (name: "b", kind: Service, queue: Unbounded, service: (mean_ms: Some(2.5))),
        (name: "c", kind: Service, queue: Unbounded, service: (mean_ms: Some(2.0))),
        (name: "d", kind: Service, queue: Unbounded, service: (mean_ms: Some(1.3333333333))),
    ],
    links: [
        (from: "src", to: "a"),
        (from: "a", to: "b", call: Async), (from: "a", to: "c", call: Async),
        (from: "b", to: "d", call: Async), (from: "c", to: "d", call: Async),
    ],
)"#;

#[test]
fn open_jackson_network_matches_product_form() {
    let runs = replicate(JACKSON, &SEEDS, 20.0, 200.0);
    // Station (arrival rate, service rate): every station is an independent M/M/1.
    let stations = [("a", 600.0, 800.0), ("b", 300.0, 400.0), ("c", 300.0, 500.0), ("d", 600.0, 750.0)];
    let mut total_w = 0.0;
    for (name, lambda, mu) in stations {
        let st = station(&runs, name);
        let w = 1.0 / (mu - lambda);
        total_w += lambda / 600.0 * w;
        assert_close(&format!("Jackson station {name}"), "W (s)", w, mean(st.iter().map(|s| s.sojourn_s)), 0.05);
    }
    let e2e = mean(runs.iter().map(|(a, b)| b.since(a).latency_s));
    assert_close("Jackson network", "end-to-end W (s)", total_w, e2e, 0.05);
}

#[test]
fn littles_law_holds_within_one_percent() {
    for (case, text) in [
        ("M/M/1", single_station(800.0, 1.0, "Exponential", 1, "Unbounded")),
        ("M/M/4", single_station(3400.0, 1.0, "Exponential", 4, "Unbounded")),
        ("M/M/1/10", single_station(900.0, 1.0, "Exponential", 1, "Bounded(9)")),
        ("log-normal", single_station(700.0, 1.0, "LogNormal(sigma: 1.0)", 1, "Unbounded")),
    ] {
        let runs = replicate(&text, &[3], 10.0, 200.0);
        let s = &station(&runs, "s")[0];
        // L = λ W, with λ the rate of requests that enter (and leave) the system.
        assert_close(&format!("Little {case}"), "L = lambda W", s.ok_rate * s.sojourn_s, s.occupancy, 0.01);
    }
}
