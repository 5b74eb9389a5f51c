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

/// A generated topology for scale benchmarks: `chains` independent flows, each a chain of
/// `depth` components joined by synchronous calls, fed by one source at `rate` requests/s split
/// evenly. Every component runs at about half its capacity.
pub fn generated_topology(chains: usize, depth: usize, rate: f64) -> String {
    let per_chain = rate / chains as f64;
    // Each component: 64 workers, enough for the synchronous calls below it to be waited on;
    // its own service keeps them half busy at `per_chain`.
    let mean_ms = 0.5 * 64.0 / per_chain * 1000.0 / depth as f64;
    let mut flows = String::new();
    let mut comps = String::new();
    let mut links = String::new();
    for c in 0..chains {
        let names: Vec<String> = (0..depth).map(|d| format!("c{c}_{d}")).collect();
        let path: Vec<String> = names.iter().map(|n| format!("To(\"{n}\")")).collect();
        flows.push_str(&format!(
            "(name: \"chain{c}\", path: [{}]),\n",
            path.join(", ")
        ));
        for (d, n) in names.iter().enumerate() {
            comps.push_str(&format!(
                "(name: \"{n}\", kind: Service, workers: 64, queue: Bounded(1000), service: (mean_ms: Some({mean_ms}))),\n"
            ));
            let from = if d == 0 {
                "users".to_string()
            } else {
                names[d - 1].clone()
            };
            links.push_str(&format!(
                "(from: \"{from}\", to: \"{n}\", latency: (mean_ms: 0.2)),\n"
            ));
        }
    }
    format!(
        "(name: \"generated {chains}x{depth}\", sim: (duration_s: 10.0),
          sources: [(name: \"users\", rate: Constant({rate}), flows: [{flows}])],
          components: [{comps}],
          links: [{links}])"
    )
}
