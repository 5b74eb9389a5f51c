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
const GOLDEN: &str = "6b563007ab086c554d1fc5f709e4464accfd1eb81ca9255430ed645b24b2313c";

#[test]
fn golden_hash_of_netflix_friday() {
    let (_, digest) = csv_of("netflix_friday.ron", 2024, 20.0);
    assert_eq!(
        digest, GOLDEN,
        "the metrics of netflix_friday.ron changed. If the change of behaviour is intended, \
         set GOLDEN in tests/it/determinism.rs to {digest} and say why in the commit message."
    );
}
