//! Every shipped scenario validates, runs with conservation holding every tick, and tells the
//! story it claims.

use flowlab::runner::Simulation;
use flowlab::sim::request::Outcome;
use flowlab::testing::{load_shipped, scenario_path, simulation_app};

fn shipped() -> Vec<String> {
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
            .resource::<flowlab::sim::verify::Conservation>()
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

/// Metric `metric` of `entity` per sample, from the CSV.
fn series(sim: &Simulation, entity: &str, metric: &str) -> Vec<(f64, f64)> {
    let csv = sim.metrics_csv().expect("kept");
    csv.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1] == entity && f[2] == metric)
                .then(|| (f[0].parse().unwrap(), f[3].parse().unwrap()))
        })
        .collect()
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
fn netflix_friday_spike_overloads_the_database_at_the_peak() {
    let mut sim = simulation_app(load_shipped("netflix_friday.ron"));
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
