//! The comparison file: what it holds, how it is read (the bounded reader every input uses) and
//! every number and name in it checked, with the variants' commands rehearsed on the base
//! scenario the way a run applies them.

use crate::files;
use crate::scenario::{self, Scenario, names};
use crate::sim::door::command::SimCommand;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Most seeds per point.
pub const MAX_REPS: u32 = 1000;

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
    /// SHA-256 of the comparison file and its base scenario as read (set when loaded): a
    /// shard carries it, so `merge` knows the shards ran this comparison.
    #[serde(skip)]
    pub digest: String,
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
    /// When it starts, s from the start of the run.
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

impl Variant {
    /// The name as results.csv writes it (its commas become semicolons).
    pub fn csv_name(&self) -> String {
        self.name.replace(',', ";")
    }
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

    /// Seeds per point: `--reps` when given (1 to 1000, refused otherwise), else the file's.
    pub fn reps(&self, given: Option<u32>) -> Result<u32, String> {
        match given {
            Some(r) if !(1..=MAX_REPS).contains(&r) => {
                Err(format!("--reps {r}: give 1 to {MAX_REPS} seeds per point"))
            }
            Some(r) => Ok(r),
            None => Ok(self.reps),
        }
    }
}

/// Whether the file at `path` is a comparison (it names `question` and `variants`) rather than
/// a scenario. Reads at most the input cap.
pub fn is_comparison(path: &Path) -> bool {
    files::read_text(path, "comparison file")
        .is_ok_and(|text| text.contains("variants") && text.contains("question"))
}

/// Reads a comparison file and its base scenario, with every number, name and command checked.
pub fn load(path: &Path) -> Result<(Comparison, Scenario), String> {
    let text = files::read_text(path, "comparison file").map_err(|e| e.to_string())?;
    let mut c: Comparison = scenario::from_ron(&text, path)?;
    let base = path.parent().unwrap_or(Path::new(".")).join(&c.base);
    let base_text =
        files::read_text(&base, "scenario").map_err(|e| format!("base scenario: {e}"))?;
    let s = scenario::parse(&base_text, &base).map_err(|e| format!("base scenario: {e}"))?;
    c.base_duration_s = s.sim.duration_s;
    c.digest = files::digest(format!("{text}\0{base_text}").as_bytes());
    check(&c, &s, path)?;
    Ok((c, s))
}

/// The comparison's own numbers and names, and every variant's commands rehearsed on the
/// scenario as `prepared` makes it.
fn check(c: &Comparison, s: &Scenario, path: &Path) -> Result<(), String> {
    let at = path.display();
    let mut problems: Vec<(String, String)> = vec![];
    numbers(c, &mut problems);
    titles(c, &mut problems);
    if !problems.is_empty() {
        let lines: Vec<String> = problems
            .iter()
            .map(|(field, why)| format!("{at}: {field}: {why}"))
            .collect();
        return Err(lines.join("\n"));
    }
    rehearse(c, s, path)
}

/// The run's length, warm-up, spike, loads and seeds.
fn numbers(c: &Comparison, problems: &mut Vec<(String, String)>) {
    let mut bad = |field: &str, why: String| problems.push((field.to_string(), why));
    if let Some(d) = c.duration_s
        && !(d.is_finite() && d > 0.0 && d <= 1e7)
    {
        bad(
            "duration_s",
            format!("{d} is not a run's length: give simulated seconds above 0, at most 1e7"),
        );
    }
    let run = c.run_s();
    if let Some(w) = c.warmup_s
        && !(w.is_finite() && w >= 0.0 && w < run)
    {
        bad(
            "warmup_s",
            format!("{w}: give seconds from 0, shorter than the run ({run} s)"),
        );
    }
    if let Some(sp) = c.spike {
        if !(sp.at_s.is_finite() && sp.at_s >= 0.0 && sp.at_s < run) {
            bad(
                "spike.at_s",
                format!("{}: give a time inside the run, 0 to {run} s", sp.at_s),
            );
        }
        if !(sp.for_s.is_finite() && sp.for_s > 0.0 && sp.for_s <= 1e7) {
            bad(
                "spike.for_s",
                format!("{}: give seconds above 0, at most 1e7", sp.for_s),
            );
        }
        if !(sp.factor.is_finite() && sp.factor > 0.0 && sp.factor <= 1e6) {
            bad(
                "spike.factor",
                format!(
                    "{}: give a multiplier of the traffic above 0, at most 1e6",
                    sp.factor
                ),
            );
        }
    }
    if c.loads.is_empty() {
        bad(
            "loads",
            "empty: give at least one multiplier, e.g. [1.0]".into(),
        );
    } else if let Some((i, l)) = c
        .loads
        .iter()
        .enumerate()
        .find(|(_, l)| !(l.is_finite() && **l > 0.0 && **l <= 100.0))
    {
        bad(
            &format!("loads[{i}]"),
            format!("{l}: each a multiplier of the offered rate above 0, at most 100"),
        );
    } else if let Some(i) = (1..c.loads.len()).find(|&i| c.loads[..i].contains(&c.loads[i])) {
        bad(
            &format!("loads[{i}]"),
            format!("{} is there twice", c.loads[i]),
        );
    }
    if !(1..=MAX_REPS).contains(&c.reps) {
        bad("reps", format!("1 to {MAX_REPS}, not {}", c.reps));
    }
    if c.variants.is_empty() || c.variants.len() > 16 {
        bad(
            "variants",
            format!("give 1 to 16 (there are {})", c.variants.len()),
        );
    }
}

/// The question and the variants' names: printable, and one name per variant in results.csv.
fn titles(c: &Comparison, problems: &mut Vec<(String, String)>) {
    let mut bad = |field: &str, why: String| problems.push((field.to_string(), why));
    match names::title_problem(&c.question) {
        Some(why) => bad("question", why),
        None if c.question.trim().is_empty() => bad("question", "it is empty".into()),
        None => {}
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, v) in c.variants.iter().enumerate() {
        let f = &format!("variants[{i}].name");
        if let Some(why) = names::title_problem(&v.name) {
            bad(f, why);
        } else if v.name.trim().is_empty() {
            bad(f, "empty: every variant needs a name".into());
        } else if v.name.chars().count() > 80 {
            bad(f, "longer than 80 characters".into());
        } else if let Some(j) = seen.insert(v.csv_name(), i) {
            bad(
                f,
                format!(
                    "`{}` is the name of variants[{j}] too (results.csv writes a comma as ';'): give each its own",
                    v.name
                ),
            );
        }
    }
}

/// Every variant's commands applied to the scenario as `prepared` makes it, as a run would.
fn rehearse(c: &Comparison, s: &Scenario, path: &Path) -> Result<(), String> {
    let (at, run) = (path.display(), c.run_s());

    for (i, v) in c.variants.iter().enumerate() {
        let mut t = super::prepared(c, s, i, c.loads[c.highest_load()], 0);
        // Only the variant's own commands are the file's: the load and the spike were checked.
        let own = t.commands.len() - c.spike.map_or(0, |_| s.sources.len());
        t.commands.truncate(own);
        // The warm-up the runs leave out (run_one's), not the base scenario's own.
        t.sim.warmup_s = c.warmup_s.unwrap_or(s.sim.warmup_s).min(run * 0.5);
        let mut found = scenario::validate(&t);
        if found.is_empty() {
            found = crate::runner::rehearse_commands(&t);
        }
        if let Some(p) = found.first() {
            // The loads' commands come first in `prepared`: count the variant's own from 0.
            let skip = s.sources.len();
            let field = match p.command_index() {
                Some((k, tail)) if k >= skip => format!("commands[{}]{tail}", k - skip),
                _ => p.field.clone(),
            };
            return Err(format!(
                "{at}: variants[{i}] `{}`: {field}: {} (hint: {})",
                v.name, p.message, p.hint
            ));
        }
    }
    Ok(())
}
