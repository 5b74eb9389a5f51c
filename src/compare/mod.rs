//! `flowlab compare`: every variant of a comparison file on the same scenario, the same traffic
//! and the same random numbers, across a range of offered load and several seeds, in parallel on
//! every core. A variant is a list of what-if commands applied at t = 0 (a strategy swapped, a
//! parameter set), so it changes only what it touches. Writes a table with 95% confidence
//! intervals, a tidy CSV, plots (goodput and p99 against offered load) and a manifest.

pub mod branch;
mod figures;
mod file;
mod measure;
mod plot;
mod report;
mod shard;
mod timeline;

pub use figures::{Figures, SLICES};
pub use file::{Comparison, MAX_REPS, SpikeSpec, Variant, is_comparison, load};
pub use measure::{held, prepared, run_one};
pub use report::{MANIFEST, Manifest, OUTPUTS, Report, check_out_dir, read_manifest};
pub use shard::Shard;

use crate::scenario::Scenario;
use std::path::{Path, PathBuf};

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

/// What a finished `compare` or `merge` says, and how many of its runs stopped early.
pub struct Finished {
    /// The text to print.
    pub text: String,
    /// Runs that stopped before their end (`sim.max_held`): the command exits 4.
    pub stopped: usize,
    /// Runs in all.
    pub runs: usize,
}

/// The comparison file and its base scenario: inputs no output may overwrite.
fn comparison_inputs(path: &Path, c: &Comparison) -> Vec<PathBuf> {
    vec![
        path.to_path_buf(),
        path.parent().unwrap_or(Path::new(".")).join(&c.base),
    ]
}

/// `flowlab compare`: runs the comparison (or one shard of it) and writes its outputs; the
/// text to print. A shard writes only its results (`results.csv`) and its manifest; `merge`
/// makes the rest. The output directory is checked before any run.
pub fn compare(
    path: &Path,
    reps: Option<u32>,
    out: &Path,
    quiet: bool,
    shard: Option<Shard>,
    force: bool,
) -> Result<Finished, String> {
    let (c, base) = load(path)?;
    let reps = c.reps(reps)?;
    let inputs = comparison_inputs(path, &c);
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let names: &[&str] = if shard.is_some() {
        &["results.csv"]
    } else {
        &OUTPUTS
    };
    check_out_dir(out, names, &inputs, force)?;
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
        Some(s) => {
            let p = out.join("results.csv");
            crate::files::write_atomic(&p, report.csv().as_bytes())?;
            report.write_manifest(out, "shard", Some([s.i, s.n]), std::slice::from_ref(&p))?;
            vec![p]
        }
        None => report.write(out, "comparison")?,
    };
    let secs = started.elapsed().as_secs_f64();
    let simulated: f64 = jobs.len() as f64 * c.run_s();
    let mut text = if shard.is_some() {
        String::new()
    } else {
        report.table()
    };
    text.push_str(&format!(
        "{} runs, {:.0} simulated s in {secs:.1} wall s on {threads} core(s); wrote {}\n",
        jobs.len(),
        simulated,
        listed(&files)
    ));
    Ok(Finished {
        text,
        stopped: report.stopped(),
        runs: jobs.len(),
    })
}

fn listed(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `flowlab merge`: the shards' results of one comparison into the outputs one run writes
/// (byte-identical: the figures round-trip through the CSV exactly). Every shard is checked
/// against its manifest and the comparison first (`shard`).
pub fn merge(
    path: &Path,
    reps: Option<u32>,
    shards: &[PathBuf],
    out: &Path,
    force: bool,
) -> Result<Finished, String> {
    let (c, _) = load(path)?;
    if let Some(r) = reps {
        c.reps(Some(r))?;
    }
    if shard::is_shard_dir(out, shards) {
        return Err(format!(
            "--out {}: is one of the shards' directories; merging there would overwrite its input",
            out.display()
        ));
    }
    let mut inputs = comparison_inputs(path, &c);
    inputs.extend(shard::inputs(shards));
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let (jobs, figures, reps) = shard::read_shards(&c, reps, shards)?;
    check_out_dir(out, &OUTPUTS, &inputs, force)?;
    let report = Report {
        c: &c,
        jobs: &jobs,
        figures: &figures,
        reps,
    };
    let files = report.write(out, "merge")?;
    Ok(Finished {
        text: format!(
            "{}merged {} runs from {} shard(s); wrote {}\n",
            report.table(),
            jobs.len(),
            shards.len(),
            listed(&files)
        ),
        stopped: report.stopped(),
        runs: jobs.len(),
    })
}
