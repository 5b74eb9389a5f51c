//! Queueing theory beside the run: the `theory_*` rows of the metrics CSV against closed forms
//! computed here from each file's own parameters (independently of flowlab's formulas), the
//! observed figures inside the predictions' reach, and the overlay naming the assumption that
//! breaks where a model does not apply.

use flowlab::runner::Simulation;
use flowlab::scenario::{QueueSpec, RateSchedule, Scenario};
use flowlab::sim::read::theory::assess::Verdict;
use flowlab::testing::{load_shipped, parse, simulation_app};

/// The last value of `metric` of `entity` in a metrics CSV.
fn last(csv: &str, entity: &str, metric: &str) -> Option<f64> {
    csv.lines()
        .rev()
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|f| f.len() == 4 && f[1] == entity && f[2] == metric)
        .and_then(|f| f[3].parse().ok())
}

fn run_csv(s: Scenario) -> String {
    let d = s.sim.duration_s;
    let mut sim = simulation_app(s);
    sim.run_for(d);
    sim.metrics_csv().expect("kept in memory")
}

/// (λ, μ, c, room) of a one-station file.
fn station(s: &Scenario) -> (f64, f64, u32, Option<u64>) {
    let RateSchedule::Constant(lambda) = s.sources[0].rate else {
        panic!("constant rate expected")
    };
    let c = &s.components[0];
    let room = match c.queue {
        QueueSpec::Bounded(k) => Some(k),
        QueueSpec::Unbounded => None,
    };
    (lambda, 1000.0 / c.service.mean_ms.unwrap(), c.workers, room)
}

fn within(what: &str, expected: f64, got: f64, tol: f64) {
    let rel = (got - expected).abs() / expected.abs().max(1e-12);
    assert!(
        rel <= tol,
        "{what}: expected {expected}, got {got} ({:.3}% off)",
        rel * 100.0
    );
}

/// Erlang C by its textbook sum (small c only).
fn erlang_c_by_sum(c: u32, a: f64) -> f64 {
    let fact = |n: u32| (1..=n).map(f64::from).product::<f64>();
    let head: f64 = (0..c).map(|k| a.powi(k as i32) / fact(k)).sum();
    let tail = a.powi(c as i32) / fact(c) * c as f64 / (c as f64 - a);
    tail / (head + tail)
}

#[test]
fn the_theory_rows_of_mmc_match_erlang_c() {
    let s = load_shipped("mmc.ron");
    let (lambda, mu, c, _) = station(&s);
    let csv = run_csv(s);
    let a = lambda / mu;
    let p_wait = erlang_c_by_sum(c, a);
    let rho = a / c as f64;
    let lq = p_wait * rho / (1.0 - rho);
    let w_ms = (lq / lambda + 1.0 / mu) * 1000.0;
    let get = |m: &str| last(&csv, "server", m).unwrap_or_else(|| panic!("no {m} row"));
    within("M/M/4 rho", rho, get("theory_rho"), 1e-9);
    within("M/M/4 P(wait)", p_wait, get("theory_p_wait"), 1e-9);
    within("M/M/4 Lq", lq, get("theory_lq"), 1e-9);
    within("M/M/4 W", w_ms, get("theory_w_ms"), 1e-9);
    assert_eq!(get("theory_p_drop"), 0.0);
    within("M/M/4 lambda", lambda, get("theory_lambda"), 1e-12);
}

#[test]
fn the_theory_rows_of_mm1k_match_its_birth_death_chain() {
    let s = load_shipped("mm1k.ron");
    let (lambda, mu, c, room) = station(&s);
    assert_eq!(c, 1);
    let k = room.unwrap() as i32 + 1;
    let r = lambda / mu;
    let z: f64 = (0..=k).map(|n| r.powi(n)).sum();
    let p_full = r.powi(k) / z;
    let l: f64 = (0..=k).map(|n| n as f64 * r.powi(n)).sum::<f64>() / z;
    let w_ms = l / (lambda * (1.0 - p_full)) * 1000.0;
    let csv = run_csv(s);
    let get = |m: &str| last(&csv, "server", m).unwrap();
    within("M/M/1/K P(drop)", p_full, get("theory_p_drop"), 1e-9);
    within("M/M/1/K L", l, get("theory_l"), 1e-9);
    within("M/M/1/K W", w_ms, get("theory_w_ms"), 1e-9);
    // The run drops what the chain says it drops, within a tenth of the share.
    let sum = |metric: &str| -> f64 {
        (csv.lines())
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| f.len() == 4 && f[1] == "server" && f[2] == metric)
            .map(|f| f[3].parse::<f64>().unwrap())
            .sum()
    };
    within(
        "M/M/1/K observed drop share",
        p_full,
        sum("dropped") / sum("arrivals"),
        0.1,
    );
}

#[test]
fn the_theory_rows_of_md1_follow_pollaczek_khinchine() {
    let s = load_shipped("md1.ron");
    let (lambda, mu, _, _) = station(&s);
    let rho = lambda / mu;
    let wq = rho / (2.0 * mu * (1.0 - rho));
    let csv = run_csv(s);
    let get = |m: &str| last(&csv, "server", m).unwrap();
    within(
        "M/D/1 W",
        (wq + 1.0 / mu) * 1000.0,
        get("theory_w_ms"),
        1e-9,
    );
    within("M/D/1 Lq", lambda * wq, get("theory_lq"), 1e-9);
}

#[test]
fn observed_figures_fall_inside_their_intervals_around_the_prediction_and_littles_law_holds() {
    for file in ["mm1.ron", "mmc.ron", "mm1k.ron", "md1.ron", "jackson.ron"] {
        let s = load_shipped(file);
        let (d, warm) = (s.sim.duration_s, s.sim.warmup_s);
        let mut sim = Simulation::new(s);
        sim.run_for(d);
        let assessed = sim.theory();
        let series = sim
            .world()
            .resource::<flowlab::sim::read::series::Series>()
            .clone();
        for a in &assessed {
            let p = *a.prediction().unwrap_or_else(|| panic!("{file}: {a:?}"));
            let o = flowlab::sim::read::theory::observe::observe(
                &series,
                a.component as u32,
                warm,
                a.servers as f64,
                &|_| true,
            )
            .unwrap();
            // Twice the 95% half-width, or 3%: a miss means the model or the engine is wrong.
            let near =
                |what: &str, pred: f64, obs: flowlab::sim::read::theory::observe::Estimate| {
                    let slack = (2.0 * obs.half).max(0.03 * pred.abs());
                    assert!(
                        (obs.mean - pred).abs() <= slack,
                        "{file} {}: {what} predicted {pred}, observed {} ± {}",
                        a.model,
                        obs.mean,
                        obs.half
                    );
                };
            near("rho", p.rho, o.rho);
            near("P(wait)", p.p_wait, o.p_wait);
            near("L", p.l, o.l);
            near("W ms", p.w * 1000.0, o.w_ms);
            let (lw, gap) = o.little();
            assert!(gap < 0.01, "{file}: Little's law L {} λW {lw}", o.l.mean);
        }
    }
}

fn reasons(text: &str) -> Vec<Vec<String>> {
    let mut sim = Simulation::new(parse(text));
    sim.run_for(40.0);
    sim.theory()
        .into_iter()
        .map(|a| match a.verdict {
            Verdict::Broken(why) => why,
            Verdict::Unstable { .. } => vec!["unstable".into()],
            Verdict::Predicts(_) => vec![],
        })
        .collect()
}

#[test]
fn where_an_assumption_breaks_the_overlay_names_it_instead_of_a_number() {
    let why = reasons(
        r#"(name: "t", sim: (duration_s: 40.0),
        sources: [
            (name: "steady", arrivals: Deterministic, rate: Constant(100.0), flows: [(name: "f", path: [To("even")])]),
            (name: "users", rate: Constant(500.0), flows: [(name: "g", path: [To("web"), To("db")])]),
        ],
        components: [
            (name: "even", kind: Service, queue: Unbounded, service: (mean_ms: Some(1.0))),
            (name: "web", kind: Service, workers: 50, queue: Unbounded, service: (mean_ms: Some(2.0))),
            (name: "db", kind: Service, workers: 4, queue: Unbounded, service: (mean_ms: Some(1.0), shape: LogNormal(sigma: 1.0))),
        ],
        links: [(from: "steady", to: "even"), (from: "users", to: "web"),
                (from: "web", to: "db", limit: Some(TokenBucket(rate: 2000.0, burst: 100.0)))])"#,
    );
    let has = |c: usize, text: &str| {
        assert!(
            why[c].iter().any(|w| w.contains(text)),
            "component {c} should say {text:?}: {:?}",
            why[c]
        )
    };
    has(0, "arrivals are not Poisson");
    has(1, "synchronous calls to db");
    has(2, "a rate limiter on web->db");
    has(2, "no exact closed form");
    // An unbounded queue offered more than it serves has no steady state.
    let over = reasons(
        r#"(name: "o", sim: (duration_s: 40.0),
        sources: [(name: "u", rate: Constant(1200.0), flows: [(name: "f", path: [To("s")])])],
        components: [(name: "s", kind: Service, queue: Unbounded, service: (mean_ms: Some(1.0)))],
        links: [(from: "u", to: "s")])"#,
    );
    assert_eq!(over[0], vec!["unstable".to_string()]);
}

#[test]
fn retries_and_a_changing_load_break_the_model_while_they_last() {
    // Timeouts shorter than the wait make the clients retry: their arrivals feed back.
    let why = reasons(
        r#"(name: "r", sim: (duration_s: 40.0),
        sources: [(name: "u", rate: Constant(950.0), client: (timeout_ms: Some(3.0), retry: (max_attempts: 3)),
                   flows: [(name: "f", path: [To("s")])])],
        components: [(name: "s", kind: Service, queue: Unbounded, service: (mean_ms: Some(1.0)))],
        links: [(from: "u", to: "s")])"#,
    );
    assert!(
        why[0].iter().any(|w| w.contains("retries feed back")),
        "{why:?}"
    );
    let step = reasons(
        r#"(name: "s", sim: (duration_s: 40.0),
        sources: [(name: "u", rate: Step(before: 300.0, after: 600.0, at_s: 25.0), flows: [(name: "f", path: [To("s")])])],
        components: [(name: "s", kind: Service, queue: Unbounded, service: (mean_ms: Some(1.0)))],
        links: [(from: "u", to: "s")])"#,
    );
    assert!(
        step[0].iter().any(|w| w.contains("rate changed")),
        "{step:?}"
    );
}
