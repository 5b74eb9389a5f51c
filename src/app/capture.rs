//! Screenshots and video, deterministic: the simulation advances by exact simulated time per
//! frame (never by the machine's speed), and a frame is only captured once everything drawn
//! follows that time, so the same file gives the same frames. `flowlab shot` and `flowlab
//! record` run this way and exit; the app's Screenshot and Record buttons use it too.

use super::state::Panels;
use super::state::{OpenFile, PARTICLES, RunMode};
use crate::sim::dist::Nanos;
use crate::sim::{SimClock, SimControl};
use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};

/// Frames rendered before a capture so text, shapes and panels have settled.
const SETTLE_FRAMES: u32 = 4;

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
    /// A screenshot is in flight.
    in_flight: bool,
    /// Frames captured.
    captured: u64,
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
        .add_systems(Last, collect_frames)
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
fn encoder(out: &PathBuf, size: (u32, u32), fps: f64) -> std::io::Result<Child> {
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
        .args([
            "-i",
            "-",
            "-c:v",
            "libx264",
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
    let size = world
        .query::<&Window>()
        .iter(world)
        .next()
        .map_or((1600, 900), |w| (w.physical_width(), w.physical_height()));
    let out = match (png, video) {
        (Some(p), _) => Output::Png(p),
        (None, Some(v)) => match encoder(&crate::files::temporary(&v), size, fps) {
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
        },
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
    world.insert_resource(Capture {
        from: (from * 1e9) as Nanos,
        per_frame,
        frames: if matches!(out, Output::Png(_)) {
            1
        } else {
            frames
        },
        next: 0,
        settle: 0,
        in_flight: false,
        captured: 0,
        out,
        exit,
        was_paused,
        bar,
        failed: None,
    });
}

fn fail(world: &mut World, msg: String, exit: bool) {
    eprintln!("error: {msg}");
    if exit {
        world.write_message(AppExit::from_code(2));
    } else if let Some(mut f) = world.get_resource_mut::<OpenFile>() {
        f.error = Some(msg);
    }
}

/// Runs whole ticks until the clock reaches `t` (ns), or the run stops (`sim::guard`).
fn run_to(world: &mut World, t: Nanos) {
    crate::sim::idle::run_until(world, t, |_| {});
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

/// One frame of a capture: advance to the frame's exact time, let the picture settle, capture.
fn step_capture(world: &mut World) {
    let Some(mut cap) = world.remove_resource::<Capture>() else {
        return;
    };
    if cap.in_flight {
        world.insert_resource(cap);
        return;
    }
    if cap.next >= cap.frames {
        finish(world, cap);
        return;
    }
    // Frame k shows the simulation at from + k x (speed / fps). Before the first frame the
    // particles need the moments before it: step there at the same pace.
    let target = cap.from + (cap.next as f64 * cap.per_frame).round() as Nanos;
    let now = world.resource::<SimClock>().now;
    // A run that stopped (sim::guard) stays where it stopped: frames show it frozen there.
    if now < target && !crate::sim::halted(world) {
        let pace = cap.per_frame.max(1.0) as Nanos;
        run_to(world, (now + pace).min(target));
        cap.settle = 0;
    } else if cap.settle < SETTLE_FRAMES {
        cap.settle += 1;
    } else {
        let k = cap.next;
        match &cap.out {
            Output::Png(_) | Output::Video { .. } => {
                world.spawn((Screenshot::primary_window(), FrameNo(k)));
            }
        }
        cap.in_flight = true;
        cap.next += 1;
        cap.settle = SETTLE_FRAMES.saturating_sub(1);
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

/// Hands captured frames to the encoder, or writes the shot.
fn collect_frames(mut got: ResMut<Frames>, cap: Option<ResMut<Capture>>) {
    let Some(mut cap) = cap else {
        got.0.clear();
        return;
    };
    got.0.sort_by_key(|f| f.0);
    for (_, image) in got.0.drain(..) {
        match &mut cap.out {
            Output::Video {
                stdin: Some(stdin), ..
            } => {
                let rgba = image.try_into_dynamic().map(|d| d.to_rgba8().into_raw());
                if let Ok(bytes) = rgba
                    && stdin.write_all(&bytes).is_err()
                {
                    eprintln!("error: ffmpeg stopped taking frames");
                }
            }
            Output::Png(p) => {
                let p = p.clone();
                cap.failed = write_png(&image, &p).err();
            }
            Output::Video { .. } => {}
        }
        cap.captured += 1;
        cap.in_flight = false;
        if let Some(b) = &cap.bar {
            b.set_position(cap.captured);
        }
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
            ok = child.wait().is_ok_and(|s| s.success());
            let moved = ok.then(|| crate::files::rename_into_place(&tmp, &out));
            match moved {
                Some(Ok(())) => format!("wrote {} ({} frames)", out.display(), cap.captured),
                Some(Err(e)) => {
                    ok = false;
                    format!("the video was not written: {e}")
                }
                None => {
                    let _ = std::fs::remove_file(&tmp);
                    format!("ffmpeg failed writing {}", out.display())
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
