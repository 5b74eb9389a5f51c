//! Same scenario and seed, byte-identical metrics; a golden hash guards against accidental
//! changes to the engine's behaviour.

use flowlab::testing::{load_shipped, simulation_app};

fn csv_of(name: &str, seed: u64, seconds: f64) -> (String, String) {
    let mut s = load_shipped(name);
    s.sim.seed = seed;
    let mut sim = simulation_app(s);
    sim.run_for(seconds);
    (
        sim.metrics_csv().expect("kept in memory"),
        sim.metrics_digest(),
    )
}

#[test]
fn same_seed_gives_byte_identical_metrics_and_another_seed_does_not() {
    let (a, ha) = csv_of("netflix_friday.ron", 5, 15.0);
    let (b, hb) = csv_of("netflix_friday.ron", 5, 15.0);
    assert_eq!(ha, hb);
    assert!(a == b, "two runs with one seed differ");
    let (_, hc) = csv_of("netflix_friday.ron", 6, 15.0);
    assert_ne!(ha, hc, "another seed should give other numbers");
}

/// SHA-256 of the metrics CSV of `netflix_friday.ron`, seed 2024, first 20 simulated seconds.
const GOLDEN: &str = "c0c966345d7e8a124096221a1d45f6c0181266c4c522f95deab73a8f9be39c14";

#[test]
fn golden_hash_of_netflix_friday() {
    let (_, digest) = csv_of("netflix_friday.ron", 2024, 20.0);
    assert_eq!(
        digest, GOLDEN,
        "the metrics of netflix_friday.ron changed. If the change of behaviour is intended, \
         set GOLDEN in tests/it/determinism.rs to {digest} and say why in the commit message."
    );
}

#[test]
fn skipping_idle_ticks_changes_no_output() {
    // Every shipped scenario, and the slow M/M/1 (0.8 arrivals a tick: many idle ticks), run
    // with idle ticks skipped and plain ticks run in stretches (`SimFlowTick`), and with every
    // tick through `SimTick`: the same metrics, the same events and decisions, the same clock.
    let dir = std::path::Path::new("scenarios");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.ends_with(".ron"))
        .collect();
    names.sort();
    let (mut skipped_any, mut stretched_any) = (false, false);
    // Each scenario as shipped, and with its traffic at 2% (sparse: most ticks idle, its
    // faults, timeouts, retries and restarts still falling inside idle stretches).
    for (name, factor) in names
        .iter()
        .flat_map(|n| [(n.clone(), 1.0), (n.clone(), 0.02)])
    {
        let run = |skip: bool| {
            let s = load_shipped(&name);
            let sources: Vec<String> = s.sources.iter().map(|x| x.name.clone()).collect();
            let mut sim = simulation_app(s);
            for source in sources {
                sim.command(flowlab::sim::door::command::SimCommand::ScaleTraffic {
                    source,
                    factor,
                });
            }
            sim.skip_idle(skip);
            // Conservation is checked after every tick, so it holds stretches to one tick: the
            // run with shortcuts leaves it off to run stretches of plain ticks in one go.
            sim.check_conservation(!skip);
            let mut calls = 0u64;
            let end = sim.now() + 12_000_000_000;
            sim.run_until(end, |_| calls += 1);
            let ticks = sim.world().resource::<flowlab::sim::SimClock>().ticks;
            let shortcuts = *sim
                .world()
                .resource::<flowlab::sim::schedule::idle::SkipIdle>();
            (
                sim.metrics_digest(),
                sim.decisions_jsonl(),
                sim.now(),
                ticks,
                sim.violations(),
                (calls, shortcuts.skipped, shortcuts.stretched),
            )
        };
        let (on, off) = (run(true), run(false));
        assert_eq!(on.0, off.0, "{name} x{factor}: metrics differ");
        assert!(on.1 == off.1, "{name} x{factor}: decisions differ");
        assert_eq!(
            (on.2, on.3),
            (off.2, off.3),
            "{name} x{factor}: clock differs"
        );
        assert!(on.4.is_empty() && off.4.is_empty(), "{name}: {:?}", on.4);
        assert_eq!((off.5.1, off.5.2), (0, 0));
        skipped_any |= on.5.1 > 1_000 && on.5.0 < off.5.0;
        stretched_any |= on.5.2 > on.3 / 2;
    }
    assert!(skipped_any, "some scenario has idle ticks to skip");
    assert!(stretched_any, "some scenario runs most ticks in stretches");
}

#[test]
fn the_memory_guard_stops_a_run_at_the_same_tick_whether_ticks_run_in_stretches_or_not() {
    // The flood (`cli::FLOOD`): the guard stops the run at an engine update inside a stretch
    // of plain ticks; it must stop at the tick, with the message, of the tick-by-tick run.
    let run = |shortcuts: bool| {
        let mut sim = simulation_app(flowlab::testing::parse(crate::cli::FLOOD));
        sim.skip_idle(shortcuts);
        sim.check_conservation(!shortcuts);
        sim.run_for(60.0);
        let stretched = sim
            .world()
            .resource::<flowlab::sim::schedule::idle::SkipIdle>()
            .stretched;
        (sim.halted(), sim.now(), sim.metrics_digest(), stretched)
    };
    let (on, off) = (run(true), run(false));
    assert!(
        on.0.as_deref()
            .is_some_and(|m| m.contains("past sim.max_held")),
        "{:?}",
        on.0
    );
    assert_eq!((&on.0, on.1, &on.2), (&off.0, off.1, &off.2));
    assert!(on.3 > 100 && off.3 == 0, "stretches: {} / {}", on.3, off.3);
}
