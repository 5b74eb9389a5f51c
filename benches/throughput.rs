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
            .resource::<flowlab::sim::schedule::topology::Topology>()
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

/// The practical floor: a minimal hand-written M/M/1 event loop (a `BinaryHeap` of events, a
/// FIFO, exponential draws from the same ChaCha generator), for the ratio flowlab / floor.
/// Returns (customers served, mean time in system in ms, wall seconds).
fn floor_mm1(lambda: f64, mu: f64, customers: u64) -> (u64, f64, f64) {
    use rand::SeedableRng;
    use rand_distr::{Distribution, Exp};
    use std::cmp::Reverse;
    use std::collections::{BinaryHeap, VecDeque};
    let started = Instant::now();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let (arrive, serve) = (Exp::new(lambda).unwrap(), Exp::new(mu).unwrap());
    // Events: (time in ns, kind 0 arrival / 1 departure).
    let mut events = BinaryHeap::new();
    let mut queue: VecDeque<u64> = VecDeque::new();
    let mut busy = false;
    let (mut done, mut sum_ns) = (0u64, 0f64);
    let (mut arrived, mut in_service) = (0u64, 0u64);
    events.push(Reverse(((arrive.sample(&mut rng) * 1e9) as u64, 0u8)));
    while let Some(Reverse((t, kind))) = events.pop() {
        if kind == 0 {
            arrived += 1;
            if arrived < customers {
                events.push(Reverse((t + (arrive.sample(&mut rng) * 1e9) as u64, 0)));
            }
            if busy {
                queue.push_back(t);
            } else {
                busy = true;
                in_service = t;
                events.push(Reverse((t + (serve.sample(&mut rng) * 1e9) as u64, 1)));
            }
        } else {
            done += 1;
            sum_ns += (t - in_service) as f64;
            match queue.pop_front() {
                Some(a) => {
                    in_service = a;
                    events.push(Reverse((t + (serve.sample(&mut rng) * 1e9) as u64, 1)));
                }
                None => busy = false,
            }
        }
    }
    (
        done,
        sum_ns / done.max(1) as f64 / 1e6,
        started.elapsed().as_secs_f64(),
    )
}

fn main() {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wants = |n: &str| filter.as_ref().is_none_or(|f| n.contains(f.as_str()));
    println!("flowlab throughput (single-threaded)");
    if wants("floor") {
        // scenarios/mm1.ron's system (800/s into 1,000/s): 1M customers, against flowlab on the
        // shipped file (1 ms tick) and with a coarse tick (1 s: the same results).
        let (n, w, wall) = floor_mm1(800.0, 1000.0, 1_000_000);
        println!(
            "{:<40} {n} customers in {wall:>7.3} wall s = {:>6.3} us per customer (W = {w:.3} ms)",
            "floor: hand-written M/M/1 event loop",
            wall / n as f64 * 1e6
        );
        for tick in [1.0, 1000.0] {
            let mut s = load_shipped("mm1.ron");
            s.sim.tick_ms = tick;
            s.sim.duration_s = 1250.0;
            let started = Instant::now();
            let mut sim = Simulation::new(s);
            sim.run_for(1250.0);
            let secs = started.elapsed().as_secs_f64();
            let g = sim.summary().system.generated;
            println!(
                "{:<40} {g} customers in {secs:>7.3} wall s = {:>6.3} us per customer = {:.1}x the floor",
                format!("flowlab mm1.ron, tick {tick} ms"),
                secs / g as f64 * 1e6,
                (secs / g as f64) / (wall / n as f64)
            );
        }
    }
    if wants("idle") {
        // Sparse traffic: scenarios/mm1.ron at 20 requests/s (1 ms tick), 2,000 simulated s,
        // so 98% of the 2M ticks have nothing due; idle ticks skipped, then every tick run.
        for skip in [true, false] {
            let mut s = load_shipped("mm1.ron");
            s.sources[0].rate = flowlab::scenario::RateSchedule::Constant(20.0);
            s.sim.duration_s = 2000.0;
            let started = Instant::now();
            let mut sim = Simulation::new(s);
            sim.skip_idle(skip);
            sim.run_for(2000.0);
            let secs = started.elapsed().as_secs_f64();
            println!(
                "{:<40} 2000 sim s in {secs:>7.3} wall s = {:>8.0}x real time | {:.3} us per tick",
                format!("mm1.ron at 20/s, idle skipped: {skip}"),
                2000.0 / secs,
                secs / 2e6 * 1e6
            );
        }
    }
    if wants("memory") {
        // 10,000 components: memory before the first tick (the issue's target: under 100 MB).
        let before = peak_rss_mb();
        let s = parse(&generated_topology(2000, 5, 1_000_000.0));
        assert_eq!(s.components.len(), 10_000);
        let started = Instant::now();
        let sim = Simulation::new(s);
        println!(
            "{:<40} built in {:.2} s; peak RSS {:.0} MB (process before: {before:.0} MB)",
            "10,000 components, before the first tick",
            started.elapsed().as_secs_f64(),
            peak_rss_mb()
        );
        drop(sim);
    }
    if wants("scale") {
        // Per-request cost against the number of components: chains of 5 at the same load per
        // component (100 requests/s each), 100, 1,000 and 10,000 components.
        for chains in [20, 200, 2000] {
            let rate = chains as f64 * 500.0;
            let s = parse(&generated_topology(chains, 5, rate));
            let n = s.components.len();
            let mut sim = Simulation::new(s);
            let seconds = 3.0;
            let started = Instant::now();
            sim.run_for(seconds);
            let wall = started.elapsed().as_secs_f64();
            let generated = sim.summary().system.generated as f64;
            // Peak RSS is the process's high-water mark: each run is larger than the one before.
            println!(
                "{:<40} {seconds:>6.0} sim s in {wall:>7.2} wall s = {:>8.2}x real time | {:.2} us per request | peak RSS {:.0} MB",
                format!("scale: {n} components, {rate:.0} req/s"),
                seconds / wall,
                wall / generated * 1e6,
                peak_rss_mb()
            );
        }
    }
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
    if wants("seek") {
        seek_netflix();
    }
    if wants("branch") {
        branch_netflix();
    }
}

/// "What if, from here?" in netflix_friday at 120 s and 300 s: the wall time a branch takes to
/// re-simulate the past (the app spreads it over frames), then the two run in lockstep for 30 s
/// against the original alone.
fn branch_netflix() {
    use flowlab::compare::branch;
    const SEC: u64 = 1_000_000_000;
    for at in [120, 300] {
        let mut sim = Simulation::new(load_shipped("netflix_friday.ron"));
        sim.run_until(at * SEC, |_| {});
        let started = Instant::now();
        let mut b = branch::start(sim.world());
        branch::catch_up(&mut b, at * SEC, std::time::Duration::MAX);
        let past = started.elapsed().as_secs_f64();
        let started = Instant::now();
        sim.run_until((at + 30) * SEC, |_| {});
        let alone = started.elapsed().as_secs_f64();
        let started = Instant::now();
        branch::catch_up(&mut b, (at + 30) * SEC, std::time::Duration::MAX);
        let beside = alone + started.elapsed().as_secs_f64();
        println!(
            "{:<40} past re-simulated in {past:.2} wall s; the next 30 s: {alone:.2} s alone, {beside:.2} s with the branch; peak RSS {:.0} MB",
            format!("netflix_friday branch at {at} s"),
            peak_rss_mb()
        );
    }
}

/// netflix_friday's 600 s run as the app keeps it (the timeline kept every half simulated
/// second, about a frame at 30x real time), then seeks backwards and forwards across it: wall
/// time per seek, snapshots held, and memory.
fn seek_netflix() {
    use flowlab::sim::timeline::{self, Timeline};
    const SEC: u64 = 1_000_000_000;
    // The same run without the timeline first: the peak memory it needs on its own.
    let mut plain = Simulation::new(load_shipped("netflix_friday.ron"));
    plain.run_for(600.0);
    drop(plain);
    let rss_before = peak_rss_mb();
    let mut sim = Simulation::new(load_shipped("netflix_friday.ron"));
    sim.world_mut().init_resource::<Timeline>();
    let (mut keeping, mut t, started) = (0.0, 0, Instant::now());
    while t < 600 * SEC {
        t += SEC / 2;
        sim.run_until(t, |_| {});
        let k = Instant::now();
        timeline::keep(sim.world_mut());
        keeping += k.elapsed().as_secs_f64();
    }
    let run = started.elapsed().as_secs_f64();
    let (count, every) = {
        let tl = sim.world().resource::<Timeline>();
        (tl.snapshot_times().len(), tl.every() / SEC)
    };
    println!(
        "{:<40} 600 sim s in {run:.2} wall s, of which {keeping:.2} s taking snapshots; {count} held, {every} s apart; peak RSS {:.0} MB (the run without: {rss_before:.0} MB)",
        "netflix_friday kept for rewind",
        peak_rss_mb()
    );
    let mut walls = vec![];
    for at in [
        599.0, 1.0, 300.0, 150.5, 450.25, 15.0, 598.0, 97.0, 333.3, 575.0, 200.0, 0.5,
    ] {
        let started = Instant::now();
        timeline::seek(sim.world_mut(), (at * 1e9) as u64);
        walls.push((at, started.elapsed().as_secs_f64()));
    }
    let worst = walls.iter().map(|w| w.1).fold(0.0, f64::max);
    let mean = walls.iter().map(|w| w.1).sum::<f64>() / walls.len() as f64;
    let each: Vec<String> = walls
        .iter()
        .map(|(a, w)| format!("{a} s: {w:.2}"))
        .collect();
    println!(
        "{:<40} {} seeks: mean {mean:.2} s, worst {worst:.2} s wall ({}); peak RSS {:.0} MB",
        "netflix_friday seek",
        walls.len(),
        each.join(", "),
        peak_rss_mb()
    );
}
