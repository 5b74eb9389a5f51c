//! The outputs of a finished comparison: the table with 95% confidence intervals, the tidy CSV,
//! the plots and the manifest, into an output directory checked before any run.

use super::{Comparison, Figures, Job, mean_ci};
use crate::files;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
        let mut out = format!("{HEADER}\n");
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
        // Runs that stopped early (sim.max_held), when any did: their figures stop there.
        let stopped = self.stopped() > 0;
        if stopped {
            header.push("stopped");
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
                if stopped {
                    let (n, of) = self
                        .jobs
                        .iter()
                        .zip(self.figures)
                        .filter(|(j, _)| j.variant == v && j.load == l)
                        .fold((0, 0), |(n, of), (_, f)| {
                            (n + usize::from(f.stopped > 0.0), of + 1)
                        });
                    row.push(format!("{n} of {of}"));
                }
                t.add_row(row);
            }
        }
        let mut text = format!(
            "{}\n{t}\n{} seed(s) per point; ± is the 95% confidence interval over them\n",
            self.c.question, self.reps
        );
        if stopped {
            text.push_str(&format!(
                "STOPPED: {} of {} runs held more requests than sim.max_held and stopped early; their figures cover only the time before the stop (raise sim.max_held or lower the load)\n",
                self.stopped(),
                self.jobs.len()
            ));
        }
        text
    }

    /// Writes the table, the CSV, the plots and the manifest into `dir` (checked before the
    /// runs by `check_out_dir`), each under a temporary name renamed into place; the files
    /// written.
    pub fn write(&self, dir: &Path, kind: &str) -> Result<Vec<PathBuf>, String> {
        let mut written = vec![];
        for (name, text) in [("summary.txt", self.table()), ("results.csv", self.csv())] {
            let p = dir.join(name);
            files::write_atomic(&p, text.as_bytes())?;
            written.push(p);
        }
        written.extend(super::plot::plots(self, dir)?);
        written.extend(super::timeline::plots(self, dir)?);
        self.write_manifest(dir, kind, None, &written)?;
        Ok(written)
    }

    /// Writes `manifest.json` into `dir`: what wrote the files there and their digests.
    pub fn write_manifest(
        &self,
        dir: &Path,
        kind: &str,
        shard: Option<[usize; 2]>,
        written: &[PathBuf],
    ) -> Result<(), String> {
        let mut digests = BTreeMap::new();
        for p in written {
            let name = p
                .file_name()
                .map_or(String::new(), |n| n.to_string_lossy().to_string());
            digests.insert(name, files::digest_file(p).unwrap_or_default());
        }
        let m = Manifest {
            written_by: format!("flowlab {}", env!("CARGO_PKG_VERSION")),
            kind: kind.to_string(),
            comparison_sha256: self.c.digest.clone(),
            reps: self.reps,
            shard,
            runs: self.jobs.len(),
            rows: self.jobs.len() * Figures::count(),
            files: digests,
        };
        let text = serde_json::to_string_pretty(&m).map_err(|e| e.to_string())?;
        files::write_atomic(&dir.join(MANIFEST), format!("{text}\n").as_bytes())
    }

    /// Runs that stopped before their end (`sim.max_held`).
    pub fn stopped(&self) -> usize {
        self.figures.iter().filter(|f| f.stopped > 0.0).count()
    }
}

/// results.csv's header (`merge` refuses a shard without it).
pub const HEADER: &str = "variant,load,rep,metric,value";

/// The manifest's file name in an output directory.
pub const MANIFEST: &str = "manifest.json";

/// What `compare` or `merge` wrote into an output directory, and the identity of what it ran:
/// `merge` refuses a shard whose manifest is missing, foreign, duplicated or does not match its
/// rows, and an output directory's files are overwritten only when its manifest lists them
/// unchanged.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// "flowlab VERSION".
    pub written_by: String,
    /// "comparison" (a whole run), "shard" or "merge".
    pub kind: String,
    /// SHA-256 of the comparison file and its base scenario as read.
    pub comparison_sha256: String,
    /// Seeds per point.
    pub reps: u32,
    /// For a shard: [i, n].
    pub shard: Option<[usize; 2]>,
    /// Runs whose results are in results.csv.
    pub runs: usize,
    /// Rows of results.csv after its header.
    pub rows: usize,
    /// Every file written, by name, with its SHA-256.
    pub files: BTreeMap<String, String>,
}

/// Reads the manifest in `dir`, if there is a readable one.
pub fn read_manifest(dir: &Path) -> Result<Manifest, String> {
    let p = dir.join(MANIFEST);
    let text = files::read_text(&p, "manifest").map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("{}: not a flowlab manifest: {e}", p.display()))
}

/// The files `compare` and `merge` write into their output directory.
pub const OUTPUTS: [&str; 8] = [
    "summary.txt",
    "results.csv",
    "goodput.svg",
    "goodput.png",
    "p99.svg",
    "p99.png",
    "timeline.svg",
    "timeline.png",
];

/// Checks the output directory before any run: not a file or a link, writable (created when
/// missing), and none of the files about to be written is an input or a file flowlab did not
/// write there (its manifest lists it with the same digest) unless `force`.
pub fn check_out_dir(
    dir: &Path,
    names: &[&str],
    inputs: &[&Path],
    force: bool,
) -> Result<(), String> {
    let at = dir.display();
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(format!(
                "--out {at}: is a symbolic link; flowlab does not write through links"
            ));
        }
        Ok(m) if !m.is_dir() => {
            return Err(format!("--out {at}: is a file; give a directory"));
        }
        Ok(_) => {}
        Err(_) => std::fs::create_dir_all(dir).map_err(|e| format!("--out {at}: {e}"))?,
    }
    files::check_dir("--out", dir)?;
    if let Some(i) = inputs.iter().find(|i| files::same_file(dir, i)) {
        return Err(format!(
            "--out {at}: is an input of this run ({}); give another directory",
            i.display()
        ));
    }
    let previous = read_manifest(dir).ok();
    for name in names.iter().copied().chain([MANIFEST]) {
        let p = dir.join(name);
        if let Some(i) = inputs.iter().find(|i| files::same_file(&p, i)) {
            return Err(format!(
                "--out {at}: would overwrite {}, an input of this run; give another directory",
                i.display()
            ));
        }
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if m.file_type().is_symlink() || !m.is_file() {
            return Err(format!(
                "--out {at}: {name} there is a link or not a regular file; flowlab will not write over it"
            ));
        }
        let ours = match (&previous, name) {
            (Some(_), MANIFEST) => true,
            (Some(man), _) => man.files.get(name) == files::digest_file(&p).as_ref(),
            (None, _) => false,
        };
        if !ours && !force {
            return Err(format!(
                "--out {at}: {name} exists and flowlab did not write it (or it changed since): give --force to overwrite it, or another directory"
            ));
        }
    }
    Ok(())
}
