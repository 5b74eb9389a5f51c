//! Shards: `compare --shard i/n` runs one slice of the grid and writes its results with a
//! manifest (the comparison's digest, the seeds, the slice, the row count and the rows' digest);
//! `merge` checks every shard against its manifest and the comparison before it trusts a row,
//! and refuses a shard that is truncated, foreign, duplicated, missing or inconsistent, naming
//! the file and the reason.

use super::report::{HEADER, Manifest, read_manifest};
use super::{Comparison, Figures, Job};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Largest magnitude of a figure in a shard: no run measures more (a rate of 1e15/s is a
/// million times the largest scenario's).
const MAX_VALUE: f64 = 1e15;

/// Longest line of a shard's results.csv.
const MAX_LINE: usize = 1024;

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

/// A shard directory whose manifest names this comparison.
struct Found {
    dir: PathBuf,
    manifest: Manifest,
    shard: Shard,
}

/// Reads and checks every shard's manifest: this comparison, one seed count, one slicing,
/// every slice once. Gives the shards and the seeds per point.
fn manifests(
    c: &Comparison,
    reps: Option<u32>,
    dirs: &[PathBuf],
) -> Result<(Vec<Found>, u32), String> {
    let mut found: Vec<Found> = vec![];
    for dir in dirs {
        let at = dir.display();
        let manifest = read_manifest(dir).map_err(|e| {
            format!("{at}: not the output of `flowlab compare --shard` ({e}); run the shard again")
        })?;
        let Some([i, n]) = manifest.shard.filter(|_| manifest.kind == "shard") else {
            return Err(format!(
                "{at}: holds a whole {} run, not a shard",
                manifest.kind
            ));
        };
        if manifest.comparison_sha256 != c.digest {
            return Err(format!(
                "{at}: was run from another comparison file or base scenario (or they changed since): run it again"
            ));
        }
        let shard = Shard { i, n };
        if let Some(other) = found.iter().find(|f| f.shard.n != n) {
            return Err(format!(
                "{at} is shard {i}/{n} but {} is {}/{}: give the shards of one slicing",
                other.dir.display(),
                other.shard.i,
                other.shard.n
            ));
        }
        if let Some(other) = found.iter().find(|f| f.shard.i == i) {
            return Err(format!(
                "{at} and {} are both shard {i}/{n}: give each shard once",
                other.dir.display()
            ));
        }
        if let Some(other) = found.iter().find(|f| f.manifest.reps != manifest.reps) {
            return Err(format!(
                "{at} ran {} seed(s) per point but {} ran {}",
                manifest.reps,
                other.dir.display(),
                other.manifest.reps
            ));
        }
        found.push(Found {
            dir: dir.clone(),
            manifest,
            shard,
        });
    }
    let (n, shard_reps) = (found[0].shard.n, found[0].manifest.reps);
    let reps = match reps {
        Some(r) if r != shard_reps => {
            return Err(format!(
                "--reps {r}: the shards ran {shard_reps} seed(s) per point"
            ));
        }
        _ => shard_reps,
    };
    let missing: Vec<String> = (0..n)
        .filter(|i| !found.iter().any(|f| f.shard.i == *i))
        .map(|i| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "shard(s) {} missing: give every shard's directory",
            missing.join(", ")
        ));
    }
    Ok((found, reps))
}

/// Reads one shard's results into `out` (by job index), checking each row, the slice, the
/// row count and the digest against its manifest.
fn read_rows(
    c: &Comparison,
    jobs: &[Job],
    f: &Found,
    out: &mut [Option<Figures>],
) -> Result<(), String> {
    let p = f.dir.join("results.csv");
    let at = p.display();
    let file = std::fs::File::open(&p).map_err(|e| format!("{at}: {e}"))?;
    let mut reader = std::io::BufReader::new(file);
    let mut hash = Sha256::new();
    let mut seen: BTreeMap<usize, usize> = BTreeMap::new();
    let mut pairs: std::collections::BTreeSet<(usize, String)> = Default::default();
    let mut line = Vec::new();
    let mut n = 0usize;
    let limit = f.manifest.rows;
    loop {
        line.clear();
        let got = std::io::Read::take(&mut reader, MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| format!("{at}: {e}"))?;
        if got == 0 {
            break;
        }
        hash.update(&line);
        n += 1;
        let bad = |why: &str| format!("{at}:{n}: {why}");
        if line.len() > MAX_LINE || !line.ends_with(b"\n") {
            return Err(bad(
                "the line is cut short or too long: the file is truncated or not a shard's",
            ));
        }
        let text = std::str::from_utf8(&line[..line.len() - 1]).map_err(|_| bad("not text"))?;
        if n == 1 {
            if text != HEADER {
                return Err(bad(&format!("the header is not `{HEADER}`")));
            }
            continue;
        }
        if n - 1 > limit {
            return Err(bad("more rows than the manifest says"));
        }
        let (k, metric, v) = row(c, jobs, text).map_err(|why| bad(&why))?;
        if k % f.shard.n != f.shard.i {
            return Err(bad(&format!(
                "a run of another shard (this is {}/{})",
                f.shard.i, f.shard.n
            )));
        }
        let fig = out[k].get_or_insert_with(Figures::default);
        fig.set_named(metric, v)
            .ok_or_else(|| bad(&format!("no figure is named `{metric}`")))?;
        if !pairs.insert((k, metric.to_string())) {
            return Err(bad("a run's figure given twice"));
        }
        *seen.entry(k).or_default() += 1;
    }
    let digest: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    if n.saturating_sub(1) != limit || f.manifest.files.get("results.csv") != Some(&digest) {
        return Err(format!(
            "{at}: does not match its manifest ({} rows, {limit} expected, or edited since): the shard was cut short or changed; run it again",
            n.saturating_sub(1)
        ));
    }
    for (k, count) in seen {
        if count != Figures::count() {
            return Err(format!(
                "{at}: run {} of the grid has {count} of its {} figures",
                k,
                Figures::count()
            ));
        }
    }
    Ok(())
}

/// One row: the job's index, the figure's name and its value (finite or NaN, within range).
fn row<'a>(c: &Comparison, jobs: &[Job], text: &'a str) -> Result<(usize, &'a str, f64), String> {
    let f: Vec<&str> = text.split(',').collect();
    if f.len() != 5 {
        return Err(format!(
            "not a row of five fields: {}",
            text.escape_default()
        ));
    }
    let vi = c
        .variants
        .iter()
        .position(|x| x.csv_name() == f[0])
        .ok_or_else(|| {
            format!(
                "`{}` is not a variant of this comparison",
                f[0].escape_default()
            )
        })?;
    let li = c
        .loads
        .iter()
        .position(|x| x.to_string() == f[1])
        .ok_or_else(|| format!("load {} is not in this comparison", f[1].escape_default()))?;
    let ri: u32 = f[2]
        .parse()
        .map_err(|_| format!("seed {} is not a number", f[2].escape_default()))?;
    let k = jobs
        .iter()
        .position(|j| j.variant == vi && j.load == li && j.rep == ri)
        .ok_or_else(|| format!("seed {ri} is beyond this comparison's seeds"))?;
    let v: f64 = f[4]
        .parse()
        .map_err(|_| format!("{} is not a number", f[4].escape_default()))?;
    if v.is_infinite() || v.abs() > MAX_VALUE {
        return Err(format!("{v} is beyond any figure a run measures"));
    }
    Ok((k, f[3], v))
}

/// The shards' figures, in job order, and the seeds per point they ran.
pub fn read_shards(
    c: &Comparison,
    reps: Option<u32>,
    dirs: &[PathBuf],
) -> Result<(Vec<Job>, Vec<Figures>, u32), String> {
    let (found, reps) = manifests(c, reps, dirs)?;
    let jobs = super::grid(c, reps);
    let mut figures: Vec<Option<Figures>> = vec![None; jobs.len()];
    for f in &found {
        read_rows(c, &jobs, f, &mut figures)?;
    }
    let missing = figures.iter().filter(|f| f.is_none()).count();
    if missing > 0 {
        return Err(format!(
            "{missing} of {} runs are in none of the shards: give every shard's directory",
            jobs.len()
        ));
    }
    Ok((jobs, figures.into_iter().flatten().collect(), reps))
}

/// The inputs a merge reads, which its output must not overwrite.
pub fn inputs(dirs: &[PathBuf]) -> Vec<PathBuf> {
    dirs.iter()
        .flat_map(|d| {
            [
                d.clone(),
                d.join("results.csv"),
                d.join(super::report::MANIFEST),
            ]
        })
        .collect()
}

/// Whether `p` is one of `dirs` (so an output there would overwrite a shard).
pub fn is_shard_dir(p: &Path, dirs: &[PathBuf]) -> bool {
    dirs.iter().any(|d| crate::files::same_file(p, d))
}
