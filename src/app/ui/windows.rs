//! Windows over the picture: the error banner (a bad file keeps the run going and says where
//! and what), notices, the help overlay with the keyboard shortcuts, the scenario picker, and
//! saving the session as a scenario.

use super::{UiState, c32};
use crate::picture::style;
use crate::scenario;
use bevy_egui::egui;
use std::path::{Path, PathBuf};

/// Keyboard shortcuts, as the help overlay lists them.
pub const SHORTCUTS: [(&str, &str); 21] = [
    ("Space", "play / pause"),
    (".", "one tick (pauses)"),
    ("[  ]  or  -  =", "slower / faster (presets 0.001x to 100x)"),
    ("R", "reset to t = 0"),
    (
        "Left, Right (Shift: 30 s)",
        "back / on 5 s through the run (or click the timeline)",
    ),
    ("M", "bookmark the moment shown on the timeline"),
    ("W", "what if, from here? a branch of the run beside it"),
    ("L", "reload the scenario file"),
    ("O", "open another scenario"),
    ("P", "screenshot (PNG next to the scenario)"),
    ("C", "colour particles by flow / by priority"),
    ("F", "frame the whole system"),
    ("H, F1", "this help"),
    ("Esc", "deselect, close windows"),
    (
        "B",
        "build: the palette of kinds, and handles to connect boxes",
    ),
    ("Ctrl+Z, Ctrl+Shift+Z", "undo / redo an edit of the system"),
    ("Shift+drag box to box", "connect them (the routes go on)"),
    ("Delete, Backspace", "remove the selected box or link"),
    ("left click / drag", "select / move a component"),
    ("right or middle drag", "pan"),
    ("wheel", "zoom"),
];

pub(super) fn banner(ctx: &egui::Context, st: &mut UiState) {
    if let Some(err) = st.file.error.clone() {
        egui::Window::new("The scenario file has a problem")
            .anchor(egui::Align2::CENTER_TOP, [0.0, 70.0])
            .resizable(false)
            .collapsible(false)
            .frame(egui::Frame::window(&ctx.global_style()).fill(egui::Color32::from_rgb(90, 20, 24)))
            .show(ctx, |ui| {
                ui.label(egui::RichText::new(err).monospace().color(egui::Color32::WHITE));
                ui.label("The run keeps going with the last good version. Fix the file and save: it reloads.");
                if ui.button("Dismiss").clicked() {
                    st.file.error = None;
                }
            });
    }
    if let Some(why) = st.halt.reason.clone() {
        egui::Window::new("The run stopped")
            .anchor(egui::Align2::CENTER_TOP, [0.0, 70.0])
            .resizable(false)
            .collapsible(false)
            .frame(
                egui::Frame::window(&ctx.global_style()).fill(egui::Color32::from_rgb(90, 20, 24)),
            )
            .show(ctx, |ui| {
                ui.set_max_width(620.0);
                ui.label(egui::RichText::new(why).color(egui::Color32::WHITE));
                ui.label("Everything up to the stop is still here to explore. R starts again.");
            });
    }
    let now = st.time.elapsed_secs_f64();
    if let Some((text, at)) = st.file.notice.clone() {
        if now - at > 4.0 {
            st.file.notice = None;
            return;
        }
        egui::Window::new("notice")
            .title_bar(false)
            .anchor(egui::Align2::RIGHT_TOP, [-390.0, 70.0])
            .resizable(false)
            .show(ctx, |ui| {
                ui.label(egui::RichText::new(text).color(c32(style::GREEN)));
            });
    }
}

pub(super) fn help(ctx: &egui::Context, st: &mut UiState) {
    let mut open = st.panels.help;
    egui::Window::new("Help")
        .open(&mut open)
        .default_width(560.0)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .resizable(false)
        .show(ctx, |ui| {
            egui::Grid::new("keys").striped(true).show(ui, |ui| {
                for (k, what) in SHORTCUTS {
                    ui.label(egui::RichText::new(k).monospace().strong());
                    ui.label(what);
                    ui.end_row();
                }
            });
            ui.separator();
            ui.label(
                "Boxes are components, tiles their instances: the bar is the queue against its \
                 capacity (the white mark), the colour the instance's health; X: down. Curves \
                 are links, as wide as their rate; a bar across one is a rate limit (orange while \
                 it binds); OPEN above a link is an open circuit breaker.",
            );
        });
    st.panels.help = open;
}

/// The shipped scenarios (`scenarios/*.ron` next to the binary's working directory, or the
/// open file's directory), each with its name and description, or its error.
fn shipped(dir: &Path) -> Vec<(PathBuf, Result<(String, String), String>)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "ron"));
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let r = crate::runner::load_checked(&p)
                .map(|s| (s.name, s.description))
                .map_err(|e| e.to_string());
            (p, r)
        })
        .collect()
}

pub(super) fn picker(ctx: &egui::Context, st: &mut UiState) {
    if !st.panels.picker {
        return;
    }
    let dir = st
        .file
        .path
        .parent()
        .filter(|d| d.join("netflix_friday.ron").exists() || !d.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("scenarios"));
    let mut open = true;
    let mut chosen = None;
    egui::Window::new("Open a scenario")
        .open(&mut open)
        .default_width(620.0)
        .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
        .show(ctx, |ui| {
            egui::ScrollArea::vertical()
                .max_height(520.0)
                .show(ui, |ui| {
                    for (path, r) in st.panels.cached_picker(&dir, shipped) {
                        let file = path
                            .file_name()
                            .map_or(String::new(), |f| f.to_string_lossy().into());
                        match r {
                            Ok((name, desc)) => {
                                if ui
                                    .button(egui::RichText::new(format!("{file}: {name}")).strong())
                                    .clicked()
                                {
                                    chosen = Some(path.clone());
                                }
                                ui.label(desc);
                            }
                            Err(e) => {
                                ui.colored_label(c32(style::RED), format!("{file}: {e}"));
                            }
                        }
                        ui.separator();
                    }
                });
        });
    st.panels.picker = open && chosen.is_none();
    if let Some(p) = chosen {
        // Edits were made to the system that was open: they do not carry over.
        *st.edits = Default::default();
        st.file.path = p;
        st.panels.reload_requested = true;
    }
}

/// Writes the scenario as loaded plus every live command so far (`commands`, at their exact
/// times) next to the open file: running it headless replays this session.
/// Refused while the system is unfinished (a draft): `flowlab run` would refuse the file.
pub(super) fn save_session(st: &mut UiState) {
    let now = st.time.elapsed_secs_f64();
    if let Some((_, missing)) = &st.edits.draft {
        let first = missing.first().cloned().unwrap_or_default();
        st.file.notice = Some((
            format!("not saved: the system is unfinished ({first})"),
            now,
        ));
        return;
    }
    let mut loaded = (*st.config.loaded).clone();
    super::edit::place(&mut loaded, &st.edits.moved);
    let s = crate::sim::door::command::session_scenario(&loaded, &st.queue);
    save_scenario(st, s, "session");
}

/// Writes `s` in its canonical form next to the open file, as `STEM.{kind}N.ron` with the
/// first N free, and says where (or why not) in the notice.
pub(super) fn save_scenario(st: &mut UiState, s: crate::scenario::Scenario, kind: &str) {
    let now = st.time.elapsed_secs_f64();
    let stem = match &st.edits.stem {
        Some(stem) => stem.clone(),
        None => {
            (st.file.path.file_stem()).map_or("session".into(), |f| f.to_string_lossy().to_string())
        }
    };
    let dir = st
        .file
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut k = 1;
    let path = loop {
        let p = dir.join(format!("{stem}.{kind}{k}.ron"));
        if !p.exists() {
            break p;
        }
        k += 1;
    };
    st.file.notice = Some(
        match scenario::fmt::canonical(&s)
            .and_then(|text| std::fs::write(&path, text).map_err(|e| e.to_string()))
        {
            Ok(()) => (format!("saved as {}", path.display()), now),
            Err(e) => (format!("could not save: {e}"), now),
        },
    );
}
