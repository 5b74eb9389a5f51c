//! Builders shared by the tests and benchmarks: scenarios from text or from `scenarios/`, run
//! with the conservation check on.

use crate::runner::Simulation;
use crate::scenario::{self, Scenario};
use std::path::{Path, PathBuf};

/// Path of a shipped scenario file.
pub fn scenario_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

/// Loads a shipped scenario, panicking with the error text if it is invalid (tests only).
pub fn load_shipped(name: &str) -> Scenario {
    scenario::load(&scenario_path(name)).unwrap_or_else(|e| panic!("{e}"))
}

/// Parses scenario text, panicking with the error text if it is invalid (tests only).
pub fn parse(text: &str) -> Scenario {
    scenario::parse(text, Path::new("<test>")).unwrap_or_else(|e| panic!("{e}"))
}

/// A simulation with the per-tick conservation check on and metrics kept in memory.
pub fn simulation_app(s: Scenario) -> Simulation {
    let mut sim = Simulation::new(s);
    sim.check_conservation(true);
    sim.keep_metrics();
    sim
}
