//! Hot reload: the app watches the open scenario file (its directory, since editors save by
//! renaming). A valid change reloads it through the command door and says so; an invalid one
//! keeps the current run going and shows the error with file:line:col and the hint. The reload
//! button, `L` and the picker come here too.

use super::AppSystems;
use super::state::Panels;
use super::state::{OpenFile, RunMode};
use crate::sim::SimClock;
use crate::sim::door::command::{CommandQueue, SimCommand};
use bevy::prelude::*;
use notify::{RecursiveMode, Watcher};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, channel};

/// The watcher of the open file's directory and what it has reported.
#[derive(Resource, Default)]
pub struct FileWatch {
    watcher: Option<notify::RecommendedWatcher>,
    events: Option<Mutex<Receiver<notify::Result<notify::Event>>>>,
    watching: Option<PathBuf>,
    /// Wall time (s) of the last change seen, not yet acted on.
    pending_since: Option<f64>,
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<FileWatch>().add_systems(
        Update,
        (watch_file, reload).chain().in_set(AppSystems::Input),
    );
}

/// Watches the open file's directory (again, after the picker opened another file).
fn watch_file(
    file: Res<OpenFile>,
    mode: Res<RunMode>,
    mut w: ResMut<FileWatch>,
    time: Res<Time<Real>>,
    mut panels: ResMut<Panels>,
) {
    if *mode != RunMode::Interactive {
        return;
    }
    let dir = file.path.parent().map(|d| {
        if d.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            d.to_path_buf()
        }
    });
    if w.watching != dir {
        w.watching = dir.clone();
        let (tx, rx) = channel();
        match notify::recommended_watcher(tx) {
            Ok(mut watcher) => {
                if let Some(d) = &dir
                    && watcher.watch(d, RecursiveMode::NonRecursive).is_ok()
                {
                    w.watcher = Some(watcher);
                    w.events = Some(Mutex::new(rx));
                }
            }
            Err(e) => warn!("cannot watch {}: {e}", file.path.display()),
        }
    }
    let name = file.path.file_name().map(|n| n.to_os_string());
    let mut changed = false;
    if let Some(rx) = &w.events
        && let Ok(rx) = rx.lock()
    {
        for ev in rx.try_iter().flatten() {
            let ours = ev
                .paths
                .iter()
                .any(|p| p.file_name().map(|n| n.to_os_string()) == name);
            changed |= ours && (ev.kind.is_modify() || ev.kind.is_create());
        }
    }
    let now = time.elapsed_secs_f64();
    if changed {
        w.pending_since = Some(now);
    }
    // Editors write in bursts: act 0.3 s after the last change.
    if w.pending_since.is_some_and(|t| now - t >= 0.3) {
        w.pending_since = None;
        panels.reload_requested = true;
    }
}

/// Reads the open file again: a good one replaces the run, a bad one is shown and ignored.
fn reload(
    mut panels: ResMut<Panels>,
    mut file: ResMut<OpenFile>,
    mut queue: ResMut<CommandQueue>,
    clock: Res<SimClock>,
    time: Res<Time<Real>>,
    side: Option<Res<crate::app::side_by_side::SideBySide>>,
    mut commands: Commands,
) {
    if !panels.reload_requested {
        return;
    }
    panels.reload_requested = false;
    let now = time.elapsed_secs_f64();
    // A comparison opens side by side: variant A runs here, the shadows follow the run; a
    // scenario opens alone.
    use crate::app::side_by_side::SideBySide;
    let loaded = if crate::compare::is_comparison(&file.path) {
        crate::compare::load(&file.path).map(|(c, base)| {
            let load = (side.and_then(|s| s.load())).unwrap_or(c.loads[c.highest_load()]);
            let s = crate::compare::prepared(&c, &base, 0, load, 0);
            let side = SideBySide::new(c, base, load);
            commands.insert_resource(side);
            s
        })
    } else {
        crate::runner::load_checked(&file.path)
            .inspect(|_| commands.remove_resource::<SideBySide>())
            .map_err(|e| e.to_string())
    };
    match loaded {
        Ok(s) => {
            queue.schedule(clock.now, SimCommand::Load(Box::new(s)));
            file.error = None;
            file.notice = Some((format!("loaded {}", file.path.display()), now));
        }
        Err(e) => file.error = Some(e),
    }
}
