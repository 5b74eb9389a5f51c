//! Every shipped scenario validates, runs with conservation holding every tick, and tells the
//! story it claims.

use flowlab::runner::Simulation;
use flowlab::sim::flow::request::Outcome;
use flowlab::testing::{load_shipped, scenario_path, simulation_app};

/// Every shipped scenario (not comparisons), by file name.
pub(crate) fn shipped() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(scenario_path(""))
        .expect("scenarios/ exists")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".ron"))
        .collect();
    names.sort();
    names
}

#[test]
fn every_shipped_scenario_runs_with_conservation_every_tick() {
    let names = shipped();
    assert!(names.len() >= 5, "scenarios shipped: {names:?}");
    for name in names {
        let s = load_shipped(&name);
        let mut sim = simulation_app(s);
        sim.run_for(5.0);
        let checks = sim
            .world()
            .resource::<flowlab::sim::schedule::verify::Conservation>()
            .checks;
        assert!(checks >= 5000, "{name}: checked every tick ({checks})");
        assert!(
            sim.violations().is_empty(),
            "{name}: {:?}",
            sim.violations()
        );
        assert!(sim.summary().system.generated > 0, "{name}: no traffic");
    }
}

/// Metric `metric` of `entity` per sample, from the typed series store (the read seam).
fn series(sim: &Simulation, entity: &str, metric: &str) -> Vec<(f64, f64)> {
    sim.series(entity, metric)
}

#[test]
fn no_backpressure_the_queue_grows_memory_climbs_the_database_crashes_goodput_collapses() {
    let mut sim = simulation_app(load_shipped("no_backpressure.ron"));
    sim.run_for(30.0);
    let queue = series(&sim, "database", "queue_len");
    let memory = series(&sim, "database", "util_memory");
    // The queue and memory grow every second until the crash.
    let crash_at = series(&sim, "database", "crashes")
        .iter()
        .find(|x| x.1 > 0.0)
        .map(|x| x.0)
        .expect("the database crashes");
    assert!(crash_at > 3.0 && crash_at < 10.0, "crash at {crash_at}s");
    let before: Vec<_> = queue.iter().filter(|x| x.0 < crash_at).collect();
    assert!(
        before.windows(2).all(|w| w[1].1 > w[0].1),
        "queue grows: {before:?}"
    );
    assert!(memory.iter().filter(|x| x.0 < crash_at).all(|x| x.1 < 1.0));
    assert!(
        memory.iter().any(|x| x.0 < crash_at && x.1 > 0.7),
        "memory climbs towards full: {memory:?}"
    );
    // Goodput collapses: after the first few seconds nothing completes within the timeout.
    let goodput = series(&sim, "system", "goodput");
    let early: f64 = goodput.iter().filter(|x| x.0 <= 1.0).map(|x| x.1).sum();
    let late: f64 = goodput
        .iter()
        .filter(|x| x.0 > 4.0)
        .map(|x| x.1)
        .sum::<f64>()
        / 26.0;
    assert!(
        early > 40_000.0,
        "the database serves at capacity at first: {early}"
    );
    assert!(late < 5_000.0, "goodput collapses: {late}/s");
    let s = sim.summary();
    assert!(
        s.system.ended(Outcome::Failed) > 1_000_000,
        "failures cascade"
    );
    assert!(s.system.wasted > 0, "work done for clients who gave up");
}

#[test]
fn netflix_friday_without_backpressure_overloads_the_database_at_the_peak() {
    let mut s = load_shipped("netflix_friday.ron");
    s.backpressure.enabled = false;
    let mut sim = simulation_app(s);
    sim.run_for(150.0);
    let arrivals = series(&sim, "database", "arrivals");
    let at = |t: f64| {
        arrivals
            .iter()
            .find(|x| (x.0 - t).abs() < 1e-9)
            .map(|x| x.1)
            .unwrap()
    };
    assert!(
        (35_000.0..45_000.0).contains(&at(30.0)),
        "baseline: about 40K/s reach the database ({})",
        at(30.0)
    );
    assert!(
        at(140.0) > 55_000.0,
        "at the peak the database is asked for more than its 50K/s ({})",
        at(140.0)
    );
    let served = series(&sim, "database", "served");
    assert!(
        served.iter().all(|x| x.1 <= 51_000.0),
        "never more than capacity"
    );
    let dropped: f64 = series(&sim, "database", "dropped")
        .iter()
        .filter(|x| x.0 > 100.0)
        .map(|x| x.1)
        .sum();
    assert!(
        dropped > 0.0,
        "without backpressure the peak is shed by a full queue"
    );
    assert_eq!(sim.summary().component("database").unwrap().crashes, 0);
}

/// The decision log as parsed JSON values.
fn decisions(sim: &Simulation) -> Vec<flowlab::sim::read::decisions::Decision> {
    sim.world()
        .resource::<flowlab::sim::read::decisions::DecisionLog>()
        .events
        .clone()
}

#[test]
fn netflix_friday_with_backpressure_cuts_rates_within_limits_and_recovers() {
    let mut sim = simulation_app(load_shipped("netflix_friday.ron"));
    sim.run_for(500.0);
    let s = sim.summary();
    // Nothing crashes and the database barely drops anything.
    assert!(s.components.iter().all(|c| c.crashes == 0));
    let db = s.component("database").unwrap();
    assert!(
        db.dropped < db.served / 100,
        "database drops {} of {} (without flow control: about half)",
        db.dropped,
        db.served
    );
    // The database degrades as traffic climbs: its score at the peak is below its baseline.
    let score = series(&sim, "database", "health_score");
    let mean = |a: f64, b: f64| {
        let v: Vec<f64> = score
            .iter()
            .filter(|x| x.0 > a && x.0 <= b)
            .map(|x| x.1)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    assert!(
        mean(150.0, 300.0) < mean(20.0, 60.0),
        "peak {} vs baseline {}",
        mean(150.0, 300.0),
        mean(20.0, 60.0)
    );
    // Web servers and the cache cut their rate to the database, never faster than the per-cycle
    // limits (20%, or 50% in an emergency), and never raise it by more than 10% a cycle.
    let log = decisions(&sim);
    let cuts: Vec<_> = log
        .iter()
        .filter(|d| d.kind == "rate_change" && d.entity.ends_with("->database"))
        .collect();
    assert!(
        cuts.iter().any(|d| d.t > 60.0 && d.t < 150.0),
        "the spike triggers rate control"
    );
    for d in &cuts {
        if let (Some(old), Some(new)) = (d.old, d.new) {
            let floor = if d.urgency == Some("immediate") {
                0.5
            } else {
                0.8
            };
            assert!(
                new >= old * floor - 1e-6,
                "too fast a cut at {}s: {old} -> {new}",
                d.t
            );
            assert!(
                new <= old * 1.1 + 1e-6,
                "too fast a rise at {}s: {old} -> {new}",
                d.t
            );
        }
    }
    // The database is held near its safe rate (45K/s) at the peak, never past its 50K/s.
    let served: Vec<f64> = series(&sim, "database", "served")
        .iter()
        .filter(|x| x.0 > 150.0 && x.0 <= 300.0)
        .map(|x| x.1)
        .collect();
    let mean_served = served.iter().sum::<f64>() / served.len() as f64;
    assert!(
        (38_000.0..47_000.0).contains(&mean_served),
        "mean served at the peak {mean_served}"
    );
    assert!(served.iter().all(|x| *x < 50_500.0), "never past capacity");
    // At the peak the web tier's limit to the database holds steady while in force: at least
    // 90% of cycle-to-cycle changes are within 6%.
    let limit: Vec<f64> = series(&sim, "web->database", "rate_limit")
        .iter()
        .filter(|x| x.0 > 150.0 && x.0 <= 300.0)
        .map(|x| x.1)
        .collect();
    let pairs: Vec<(f64, f64)> = limit
        .windows(2)
        .filter(|w| w[0] > 0.0 && w[1] > 0.0)
        .map(|w| (w[0], w[1]))
        .collect();
    let steady = pairs
        .iter()
        .filter(|(a, b)| (b - a).abs() / a <= 0.06)
        .count();
    assert!(
        steady as f64 >= 0.9 * pairs.len() as f64,
        "{steady} of {} changes within 6%",
        pairs.len()
    );
    // The database is protected throughout the peak: every second either the web servers'
    // limit to it is in force, or the load balancer's limit to the web tier holds the traffic
    // below what reaches the database's safe rate.
    let in_force = |link: &str| -> Vec<(f64, f64)> {
        series(&sim, link, "rate_limit")
            .into_iter()
            .filter(|x| x.0 > 150.0 && x.0 <= 300.0)
            .collect()
    };
    let (to_db, to_web) = (in_force("web->database"), in_force("lb->web"));
    assert!(
        to_db
            .iter()
            .zip(&to_web)
            .all(|(a, b)| a.1 > 0.0 || b.1 > 0.0),
        "flow control in force every second of the peak"
    );
    // The load balancer's limit to the web tier does not saw-tooth: the web tier, held by the
    // database, recommends what it measured it can pass on, and the load balancer holds there,
    // probing upward by 1% a cycle once the web tier has been calm for 30 s. Outside the
    // database incident (t = 240-260 s and its recovery), at least 90% of cycle-to-cycle changes
    // are within 2%, at most one cut per 30 s, and no rise beyond the 10% per-cycle limit.
    let changes = |a: f64, b: f64| -> Vec<f64> {
        to_web
            .windows(2)
            .filter(|w| w[0].0 > a && w[1].0 <= b && w[0].1 > 0.0 && w[1].1 > 0.0)
            .map(|w| w[1].1 / w[0].1 - 1.0)
            .collect()
    };
    let calm: Vec<f64> = [changes(150.0, 238.0), changes(290.0, 300.0)].concat();
    assert!(calm.len() >= 95, "lb->web limited at the peak");
    let small = calm.iter().filter(|c| c.abs() <= 0.02).count();
    assert!(
        small as f64 >= 0.9 * calm.len() as f64,
        "{small} of {} lb->web changes within 2%: {calm:?}",
        calm.len()
    );
    let cuts = calm.iter().filter(|c| **c < -0.02).count();
    assert!(cuts <= 4, "{cuts} cuts of lb->web in 100 s: {calm:?}");
    assert!(
        changes(150.0, 300.0).iter().all(|c| *c <= 0.10 + 1e-9),
        "lb->web rises within 10% a cycle"
    );
    // Goodput at the peak stays near what the database allows end to end (45K/s safe at the
    // database, 40% of requests reach it: about 112K/s), above the 100K/s before the spike.
    let goodput = |a: f64, b: f64| -> f64 {
        let v: Vec<f64> = series(&sim, "system", "goodput")
            .iter()
            .filter(|x| x.0 > a && x.0 <= b)
            .map(|x| x.1)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let (before, peak) = (goodput(20.0, 60.0), goodput(150.0, 238.0));
    assert!(
        peak > 1.05 * before && peak > 105_000.0,
        "goodput at the peak {peak} vs {before} before"
    );
    // The database incident (storage 40% slower at t = 240-260 s): it turns RED, its senders
    // cut their rates to it at once (within the per-cycle limits checked above), the cache
    // serves stale data, and goodput dips; within 30 s of the incident's end everything is back
    // at its pre-incident level, without drops at the database.
    let status = series(&sim, "database", "status");
    assert!(
        status
            .iter()
            .any(|x| x.0 > 240.0 && x.0 <= 250.0 && x.1 >= 2.0),
        "the database turns RED in the incident"
    );
    assert!(
        log.iter().any(|d| d.kind == "rate_change"
            && d.entity.ends_with("->database")
            && d.t > 240.0
            && d.t < 250.0
            && d.new.zip(d.old).is_some_and(|(n, o)| n < o)),
        "senders cut their rate to the database in the incident"
    );
    let stale_in = |a: f64, b: f64| -> f64 {
        series(&sim, "cache", "stale_served")
            .iter()
            .filter(|x| x.0 > a && x.0 <= b)
            .map(|x| x.1)
            .sum()
    };
    assert!(stale_in(240.0, 260.0) > 100_000.0, "stale in the incident");
    assert!(stale_in(290.0, 300.0) == 0.0, "fresh data again after it");
    // The cache sends its misses back gradually, a quarter more each cycle, not all at once.
    let fallback_at = |what: &str| {
        log.iter()
            .find(|d| d.kind == "fallback" && d.entity == "cache" && d.reason.contains(what))
            .map(|d| d.t)
    };
    let (back, fresh) = (
        fallback_at("gradually").expect("returns gradually"),
        fallback_at("fresh data again").expect("fresh again"),
    );
    assert!(
        fresh - back >= 3.0 - 1e-6,
        "gradual return from {back}s to {fresh}s"
    );
    let during: Vec<f64> = series(&sim, "cache", "stale_served")
        .into_iter()
        .filter(|x| x.0 > back && x.0 <= fresh + 1.0)
        .map(|x| x.1)
        .collect();
    assert!(
        during.windows(2).all(|w| w[1] <= w[0]) && during.first() > during.last(),
        "stale answers fall step by step: {during:?}"
    );
    assert!(
        goodput(242.0, 262.0) < 0.9 * peak,
        "the incident costs goodput"
    );
    assert!(
        goodput(290.0, 300.0) > 0.97 * peak,
        "recovered: {} vs {peak}",
        goodput(290.0, 300.0)
    );
    // A 40% slowdown lands between two control cycles: its queue (1,000, a fiftieth of a second
    // of work) may overflow before the next cycle cuts the senders, and never after.
    let late_drops: Vec<(f64, f64)> = series(&sim, "database", "dropped")
        .into_iter()
        .filter(|x| x.1 > 0.0 && !(x.0 > 240.0 && x.0 <= 242.0))
        .collect();
    assert!(
        late_drops.is_empty(),
        "the database drops only in the incident's first cycle: {late_drops:?}"
    );
    assert!(
        db.dropped * 10_000 <= db.arrivals,
        "the database drops {} of {}",
        db.dropped,
        db.arrivals
    );
    // The cache serves stale data while the database is RED or CRITICAL, and only then.
    let stale: f64 = series(&sim, "cache", "stale_served")
        .iter()
        .filter(|x| x.0 > 100.0 && x.0 <= 300.0)
        .map(|x| x.1)
        .sum();
    let stale_before: f64 = series(&sim, "cache", "stale_served")
        .iter()
        .filter(|x| x.0 <= 60.0)
        .map(|x| x.1)
        .sum();
    assert!(
        stale > 0.0 && stale_before == 0.0,
        "stale at the peak {stale}, before {stale_before}"
    );
    assert!(
        log.iter()
            .any(|d| d.kind == "fallback" && d.entity == "cache")
    );
    // The load balancer asks its web servers' health directly, through a 100 ms cache.
    let queries = series(&sim, "lb->web", "health_queries").last().unwrap().1;
    let hits = series(&sim, "lb->web", "health_cache_hits")
        .last()
        .unwrap()
        .1;
    assert!(
        queries >= 4000.0 && hits > 100.0 * queries,
        "queries {queries}, cache hits {hits}"
    );
    // Web server 2 runs at half speed at t = 150-210 s: its health falls below the others' and
    // the load balancer, routing by health, sends it clearly less; before and after, the three
    // share evenly.
    let per_instance = |metric: &str, k: usize, a: f64, b: f64| {
        let v: Vec<f64> = series(&sim, &format!("web#{k}"), metric)
            .iter()
            .filter(|x| x.0 > a && x.0 <= b)
            .map(|x| x.1)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let (slow, ok) = (
        per_instance("arrivals", 2, 155.0, 210.0),
        per_instance("arrivals", 0, 155.0, 210.0),
    );
    assert!(
        slow < 0.75 * ok,
        "web#2 {slow}/s vs web#0 {ok}/s while slow"
    );
    assert!(
        per_instance("health", 2, 155.0, 210.0) < per_instance("health", 0, 155.0, 210.0),
        "the slow one is less healthy"
    );
    for (a, b) in [(20.0, 140.0), (230.0, 440.0)] {
        let (x, y) = (
            per_instance("arrivals", 2, a, b),
            per_instance("arrivals", 0, a, b),
        );
        assert!(
            (x - y).abs() < 0.05 * y,
            "even share at {a}-{b}s: {x} vs {y}"
        );
    }
    // After the spike the database is back to its baseline health and the limits are lifted.
    let late = mean(440.0, 500.0);
    assert!(
        late > mean(150.0, 300.0) && late > 70.0,
        "recovered score {late}"
    );
    let limit = series(&sim, "web->database", "rate_limit");
    let limited_late = limit.iter().filter(|x| x.0 > 440.0 && x.1 > 0.0).count();
    assert!(
        limited_late < 20,
        "limits mostly lifted after the spike: {limited_late} of 60 samples limited"
    );
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn the_same_overload_crashes_without_backpressure_and_degrades_gracefully_with_it() {
    let mut off = simulation_app(load_shipped("no_backpressure.ron"));
    off.run_for(30.0);
    let mut on = simulation_app(load_shipped("with_backpressure.ron"));
    on.run_for(30.0);
    let (a, b) = (off.summary(), on.summary());
    assert!(
        a.component("database").unwrap().crashes > 0,
        "off: the database runs out of memory"
    );
    assert_eq!(
        b.component("database").unwrap().crashes,
        0,
        "on: it never does"
    );
    let goodput = |sim: &Simulation| {
        series(sim, "system", "goodput")
            .iter()
            .filter(|x| x.0 > 10.0)
            .map(|x| x.1)
            .sum::<f64>()
            / 20.0
    };
    let (g_off, g_on) = (goodput(&off), goodput(&on));
    // The database serves 50K/s at most; with flow control it is kept at its safe rate (45K/s).
    assert!(g_off < 10_000.0, "off: goodput collapses ({g_off}/s)");
    assert!(
        g_on > 40_000.0,
        "on: goodput stays near capacity ({g_on}/s)"
    );
    let log = decisions(&on);
    assert!(log.iter().any(|d| d.kind == "rate_change"
        && d.entity == "web->database"
        && d.urgency == Some("immediate")));
    assert!(decisions(&off).iter().any(|d| d.kind == "crash"));
}

#[test]
fn a_breaker_opens_after_sustained_errors_sheds_low_priority_probes_and_closes() {
    let mut sim = simulation_app(load_shipped("breaker.ron"));
    sim.run_for(300.0);
    let log = decisions(&sim);
    let transitions: Vec<(f64, String)> = log
        .iter()
        .filter(|d| d.kind == "breaker" && d.entity == "checkout->payments")
        .map(|d| (d.t, d.state.clone().unwrap_or_default()))
        .collect();
    let opened = transitions
        .iter()
        .find(|x| x.1 == "CLOSED -> OPEN")
        .expect("the breaker opens")
        .0;
    assert!(
        (60.0..=62.0).contains(&opened),
        "errors start at 30 s and must last 30 s: opened at {opened}"
    );
    let probes: Vec<f64> = transitions
        .iter()
        .filter(|x| x.1 == "OPEN -> HALF-OPEN")
        .map(|x| x.0)
        .collect();
    assert!(
        probes.windows(2).all(|w| w[1] - w[0] >= 30.0 - 1e-6),
        "probes 30 s apart: {probes:?}"
    );
    let closed = transitions
        .iter()
        .find(|x| x.1 == "HALF-OPEN -> CLOSED")
        .expect("closes after recovery")
        .0;
    assert!(
        closed > 120.0 + 60.0 - 1.0,
        "closes after 60 s of stable HALF-OPEN once the bank is back: {closed}"
    );
    assert!(
        log.iter()
            .any(|d| d.kind == "outage" && d.entity == "bank#0")
    );
    // While open, about 90% of MEDIUM and LOW calls (70% of traffic) are refused at once.
    let refused = series(&sim, "checkout->payments", "breaker_refused");
    let offered = series(&sim, "checkout->payments", "demand");
    let at = |v: &Vec<(f64, f64)>, t: f64| v.iter().find(|x| (x.0 - t).abs() < 1e-9).unwrap().1;
    let share = (at(&refused, 85.0) - at(&refused, 65.0))
        / offered
            .iter()
            .filter(|x| x.0 > 65.0 && x.0 <= 85.0)
            .map(|x| x.1)
            .sum::<f64>();
    assert!(
        (share - 0.63).abs() < 0.08,
        "refused share while OPEN: {share}"
    );
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn autoscaling_adds_instances_under_overload_and_removes_them_when_idle() {
    let mut sim = simulation_app(load_shipped("autoscale.ron"));
    sim.run_for(320.0);
    let up = series(&sim, "api", "instances_up");
    let at = |t: f64| up.iter().find(|x| (x.0 - t).abs() < 1e-9).unwrap().1;
    assert_eq!(at(30.0), 2.0, "starts with 2");
    assert!(
        up.iter().all(|x| (2.0..=6.0).contains(&x.1)),
        "within min and max"
    );
    assert!(
        at(150.0) >= 4.0,
        "scaled up for 3000/s on 800/s instances: {}",
        at(150.0)
    );
    assert_eq!(at(320.0), 2.0, "back to the minimum after traffic falls");
    let log = decisions(&sim);
    let ups: Vec<f64> = log
        .iter()
        .filter(|d| d.kind == "scale_up")
        .map(|d| d.t)
        .collect();
    assert!(
        ups.windows(2).all(|w| w[1] - w[0] >= 20.0 - 1e-6),
        "cooldown between actions: {ups:?}"
    );
    assert!(
        ups.first().is_some_and(|t| *t > 30.0 && *t < 40.0),
        "reacts to the step: {ups:?}"
    );
    assert!(log.iter().any(|d| d.kind == "scale_down"));
    assert!(
        !log.iter().any(|d| d.kind == "outage"),
        "scaling is not an outage"
    );
    // Once scaled, the service keeps up: goodput near the offered 3000/s.
    let goodput: f64 = series(&sim, "system", "goodput")
        .iter()
        .filter(|x| x.0 > 120.0 && x.0 <= 200.0)
        .map(|x| x.1)
        .sum::<f64>()
        / 80.0;
    assert!(goodput > 2900.0, "goodput {goodput}");
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn predictive_backpressure_caps_the_senders_before_a_flash_sale_overloads_checkout() {
    let run = |predictive: bool| {
        let mut s = load_shipped("flash_sale.ron");
        s.backpressure.predictive = predictive;
        let mut sim = simulation_app(s);
        sim.run_for(60.0);
        sim
    };
    let (mut reactive, mut predictive) = (run(false), run(true));
    let first_cap = |sim: &Simulation| {
        decisions(sim)
            .into_iter()
            .find(|d| d.kind == "rate_change" && d.entity == "storefront->checkout")
            .expect("capped")
    };
    // When the checkout service's arrivals first pass its safe rate (9,000/s: 10,000/s less
    // the 10% buffer).
    let crossed = series(&reactive, "checkout", "arrivals")
        .into_iter()
        .find(|x| x.1 > 9_000.0)
        .expect("the sale overloads checkout")
        .0;
    // Predictive: capped from the forecast, at the safe rate, before the traffic got there.
    let p = first_cap(&predictive);
    assert_eq!(p.reason, "forecast_overload");
    assert!(
        p.t < crossed,
        "predictive cap at {}s, traffic crossed at {crossed}s",
        p.t
    );
    assert!((p.new.unwrap() - 9_000.0).abs() < 1.0, "{:?}", p.new);
    // Reactive: capped only once the traffic was past it, a cycle later.
    let r = first_cap(&reactive);
    assert!(r.t >= crossed && r.t > p.t, "reactive cap at {}s", r.t);
    // So the reactive checkout queue overflows and the predictive one does not.
    let (a, b) = (reactive.summary(), predictive.summary());
    let (ra, pr) = (
        a.component("checkout").unwrap(),
        b.component("checkout").unwrap(),
    );
    assert!(ra.dropped > 1_000, "reactive drops {}", ra.dropped);
    assert!(
        pr.dropped * 100 <= ra.dropped,
        "predictive drops {}",
        pr.dropped
    );
    assert!(
        pr.peak_queue < 100,
        "predictive peak queue {}",
        pr.peak_queue
    );
    // The early cap costs next to nothing: checkout serves within 1% of the reactive run.
    assert!(
        pr.served as f64 > 0.99 * ra.served as f64,
        "served {} vs {}",
        pr.served,
        ra.served
    );
    assert!(reactive.violations().is_empty() && predictive.violations().is_empty());
}

#[test]
fn a_sender_reroutes_to_its_alternative_while_the_target_is_down_and_comes_back() {
    let mut sim = simulation_app(load_shipped("failover.ron"));
    sim.run_for(100.0);
    let log = decisions(&sim);
    let fallback = |what: &str| {
        log.iter()
            .find(|d| d.kind == "fallback" && d.entity == "api->primary" && d.reason.contains(what))
            .map(|d| d.t)
    };
    // The primary goes down at 30 s; three failed checks later the API reroutes to the replica,
    // and goes back once the primary answers again (it is back at 70 s).
    let out = fallback("rerouting to replica").expect("reroutes");
    let back = fallback("back on its own route").expect("comes back");
    assert!(out > 30.0 && out < 36.0, "rerouted at {out}s");
    assert!(back > 70.0 && back < 78.0, "back at {back}s");
    assert!(
        log.iter()
            .any(|d| d.kind == "health_check" && d.entity == "api->primary")
    );
    let mean = |entity: &str, metric: &str, a: f64, b: f64| {
        let v: Vec<f64> = series(&sim, entity, metric)
            .iter()
            .filter(|x| x.0 > a && x.0 <= b)
            .map(|x| x.1)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    // While rerouted the replica serves the reads and goodput holds at the offered 3,000/s.
    assert_eq!(mean("replica", "served", 0.0, 30.0), 0.0);
    assert!(mean("replica", "served", 40.0, 68.0) > 2700.0);
    assert!(mean("system", "goodput", 40.0, 68.0) > 2850.0);
    // Afterwards the primary serves everything again.
    assert!(mean("replica", "served", 80.0, 100.0) < 1.0);
    assert!(mean("primary", "served", 80.0, 100.0) > 2850.0);
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn requests_carry_the_flow_control_headers_of_the_link_they_crossed() {
    use flowlab::sim::control::health::HealthBand;
    use flowlab::sim::flow::core::FlowCore;
    use flowlab::sim::flow::request::FlowHeaders;
    let mut sim = simulation_app(load_shipped("netflix_friday.ron"));
    // Mid-cycle, so every request in transit was stamped after the last control cycle; at the
    // peak, at a second when the web servers' limit to the database is in force.
    sim.run_for(150.5);
    let to_db = |sim: &Simulation| {
        let w = sim.world();
        (w.resource::<FlowCore>().links.iter())
            .find(|l| l.name == "web->database")
            .and_then(|l| l.flow.limit)
    };
    while to_db(&sim).is_none() {
        assert!(
            sim.now() < 300 * 1_000_000_000,
            "web->database never limited at the peak"
        );
        sim.run_for(1.0);
    }
    let w = sim.world();
    let topo = w.resource::<flowlab::sim::schedule::topology::Topology>();
    let link = (w.resource::<FlowCore>().links.iter())
        .find(|l| l.name == "web->database")
        .expect("link");
    let limit = link.flow.limit.expect("limited at the peak");
    let heard = link.flow.view.answer.expect("asked").status;
    let web = w
        .get::<flowlab::sim::control::health::HealthStatus>(topo.component("web").unwrap().entity)
        .unwrap()
        .status;
    let in_transit: Vec<FlowHeaders> = link.forward.iter().map(|t| t.msg.headers).collect();
    assert!(!in_transit.is_empty());
    for h in &in_transit {
        assert_eq!(h.max_rate, limit as f32, "max rate: the sender's limit");
        assert_eq!(h.target_status, heard as u8, "expected target health");
        assert_eq!(h.sender_status, web as u8, "sender health");
        assert_eq!(h.breaker, 0, "breaker CLOSED");
        assert!(h.reason() != "none", "a reason while limited: {h:?}");
        assert_eq!(h.retry_policy(), "exponential_backoff_2_times");
        assert_eq!(h.alternatives, 0, "one database instance, no alternative");
    }
    assert_ne!(
        heard,
        HealthBand::Green,
        "the database is stressed at the peak"
    );
}

#[test]
fn names_with_control_characters_and_the_reserved_name_system_are_refused() {
    let with_name = |n: &str| {
        format!(
            r#"(name: "n", sources: [(name: "c", rate: Constant(10.0), flows: [(name: "f", path: [To("{n}")])])],
            components: [(name: "{n}", kind: Service, service: (mean_ms: Some(1.0)))],
            links: [(from: "c", to: "{n}")])"#
        )
    };
    let err = |text: String| {
        flowlab::scenario::parse(&text, std::path::Path::new("x.ron"))
            .expect_err("refused")
            .to_string()
    };
    let e = err(with_name("system"));
    assert!(
        e.contains("components[0].name") && e.contains("reserved"),
        "{e}"
    );
    // A terminal escape sequence (ESC [ 2 J) in a name is refused and never echoed raw.
    let e = err(with_name("db\\u{1b}[2J"));
    assert!(
        e.contains("U+001B at character 3") && !e.contains('\u{1b}'),
        "{e}"
    );
}

#[test]
fn autoscaling_is_validated_like_every_other_field() {
    let with = |instances: u32, autoscale: &str| {
        let text = format!(
            r#"(name: "a", sources: [(name: "c", rate: Constant(10.0), flows: [(name: "f", path: [To("s")])])],
            components: [(name: "s", kind: Service, instances: {instances}, service: (mean_ms: Some(1.0)), autoscale: Some({autoscale}))],
            links: [(from: "c", to: "s")])"#
        );
        flowlab::scenario::parse(&text, std::path::Path::new("a.ron")).map_err(|e| e.to_string())
    };
    let e = with(1, "(min: 1, max: 1000000000)").expect_err("a billion spares");
    assert!(
        e.contains("components[0].autoscale.min") && e.contains("10000"),
        "{e}"
    );
    let e = with(20, "(min: 5, max: 2)").expect_err("min above max");
    assert!(e.contains("min 5 and max 2"), "{e}");
    let e = with(20, "(min: 2, max: 10)").expect_err("starts outside the range");
    assert!(e.contains("starts with 20 instances"), "{e}");
    let e = with(2, "(min: 1, max: 4, warmup_speed: 0.0)").expect_err("no speed");
    assert!(e.contains("autoscale.warmup_speed"), "{e}");
    assert!(with(2, "(min: 1, max: 4)").is_ok());
}

#[test]
fn a_tiny_engine_is_refused_instead_of_serving_instantly() {
    let text = |cores: &str| {
        format!(
            r#"(name: "t", sources: [(name: "c", rate: Constant(10.0), flows: [(name: "f", path: [To("s")])])],
            components: [(name: "s", kind: Service, service: (demand: (cpu_ms: 1.0)), engines: (cpu_cores: {cores}))],
            links: [(from: "c", to: "s")])"#
        )
    };
    let e = flowlab::scenario::parse(&text("1e-20"), std::path::Path::new("t.ron"))
        .expect_err("refused")
        .to_string();
    assert!(
        e.contains("components[0].engines") && e.contains("1e20 ms per request"),
        "{e}"
    );
    // Slow but countable: nothing completes in a second (no wrap to instant service).
    let mut sim = simulation_app(flowlab::testing::parse(&text("0.0000002")));
    sim.run_for(1.0);
    assert_eq!(
        sim.summary()
            .system
            .ended(flowlab::sim::flow::request::Outcome::Completed),
        0
    );
}

/// breaker.ron with the bank failing 80% of payments for 250 s from t = 30 s instead of an outage.
fn failing_bank(share: f64) -> flowlab::scenario::Scenario {
    let mut s = load_shipped("breaker.ron");
    s.faults = vec![flowlab::scenario::FaultSpec {
        component: "bank".into(),
        instance: 0,
        all_instances: false,
        link: None,
        at_s: 30.0,
        for_s: 250.0,
        slowdown: None,
        errors: Some(share),
        added_latency_ms: None,
        loss: None,
        lost_after_ms: None,
    }];
    s.sim.duration_s = 520.0;
    s
}

#[test]
fn a_breaker_never_closes_on_a_target_that_still_fails_most_requests() {
    let mut sim = simulation_app(failing_bank(0.8));
    sim.run_for(520.0);
    let log = decisions(&sim);
    let transitions: Vec<(f64, String)> = log
        .iter()
        .filter(|d| d.kind == "breaker" && d.entity == "checkout->payments")
        .map(|d| (d.t, d.state.clone().unwrap_or_default()))
        .collect();
    assert!(
        log.iter()
            .any(|d| d.kind == "errors" && d.entity == "bank#0"),
        "the error fault is in the decision log"
    );
    // Errors pass the threshold at 30 s; over_for_s is 30 s: open 30 s later, within a tick.
    let opened = transitions
        .iter()
        .find(|x| x.1 == "CLOSED -> OPEN")
        .expect("the breaker opens")
        .0;
    assert!(
        (opened - 60.0).abs() <= 0.0011,
        "opened at {opened} s, not 30 s after the errors began"
    );
    // While 80% still fail, the probe never calls the target healthy and nothing closes.
    let during: Vec<&(f64, String)> = transitions
        .iter()
        .filter(|x| x.0 < 280.0 && (x.1.ends_with("-> CLOSED") || x.1.ends_with("-> HALF-OPEN")))
        .collect();
    assert!(
        during.is_empty(),
        "closed or half-opened on a failing target: {during:?}"
    );
    // Once the errors end it recovers: probe, HALF-OPEN, CLOSED. (Payments' own breaker to
    // the bank recovers first; while it is HALF-OPEN its refusals are payments' failures too.)
    let closed = transitions
        .iter()
        .find(|x| x.1 == "HALF-OPEN -> CLOSED")
        .expect("closes after the errors end")
        .0;
    assert!(
        (280.0..=500.0).contains(&closed),
        "closed at {closed}: {transitions:?}"
    );
    // HIGH and CRITICAL (30% of payments) still pass while OPEN, with a tenth of the rest.
    let arrivals = series(&sim, "payments", "arrivals");
    let mean = |a: f64, b: f64| {
        let v: Vec<f64> = arrivals
            .iter()
            .filter(|x| x.0 > a && x.0 <= b)
            .map(|x| x.1)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let share = mean(100.0, 250.0) / mean(10.0, 30.0);
    assert!(
        (0.30..0.45).contains(&share),
        "while OPEN payments gets {share:.2} of its traffic (0.3 HIGH+CRITICAL + 0.07)"
    );
    assert!(sim.violations().is_empty(), "{:?}", sim.violations());
}

#[test]
fn a_cycle_of_synchronous_calls_that_deadlocks_is_named_in_the_summary() {
    let text = |workers_b: u32| {
        format!(
            r#"(name: "A calls B calls A", sim: (duration_s: 20.0),
            sources: [(name: "c", rate: Constant(200.0), flows: [(name: "f", path: [To("a"), To("b"), To("a")])])],
            components: [
                (name: "a", kind: Service, workers: 4, service: (mean_ms: 5.0)),
                (name: "b", kind: Service, workers: {workers_b}, service: (mean_ms: 5.0)),
            ],
            links: [(from: "c", to: "a"), (from: "a", to: "b"), (from: "b", to: "a")])"#
        )
    };
    let summary = |t: String| {
        let s = flowlab::scenario::parse(&t, std::path::Path::new("cycle.ron")).unwrap();
        let mut sim = Simulation::new(s);
        sim.run_for(20.0);
        sim.summary()
    };
    let stuck = summary(text(4));
    assert_eq!(
        stuck.system.deadlock,
        Some(vec!["a".to_string(), "b".into(), "a".into()])
    );
    assert!(stuck.render().contains("deadlock: a -> b -> a"));
    // At 1/s the cycle never fills: no deadlock is claimed.
    let calm = summary(text(4).replace("Constant(200.0)", "Constant(1.0)"));
    assert_eq!(calm.system.deadlock, None);
    assert!(!calm.render().contains("deadlock"));
}
