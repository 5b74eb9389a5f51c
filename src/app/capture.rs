//! Screenshots and video, deterministic: the simulation advances by exact simulated time per
//! frame (never by the machine's speed), and a frame is only captured once everything drawn
//! follows that time, so the same file gives the same frames. `flowlab shot` and `flowlab
//! record` run this way and exit; the app's Screenshot and Record buttons use it too.

use super::state::Panels;
use super::state::{OpenFile, PARTICLES, RunMode};
use crate::sim::schedule::dist::Nanos;
use crate::sim::{SimClock, SimControl};
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};

/// Frames rendered before a capture so text, shapes and panels have settled.
const SETTLE_FRAMES: u32 = 4;
/// Filming a lesson: frames rendered before each capture (every part of a lesson's frame is
/// drawn from fixed rectangles in the frame it is asked for).
const FILM_SETTLE: u32 = 0;
/// Frames and wall seconds the app renders before a film's first capture (shaders compile and
/// the first drawing settles).
const WARM_FRAMES: u32 = 15;
const WARM_S: f64 = 1.5;
/// Screenshots that may be in flight at once (their images wait in memory to be encoded).
const IN_FLIGHT: usize = 3;

/// A capture in progress.
#[derive(Resource)]
pub struct Capture {
    /// Simulated time of the first frame (ns).
    from: Nanos,
    /// Simulated ns per frame.
    per_frame: f64,
    /// Frames to capture.
    frames: u64,
    /// Next frame to capture.
    next: u64,
    /// Frames waited at the current one.
    settle: u32,
    /// Screenshots asked for and not yet back.
    in_flight: usize,
    /// Frames rendered since the capture began.
    warm: u32,
    /// A film's frame to take at the end of this frame (`shoot`).
    wanted: Option<u64>,
    /// A lesson's frames (each frame's moment), instead of `from` + k x `per_frame`.
    reel: Option<crate::lesson::reel::Reel>,
    /// Frames back from the renderer out of order, until those before them come.
    early: std::collections::BTreeMap<u64, Vec<u8>>,
    /// Frames captured.
    captured: u64,
    /// A single frame's lead-in: frames before this one are played, not captured, so the
    /// rates and particles it shows have the moments before it (as in the film).
    lead_to: u64,
    /// Where a single shot goes (PNG), or the video encoder.
    out: Output,
    /// Exit when done (the command line), or go back to interactive play (the button).
    exit: bool,
    /// Whether the simulation was paused before.
    was_paused: bool,
    bar: Option<ProgressBar>,
    /// Why the shot was not written, if it was not.
    failed: Option<String>,
}

enum Output {
    Png(PathBuf),
    Video {
        child: Child,
        stdin: Option<ChildStdin>,
        /// Where the video goes once ffmpeg has finished it.
        out: PathBuf,
        /// Where ffmpeg writes it meanwhile.
        tmp: PathBuf,
    },
}

/// The capture's frames as they come back from the renderer.
#[derive(Resource, Default)]
struct Frames(Vec<(u64, Image)>);

/// Tags a screenshot with its frame number.
#[derive(Component)]
struct FrameNo(u64);

/// Whether the panels' glyph atlas changed in this frame or the one before: a frame drawn
/// then may lack glyphs whose texture is still on its way to the GPU, so a film waits.
#[derive(Resource, Default)]
struct Atlas {
    now: bool,
    before: bool,
}

fn watch_atlas(outputs: Query<&bevy_egui::EguiRenderOutput>, mut atlas: ResMut<Atlas>) {
    atlas.before = atlas.now;
    atlas.now = outputs.iter().any(|o| !o.textures_delta.set.is_empty());
}

/// Takes the frame a film asked for, once the glyph atlas has been still for two frames (the
/// same moment is drawn again until then).
fn shoot(mut commands: Commands, cap: Option<ResMut<Capture>>, atlas: Res<Atlas>) {
    let Some(mut cap) = cap else {
        return;
    };
    let Some(k) = cap.wanted else {
        return;
    };
    if atlas.now || atlas.before {
        return;
    }
    commands.spawn((Screenshot::primary_window(), FrameNo(k)));
    cap.wanted = None;
    cap.in_flight += 1;
    cap.next += 1;
}

/// A screenshot the Screenshot button (or `P`) asked for, and where it goes.
#[derive(Component)]
struct SaveTo(PathBuf);

pub(super) fn plugin(app: &mut App, mode: &RunMode) {
    app.init_resource::<Frames>()
        .add_systems(
            Update,
            (start_from_panels, step_capture)
                .chain()
                .before(super::AppSystems::Input),
        )
        .init_resource::<Atlas>()
        .add_systems(
            PostUpdate,
            watch_atlas
                .after(bevy_egui::EguiPostUpdateSet::ProcessOutput)
                .before(bevy_egui::EguiPostUpdateSet::PostProcessOutput),
        )
        .add_systems(Last, (shoot, collect_frames).chain())
        .add_observer(on_captured);
    match mode.clone() {
        RunMode::Interactive => {}
        RunMode::Shot { at, out } => {
            app.add_systems(Startup, move |mut commands: Commands| {
                let out = out.clone();
                commands.queue(move |world: &mut World| {
                    start(world, at, at, 1.0, 30.0, Some(out), None)
                });
            });
        }
        RunMode::Record {
            from,
            to,
            speed,
            fps,
            out,
        } => {
            app.add_systems(Startup, move |mut commands: Commands| {
                let out = out.clone();
                commands.queue(move |world: &mut World| {
                    start(world, from, to, speed, fps, None, Some(out))
                });
            });
        }
        RunMode::Film {
            out,
            chapters,
            audio,
            only,
        } => {
            app.add_systems(Startup, move |mut commands: Commands| {
                let extra = Extra {
                    chapters: chapters.clone(),
                    audio: audio.clone(),
                };
                let out = out.clone();
                commands.queue(move |world: &mut World| start_film(world, out, extra, only));
            });
        }
    }
}

/// Inputs muxed into a lesson's MP4 beside its frames.
#[derive(Clone, Default)]
struct Extra {
    chapters: Option<PathBuf>,
    audio: Option<PathBuf>,
}

/// Starts filming the lesson: every frame's moment from its reel, from t = 0 (or only frame
/// `only`, as a PNG).
fn start_film(world: &mut World, out: PathBuf, extra: Extra, only: Option<u64>) {
    let Some(reel) = world
        .get_resource::<crate::app::lesson::Presenter>()
        .and_then(|p| p.run.reel.clone())
    else {
        fail(world, "no lesson to film".into(), true);
        return;
    };
    world.resource_mut::<SimControl>().paused = true;
    if let Some(f) = only {
        let mut cap = capture_of(Output::Png(out), 0, 1.0, f + 1, true);
        cap.next = lead_from(&reel, f);
        cap.lead_to = f;
        cap.captured = f;
        cap.reel = Some(reel);
        world.insert_resource(cap);
        return;
    }
    let size = window_size(world);
    let tmp = crate::files::temporary(&out);
    let child = match encoder(&tmp, size, reel.fps, &extra) {
        Ok(c) => c,
        Err(e) => {
            fail(
                world,
                format!("cannot start ffmpeg (is it installed?): {e}"),
                true,
            );
            return;
        }
    };
    let mut cap = capture_of(
        Output::Video {
            stdin: None,
            child,
            tmp,
            out,
        },
        0,
        1.0,
        reel.frames(),
        true,
    );
    if let Output::Video { child, stdin, .. } = &mut cap.out {
        *stdin = child.stdin.take();
    }
    cap.reel = Some(reel);
    world.insert_resource(cap);
}

fn window_size(world: &mut World) -> (u32, u32) {
    world
        .query::<&Window>()
        .iter(world)
        .next()
        .map_or((1600, 900), |w| (w.physical_width(), w.physical_height()))
}

/// A capture of `frames` frames from `from` (ns), `per_frame` ns apart.
fn capture_of(out: Output, from: Nanos, per_frame: f64, frames: u64, exit: bool) -> Capture {
    let bar = exit.then(|| {
        let b = ProgressBar::new(frames);
        if let Ok(s) =
            ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} frames, eta {eta}")
        {
            b.set_style(s);
        }
        b.set_message("rendering");
        b
    });
    Capture {
        from,
        per_frame,
        frames,
        next: 0,
        settle: 0,
        in_flight: 0,
        warm: 0,
        wanted: None,
        reel: None,
        early: Default::default(),
        captured: 0,
        lead_to: 0,
        out,
        exit,
        was_paused: true,
        bar,
        failed: None,
    }
}

/// What a PNG written by flowlab says in its `Software` text chunk.
pub const PNG_MARK: &str = "flowlab";

/// The comment ffmpeg writes into a video flowlab recorded (found in its first megabytes, the
/// index is at the front: `+faststart`).
pub const MP4_MARK: &str = "comment=recorded by flowlab";

/// Whether the PNG at `p` is one flowlab wrote.
pub fn is_our_png(p: &std::path::Path) -> bool {
    let head = crate::files::head(p, 4096);
    let key = format!("Software\0{PNG_MARK}");
    head.starts_with(b"\x89PNG") && head.windows(key.len()).any(|w| w == key.as_bytes())
}

/// Whether the MP4 at `p` is one flowlab recorded.
pub fn is_our_mp4(p: &std::path::Path) -> bool {
    let head = crate::files::head(p, 8 << 20);
    let mark = MP4_MARK.trim_start_matches("comment=").as_bytes();
    head.windows(mark.len()).any(|w| w == mark)
}

/// Writes `image` as a PNG at `path` (marked as flowlab's), under a temporary name renamed
/// into place.
fn write_png(image: &Image, path: &std::path::Path) -> Result<(), String> {
    let rgba = image
        .clone()
        .try_into_dynamic()
        .map_err(|e| format!("{}: {e}", path.display()))?
        .to_rgba8();
    let mut bytes = vec![];
    {
        let mut enc = png::Encoder::new(&mut bytes, rgba.width(), rgba.height());
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let e = |e: png::EncodingError| format!("{}: {e}", path.display());
        enc.add_text_chunk("Software".into(), PNG_MARK.into())
            .map_err(e)?;
        let mut w = enc.write_header().map_err(e)?;
        w.write_image_data(rgba.as_raw()).map_err(e)?;
    }
    crate::files::write_atomic(path, &bytes)
}

/// ffmpeg reading raw RGBA frames of `size` at `fps` into an H.264 MP4 that plays in a browser.
fn encoder(out: &PathBuf, size: (u32, u32), fps: f64, extra: &Extra) -> std::io::Result<Child> {
    let mut inputs: Vec<String> = vec![];
    let mut maps: Vec<String> = vec!["-map".into(), "0:v".into()];
    let mut k = 1;
    if let Some(c) = &extra.chapters {
        inputs.extend([
            "-f".into(),
            "ffmetadata".into(),
            "-i".into(),
            c.display().to_string(),
        ]);
        maps.extend([
            "-map_metadata".into(),
            k.to_string(),
            "-map_chapters".into(),
            k.to_string(),
        ]);
        k += 1;
    }
    if let Some(a) = &extra.audio {
        inputs.extend(["-i".into(), a.display().to_string()]);
        maps.extend(["-map".into(), format!("{k}:a"), "-c:a".into(), "aac".into()]);
    }
    Command::new("ffmpeg")
        .args([
            "-y",
            "-loglevel",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgba",
        ])
        .args([
            "-s",
            &format!("{}x{}", size.0, size.1),
            "-r",
            &format!("{fps}"),
        ])
        .args(["-i", "-"])
        .args(&inputs)
        .args(&maps)
        .args([
            "-c:v",
            "libx264",
            // The encoder keeps pace with the renderer on two cores; the files stay small
            // (flat colours compress well).
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "+faststart",
            "-metadata",
            MP4_MARK,
        ])
        .arg(out)
        .stdin(Stdio::piped())
        .spawn()
}

/// Starts a capture: runs the simulation headless to just before `from` (so particles have a
/// history), then frame by frame.
fn start(
    world: &mut World,
    from: f64,
    to: f64,
    speed: f64,
    fps: f64,
    png: Option<PathBuf>,
    video: Option<PathBuf>,
) {
    let exit = *world.resource::<RunMode>() != RunMode::Interactive;
    let size = window_size(world);
    let out = match (png, video) {
        (Some(p), _) => Output::Png(p),
        (None, Some(v)) => {
            match encoder(&crate::files::temporary(&v), size, fps, &Extra::default()) {
                Ok(mut child) => Output::Video {
                    stdin: child.stdin.take(),
                    child,
                    tmp: crate::files::temporary(&v),
                    out: v,
                },
                Err(e) => {
                    fail(
                        world,
                        format!("cannot start ffmpeg (is it installed?): {e}"),
                        exit,
                    );
                    return;
                }
            }
        }
        (None, None) => return,
    };
    let per_frame = speed / fps * 1e9;
    let frames = (((to - from) * fps / speed).round().max(0.0) as u64).max(1);
    let warm = (from - PARTICLES.visible_s * speed).max(0.0);
    let was_paused = {
        let mut c = world.resource_mut::<SimControl>();
        let p = c.paused;
        c.paused = true;
        c.speed = speed;
        p
    };
    run_to(world, (warm * 1e9) as Nanos);
    let frames = if matches!(out, Output::Png(_)) {
        1
    } else {
        frames
    };
    let mut cap = capture_of(out, (from * 1e9) as Nanos, per_frame, frames, exit);
    cap.was_paused = was_paused;
    world.insert_resource(cap);
}

fn fail(world: &mut World, msg: String, exit: bool) {
    eprintln!("error: {msg}");
    if exit {
        world.write_message(AppExit::from_code(2));
    } else if let Some(mut f) = world.get_resource_mut::<OpenFile>() {
        f.error = Some(msg);
    }
}

/// Runs whole ticks until the clock reaches `t` (ns), or the run stops (`sim::schedule::guard`).
fn run_to(world: &mut World, t: Nanos) {
    crate::sim::schedule::idle::run_until(world, t, |_| {});
}

/// The Screenshot and Record buttons (and `P`).
fn start_from_panels(world: &mut World) {
    let (shot, record) = {
        let mut p = world.resource_mut::<Panels>();
        (
            std::mem::take(&mut p.screenshot_requested),
            p.record_requested.take(),
        )
    };
    if world.contains_resource::<Capture>() {
        return;
    }
    let file = world.resource::<OpenFile>().path.clone();
    let stem = file
        .file_stem()
        .map_or("flowlab".into(), |s| s.to_string_lossy().to_string());
    let dir = file.parent().map(PathBuf::from).unwrap_or_default();
    let t = world.resource::<SimClock>().now as f64 / 1e9;
    if shot {
        // Never over a picture flowlab did not write: the first free or flowlab-written name.
        let out = (1..1000)
            .map(|k| match k {
                1 => dir.join(format!("{stem}-t{t:.0}.png")),
                _ => dir.join(format!("{stem}-t{t:.0}-{k}.png")),
            })
            .find(|p| !p.exists() || is_our_png(p))
            .unwrap_or_else(|| dir.join(format!("{stem}-t{t:.0}-last.png")));
        world.spawn((Screenshot::primary_window(), SaveTo(out)));
    }
    if let Some(secs) = record {
        let speed = world.resource::<SimControl>().speed;
        let out = dir.join(format!("{stem}-t{t:.0}.mp4"));
        note(
            world,
            format!("recording {secs} simulated s to {}", out.display()),
        );
        start(world, t, t + secs, speed.max(0.01), 30.0, None, Some(out));
    }
}

fn note(world: &mut World, text: String) {
    let now = world.resource::<Time<Real>>().elapsed_secs_f64();
    if let Some(mut f) = world.get_resource_mut::<OpenFile>() {
        f.notice = Some((text, now));
    }
}

/// Simulated seconds played before a single frame of a lesson (`--shot`): the rates on the
/// links are measured over about the last simulated second, as in the film.
const LEAD_S: f64 = 2.0;

/// The frame a single frame's lead-in starts at: about `LEAD_S` simulated seconds before it.
fn lead_from(reel: &crate::lesson::reel::Reel, f: u64) -> u64 {
    let from = reel.at(f).clock.saturating_sub((LEAD_S * 1e9) as Nanos);
    (0..=f)
        .rev()
        .find(|&k| reel.at(k).clock <= from)
        .unwrap_or(0)
}

/// One frame of a capture: advance to the frame's exact time, let the picture settle, capture.
/// Capturing does not wait for the last screenshot to come back (a few may be in flight).
fn step_capture(world: &mut World) {
    let Some(mut cap) = world.remove_resource::<Capture>() else {
        return;
    };
    let most = if cap.reel.is_some() { IN_FLIGHT } else { 1 };
    cap.warm += 1;
    let warming = cap.reel.is_some()
        && (cap.warm < WARM_FRAMES || world.resource::<Time<Real>>().elapsed_secs_f64() < WARM_S);
    if cap.in_flight >= most || cap.wanted.is_some() || (warming && cap.next == cap.captured) {
        world.insert_resource(cap);
        return;
    }
    if cap.next >= cap.frames {
        if cap.in_flight == 0 {
            finish(world, cap);
        } else {
            world.insert_resource(cap);
        }
        return;
    }
    // Frame k shows the simulation at from + k x (speed / fps), or the reel's moment of it.
    // Before the first frame the particles need the moments before it: step there at the same
    // pace.
    let (target, settle) = match &cap.reel {
        Some(reel) => {
            let at = reel.at(cap.next);
            crate::app::lesson::film(world, cap.next, at);
            (at.clock, FILM_SETTLE)
        }
        None => (
            cap.from + (cap.next as f64 * cap.per_frame).round() as Nanos,
            SETTLE_FRAMES,
        ),
    };
    let now = world.resource::<SimClock>().now;
    // A run that stopped (sim::guard) stays where it stopped: frames show it frozen there.
    if now < target && !crate::sim::halted(world) {
        let pace = if cap.reel.is_some() {
            target - now
        } else {
            cap.per_frame.max(1.0) as Nanos
        };
        run_to(world, (now + pace).min(target));
        cap.settle = 0;
        if world.resource::<SimClock>().now < target && !crate::sim::halted(world) {
            world.insert_resource(cap);
            return;
        }
    }
    if cap.next < cap.lead_to {
        cap.next += 1;
    } else if cap.settle < settle {
        cap.settle += 1;
    } else if cap.reel.is_some() {
        cap.wanted = Some(cap.next);
        cap.settle = 0;
    } else {
        world.spawn((Screenshot::primary_window(), FrameNo(cap.next)));
        cap.in_flight += 1;
        cap.next += 1;
        // The next frame (the same or a close moment) needs one settling frame less.
        cap.settle = settle.saturating_sub(1);
    }
    world.insert_resource(cap);
}

fn on_captured(
    ev: On<ScreenshotCaptured>,
    frames: Query<&FrameNo>,
    saves: Query<&SaveTo>,
    mut got: ResMut<Frames>,
    mut file: Option<ResMut<OpenFile>>,
    time: Res<Time<Real>>,
) {
    if let Ok(FrameNo(k)) = frames.get(ev.entity) {
        got.0.push((*k, ev.image.clone()));
    }
    if let Ok(SaveTo(p)) = saves.get(ev.entity) {
        let text = match write_png(&ev.image, p) {
            Ok(()) => format!("screenshot: {}", p.display()),
            Err(e) => format!("screenshot not written: {e}"),
        };
        if let Some(f) = file.as_mut() {
            f.notice = Some((text, time.elapsed_secs_f64()));
        }
    }
}

/// Hands captured frames to the encoder in frame order, or writes the shot.
fn collect_frames(mut got: ResMut<Frames>, cap: Option<ResMut<Capture>>) {
    let Some(mut cap) = cap else {
        got.0.clear();
        return;
    };
    let cap = &mut *cap;
    for (k, image) in got.0.drain(..) {
        cap.in_flight = cap.in_flight.saturating_sub(1);
        match &mut cap.out {
            Output::Video { .. } => {
                let rgba = image.try_into_dynamic().map(|d| d.to_rgba8().into_raw());
                match rgba {
                    Ok(bytes) => {
                        cap.early.insert(k, bytes);
                    }
                    Err(e) => cap.failed = Some(format!("frame {k}: {e}")),
                }
            }
            Output::Png(p) => {
                let p = p.clone();
                cap.failed = write_png(&image, &p).err();
                cap.captured += 1;
            }
        }
    }
    // Frames go to ffmpeg in order: the next one expected, as soon as it is back.
    while let Some(bytes) = cap.early.remove(&cap.captured) {
        if let Output::Video {
            stdin: Some(stdin), ..
        } = &mut cap.out
            && stdin.write_all(&bytes).is_err()
            && cap.failed.is_none()
        {
            cap.failed = Some("ffmpeg stopped taking frames".into());
        }
        cap.captured += 1;
    }
    if let Some(b) = &cap.bar {
        b.set_position(cap.captured);
    }
}

/// Closes the encoder (or waits for the PNG), restores play, and exits if asked to.
fn finish(world: &mut World, cap: Capture) {
    if world.query::<&Screenshot>().iter(world).next().is_some() {
        // The last PNG is still being written.
        world.insert_resource(cap);
        return;
    }
    if let Some(b) = &cap.bar {
        b.finish_and_clear();
    }
    let mut ok = true;
    let what = match cap.out {
        Output::Png(p) => match cap.failed {
            None if cap.captured > 0 => format!("wrote {}", p.display()),
            None => {
                ok = false;
                format!("no frame was captured for {}", p.display())
            }
            Some(e) => {
                ok = false;
                format!("the shot was not written: {e}")
            }
        },
        Output::Video {
            mut child,
            stdin,
            out,
            tmp,
        } => {
            drop(stdin);
            ok = child.wait().is_ok_and(|s| s.success()) && cap.failed.is_none();
            let moved = ok.then(|| crate::files::rename_into_place(&tmp, &out));
            match moved {
                Some(Ok(())) => format!("wrote {} ({} frames)", out.display(), cap.captured),
                Some(Err(e)) => {
                    ok = false;
                    format!("the video was not written: {e}")
                }
                None => {
                    let _ = std::fs::remove_file(&tmp);
                    match &cap.failed {
                        Some(why) => format!("{why}: {} not written", out.display()),
                        None => format!("ffmpeg failed writing {}", out.display()),
                    }
                }
            }
        }
    };
    if cap.exit {
        if ok {
            println!("{what}");
            println!("{}", world.resource::<super::stats::FrameStats>().report());
            world.write_message(AppExit::Success);
        } else {
            eprintln!("error: {what}");
            world.write_message(AppExit::from_code(2));
        }
    } else {
        world.resource_mut::<SimControl>().paused = cap.was_paused;
        note(world, what);
    }
}
