//! `flowlab compare`: every variant of a comparison file on the same scenario, the same traffic
//! and the same random numbers, across a range of offered load and several seeds, in parallel on
//! every core. A variant is a list of what-if commands applied at t = 0 (a strategy swapped, a
//! parameter set), so it changes only what it touches. Writes a table with 95% confidence
//! intervals, a tidy CSV and plots (goodput and p99 against offered load).

mod plot;

use crate::runner::Simulation;
use crate::scenario::{self, Scenario};
use crate::sim::command::SimCommand;
use crate::sim::request::{Outcome, Priority};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// A comparison file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// The question it answers, for the learner ("drop newest or oldest?").
    pub question: String,
    /// The base scenario, relative to the comparison file.
    pub base: String,
    /// Simulated seconds per run (default: the scenario's `duration_s`).
    #[serde(default)]
    pub duration_s: Option<f64>,
    /// Seconds at the start left out of the figures (default: the scenario's `warmup_s`).
    #[serde(default)]
    pub warmup_s: Option<f64>,
    /// Multipliers of every source's rate (default `[1.0]`): the offered-load axis.
    #[serde(default = "one")]
    pub loads: Vec<f64>,
    /// Seeds per point (default 3; `--reps` overrides).
    #[serde(default = "three")]
    pub reps: u32,
    /// A traffic spike in every run, to measure the time to recover after it (default none).
    #[serde(default)]
    pub spike: Option<SpikeSpec>,
    /// The variants.
    pub variants: Vec<Variant>,
}

fn one() -> Vec<f64> {
    vec![1.0]
}

fn three() -> u32 {
    3
}

/// A spike of every source's traffic: `factor` times for `for_s` seconds from `at_s`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpikeSpec {
    /// When it starts, s (after the warm-up).
    pub at_s: f64,
    /// How long, s.
    pub for_s: f64,
    /// Multiplier of the traffic while it lasts.
    pub factor: f64,
}

/// One variant: its name and the commands that make it, applied at t = 0.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    /// Name in tables and plots.
    pub name: String,
    /// What-if commands, as a scenario's `commands` write them.
    #[serde(default)]
    pub commands: Vec<SimCommand>,
}

/// The figures of one run (real requests).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figures {
    /// Offered: logical requests created per second.
    pub offered: f64,
    /// Completed per second.
    pub goodput: f64,
    /// p50, p99 and p99.9 end-to-end latency of completed requests (ms).
    pub latency_ms: [f64; 3],
    /// Share of logical requests that ended so, by outcome.
    pub shares: [f64; 5],
    /// Share of CRITICAL requests completed (NaN when none were sent).
    pub critical_served: f64,
    /// Services completed after the client gave up, per second.
    pub wasted: f64,
    /// Retries sent per second.
    pub retries: f64,
    /// Seconds after the spike ended until goodput was back within 10% of its level before
    /// the spike, and stayed there for 3 s (NaN: no spike, or not back by the end).
    pub recovery_s: f64,
    /// Oscillation: the coefficient of variation of goodput per second after the warm-up
    /// (outside the spike and its recovery when there is one).
    pub oscillation: f64,
}

impl Figures {
    /// Names and values, in CSV order.
    pub fn named(&self) -> [(&'static str, f64); 14] {
        [
            ("offered_per_s", self.offered),
            ("goodput_per_s", self.goodput),
            ("latency_p50_ms", self.latency_ms[0]),
            ("latency_p99_ms", self.latency_ms[1]),
            ("latency_p999_ms", self.latency_ms[2]),
            ("completed_share", self.shares[0]),
            ("dropped_share", self.shares[1]),
            ("rejected_share", self.shares[2]),
            ("failed_share", self.shares[3]),
            ("timed_out_share", self.shares[4]),
            ("critical_served_share", self.critical_served),
            ("wasted_per_s", self.wasted),
            ("recovery_s", self.recovery_s),
            ("goodput_oscillation", self.oscillation),
        ]
    }
}

/// One run of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Job {
    /// Variant index.
    pub variant: usize,
    /// Load index.
    pub load: usize,
    /// Seed index.
    pub rep: u32,
}

/// Reads a comparison file and its base scenario, with the commands of every variant checked.
pub fn load(path: &Path) -> Result<(Comparison, Scenario), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let c: Comparison = options.from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: {}",
            path.display(),
            e.span.start.line,
            e.span.start.col,
            e.code
        )
    })?;
    let base = path.parent().unwrap_or(Path::new(".")).join(&c.base);
    let s = scenario::load(&base).map_err(|e| format!("base scenario: {e}"))?;
    check(&c, &s, path)?;
    Ok((c, s))
}

/// The comparison's own numbers, and every variant's commands checked against the scenario.
fn check(c: &Comparison, s: &Scenario, path: &Path) -> Result<(), String> {
    let at = path.display();
    if c.variants.is_empty() || c.variants.len() > 16 {
        return Err(format!(
            "{at}: variants: give 1 to 16 (there are {})",
            c.variants.len()
        ));
    }
    if c.loads.is_empty()
        || c.loads
            .iter()
            .any(|l| !(l.is_finite() && *l > 0.0 && *l <= 100.0))
    {
        return Err(format!(
            "{at}: loads: each a multiplier of the offered rate above 0, at most 100"
        ));
    }
    if c.reps == 0 || c.reps > 1000 {
        return Err(format!("{at}: reps: 1 to 1000, not {}", c.reps));
    }
    for v in &c.variants {
        let mut t = s.clone();
        t.commands = v
            .commands
            .iter()
            .map(|cmd| scenario::TimedCommand {
                at_s: 0.0,
                command: cmd.clone(),
            })
            .collect();
        let problems = scenario::validate(&t);
        if let Some(p) = problems.first() {
            return Err(format!(
                "{at}: variant `{}`: {}: {} (hint: {})",
                v.name, p.field, p.message, p.hint
            ));
        }
    }
    Ok(())
}

/// Runs one point of the grid and measures it after the warm-up.
pub fn run_one(c: &Comparison, base: &Scenario, job: Job) -> Figures {
    let mut s = base.clone();
    s.sim.seed = base.sim.seed.wrapping_add(job.rep as u64);
    let duration = c.duration_s.unwrap_or(s.sim.duration_s);
    let warmup = c.warmup_s.unwrap_or(s.sim.warmup_s).min(duration * 0.5);
    s.sim.duration_s = duration;
    let load = c.loads[job.load];
    let mut sim = Simulation::new(s.clone());
    for src in &s.sources {
        sim.command(SimCommand::ScaleTraffic {
            source: src.name.clone(),
            factor: load,
        });
    }
    for cmd in &c.variants[job.variant].commands {
        sim.command(cmd.clone());
    }
    if let Some(sp) = c.spike {
        for src in &s.sources {
            let at = (sp.at_s * 1e9) as crate::sim::dist::Nanos;
            sim.command_at(
                at,
                SimCommand::Spike {
                    source: src.name.clone(),
                    factor: sp.factor,
                    for_s: sp.for_s,
                },
            );
        }
    }
    sim.run_for(warmup);
    let a = sim.summary();
    let crit_a = critical(&sim);
    let lat_a = latency_hist(&sim);
    sim.run_for(duration - warmup);
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
    Figures {
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
        .resource::<crate::sim::classes::ClassStats>()
        .priority(Priority::Critical);
    (c.ended[0], c.ended.iter().sum())
}

fn latency_hist(sim: &Simulation) -> hdrhistogram::Histogram<u64> {
    sim.world()
        .resource::<crate::sim::latency::SystemLatency>()
        .whole()
}

/// Runs every job on `threads` threads; results in job order (the same whatever the threads).
pub fn run_all(
    c: &Comparison,
    base: &Scenario,
    jobs: &[Job],
    threads: usize,
    progress: &indicatif::ProgressBar,
) -> Vec<Figures> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let out = Mutex::new(vec![Figures::default(); jobs.len()]);
    std::thread::scope(|scope| {
        for _ in 0..threads.max(1) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let f = run_one(c, base, *job);
                    if let Ok(mut o) = out.lock() {
                        o[i] = f;
                    }
                    progress.inc(1);
                }
            });
        }
    });
    out.into_inner().unwrap_or_default()
}

/// Every (variant, load, rep) of the comparison, in order.
pub fn grid(c: &Comparison, reps: u32) -> Vec<Job> {
    let mut jobs = vec![];
    for variant in 0..c.variants.len() {
        for load in 0..c.loads.len() {
            for rep in 0..reps {
                jobs.push(Job { variant, load, rep });
            }
        }
    }
    jobs
}

/// Mean and half-width of the 95% confidence interval (Student's t) of `xs`, NaN ignored.
pub fn mean_ci(xs: &[f64]) -> (f64, f64) {
    let v: Vec<f64> = xs.iter().copied().filter(|x| x.is_finite()).collect();
    let n = v.len();
    if n == 0 {
        return (f64::NAN, 0.0);
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (mean, 0.0);
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    // Two-sided 97.5% quantiles of Student's t for 1..30 degrees of freedom, then normal.
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    let t = T.get(n - 2).copied().unwrap_or(1.96);
    (mean, t * (var / n as f64).sqrt())
}

/// Outputs of a finished comparison.
pub struct Report<'a> {
    /// The comparison.
    pub c: &'a Comparison,
    /// The jobs, in order.
    pub jobs: &'a [Job],
    /// Their figures.
    pub figures: &'a [Figures],
    /// Seeds per point.
    pub reps: u32,
}

impl Report<'_> {
    /// The figures of (variant, load) over the seeds, for one measure.
    pub fn points(&self, variant: usize, load: usize, f: impl Fn(&Figures) -> f64) -> (f64, f64) {
        let xs: Vec<f64> = self
            .jobs
            .iter()
            .zip(self.figures)
            .filter(|(j, _)| j.variant == variant && j.load == load)
            .map(|(_, x)| f(x))
            .collect();
        mean_ci(&xs)
    }

    /// The tidy CSV: one row per run and measure.
    pub fn csv(&self) -> String {
        let mut out = String::from("variant,load,rep,metric,value\n");
        for (j, f) in self.jobs.iter().zip(self.figures) {
            for (name, v) in f.named() {
                out.push_str(&format!(
                    "{},{},{},{name},{v}\n",
                    self.c.variants[j.variant].name.replace(',', ";"),
                    self.c.loads[j.load],
                    j.rep
                ));
            }
        }
        out
    }

    /// The table, with 95% confidence intervals over the seeds.
    pub fn table(&self) -> String {
        use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
        let mut t = Table::new();
        let mut header = vec![
            "variant",
            "load",
            "goodput/s",
            "p99 ms",
            "p99.9 ms",
            "lost %",
            "timed out %",
            "CRITICAL ok %",
            "wasted/s",
        ];
        let spike = self.c.spike.is_some();
        if spike {
            header.push("recovery s");
        }
        t.load_preset(UTF8_FULL_CONDENSED).set_header(header);
        let pm = |(m, h): (f64, f64), d: usize| {
            if !m.is_finite() {
                "-".to_string()
            } else if h > 0.0 {
                format!("{m:.d$} ±{h:.d$}")
            } else {
                format!("{m:.d$}")
            }
        };
        for v in 0..self.c.variants.len() {
            for l in 0..self.c.loads.len() {
                let lost = |f: &Figures| 100.0 * (f.shares[1] + f.shares[2] + f.shares[3]);
                let mut row = vec![
                    self.c.variants[v].name.clone(),
                    format!("{}x", self.c.loads[l]),
                    pm(self.points(v, l, |f| f.goodput), 0),
                    pm(self.points(v, l, |f| f.latency_ms[1]), 1),
                    pm(self.points(v, l, |f| f.latency_ms[2]), 1),
                    pm(self.points(v, l, lost), 1),
                    pm(self.points(v, l, |f| 100.0 * f.shares[4]), 1),
                    pm(self.points(v, l, |f| 100.0 * f.critical_served), 1),
                    pm(self.points(v, l, |f| f.wasted), 0),
                ];
                if spike {
                    row.push(pm(self.points(v, l, |f| f.recovery_s), 0));
                }
                t.add_row(row);
            }
        }
        format!(
            "{}\n{t}\n{} seed(s) per point; ± is the 95% confidence interval over them\n",
            self.c.question, self.reps
        )
    }

    /// Writes the table, the CSV and the plots into `dir`; the files written.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut written = vec![];
        for (name, text) in [("summary.txt", self.table()), ("results.csv", self.csv())] {
            let p = dir.join(name);
            std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))?;
            written.push(p);
        }
        written.extend(plot::plots(self, dir)?);
        Ok(written)
    }
}

/// Which slice of the grid a run takes: `i` of `n` (jobs whose index modulo `n` is `i`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This slice, from 0.
    pub i: usize,
    /// Slices in all.
    pub n: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (i, n) = s.split_once('/').ok_or("a shard is i/n, e.g. 0/4")?;
        let (i, n): (usize, usize) = (
            i.trim()
                .parse()
                .map_err(|_| format!("{i:?} is not a number"))?,
            n.trim()
                .parse()
                .map_err(|_| format!("{n:?} is not a number"))?,
        );
        if n == 0 || i >= n || n > 100_000 {
            return Err(format!("shard {i}/{n}: give 0 <= i < n <= 100000"));
        }
        Ok(Shard { i, n })
    }
}

/// `flowlab compare`: runs the comparison (or one shard of it) and writes its outputs; the
/// text to print. A shard writes only its results (`results.csv`); `merge` makes the rest.
pub fn compare(
    path: &Path,
    reps: Option<u32>,
    out: &Path,
    quiet: bool,
    shard: Option<Shard>,
) -> Result<String, String> {
    let (c, base) = load(path)?;
    let reps = reps.unwrap_or(c.reps).clamp(1, 1000);
    let all = grid(&c, reps);
    let jobs: Vec<Job> = match shard {
        Some(s) => all
            .iter()
            .enumerate()
            .filter(|(k, _)| k % s.n == s.i)
            .map(|x| *x.1)
            .collect(),
        None => all.clone(),
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let bar = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(jobs.len() as u64)
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} runs  {elapsed_precise} (eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(format!("{} on {threads} core(s)", c.question));
    let started = std::time::Instant::now();
    let figures = run_all(&c, &base, &jobs, threads, &bar);
    bar.finish_and_clear();
    let report = Report {
        c: &c,
        jobs: &jobs,
        figures: &figures,
        reps,
    };
    let files = match shard {
        Some(_) => {
            std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
            let p = out.join("results.csv");
            std::fs::write(&p, report.csv()).map_err(|e| format!("{}: {e}", p.display()))?;
            vec![p]
        }
        None => report.write(out)?,
    };
    let secs = started.elapsed().as_secs_f64();
    let simulated: f64 = jobs.len() as f64 * c.duration_s.unwrap_or(base.sim.duration_s);
    let mut text = if shard.is_some() {
        String::new()
    } else {
        report.table()
    };
    text.push_str(&format!(
        "{} runs, {:.0} simulated s in {secs:.1} wall s on {threads} core(s); wrote {}\n",
        jobs.len(),
        simulated,
        files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(text)
}

/// `flowlab merge`: the shards' results of one comparison into the outputs one run writes
/// (byte-identical: the figures round-trip through the CSV exactly).
pub fn merge(
    path: &Path,
    reps: Option<u32>,
    shards: &[PathBuf],
    out: &Path,
) -> Result<String, String> {
    let (c, _) = load(path)?;
    let reps = reps.unwrap_or(c.reps).clamp(1, 1000);
    let jobs = grid(&c, reps);
    let mut found: Vec<Option<Figures>> = vec![None; jobs.len()];
    let index = |v: &str, l: &str, r: &str| -> Option<usize> {
        let vi = c
            .variants
            .iter()
            .position(|x| x.name.replace(',', ";") == v)?;
        let li = c.loads.iter().position(|x| x.to_string() == l)?;
        let ri: u32 = r.parse().ok()?;
        jobs.iter()
            .position(|j| j.variant == vi && j.load == li && j.rep == ri)
    };
    for dir in shards {
        let p = dir.join("results.csv");
        let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        for (n, line) in text.lines().enumerate().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let bad = || {
                format!(
                    "{}:{}: not a row of this comparison: {line}",
                    p.display(),
                    n + 1
                )
            };
            if f.len() != 5 {
                return Err(bad());
            }
            let k = index(f[0], f[1], f[2]).ok_or_else(bad)?;
            let v: f64 = f[4].parse().map_err(|_| bad())?;
            let fig = found[k].get_or_insert_with(Figures::default);
            set_named(fig, f[3], v).ok_or_else(bad)?;
        }
    }
    let missing = found.iter().filter(|f| f.is_none()).count();
    if missing > 0 {
        return Err(format!(
            "{missing} of {} runs are in none of the shards: give every shard's directory",
            jobs.len()
        ));
    }
    let figures: Vec<Figures> = found.into_iter().flatten().collect();
    let report = Report {
        c: &c,
        jobs: &jobs,
        figures: &figures,
        reps,
    };
    let files = report.write(out)?;
    Ok(format!(
        "{}merged {} runs from {} shard(s); wrote {}\n",
        report.table(),
        jobs.len(),
        shards.len(),
        files
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// Sets the measure called `name` (as `Figures::named` calls it).
fn set_named(f: &mut Figures, name: &str, v: f64) -> Option<()> {
    match name {
        "offered_per_s" => f.offered = v,
        "goodput_per_s" => f.goodput = v,
        "latency_p50_ms" => f.latency_ms[0] = v,
        "latency_p99_ms" => f.latency_ms[1] = v,
        "latency_p999_ms" => f.latency_ms[2] = v,
        "completed_share" => f.shares[0] = v,
        "dropped_share" => f.shares[1] = v,
        "rejected_share" => f.shares[2] = v,
        "failed_share" => f.shares[3] = v,
        "timed_out_share" => f.shares[4] = v,
        "critical_served_share" => f.critical_served = v,
        "wasted_per_s" => f.wasted = v,
        "recovery_s" => f.recovery_s = v,
        "goodput_oscillation" => f.oscillation = v,
        _ => return None,
    }
    Some(())
}
