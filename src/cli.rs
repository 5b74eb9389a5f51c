//! The command line: `flowlab run` (headless, with a progress bar and a summary) and
//! `flowlab check` (validate only). Bad input exits with code 2 and a message saying where and
//! what; it never panics.

use crate::runner::Simulation;
use crate::scenario::{self, Scenario, ScenarioError};
use crate::sim::read::decisions::{Decision, DecisionLog};
use crate::sim::read::metrics::{HEADER, Recorder, Sink};
use crate::sim::schedule::dist::{Nanos, SEC};
use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Watch backpressure and flow control happen: a deterministic simulation of distributed systems.
#[derive(Parser, Debug)]
#[command(name = "flowlab", version, about, long_about = None)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do (default: open the desktop app).
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A scenario file to open in the app (default: scenarios/netflix_friday.ron).
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Options of the app.
    #[command(flatten)]
    pub open: crate::desktop_cli::OpenArgs,
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Open a scenario in the desktop app.
    Open {
        /// Scenario file (RON).
        scenario: PathBuf,
        /// Options of the app.
        #[command(flatten)]
        open: crate::desktop_cli::OpenArgs,
    },
    /// Render the app at a simulated time to a PNG and exit.
    Shot(crate::desktop_cli::ShotArgs),
    /// Render the app frame by frame to an MP4 (H.264, through ffmpeg) and exit.
    Record(crate::desktop_cli::RecordArgs),
    /// Run a scenario headless, as fast as the machine allows, and print a summary.
    Run(RunArgs),
    /// Run every variant of a comparison file on the same seed(s) across a range of offered
    /// load, in parallel on every core, and write a table, a tidy CSV and plots.
    Compare {
        /// Comparison file (RON), e.g. scenarios/compare/drop_policy.ron.
        file: PathBuf,
        /// Seeds per point (overrides the file's `reps`).
        #[arg(long)]
        reps: Option<u32>,
        /// Directory for summary.txt, results.csv and the plots (default compare-out/NAME).
        #[arg(long)]
        out: Option<PathBuf>,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
        /// Run only slice i of n (e.g. 0/4) and write its results.csv; `merge` combines them.
        #[arg(long)]
        shard: Option<crate::compare::Shard>,
        /// Overwrite files in the output directory that flowlab did not write.
        #[arg(long)]
        force: bool,
    },
    /// Combine the results of `compare --shard` runs into the outputs of one whole run.
    Merge {
        /// The comparison file the shards ran.
        file: PathBuf,
        /// Each shard's output directory.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// Seeds per point, as the shards were run with.
        #[arg(long)]
        reps: Option<u32>,
        /// Directory for the merged outputs.
        #[arg(long)]
        out: PathBuf,
        /// Overwrite files in the output directory that flowlab did not write.
        #[arg(long)]
        force: bool,
    },
    /// A lesson file (lessons/*.ron): with --check, run every step headless and check that every
    /// claim its captions make holds.
    Lesson {
        /// Lesson file (RON).
        file: PathBuf,
        /// Run every step headless and check its claims (exit 1 when one does not hold).
        #[arg(long)]
        check: bool,
        /// Write step K's last frame (from 1), as the video shows it, to --out (a PNG).
        #[arg(long)]
        shot: Option<usize>,
        /// With --shot: the PNG file.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Window size, WIDTHxHEIGHT (presenting: 1600x900; --shot: 1920x1080).
        #[arg(long)]
        size: Option<String>,
        /// With --shot: overwrite a file at --out that flowlab did not write.
        #[arg(long)]
        force: bool,
        /// Presenting: close after this many wall seconds (for tests).
        #[arg(long, hide = true)]
        quit_after: Option<f64>,
    },
    /// Write a scenario the way a person writes one: defaults left out, values inline where
    /// they fit, comments kept (to standard output, or in place with --write).
    Fmt {
        /// Scenario files (RON).
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
        /// Rewrite each file in place instead of printing it.
        #[arg(long)]
        write: bool,
    },
    /// Edit a scenario: each EDIT one line (`add cache Cache`, `connect web cache`, `set web
    /// workers 8`, `flow users browse lb,web`, `remove cache`; docs/SCENARIO_FORMAT.md),
    /// checked as a scenario file is; prints the result (or rewrites the file with --write).
    Edit {
        /// Scenario file (RON).
        scenario: PathBuf,
        /// The edits, in order.
        #[arg(required = true)]
        edits: Vec<String>,
        /// Rewrite the file in place instead of printing it.
        #[arg(long)]
        write: bool,
    },
    /// Validate scenario files without running them.
    Check {
        /// Scenario files (RON).
        #[arg(required = true)]
        scenarios: Vec<PathBuf>,
    },
}

/// Options of `flowlab run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Scenario file (RON).
    pub scenario: PathBuf,
    /// Simulated seconds (default: the scenario's sim.duration_s).
    #[arg(long, allow_negative_numbers = true)]
    pub duration: Option<f64>,
    /// Root seed (default: the scenario's sim.seed).
    #[arg(long, allow_negative_numbers = true, value_parser = parse_seed)]
    pub seed: Option<u64>,
    /// Write metrics as CSV (t,entity,metric,value) to this file.
    #[arg(long)]
    pub metrics: Option<PathBuf>,
    /// Metrics sampling interval in seconds (default: the scenario's sim.sample_every_s).
    #[arg(long, allow_negative_numbers = true)]
    pub sample_every: Option<f64>,
    /// Write the decision log (rate changes, breaker transitions, crashes) as JSON Lines here.
    #[arg(long)]
    pub events: Option<PathBuf>,
    /// Check conservation (generated = ended + in system) every tick.
    #[arg(long)]
    pub verify: bool,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Overwrite --metrics and --events files that flowlab did not write.
    #[arg(long)]
    pub force: bool,
    /// Print queueing theory's prediction beside what happened, per component (observed after
    /// sim.warmup_s), or which of its assumptions does not hold (docs/THEORY.md).
    #[arg(long)]
    pub theory: bool,
}

/// A seed: a whole number from 0 to 2^64 - 1.
fn parse_seed(s: &str) -> Result<u64, String> {
    s.trim().parse().map_err(|_| {
        format!(
            "{s:?} is not a seed: give a whole number from 0 to {}",
            u64::MAX
        )
    })
}

/// Prints what is allowed in a scenario but most likely not meant.
fn print_warnings(path: &Path, s: &Scenario) {
    for w in scenario::warnings(s) {
        eprintln!(
            "warning: {}: {}: {}\n  hint: {}",
            path.display(),
            w.field,
            w.message,
            w.hint
        );
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match cli.command {
        None => {
            let path = cli
                .file
                .unwrap_or_else(|| PathBuf::from(crate::desktop_cli::DEFAULT_SCENARIO));
            crate::desktop_cli::open(path, &cli.open)
        }
        Some(Command::Open { scenario, open }) => crate::desktop_cli::open(scenario, &open),
        Some(Command::Shot(a)) => crate::desktop_cli::shot(&a),
        Some(Command::Record(a)) if crate::lesson::is_lesson(&a.scenario) => {
            crate::desktop_lesson::film(&a)
        }
        Some(Command::Record(a)) => crate::desktop_cli::record(&a),
        Some(Command::Check { scenarios }) => check(&scenarios),
        Some(Command::Fmt { scenarios, write }) => fmt(&scenarios, write),
        Some(Command::Edit {
            scenario,
            edits,
            write,
        }) => edit(&scenario, &edits, write),
        Some(Command::Lesson {
            file, check: true, ..
        }) => lesson(&file),
        Some(Command::Lesson {
            file,
            shot: Some(k),
            out,
            size,
            force,
            ..
        }) => {
            let Some(out) = out else {
                eprintln!("error: --shot needs --out FILE.png");
                return ExitCode::from(2);
            };
            let size = size.unwrap_or_else(|| "1920x1080".into());
            crate::desktop_lesson::shot(&file, k, &out, &size, force)
        }
        Some(Command::Lesson {
            file,
            size,
            quit_after,
            ..
        }) => crate::desktop_lesson::present(
            &file,
            &size.unwrap_or_else(|| "1600x900".into()),
            quit_after,
        ),
        Some(Command::Run(args)) => run(&args),
        Some(Command::Merge {
            file,
            shards,
            reps,
            out,
            force,
        }) => printed(crate::compare::merge(&file, reps, &shards, &out, force)),
        Some(Command::Compare {
            file,
            reps,
            out,
            quiet,
            shard,
            force,
        }) => {
            let stem = file
                .file_stem()
                .map_or("comparison".into(), |s| s.to_string_lossy().to_string());
            let out = out.unwrap_or_else(|| PathBuf::from("compare-out").join(stem));
            printed(crate::compare::compare(
                &file, reps, &out, quiet, shard, force,
            ))
        }
    }
}

/// `flowlab lesson FILE --check`: the report, exit 1 when a claim does not hold, 2 for a bad
/// file.
fn lesson(path: &Path) -> ExitCode {
    let (l, s) = match crate::lesson::load(path) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let report = crate::lesson::check(&l, &s);
    print!("{}", report.render());
    if report.failed() > 0 {
        eprintln!(
            "error: {}: {} claim(s) do not hold (FAIL above)",
            path.display(),
            report.failed()
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn fmt(paths: &[PathBuf], write: bool) -> ExitCode {
    let mut failed = false;
    for p in paths {
        let text = crate::files::read_text(p, "scenario").map_err(ScenarioError::from);
        match text.and_then(|t| crate::scenario::fmt::format(&t, p).map(|f| (t, f))) {
            Ok((before, after)) if write => {
                if before == after {
                    continue;
                }
                if let Err(e) = crate::files::write_atomic(p, after.as_bytes()) {
                    failed = true;
                    eprintln!("error: cannot write {}: {e}", p.display());
                } else {
                    eprintln!("formatted {}", p.display());
                }
            }
            Ok((_, after)) => print!("{after}"),
            Err(e) => {
                failed = true;
                eprintln!("error: {e}");
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

fn edit(path: &Path, edits: &[String], write: bool) -> ExitCode {
    use crate::scenario::edit::{Edit, History};
    let text = crate::files::read_text(path, "scenario").map_err(ScenarioError::from);
    let mut s = match text
        .as_ref()
        .map_err(|e| e.to_string())
        .and_then(|t| crate::scenario::parse(t, path).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut history = History::default();
    let mut removed = false;
    for (k, line) in edits.iter().enumerate() {
        let e = match Edit::parse(line) {
            Ok(e) => e,
            Err(why) => {
                eprintln!("error: edit {} (`{line}`): {why}", k + 1);
                return ExitCode::from(2);
            }
        };
        removed |= matches!(e, Edit::Remove { .. } | Edit::Disconnect { .. });
        if let Err(problems) = history.apply(&mut s, e) {
            eprintln!("error: edit {} (`{line}`) refused, nothing changed:", k + 1);
            for p in problems {
                eprintln!("  - {}: {}\n    hint: {}", p.field, p.message, p.hint);
            }
            return ExitCode::from(2);
        }
    }
    let text = text.unwrap_or_default();
    let out = match crate::scenario::fmt::format_with_comments(&s, &text, !removed) {
        Ok(out) => out,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    if write {
        if let Err(e) = crate::files::write_atomic(path, out.as_bytes()) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return ExitCode::from(1);
        }
        eprintln!("{}: {} edit(s) applied", path.display(), edits.len());
    } else {
        print!("{out}");
    }
    ExitCode::SUCCESS
}

fn check(paths: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for p in paths {
        match crate::runner::load_checked(p) {
            Ok(s) => {
                print_warnings(p, &s);
                println!(
                    "{}: ok ({}: {} source(s), {} component(s), {} link(s))",
                    p.display(),
                    s.name,
                    s.sources.len(),
                    s.components.len(),
                    s.links.len()
                );
            }
            Err(e) => {
                failed = true;
                eprintln!("error: {e}");
            }
        }
    }
    if failed {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    }
}

/// Applies command-line overrides, re-validating them as scenario fields.
fn apply_overrides(
    mut s: Scenario,
    args: &RunArgs,
    path: &Path,
) -> Result<Scenario, ScenarioError> {
    let mut problems = vec![];
    if let Some(d) = args.duration {
        if !(d.is_finite() && d > 0.0 && d <= 1e7) {
            problems.push(scenario::Problem {
                field: "--duration".into(),
                message: format!("{d} is not a usable duration"),
                hint: "give simulated seconds in (0, 10000000]".into(),
            });
        }
        s.sim.duration_s = d;
        s.sim.warmup_s = s.sim.warmup_s.min(d * 0.5);
    }
    if let Some(seed) = args.seed {
        s.sim.seed = seed;
    }
    if let Some(e) = args.sample_every {
        if !(e.is_finite() && e > 0.0 && e <= 1e6) {
            problems.push(scenario::Problem {
                field: "--sample-every".into(),
                message: format!("{e} is not a usable interval"),
                hint: "give seconds in (0, 1000000]".into(),
            });
        }
        s.sim.sample_every_s = e;
    }
    if problems.is_empty() {
        problems = scenario::validate(&s);
        // A problem with a value the command line gave is the option's, not the file's.
        for p in &mut problems {
            let flag = match p.field.as_str() {
                "sim.duration_s" if args.duration.is_some() => "--duration",
                "sim.sample_every_s" if args.sample_every.is_some() => "--sample-every",
                _ => continue,
            };
            p.field = flag.into();
        }
    }
    if problems.is_empty() {
        Ok(s)
    } else {
        Err(ScenarioError::Invalid {
            path: path.to_path_buf(),
            problems,
        })
    }
}

fn run(args: &RunArgs) -> ExitCode {
    let s = match crate::runner::load_checked(&args.scenario)
        .and_then(|s| apply_overrides(s, args, &args.scenario))
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    print_warnings(&args.scenario, &s);
    if let Err(e) = check_outputs(args) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let duration = (s.sim.duration_s * SEC).round() as Nanos;
    let name = s.name.clone();
    let mut sim = Simulation::new(s);
    sim.check_conservation(args.verify);
    if let Some(path) = &args.metrics
        && let Err(code) = send_metrics_to(&mut sim, path)
    {
        return code;
    }
    let wall = run_with_progress(&mut sim, duration, name, args.quiet);

    let mut rec = sim.world_mut().resource_mut::<Recorder>();
    rec.flush();
    let write_error = rec.error.clone();
    let summary = sim.summary();
    print!("{}", summary.render());
    if args.theory {
        print!("{}", sim.theory_table());
    }
    let log = sim.world().resource::<DecisionLog>();
    print_decisions(log);
    if let Some(path) = &args.events
        && let Err(e) = crate::files::write_atomic(path, log.to_jsonl().as_bytes())
    {
        eprintln!("error: cannot write events: {e}");
        return ExitCode::from(1);
    }
    println!(
        "ran {:.1} simulated s in {:.2} wall s ({:.1}x real time)",
        summary.system.seconds,
        wall,
        summary.system.seconds / wall.max(1e-9)
    );
    if let Some(path) = &args.metrics {
        // The recorder's file is closed: the temporary file becomes the metrics file.
        sim.world_mut()
            .resource_mut::<Recorder>()
            .set_sink(Sink::Unread);
        let tmp = crate::files::temporary(path);
        if write_error.is_some() {
            let _ = std::fs::remove_file(&tmp);
        } else if let Err(e) = crate::files::rename_into_place(&tmp, path) {
            eprintln!("error: writing metrics failed: {e}");
            return ExitCode::from(1);
        }
    }
    if let Some(e) = write_error {
        eprintln!("error: writing metrics failed: {e}");
        return ExitCode::from(1);
    }
    if let Some(why) = sim.halted() {
        eprintln!("error: {why}");
        return ExitCode::from(4);
    }
    let violations = sim.violations();
    if !violations.is_empty() {
        eprintln!("error: conservation check failed (a bug in flowlab, please report):");
        for v in violations {
            eprintln!("  {v}");
        }
        return ExitCode::from(3);
    }
    ExitCode::SUCCESS
}

/// Checks the output files before the run (`files::check_output`): never a directory, a link,
/// the scenario or the same file twice; an existing file is overwritten only when it is
/// flowlab's own output of that kind (a metrics CSV with flowlab's header, a decision log of
/// flowlab's JSON lines) or with `--force`.
fn check_outputs(args: &RunArgs) -> Result<(), String> {
    use crate::files::{Output, check_output};
    let metrics_ours = |p: &Path| crate::files::head(p, HEADER.len() as u64) == HEADER.as_bytes();
    let events_ours = |p: &Path| {
        let head = crate::files::head(p, 64);
        head.is_empty() || head.starts_with(b"{\"t\":")
    };
    let inputs = [args.scenario.as_path()];
    let mut seen: Vec<(&str, &Path)> = vec![];
    let outputs: [(&str, &Option<PathBuf>, &dyn Fn(&Path) -> bool, &str); 2] = [
        (
            "--metrics",
            &args.metrics,
            &metrics_ours,
            "a metrics CSV flowlab wrote",
        ),
        (
            "--events",
            &args.events,
            &events_ours,
            "a decision log flowlab wrote",
        ),
    ];
    for (flag, p, ours, kind) in outputs {
        let Some(p) = p else { continue };
        if p.extension().is_some_and(|e| e == "ron") {
            return Err(format!(
                "{flag} {}: will not write over a scenario file; give another name (.csv, .jsonl)",
                p.display()
            ));
        }
        let out = Output {
            flag,
            path: p,
            ours,
            kind,
        };
        check_output(&out, &inputs, args.force)?;
        if let Some((other, _)) = seen.iter().find(|(_, q)| crate::files::same_file(p, q)) {
            return Err(format!(
                "{other} and {flag} name the same file {}: give each its own",
                p.display()
            ));
        }
        seen.push((flag, p));
    }
    Ok(())
}

/// Creates the metrics CSV file at `path` (under a temporary name until the run ends), writes
/// its header and makes it the recorder's sink; on failure prints the error and gives back exit
/// code 2.
fn send_metrics_to(sim: &mut Simulation, path: &Path) -> Result<(), ExitCode> {
    let tmp = crate::files::temporary(path);
    match std::fs::File::create(&tmp) {
        Ok(f) => {
            let mut w = std::io::BufWriter::new(f);
            if let Err(e) = w.write_all(HEADER.as_bytes()) {
                eprintln!("error: {}: cannot write metrics: {e}", path.display());
                let _ = std::fs::remove_file(&tmp);
                return Err(ExitCode::from(2));
            }
            sim.world_mut()
                .resource_mut::<Recorder>()
                .set_sink(Sink::Writer(Box::new(w)));
            Ok(())
        }
        Err(e) => {
            eprintln!("error: {}: cannot create metrics file: {e}", path.display());
            Err(ExitCode::from(2))
        }
    }
}

/// Prints what a comparison wrote, or its error (exit code 2); exit code 4 when runs stopped
/// early (their figures stop there, and the table says so).
fn printed(r: Result<crate::compare::Finished, String>) -> ExitCode {
    match r {
        Ok(f) => {
            print!("{}", f.text);
            if f.stopped > 0 {
                eprintln!(
                    "error: {} of {} runs stopped early: they held more requests than sim.max_held (see the table's `stopped` column and `stopped` in results.csv)",
                    f.stopped, f.runs
                );
                return ExitCode::from(4);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs the simulation up to `duration` (ns) behind a progress bar in simulated seconds
/// (hidden when `quiet`); returns the wall-clock seconds the run took.
fn run_with_progress(sim: &mut Simulation, duration: Nanos, name: String, quiet: bool) -> f64 {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(duration / 1_000_000_000)
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} simulated s  {elapsed_precise} (eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(name);
    let started = std::time::Instant::now();
    let mut last = 0;
    sim.run_until(duration, |w| {
        let now = w.resource::<crate::sim::SimClock>().now / 1_000_000_000;
        if now > last {
            bar.set_position(now);
            last = now;
        }
    });
    bar.finish_and_clear();
    started.elapsed().as_secs_f64()
}

/// Prints how many decisions were made and the most important of them (nothing when none were).
fn print_decisions(log: &DecisionLog) {
    if log.events.is_empty() {
        return;
    }
    println!(
        "Decisions: {} in all; the most important:",
        log.events.len()
    );
    for d in log.highlights(12) {
        print_decision(d);
    }
}

/// Prints one decision on a line: a rate change with its old and new rate, urgency and the
/// receiver's state; anything else with its kind, reason and state.
fn print_decision(d: &Decision) {
    let rate = |r: Option<f64>| r.map_or("unlimited".to_string(), |v| format!("{v:.0}/s"));
    match d.kind {
        "rate_change" => println!(
            "  {:>8.1}s  {:<24} rate {} -> {} ({}, {}, receiver {})",
            d.t,
            d.entity,
            rate(d.old),
            rate(d.new),
            d.reason,
            d.urgency.unwrap_or(""),
            d.state.as_deref().unwrap_or("")
        ),
        _ => println!(
            "  {:>8.1}s  {:<24} {} ({}{})",
            d.t,
            d.entity,
            d.kind,
            d.reason,
            d.state
                .as_deref()
                .map(|s| format!(", {s}"))
                .unwrap_or_default()
        ),
    }
}
