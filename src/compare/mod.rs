//! `flowlab compare`: every variant of a comparison file on the same scenario, the same traffic
//! and the same random numbers, across a range of offered load and several seeds, in parallel on
//! every core. A variant is a list of what-if commands applied at t = 0 (a strategy swapped, a
//! parameter set), so it changes only what it touches. Writes a table with 95% confidence
//! intervals, a tidy CSV and plots (goodput and p99 against offered load).

mod figures;
mod measure;
mod plot;
mod timeline;

pub use figures::{Figures, SLICES};
pub use measure::{held, prepared, run_one};

use crate::scenario::{self, Scenario};
use crate::sim::command::SimCommand;
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
    /// The base scenario's `duration_s` (set when the file is loaded).
    #[serde(skip)]
    pub base_duration_s: f64,
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

impl Comparison {
    /// Simulated seconds per run: `duration_s`, else the base scenario's.
    pub fn run_s(&self) -> f64 {
        self.duration_s.unwrap_or(self.base_duration_s)
    }

    /// The index in `loads` of the highest offered load (the time line's, the app's default).
    pub fn highest_load(&self) -> usize {
        (0..self.loads.len())
            .max_by(|a, b| self.loads[*a].total_cmp(&self.loads[*b]))
            .unwrap_or(0)
    }
}

/// Whether the file at `path` is a comparison (it names `question` and `variants`) rather than
/// a scenario.
pub fn is_comparison(path: &Path) -> bool {
    std::fs::read_to_string(path)
        .is_ok_and(|text| text.contains("variants") && text.contains("question"))
}

/// Reads a comparison file and its base scenario, with the commands of every variant checked.
pub fn load(path: &Path) -> Result<(Comparison, Scenario), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let mut c: Comparison = options.from_str(&text).map_err(|e| {
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
    c.base_duration_s = s.sim.duration_s;
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
        header.push("peak held");
        let spike = self.c.spike.is_some();
        if spike {
            header.push("recovery s");
        }
        // Work left behind at asynchronous hand-offs, when any run had some.
        let work = self.figures.iter().any(|f| f.work_lost.is_finite());
        if work {
            header.extend(["work done/s", "work lost %", "dead-lettered %"]);
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
                    pm(self.points(v, l, |f| f.peak_held), 0),
                ];
                if spike {
                    row.push(pm(self.points(v, l, |f| f.recovery_s), 0));
                }
                if work {
                    row.push(pm(self.points(v, l, |f| f.work_done), 0));
                    row.push(pm(self.points(v, l, |f| 100.0 * f.work_lost), 1));
                    row.push(pm(self.points(v, l, |f| 100.0 * f.dead_lettered), 1));
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
        written.extend(timeline::plots(self, dir)?);
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
            fig.set_named(f[3], v).ok_or_else(bad)?;
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
