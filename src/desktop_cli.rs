//! The command line of the desktop app: `flowlab` (opens scenarios/netflix_friday.ron),
//! `flowlab open FILE` or `flowlab FILE.ron`, `flowlab shot FILE --at S`, `flowlab record FILE
//! --from S --to S --speed X`. Bad arguments and bad files get a clear message; a bad file opened
//! interactively still opens the app, which shows the error.

#[cfg(feature = "desktop")]
use crate::scenario::{self, Scenario};
#[cfg(feature = "desktop")]
use std::path::Path;
use std::path::PathBuf;
use std::process::ExitCode;

/// The scenario the app opens with no argument.
pub const DEFAULT_SCENARIO: &str = "scenarios/netflix_friday.ron";

/// netflix_friday as shipped, for when the app starts away from the repository.
#[cfg(feature = "desktop")]
const EMBEDDED: &str = include_str!("../scenarios/netflix_friday.ron");

/// Options of `flowlab shot`.
#[derive(clap::Args, Debug)]
pub struct ShotArgs {
    /// Scenario file (RON).
    pub scenario: PathBuf,
    /// Simulated time of the picture, s.
    #[arg(long, allow_negative_numbers = true)]
    pub at: f64,
    /// Window size, WIDTHxHEIGHT.
    #[arg(long, default_value = "1600x900")]
    pub size: String,
    /// PNG file (default: SCENARIO-tAT.png in the current directory).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Select a component, instance (web#0), link (web->db) or source first: its inspector shows.
    #[arg(long)]
    pub select: Option<String>,
    /// A comparison file: the offered-load multiplier its variants run at (default: its
    /// highest load).
    #[arg(long, allow_negative_numbers = true)]
    pub load: Option<f64>,
    /// A comparison file: the variant (by name) shown first, as A, whose inspector and plots
    /// the app shows (default: the file's first).
    #[arg(long)]
    pub variant: Option<String>,
    /// The canvas only, framed to fill it: the clock, a compact legend strip and the particle
    /// scale, no panels (for slides and videos).
    #[arg(long)]
    pub clean: bool,
    /// Overwrite an existing file at --out that flowlab did not write.
    #[arg(long)]
    pub force: bool,
}

/// Options of `flowlab record`.
#[derive(clap::Args, Debug)]
pub struct RecordArgs {
    /// Scenario file (RON).
    pub scenario: PathBuf,
    /// First frame's simulated time, s (a scenario; a lesson is filmed whole).
    #[arg(long, allow_negative_numbers = true)]
    pub from: Option<f64>,
    /// Last frame's simulated time, s (a scenario).
    #[arg(long, allow_negative_numbers = true)]
    pub to: Option<f64>,
    /// Simulated seconds per second of video.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub speed: f64,
    /// Frames per second of video.
    #[arg(long, default_value_t = 30.0, allow_negative_numbers = true)]
    pub fps: f64,
    /// Window and video size, WIDTHxHEIGHT.
    #[arg(long, default_value = "1920x1080")]
    pub size: String,
    /// MP4 file (default: SCENARIO.mp4 in the current directory).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The canvas only, framed to fill it: the clock, a compact legend strip and the particle
    /// scale, no panels.
    #[arg(long)]
    pub clean: bool,
    /// Overwrite an existing file at --out that flowlab did not write.
    #[arg(long)]
    pub force: bool,
    /// A lesson: speak each step's narration with espeak-ng into the video.
    #[arg(long)]
    pub narrate: bool,
    /// The espeak-ng voice for --narrate.
    #[arg(long, default_value = "en-us")]
    pub voice: String,
    /// A lesson: a recording of your own voice (any format ffmpeg reads), cut at --cues.
    #[arg(long)]
    pub audio: Option<PathBuf>,
    /// With --audio: each step's start in the recording, one a line (Audacity's labels).
    #[arg(long)]
    pub cues: Option<PathBuf>,
}

/// Options of `flowlab open` (and plain `flowlab`).
#[derive(clap::Args, Debug, Default)]
pub struct OpenArgs {
    /// Starting speed, simulated seconds per wall second (0.001 to 100).
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub speed: f64,
    /// Close after this many wall seconds and print frame statistics (for benchmarks).
    #[arg(long, allow_negative_numbers = true)]
    pub quit_after: Option<f64>,
    /// Open at this simulated time, s (the run before it is simulated headless first).
    #[arg(long, allow_negative_numbers = true)]
    pub start: Option<f64>,
    /// A comparison file: the offered-load multiplier its variants run at (default: its
    /// highest load).
    #[arg(long, allow_negative_numbers = true)]
    pub load: Option<f64>,
    /// A comparison file: the variant (by name) shown first, as A, whose inspector and plots
    /// the app shows (default: the file's first).
    #[arg(long)]
    pub variant: Option<String>,
}

#[cfg(feature = "desktop")]
fn check_open(o: &OpenArgs) -> Result<(), String> {
    if !(o.speed.is_finite() && (0.001..=100.0).contains(&o.speed)) {
        return Err(format!("--speed {}: give 0.001 to 100", o.speed));
    }
    if let Some(q) = o.quit_after
        && !(q.is_finite() && q > 0.0 && q <= 86_400.0)
    {
        return Err(format!("--quit-after {q}: give wall seconds in (0, 86400]"));
    }
    if let Some(t) = o.start {
        check_time("--start", t, 1e6)?;
    }
    Ok(())
}

/// `WIDTHxHEIGHT`, each 200 to 7680 pixels.
#[cfg(feature = "desktop")]
pub fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let bad = || format!("--size {s:?}: give WIDTHxHEIGHT, each 200 to 7680 pixels, e.g. 1600x900");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h): (u32, u32) = (
        w.trim().parse().map_err(|_| bad())?,
        h.trim().parse().map_err(|_| bad())?,
    );
    if !(200..=7680).contains(&w) || !(200..=7680).contains(&h) {
        return Err(bad());
    }
    Ok((w, h))
}

/// Loads the scenario for the app: a bad file still opens the app (running the default
/// scenario) with its error shown.
#[cfg(feature = "desktop")]
fn load_for_app(path: &Path) -> (Option<Scenario>, Option<String>) {
    match crate::runner::load_checked(path) {
        Ok(s) => (Some(s), None),
        Err(e) => {
            eprintln!("error: {e}");
            let fallback = scenario::parse(EMBEDDED, Path::new(DEFAULT_SCENARIO)).ok();
            (fallback, Some(e.to_string()))
        }
    }
}

/// A comparison file (one that names `question` and `variants`) opened side by side: its first
/// variant's scenario and the comparison at `load` (default its highest load). `None` for a
/// scenario file.
#[cfg(feature = "desktop")]
#[allow(clippy::type_complexity)]
fn comparison_for_app(
    path: &Path,
    load: Option<f64>,
    variant: Option<&str>,
) -> Option<Result<(Scenario, (crate::compare::Comparison, Scenario, f64)), String>> {
    if !crate::compare::is_comparison(path) {
        return variant.map(|v| {
            Err(format!(
                "--variant {v:?}: {} is a scenario, not a comparison file",
                path.display()
            ))
        });
    }
    Some(crate::compare::load(path).and_then(|(mut c, base)| {
        if let Some(v) = variant {
            let Some(k) = c.variants.iter().position(|x| x.name == v) else {
                let names: Vec<&str> = c.variants.iter().map(|x| x.name.as_str()).collect();
                return Err(format!(
                    "--variant {v:?}: {} has no such variant (it has {})",
                    path.display(),
                    names.join(", ")
                ));
            };
            // The chosen variant first (A), the others in their order after it.
            let chosen = c.variants.remove(k);
            c.variants.insert(0, chosen);
        }
        let load = load.unwrap_or(c.loads[c.highest_load()]);
        if !(load.is_finite() && load > 0.0 && load <= 100.0) {
            return Err(format!(
                "--load {load}: give a multiplier above 0, at most 100"
            ));
        }
        let s = crate::compare::prepared(&c, &base, 0, load, 0);
        Ok((s, (c, base, load)))
    }))
}

#[cfg(feature = "desktop")]
fn stem(p: &Path) -> String {
    p.file_stem()
        .map_or("flowlab".into(), |s| s.to_string_lossy().to_string())
}

#[cfg(feature = "desktop")]
fn check_time(name: &str, v: f64, end: f64) -> Result<(), String> {
    if v.is_finite() && v >= 0.0 && v <= end {
        Ok(())
    } else {
        Err(format!(
            "{name} {v}: give simulated seconds between 0 and {end}"
        ))
    }
}

#[cfg(feature = "desktop")]
mod with_app {
    use super::*;
    use crate::app::state::RunMode;
    use crate::app::{AppOptions, run};

    fn exit(e: bevy::app::AppExit) -> ExitCode {
        match e {
            bevy::app::AppExit::Success => ExitCode::SUCCESS,
            bevy::app::AppExit::Error(code) => ExitCode::from(code.get()),
        }
    }

    /// Opens the app on `path`.
    pub fn open(path: PathBuf, o: &OpenArgs) -> ExitCode {
        if let Err(e) = check_open(o) {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
        if let Some(e) = display_problem() {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
        let (s, err, compare) = match comparison_for_app(&path, o.load, o.variant.as_deref()) {
            Some(Ok((variant, c))) => (Some(variant), None, Some(c)),
            Some(Err(e)) => {
                eprintln!("error: {e}");
                let fallback = scenario::parse(EMBEDDED, Path::new(DEFAULT_SCENARIO)).ok();
                (fallback, Some(e), None)
            }
            None => {
                let (s, err) = load_for_app(&path);
                (s, err, None)
            }
        };
        let opts = AppOptions {
            path,
            size: (1600, 900),
            mode: RunMode::Interactive,
            speed: o.speed,
            quit_after: o.quit_after,
            start: o.start,
            select: None,
            compare,
            clean: false,
            lesson: None,
        };
        exit(run(opts, s, err))
    }

    /// `flowlab shot`.
    pub fn shot(a: &ShotArgs) -> ExitCode {
        let make = |end: f64, inputs: &[&Path]| -> Result<AppOptions, String> {
            let size = parse_size(&a.size)?;
            check_time("--at", a.at, end)?;
            let out = a.out.clone().unwrap_or_else(|| {
                PathBuf::from(format!("{}-t{:.0}.png", stem(&a.scenario), a.at))
            });
            check_out(&out, "png", inputs, a.force)?;
            Ok(AppOptions {
                path: a.scenario.clone(),
                size,
                mode: RunMode::Shot { at: a.at, out },
                speed: 1.0,
                quit_after: None,
                start: None,
                select: a.select.clone(),
                compare: None,
                clean: a.clean,
                lesson: None,
            })
        };
        start(&a.scenario, a.load, a.variant.as_deref(), make)
    }

    /// `flowlab record`.
    pub fn record(a: &RecordArgs) -> ExitCode {
        let make = |end: f64, inputs: &[&Path]| -> Result<AppOptions, String> {
            let size = parse_size(&a.size)?;
            if a.narrate || a.audio.is_some() || a.cues.is_some() {
                return Err("--narrate, --audio and --cues are for lessons".into());
            }
            let (Some(from), Some(to)) = (a.from, a.to) else {
                return Err("give --from and --to (simulated seconds) for a scenario".into());
            };
            check_time("--from", from, end)?;
            check_time("--to", to, end)?;
            if to <= from {
                return Err(format!("--to {to} must be after --from {from}"));
            }
            if !(a.speed.is_finite() && (0.001..=100.0).contains(&a.speed)) {
                return Err(format!(
                    "--speed {}: give 0.001 to 100 simulated s per video s",
                    a.speed
                ));
            }
            if !(a.fps.is_finite() && (1.0..=120.0).contains(&a.fps)) {
                return Err(format!("--fps {}: give 1 to 120", a.fps));
            }
            let frames = (to - from) / a.speed * a.fps;
            if frames > 216_000.0 {
                return Err(format!(
                    "{frames:.0} frames is more than two hours of video at {} fps: record less",
                    a.fps
                ));
            }
            let out = a
                .out
                .clone()
                .unwrap_or_else(|| PathBuf::from(format!("{}.mp4", stem(&a.scenario))));
            check_out(&out, "mp4", inputs, a.force)?;
            let mode = RunMode::Record {
                from,
                to,
                speed: a.speed,
                fps: a.fps,
                out,
            };
            Ok(AppOptions {
                path: a.scenario.clone(),
                size,
                mode,
                speed: a.speed,
                quit_after: None,
                start: None,
                select: None,
                compare: None,
                clean: a.clean,
                lesson: None,
            })
        };
        start(&a.scenario, None, None, make)
    }

    /// The output file of a shot or a recording, checked before the window opens.
    pub fn check_out(out: &Path, ext: &str, inputs: &[&Path], force: bool) -> Result<(), String> {
        if !out.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext)) {
            return Err(format!("--out {}: give a .{ext} file name", out.display()));
        }
        let (ours, kind): (&dyn Fn(&Path) -> bool, &str) = if ext == "png" {
            (&crate::app::capture::is_our_png, "a PNG flowlab wrote")
        } else {
            (&crate::app::capture::is_our_mp4, "a video flowlab recorded")
        };
        let o = crate::files::Output {
            flag: "--out",
            path: out,
            ours,
            kind,
        };
        crate::files::check_output(&o, inputs, force)
    }

    /// Loads the scenario or comparison at `path`, makes the options from its length and its
    /// inputs, checks there is a display, and runs the app; every refusal exits 2 before a
    /// window opens.
    fn start(
        path: &Path,
        load: Option<f64>,
        variant: Option<&str>,
        make: impl FnOnce(f64, &[&Path]) -> Result<AppOptions, String>,
    ) -> ExitCode {
        let refuse = |e: String| {
            eprintln!("error: {e}");
            ExitCode::from(2)
        };
        let (s, compare) = match comparison_for_app(path, load, variant) {
            Some(Ok((s, c))) => (s, Some(c)),
            Some(Err(e)) => return refuse(e),
            None => match crate::runner::load_checked(path) {
                Ok(s) => (s, None),
                Err(e) => return refuse(e.to_string()),
            },
        };
        let base = compare
            .as_ref()
            .map(|(c, _, _)| path.parent().unwrap_or(Path::new(".")).join(&c.base));
        let mut inputs = vec![path];
        inputs.extend(base.as_deref());
        let mut opts = match make(s.sim.duration_s, &inputs) {
            Ok(o) => o,
            Err(e) => return refuse(e),
        };
        if let Some(e) = display_problem() {
            return refuse(e);
        }
        opts.compare = compare;
        exit(run(opts, Some(s), None))
    }
}

/// Why no window can open, if none can: flowlab's window is X11's, so it needs `DISPLAY` to
/// name a running X server (a local `:N` is looked for as its socket). Checked before a window
/// is asked for, so no windowing library panics.
#[cfg(feature = "desktop")]
pub fn display_problem() -> Option<String> {
    let hint = "run under ../shared/tools/with-display, or set DISPLAY to a running X server";
    let Some(d) = std::env::var("DISPLAY")
        .ok()
        .filter(|d| !d.trim().is_empty())
    else {
        return Some(format!("no display: {hint}"));
    };
    let Some(n) = d.strip_prefix(':') else {
        return None; // host:N, reached over the network: the connection will say.
    };
    let n = n.split('.').next().unwrap_or("");
    let socket = format!("/tmp/.X11-unix/X{n}");
    let reachable = std::os::unix::net::UnixStream::connect(&socket).is_ok() || {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(socket.as_bytes())
            .and_then(|a| std::os::unix::net::UnixStream::connect_addr(&a))
            .is_ok()
    };
    (!reachable).then(|| format!("no display: DISPLAY={d} names no running X server ({hint})"))
}

#[cfg(feature = "desktop")]
pub use with_app::{check_out, open, record, shot};

#[cfg(not(feature = "desktop"))]
fn no_app() -> ExitCode {
    eprintln!(
        "error: this flowlab was built without the desktop app (cargo feature `desktop`); `flowlab run` and `flowlab check` work"
    );
    ExitCode::from(2)
}

/// Opens the app on `path` (this build has no app).
#[cfg(not(feature = "desktop"))]
pub fn open(_path: PathBuf, _o: &OpenArgs) -> ExitCode {
    no_app()
}

/// `flowlab shot` (this build has no app).
#[cfg(not(feature = "desktop"))]
pub fn shot(_a: &ShotArgs) -> ExitCode {
    no_app()
}

/// `flowlab record` (this build has no app).
#[cfg(not(feature = "desktop"))]
pub fn record(_a: &RecordArgs) -> ExitCode {
    no_app()
}
