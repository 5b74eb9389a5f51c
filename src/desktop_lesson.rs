//! A lesson on the screen and on film: `flowlab lesson FILE` presents it in the app, `flowlab
//! lesson FILE --shot K --out F.png` writes step K's last frame as the video shows it, and
//! `flowlab record LESSON --out lesson.mp4` films it with `lesson.srt`, `lesson.vtt` and
//! `lesson.chapters.vtt` beside it (`--narrate` or `--audio FILE --cues LABELS` for sound). All
//! three run the lesson's check first: its step clocks are the plan, and a lesson whose claims
//! do not hold is not filmed.

use crate::desktop_cli::RecordArgs;
use crate::lesson::{Lesson, Report};
use crate::scenario::Scenario;
use std::path::Path;
#[cfg(feature = "desktop")]
use std::path::PathBuf;
use std::process::ExitCode;

/// A lesson, its scenario and its checked plan; or why not, with the exit code.
fn plan(path: &Path, strict: bool) -> Result<(Lesson, Scenario, Report), (String, u8)> {
    let (l, s) = crate::lesson::load(path).map_err(|e| (e, 2))?;
    let report = crate::lesson::check(&l, &s);
    if report.failed() > 0 {
        let msg = format!(
            "{}: {} claim(s) do not hold: see `flowlab lesson {} --check`",
            path.display(),
            report.failed(),
            path.display()
        );
        if strict {
            return Err((
                format!("{msg}; a lesson is filmed only when every claim holds"),
                1,
            ));
        }
        eprintln!("warning: {msg}");
    }
    Ok((l, s, report))
}

fn refuse((e, code): (String, u8)) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(code)
}

#[cfg(feature = "desktop")]
mod with_app {
    use super::*;
    use crate::app::lesson::LessonRun;
    use crate::app::state::RunMode;
    use crate::app::{AppOptions, run};
    use crate::desktop_cli::{display_problem, parse_size};
    use crate::lesson::reel::Reel;

    fn exit(e: bevy::app::AppExit) -> ExitCode {
        match e {
            bevy::app::AppExit::Success => ExitCode::SUCCESS,
            bevy::app::AppExit::Error(code) => ExitCode::from(code.get()),
        }
    }

    fn options(path: &Path, size: (u32, u32), mode: RunMode, run: LessonRun) -> AppOptions {
        AppOptions {
            path: path.to_path_buf(),
            size,
            mode,
            speed: 1.0,
            quit_after: None,
            start: None,
            select: None,
            compare: None,
            clean: true,
            lesson: Some(run),
        }
    }

    /// `flowlab lesson FILE`: the app in presenter mode.
    pub fn present(path: &Path, size: &str, quit_after: Option<f64>) -> ExitCode {
        let size = match parse_size(size) {
            Ok(s) => s,
            Err(e) => return refuse((e, 2)),
        };
        let (lesson, scenario, plan) = match plan(path, false) {
            Ok(x) => x,
            Err(e) => return refuse(e),
        };
        if let Some(e) = display_problem() {
            return refuse((e, 2));
        }
        let run_ = LessonRun {
            path: path.to_path_buf(),
            lesson,
            scenario: scenario.clone(),
            plan,
            reel: None,
        };
        let mut opts = options(path, size, RunMode::Interactive, run_);
        opts.quit_after = quit_after;
        exit(run(opts, Some(scenario), None))
    }

    /// `flowlab lesson FILE --shot K --out F.png`: step K's last frame (from 1) as filmed.
    pub fn shot(path: &Path, step: usize, out: &Path, size: &str, force: bool) -> ExitCode {
        let size = match parse_size(size) {
            Ok(s) => s,
            Err(e) => return refuse((e, 2)),
        };
        let (lesson, scenario, plan) = match plan(path, true) {
            Ok(x) => x,
            Err(e) => return refuse(e),
        };
        let n = lesson.steps.len();
        if step == 0 || step > n {
            return refuse((format!("--shot {step}: the lesson has steps 1 to {n}"), 2));
        }
        if let Err(e) = crate::desktop_cli::check_out(out, "png", &[path], force) {
            return refuse((e, 2));
        }
        if let Some(e) = display_problem() {
            return refuse((e, 2));
        }
        let reel = Reel::new(&lesson, &plan, 30.0, &[]);
        let frame = reel.step_frames(step - 1).map_or(0, |(_, b)| b - 1);
        let run_ = LessonRun {
            path: path.to_path_buf(),
            lesson,
            scenario: scenario.clone(),
            plan,
            reel: Some(reel),
        };
        let mode = RunMode::Film {
            out: out.to_path_buf(),
            chapters: None,
            audio: None,
            only: Some(frame),
        };
        exit(run(options(path, size, mode, run_), Some(scenario), None))
    }

    /// The files written beside a lesson's video.
    struct Beside {
        srt: PathBuf,
        vtt: PathBuf,
        chapters: PathBuf,
    }

    fn beside(out: &Path) -> Beside {
        Beside {
            srt: out.with_extension("srt"),
            vtt: out.with_extension("vtt"),
            chapters: out.with_extension("chapters.vtt"),
        }
    }

    /// `flowlab record LESSON --out lesson.mp4`.
    pub fn film(a: &RecordArgs) -> ExitCode {
        match film_checked(a) {
            Ok(code) => code,
            Err(e) => refuse(e),
        }
    }

    /// The sound a film asks for: narration, a recording cut at its cues, or none.
    fn sound(
        a: &RecordArgs,
        lesson: &Lesson,
        plan: &Report,
    ) -> Result<Option<crate::lesson::voice::Clips>, String> {
        use crate::lesson::voice;
        match (&a.audio, &a.cues, a.narrate) {
            (Some(_), _, true) => Err("--narrate and --audio: give one of them".into()),
            (Some(audio), Some(cues), false) => {
                let text = crate::files::read_text(cues, "cue file").map_err(|e| e.to_string())?;
                let marks = voice::parse_cues(&text, cues)?;
                Ok(Some(voice::from_recording(audio, &marks, lesson.steps.len())?))
            }
            (Some(_), None, false) => Err(
                "--audio needs --cues: a file with each step's start in the recording (Audacity's exported labels will do)".into(),
            ),
            (None, Some(_), _) => Err("--cues goes with --audio".into()),
            (None, None, true) => {
                let texts: Vec<String> = (0..lesson.steps.len())
                    .map(|k| crate::lesson::reel::narration(lesson, plan, k))
                    .collect();
                Ok(Some(voice::narrate(&texts, &a.voice)?))
            }
            (None, None, false) => Ok(None),
        }
    }

    /// The subtitles and chapters beside `out` may be written (flowlab's, or absent).
    fn check_beside(files: &Beside, input: &Path, force: bool) -> Result<(), String> {
        for p in [&files.srt, &files.vtt, &files.chapters] {
            let o = crate::files::Output {
                flag: "--out",
                path: p,
                ours: &|p: &Path| {
                    crate::files::head(p, 64).starts_with(b"WEBVTT")
                        || crate::files::head(p, 4).starts_with(b"1\n")
                },
                kind: "subtitles flowlab wrote",
            };
            crate::files::check_output(&o, &[input], force)?;
        }
        Ok(())
    }

    fn film_checked(a: &RecordArgs) -> Result<ExitCode, (String, u8)> {
        let bad = |e: String| (e, 2u8);
        if a.from.is_some() || a.to.is_some() {
            return Err(bad(
                "--from and --to are for scenarios: a lesson is filmed whole, its steps timed by its file".into(),
            ));
        }
        let size = parse_size(&a.size).map_err(bad)?;
        if !(a.fps.is_finite() && (1.0..=60.0).contains(&a.fps)) {
            return Err(bad(format!("--fps {}: give 1 to 60 for a lesson", a.fps)));
        }
        let path = &a.scenario;
        let out = a.out.clone().unwrap_or_else(|| {
            PathBuf::from(format!(
                "{}.mp4",
                path.file_stem()
                    .map_or("lesson".into(), |s| s.to_string_lossy())
            ))
        });
        crate::desktop_cli::check_out(&out, "mp4", &[path], a.force).map_err(bad)?;
        let files = beside(&out);
        check_beside(&files, path, a.force).map_err(bad)?;
        let (lesson, scenario, plan) = plan(path, true)?;
        let clips = sound(a, &lesson, &plan).map_err(bad)?;
        let reel = match &clips {
            Some(c) => Reel::timed(&lesson, &plan, a.fps, c.title_s(), &c.least_s()),
            None => Reel::new(&lesson, &plan, a.fps, &[]),
        };
        if let Some(e) = display_problem() {
            return Err(bad(e));
        }
        let (chapters_vtt, meta) = reel.chapters(&plan);
        let meta_at = crate::files::temporary(&out.with_extension("ffmeta.txt"));
        crate::files::write_atomic(&meta_at, meta.as_bytes()).map_err(bad)?;
        let audio_at = match &clips {
            Some(c) => {
                let p = crate::files::temporary(&out.with_extension("wav"));
                crate::lesson::voice::write_wav(&p, &crate::lesson::voice::track(c, &reel))
                    .map_err(bad)?;
                Some(p)
            }
            None => None,
        };
        println!(
            "filming {}: {} steps, {:.1} s of video, {} frames at {}x{}, {} fps",
            path.display(),
            lesson.steps.len(),
            reel.seconds(),
            reel.frames(),
            size.0,
            size.1,
            a.fps
        );
        let (srt, vtt) = (reel.srt(&plan), reel.vtt(&plan));
        let run_ = LessonRun {
            path: path.clone(),
            lesson,
            scenario: scenario.clone(),
            plan,
            reel: Some(reel),
        };
        let mode = RunMode::Film {
            out: out.clone(),
            chapters: Some(meta_at.clone()),
            audio: audio_at.clone(),
            only: None,
        };
        let code = exit(run(options(path, size, mode, run_), Some(scenario), None));
        let _ = std::fs::remove_file(&meta_at);
        if let Some(p) = audio_at {
            let _ = std::fs::remove_file(p);
        }
        if code != ExitCode::SUCCESS {
            return Ok(code);
        }
        for (p, text) in [
            (&files.srt, srt),
            (&files.vtt, vtt),
            (&files.chapters, chapters_vtt),
        ] {
            crate::files::write_atomic(p, text.as_bytes()).map_err(bad)?;
            println!("wrote {}", p.display());
        }
        Ok(ExitCode::SUCCESS)
    }
}

#[cfg(feature = "desktop")]
pub use with_app::{film, present, shot};

/// `flowlab lesson FILE` (this build has no app).
#[cfg(not(feature = "desktop"))]
pub fn present(path: &Path, _size: &str, _quit_after: Option<f64>) -> ExitCode {
    if let Err(e) = plan(path, false) {
        return refuse(e);
    }
    refuse((
        "this flowlab was built without the desktop app: `flowlab lesson FILE --check` works"
            .into(),
        2,
    ))
}

/// `flowlab lesson FILE --shot` (this build has no app).
#[cfg(not(feature = "desktop"))]
pub fn shot(path: &Path, _step: usize, _out: &Path, _size: &str, _force: bool) -> ExitCode {
    present(path, "", None)
}

/// `flowlab record LESSON` (this build has no app).
#[cfg(not(feature = "desktop"))]
pub fn film(a: &RecordArgs) -> ExitCode {
    present(&a.scenario, "", None)
}
