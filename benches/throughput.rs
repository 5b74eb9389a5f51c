//! Throughput benchmarks (release build, one core: the simulation schedule is single-threaded).
//! Prints simulated seconds per wall second and simulated requests per wall second for an
//! M/M/1 workload, netflix_friday at its stated real volumes, and a generated topology of 1,000
//! components carrying 100K requests/s. Run with `cargo bench --bench throughput`; figures are
//! recorded in docs/PERFORMANCE.md.

use flowlab::runner::Simulation;
use flowlab::testing::{generated_topology, load_shipped, parse};
use std::time::Instant;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.to_string())
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn bench(name: &str, mut sim: Simulation, seconds: f64) {
    let started = Instant::now();
    sim.run_for(seconds);
    let wall = started.elapsed().as_secs_f64();
    let s = sim.summary();
    let requests = s.system.generated as f64
        / sim
            .world()
            .resource::<flowlab::sim::topology::Topology>()
            .unit as f64;
    let hops: u64 = s.components.iter().map(|c| c.arrivals).sum();
    println!(
        "{name:<40} {seconds:>6.0} sim s in {wall:>7.2} wall s = {:>8.1}x real time | {:>11.0} simulated requests/s | {:>11.0} real requests/s | {:>11.0} hops/s | peak RSS {:.0} MB",
        seconds / wall,
        requests / wall,
        s.system.generated as f64 / wall,
        hops as f64 / wall,
        peak_rss_mb()
    );
}

fn main() {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wants = |n: &str| filter.as_ref().is_none_or(|f| n.contains(f.as_str()));
    println!("flowlab throughput (single-threaded)");
    if wants("mm1") {
        let text = r#"(
            name: "M/M/1 fast", sim: (tick_ms: 1.0),
            sources: [(name: "c", rate: Constant(500000.0), flows: [(name: "f", path: [To("s")])])],
            components: [(name: "s", kind: Service, queue: Unbounded, service: (mean_ms: Some(0.0016)))],
            links: [(from: "c", to: "s")],
        )"#;
        bench("mm1 (500K/s, rho 0.8)", Simulation::new(parse(text)), 20.0);
    }
    if wants("netflix") {
        bench(
            "netflix_friday (100K-150K real req/s)",
            Simulation::new(load_shipped("netflix_friday.ron")),
            600.0,
        );
    }
    if wants("generated") {
        let s = parse(&generated_topology(100, 10, 100_000.0));
        assert_eq!(s.components.len(), 1000);
        bench(
            "generated 1000 components, depth 10",
            Simulation::new(s),
            30.0,
        );
        let s = parse(&generated_topology(200, 5, 100_000.0));
        assert_eq!(s.components.len(), 1000);
        bench(
            "generated 1000 components, depth 5",
            Simulation::new(s),
            30.0,
        );
    }
}
