//! Measuring one run of a comparison: the figures after the warm-up, and the time line of
//! goodput and requests held over the whole run.

use super::{Comparison, Figures, Job, SLICES, SpikeSpec};
use crate::runner::Simulation;
use crate::scenario::Scenario;
use crate::sim::door::command::SimCommand;
use crate::sim::flow::request::{Outcome, Priority};
use crate::sim::read::view::SimView;
use crate::sim::schedule::dist::{Nanos, SEC};

fn ns(s: f64) -> Nanos {
    (s * SEC).round() as Nanos
}

/// Runs one point of the grid and measures it after the warm-up.
pub fn run_one(c: &Comparison, base: &Scenario, job: Job) -> Figures {
    let s = prepared(c, base, job.variant, c.loads[job.load], job.rep);
    let duration = s.sim.duration_s;
    let warmup = c.warmup_s.unwrap_or(s.sim.warmup_s).min(duration * 0.5);
    let mut sim = Simulation::new(s);
    let mut line = Timeline::new(duration);
    line.run_until(&mut sim, ns(warmup));
    let a = sim.summary();
    let crit_a = critical(&sim);
    let lat_a = latency_hist(&sim);
    let end = sim.now() + ns(duration - warmup);
    line.run_until(&mut sim, end);
    let b = sim.summary();
    let crit_b = critical(&sim);
    let mut lat = latency_hist(&sim);
    let _ = lat.subtract(&lat_a);
    let secs = duration - warmup;
    let ended: [u64; 5] = std::array::from_fn(|i| b.system.ended[i] - a.system.ended[i]);
    let total = ended.iter().sum::<u64>().max(1) as f64;
    let q = |x: f64| {
        if lat.is_empty() {
            0.0
        } else {
            lat.value_at_quantile(x) as f64 / 1e3
        }
    };
    let crit = (crit_b.0 - crit_a.0, crit_b.1 - crit_a.1);
    let bg = |s: &crate::summary::Summary| {
        let b = s.system.background;
        let ended = b.iter().sum::<u64>() + s.system.dead_lettered;
        (b[0], ended, s.system.dead_lettered)
    };
    let (done_a, ended_a, dlq_a) = bg(&a);
    let (done_b, ended_b, dlq_b) = bg(&b);
    let work_ended = (ended_b - ended_a) as f64;
    let share = |n: u64| {
        if work_ended > 0.0 {
            n as f64 / work_ended
        } else {
            f64::NAN
        }
    };
    Figures {
        work_done: (done_b - done_a) as f64 / secs,
        work_lost: share((ended_b - ended_a) - (done_b - done_a)),
        dead_lettered: share(dlq_b - dlq_a),
        peak_held: line.peak,
        goodput_t: line.goodput,
        held_t: line.held,
        work_t: line.work,
        offered: (b.system.generated - a.system.generated) as f64 / secs,
        goodput: ended[Outcome::Completed as usize] as f64 / secs,
        latency_ms: [q(0.5), q(0.99), q(0.999)],
        shares: ended.map(|n| n as f64 / total),
        critical_served: if crit.1 == 0 {
            f64::NAN
        } else {
            crit.0 as f64 / crit.1 as f64
        },
        wasted: (b.system.wasted - a.system.wasted) as f64 / secs,
        retries: (b.system.retries - a.system.retries) as f64 / secs,
        recovery_s: recovery(&sim, c.spike),
        oscillation: oscillation(&sim, warmup, c.spike),
        stopped: if sim.halted().is_some() { 1.0 } else { 0.0 },
    }
}

/// Seconds from the end of the spike until goodput is back within 10% of its mean over the
/// 10 s before the spike, and stays there 3 s (one sample a second is noisy: Poisson traffic of
/// 640/s varies by 4% from second to second).
fn recovery(sim: &Simulation, spike: Option<SpikeSpec>) -> f64 {
    let Some(sp) = spike else { return f64::NAN };
    let g = sim.series("system", "goodput");
    let end = sp.at_s + sp.for_s;
    let before: Vec<f64> = g
        .iter()
        .filter(|x| x.0 > sp.at_s - 10.0 && x.0 <= sp.at_s)
        .map(|x| x.1)
        .collect();
    if before.is_empty() {
        return f64::NAN;
    }
    let level = before.iter().sum::<f64>() / before.len() as f64;
    let after: Vec<&(f64, f64)> = g.iter().filter(|x| x.0 > end).collect();
    let ok = |x: &(f64, f64)| (x.1 - level).abs() <= 0.10 * level;
    for (k, x) in after.iter().enumerate() {
        let held: Vec<_> = after[k..].iter().take_while(|y| y.0 < x.0 + 3.0).collect();
        if held.len() >= 3 && held.iter().all(|y| ok(y)) {
            return (x.0 - 1.0 - end).max(0.0);
        }
    }
    f64::NAN
}

/// The coefficient of variation of goodput per sample after the warm-up (outside a spike and
/// the 30 s after it).
fn oscillation(sim: &Simulation, warmup: f64, spike: Option<SpikeSpec>) -> f64 {
    let g: Vec<f64> = sim
        .series("system", "goodput")
        .into_iter()
        .filter(|x| x.0 > warmup)
        .filter(|x| spike.is_none_or(|sp| x.0 <= sp.at_s || x.0 > sp.at_s + sp.for_s + 30.0))
        .map(|x| x.1)
        .collect();
    let (m, n) = (
        g.iter().sum::<f64>() / g.len().max(1) as f64,
        g.len() as f64,
    );
    if n < 2.0 || m <= 0.0 {
        return f64::NAN;
    }
    (g.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() / m
}

/// (completed, ended) CRITICAL requests so far.
fn critical(sim: &Simulation) -> (u64, u64) {
    let c = sim
        .world()
        .resource::<crate::sim::read::classes::ClassStats>()
        .priority(Priority::Critical);
    (c.ended[0], c.ended.iter().sum())
}

fn latency_hist(sim: &Simulation) -> hdrhistogram::Histogram<u64> {
    sim.world()
        .resource::<crate::sim::read::latency::SystemLatency>()
        .whole()
}

/// The time line of one run: sampled at the end of each of `SLICES` equal slices.
struct Timeline {
    step: Nanos,
    k: usize,
    done: (u64, u64),
    at: Nanos,
    peak: f64,
    goodput: [f64; SLICES],
    held: [f64; SLICES],
    work: [f64; SLICES],
}

impl Timeline {
    fn new(duration_s: f64) -> Self {
        Self {
            step: ns(duration_s / SLICES as f64).max(1),
            k: 0,
            done: (0, 0),
            at: 0,
            peak: 0.0,
            goodput: [0.0; SLICES],
            held: [0.0; SLICES],
            work: [0.0; SLICES],
        }
    }

    /// Runs `sim` to `to` (ns), sampling at every slice's end on the way.
    fn run_until(&mut self, sim: &mut Simulation, to: Nanos) {
        while self.k < SLICES {
            let edge = self.step * (self.k as u64 + 1);
            if edge > to {
                break;
            }
            sim.run_until(edge, |_| {});
            let (done, held) = sim.view(|v| (completed(v), held(v)));
            let dt = (sim.now() - self.at) as f64 / SEC;
            let dt = dt.max(1e-9);
            self.goodput[self.k] = (done.0 - self.done.0) as f64 / dt;
            self.work[self.k] = (done.1 - self.done.1) as f64 / dt;
            self.held[self.k] = held;
            self.peak = self.peak.max(held);
            (self.done, self.at, self.k) = (done, sim.now(), self.k + 1);
        }
        sim.run_until(to, |_| {});
    }
}

/// Logical requests completed so far, and work left behind at hand-offs completed so far
/// (real requests).
fn completed(v: &SimView) -> (u64, u64) {
    let c = Outcome::Completed as usize;
    let (done, work) = v.sources().fold((0, 0), |(d, w), s| {
        (d + s.counters.ended[c], w + s.counters.background[c])
    });
    (done * v.unit(), work * v.unit())
}

/// The base scenario as variant `variant` runs it at load `load` (a multiplier of every
/// source's rate) with seed `rep`: the load, the variant's commands and the spike baked in as the scenario's own
/// `commands`, so a reset replays them (the desktop app's side-by-side view).
pub fn prepared(c: &Comparison, base: &Scenario, variant: usize, load: f64, rep: u32) -> Scenario {
    use crate::scenario::TimedCommand;
    let mut s = base.clone();
    s.sim.seed = base.sim.seed.wrapping_add(rep as u64);
    s.sim.duration_s = c.run_s();
    let at0 = |command| TimedCommand { at_s: 0.0, command };
    for src in &base.sources {
        s.commands.push(at0(SimCommand::ScaleTraffic {
            source: src.name.clone(),
            factor: load,
        }));
    }
    s.commands
        .extend(c.variants[variant].commands.iter().cloned().map(at0));
    if let Some(sp) = c.spike {
        for src in &base.sources {
            s.commands.push(TimedCommand {
                at_s: sp.at_s,
                command: SimCommand::Spike {
                    source: src.name.clone(),
                    factor: sp.factor,
                    for_s: sp.for_s,
                },
            });
        }
    }
    s
}

/// Requests held anywhere now (real requests), each a record in memory: queued, in service or
/// waiting on a call at a component; on a wire, on a topic, held at a sender (rate limit,
/// window) or in a retry queue. A request abandoned by its client still counts while it waits.
pub fn held(v: &SimView) -> f64 {
    let at_components: u64 = v.components().map(|c| c.queued + c.busy + c.waiting).sum();
    let on_links: u64 = v
        .links()
        .map(|l| {
            l.in_transit
                + l.topic_len
                + l.held
                + l.window.map_or(0, |w| w.waiting)
                + l.retry_waiting
        })
        .sum();
    (at_components + on_links) as f64
}
