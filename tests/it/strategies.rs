//! Each strategy's defining property from its published definition, on randomized runs
//! (several seeds and loads), read from the metrics rows a user would read.

use flowlab::testing::{parse, simulation_app};

/// Clients at `rate`/s -> web (fast, roomy), with `client` spliced into the source's client
/// section and `web` into the component, run for `secs` on `seed`; `faults` as in a scenario.
fn run(
    rate: f64,
    client: &str,
    web: &str,
    faults: &str,
    seed: u64,
    secs: f64,
) -> flowlab::runner::Simulation {
    let text = format!(
        r#"(
        name: "strategy",
        sim: (seed: {seed}),
        sources: [(name: "users", rate: Constant({rate}), flows: [(name: "q", path: [To("web")])], client: ({client}))],
        components: [(name: "web", kind: Service, workers: 200, service: (mean_ms: Some(2.0)), {web})],
        links: [(from: "users", to: "web")],
        faults: [{faults}],
    )"#
    );
    let mut sim = simulation_app(parse(&text));
    sim.run_for(secs);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
    sim
}

/// Sum of a per-second count series over samples with `from < t <= to`.
fn sum(series: &[(f64, f64)], from: f64, to: f64) -> f64 {
    series
        .iter()
        .filter(|(t, _)| *t > from && *t <= to)
        .map(|p| p.1)
        .sum()
}

#[test]
fn a_retry_budget_forgets_deposits_older_than_its_ttl() {
    // Finagle's RetryBudget: over any ttl, retries are at most min_per_s x ttl plus ratio x the
    // first attempts of (about) that ttl. A long healthy spell must not save up an outage's
    // worth of retries: after 90 s at 500/s, the first 10 s of an outage get about
    // 10 x 10 + 0.1 x 5,000 = 600 (a budget that never forgets gave 5,104).
    for (seed, rate) in [(1, 500.0), (2, 300.0), (3, 800.0)] {
        let client = "retry: (max_attempts: 3, base_backoff_ms: 20.0, budget: (ratio: 0.1, min_per_s: 10.0, ttl_s: 10.0))";
        let fault = r#"(component: "web", all_instances: true, at_s: 90.0, for_s: 120.0)"#;
        let sim = run(rate, client, "", fault, seed, 210.0);
        let retries = sim.series("users", "retries");
        let first = sum(&retries, 90.0, 100.0);
        let bound = 100.0 + 0.1 * rate * 10.0;
        // One slice (a tenth of the ttl) of slack: the window slides in slices, as Finagle's.
        assert!(
            first <= bound * 1.1,
            "seed {seed}, {rate}/s: {first} retries in the outage's first 10 s, bound {bound}"
        );
        assert!(
            first >= bound * 0.8,
            "seed {seed}, {rate}/s: the budget is spent, not hoarded: {first} of {bound}"
        );
        // Every 10-s window of the outage stays under the bound; the steady rate is the
        // reserve's 10/s plus a tenth of the first attempts.
        for start in (90..200).step_by(5) {
            let w = sum(&retries, start as f64, start as f64 + 10.0);
            assert!(
                w <= bound * 1.1,
                "seed {seed}: {w} retries in ({start}, {}]",
                start + 10
            );
        }
        let steady = sum(&retries, 150.0, 210.0) / 60.0;
        let want = 10.0 + 0.1 * rate;
        assert!(
            (steady - want).abs() <= 0.1 * want,
            "seed {seed}: steady {steady:.1}/s, want {want}"
        );
        // The balance row: the full reserve plus a ttl's deposits before the outage.
        let balance = sim.series("users", "retry_budget_balance");
        let before = balance
            .iter()
            .find(|p| p.0 == 89.0)
            .expect("a sample at 89 s")
            .1;
        assert!(
            (before - bound).abs() <= 0.1 * bound,
            "seed {seed}: balance {before} before the outage"
        );
        // In the outage retries spend it at once: it is below one retry except when the
        // withdrawals of ten seconds before expire (every ttl, as Finagle's windowed account);
        // expiring deposits can take it below zero.
        let spent = balance.iter().filter(|p| p.0 > 91.0 && p.0 < 209.0 && p.0 % 10.0 != 0.0);
        assert!(spent.clone().count() > 90);
        for (t, b) in spent {
            assert!(*b < 1.0, "seed {seed}: balance {b} at t = {t} in the outage");
        }
        let over = sum(&sim.series("users", "retries_over_budget"), 90.0, 210.0);
        assert!(over > 0.0, "the budget refused retries in the outage");
    }
}
