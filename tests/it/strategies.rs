//! Each strategy's defining property from its published definition, on randomized runs
//! (several seeds and loads), read from the metrics rows a user would read.

use flowlab::sim::events::{BreakerReason, EventKind};
use flowlab::sim::states::BreakerState;
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
        let spent = balance
            .iter()
            .filter(|p| p.0 > 91.0 && p.0 < 209.0 && p.0 % 10.0 != 0.0);
        assert!(spent.clone().count() > 90);
        for (t, b) in spent {
            assert!(
                *b < 1.0,
                "seed {seed}: balance {b} at t = {t} in the outage"
            );
        }
        let over = sum(&sim.series("users", "retries_over_budget"), 90.0, 210.0);
        assert!(over > 0.0, "the budget refused retries in the outage");
    }
}

/// Users at 500/s -> api -> bank with flow control on and `breaker` as the breaker's settings;
/// `faults` on the bank.
fn breaker_run(breaker: &str, faults: &str, seed: u64, secs: f64) -> flowlab::runner::Simulation {
    let text = format!(
        r#"(
        name: "breaker",
        sim: (seed: {seed}),
        backpressure: (enabled: true, breaker: ({breaker})),
        sources: [(name: "users", rate: Constant(500.0), flows: [(name: "pay", path: [To("api"), To("bank")])], client: (timeout_ms: Some(3000.0)))],
        components: [
            (name: "api", kind: Service, workers: 400, queue: Bounded(2000), service: (mean_ms: Some(1.0))),
            (name: "bank", kind: ExternalApi, workers: 400, queue: Bounded(2000), service: (mean_ms: Some(5.0))),
        ],
        links: [(from: "users", to: "api"), (from: "api", to: "bank")],
        faults: [{faults}],
    )"#
    );
    let mut sim = simulation_app(parse(&text));
    sim.run_for(secs);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
    sim
}

/// The api->bank breaker's transitions: (t in s, to, reason).
fn transitions(sim: &flowlab::runner::Simulation) -> Vec<(f64, BreakerState, BreakerReason)> {
    (sim.journal().events.iter())
        .filter_map(|e| match e.kind {
            EventKind::Breaker { to, reason, .. } => Some((e.at as f64 / 1e9, to, reason)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_count_window_opens_once_the_share_of_the_last_n_calls_that_failed_reaches_the_threshold() {
    // resilience4j's COUNT_BASED window: judged at every call over the last n, once the minimum
    // number of calls is in. A bank failing 90% trips it within a second (the time window
    // would wait its 30 s); one failing 20% never does.
    let count = "window: Count(50), min_responses: 50, error_threshold: 0.5";
    for seed in [1, 2, 3] {
        let fault = r#"(component: "bank", all_instances: true, at_s: 10.0, for_s: 60.0, errors: Some(0.9))"#;
        let t = transitions(&breaker_run(count, fault, seed, 30.0));
        let (at, to, reason) = *t.first().expect("the breaker opened");
        assert_eq!(
            (to, reason),
            (BreakerState::Open, BreakerReason::ErrorRate),
            "seed {seed}"
        );
        assert!(
            (10.0..11.0).contains(&at),
            "seed {seed}: opened at {at:.3} s"
        );
        let mild = r#"(component: "bank", all_instances: true, at_s: 10.0, for_s: 60.0, errors: Some(0.2))"#;
        let t = transitions(&breaker_run(count, mild, seed, 30.0));
        assert!(t.is_empty(), "seed {seed}: 20% failures opened it: {t:?}");
    }
    // The same 90% under the default time window opens only after over_for_s (30 s).
    let fault =
        r#"(component: "bank", all_instances: true, at_s: 10.0, for_s: 60.0, errors: Some(0.9))"#;
    let t = transitions(&breaker_run("", fault, 1, 50.0));
    assert!(t.first().is_some_and(|e| e.0 >= 39.0), "{t:?}");
}

#[test]
fn slow_calls_open_a_breaker_that_sees_no_errors() {
    // A bank twenty times slower fails nothing, but every call takes ~100 ms: with a 50 ms
    // slow-call threshold at a 50% rate the breaker opens for slowness, and without one it
    // never opens.
    let slow = r#"(component: "bank", all_instances: true, at_s: 10.0, for_s: 60.0, slowdown: Some(20.0))"#;
    for seed in [1, 2] {
        let set =
            "window: Count(50), min_responses: 50, slow_call_ms: Some(50.0), slow_call_rate: 0.5";
        let t = transitions(&breaker_run(set, slow, seed, 20.0));
        let (at, to, reason) = *t.first().expect("the breaker opened");
        assert_eq!(
            (to, reason),
            (BreakerState::Open, BreakerReason::SlowCalls),
            "seed {seed}"
        );
        assert!(
            (10.0..12.0).contains(&at),
            "seed {seed}: opened at {at:.3} s"
        );
        let t = transitions(&breaker_run(
            "window: Count(50), min_responses: 50",
            slow,
            seed,
            20.0,
        ));
        assert!(
            t.is_empty(),
            "seed {seed}: opened without a slow-call threshold: {t:?}"
        );
        // The time window judges each cycle's slow share the same way (after over_for_s).
        let set = "over_for_s: 2.0, slow_call_ms: Some(50.0), slow_call_rate: 0.5";
        let t = transitions(&breaker_run(set, slow, seed, 20.0));
        assert!(
            t.first().is_some_and(|e| e.2 == BreakerReason::SlowCalls),
            "{t:?}"
        );
    }
}

#[test]
fn a_half_open_trial_lets_exactly_its_calls_through_and_judges_them() {
    // resilience4j's permittedNumberOfCallsInHalfOpenState: HALF-OPEN lets exactly n calls go,
    // refuses the rest, and closes if they pass (or opens again if they fail).
    let set = "window: Count(20), min_responses: 20, open_block: 1.0, probe_every_s: 5.0, half_open_calls: Some(10)";
    let down =
        r#"(component: "bank", all_instances: true, at_s: 5.0, for_s: 10.0, errors: Some(1.0))"#;
    for seed in [1, 2] {
        let text_sim = breaker_run(set, down, seed, 40.0);
        let t = transitions(&text_sim);
        // A trial while the bank still fails opens it again; the first after it recovers
        // (t = 15 s) closes it.
        let early = t
            .iter()
            .position(|e| e.1 == BreakerState::HalfOpen && e.0 < 15.0);
        if let Some(i) = early {
            assert_eq!(t[i + 1].2, BreakerReason::TrialFailed, "seed {seed}: {t:?}");
        }
        let half = (t.iter())
            .position(|e| e.1 == BreakerState::HalfOpen && e.0 > 15.0)
            .expect("half-open after the recovery");
        assert_eq!(t[half + 1].1, BreakerState::Closed, "seed {seed}: {t:?}");
        assert_eq!(t[half + 1].2, BreakerReason::TrialPassed, "seed {seed}");
        // Exactly ten calls went over the link while it was HALF-OPEN: replay to each moment.
        let sent_at = |at: f64| {
            let mut sim = breaker_run(set, down, seed, at);
            sim.view(|v| {
                v.links()
                    .find(|l| l.name == "api->bank")
                    .map(|l| l.counters.sent)
            })
            .expect("the link")
        };
        let (t_half, t_closed) = (t[half].0, t[half + 1].0);
        let sent = sent_at(t_closed) - sent_at(t_half);
        assert_eq!(
            sent, 10,
            "seed {seed}: {sent} calls sent in HALF-OPEN ({t_half:.3}-{t_closed:.3} s)"
        );
    }
    // A bank still failing when the trial runs sends it back to OPEN.
    let long =
        r#"(component: "bank", all_instances: true, at_s: 5.0, for_s: 60.0, errors: Some(0.6))"#;
    let set = "window: Count(20), min_responses: 20, probe_every_s: 5.0, half_open_calls: Some(10), error_threshold: 0.5";
    let t = transitions(&breaker_run(set, long, 1, 40.0));
    assert!(t.iter().all(|e| e.2 != BreakerReason::TrialPassed), "{t:?}");
}
