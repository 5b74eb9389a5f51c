//! The left panel's edit box: a line of text (`add db Database`, `connect web db`, `set db
//! workers 4`; docs/APP.md) applied to the system as loaded, checked as a scenario file is,
//! with undo and redo (the buttons, Ctrl+Z, Ctrl+Shift+Z). A finished system restarts the run
//! at t = 0 on the same seed; an unfinished one (a source with no route yet) waits as a draft
//! until the edit that completes it. Its state is `app::state::Edits`.

use super::{UiState, c32};
use crate::picture::style;
use crate::scenario::Scenario;
use crate::scenario::edit::Edit;
use crate::sim::door::command::SimCommand;
use bevy_egui::egui;

/// The system edits apply to: the draft, or the one loaded.
fn current(st: &UiState) -> Scenario {
    match &st.edits.draft {
        Some((s, _)) => s.clone(),
        None => st.config.loaded.clone(),
    }
}

/// Runs `s` from t = 0 if it is complete, else keeps it as the draft.
fn take(st: &mut UiState, s: Scenario, done: String) {
    let missing: Vec<String> = crate::scenario::validate(&s)
        .into_iter()
        .map(|p| format!("{}: {}", p.field, p.message))
        .collect();
    if missing.is_empty() {
        st.edits.draft = None;
        st.send(SimCommand::Load(Box::new(s)));
        st.edits.feedback = Some((true, format!("{done}; the run starts again at t = 0")));
    } else {
        st.edits.feedback = Some((true, format!("{done}; unfinished, so the run waits")));
        st.edits.draft = Some((s, missing));
    }
}

fn apply_line(st: &mut UiState) {
    let line = st.edits.line.trim().to_string();
    let e = match Edit::parse(&line) {
        Ok(e) => e,
        Err(why) => {
            st.edits.feedback = Some((false, why));
            return;
        }
    };
    let mut s = current(st);
    match st.edits.history.apply(&mut s, e) {
        Ok(()) => {
            st.edits.line.clear();
            take(st, s, format!("applied `{line}`"));
        }
        Err(problems) => {
            let text = (problems.iter())
                .map(|p| format!("{}: {}\n  hint: {}", p.field, p.message, p.hint))
                .collect::<Vec<_>>()
                .join("\n");
            st.edits.feedback = Some((false, format!("refused, nothing changed:\n{text}")));
        }
    }
}

fn undo_redo(st: &mut UiState, undo: bool) {
    let mut s = current(st);
    let moved = if undo {
        st.edits.history.undo(&mut s)
    } else {
        st.edits.history.redo(&mut s)
    };
    if moved {
        take(st, s, (if undo { "undone" } else { "redone" }).to_string());
    } else {
        let what = if undo { "undo" } else { "redo" };
        st.edits.feedback = Some((false, format!("nothing to {what}")));
    }
}

/// The edit box, in the left panel.
pub(super) fn edit_box(ui: &mut egui::Ui, st: &mut UiState) {
    let (undo, redo) = (
        std::mem::take(&mut st.edits.undo),
        std::mem::take(&mut st.edits.redo),
    );
    if undo || redo {
        undo_redo(st, undo);
    }
    ui.strong("Edit the system");
    ui.label(
        egui::RichText::new(
            "add db Database · connect web db · set db workers 4 · flow users f lb,web · remove db",
        )
        .small()
        .color(c32(style::MUTED)),
    );
    let r = ui.add(
        egui::TextEdit::singleline(&mut st.edits.line)
            .hint_text("set web workers 8")
            .desired_width(f32::INFINITY),
    );
    let entered = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    ui.horizontal(|ui| {
        if st.button(ui, "Apply edit").clicked() || entered {
            apply_line(st);
        }
        if st.button(ui, "Undo").clicked() {
            undo_redo(st, true);
        }
        if st.button(ui, "Redo").clicked() {
            undo_redo(st, false);
        }
    });
    if let Some((ok, text)) = &st.edits.feedback {
        let colour = if *ok { style::GREEN } else { style::RED };
        ui.label(egui::RichText::new(text).color(c32(colour)));
    }
    if let Some((_, missing)) = &st.edits.draft {
        for m in missing.iter().take(4) {
            ui.label(egui::RichText::new(format!("still missing: {m}")).color(c32(style::YELLOW)));
        }
    }
    let edits: Vec<String> = st.edits.history.edits().map(describe).collect();
    for e in edits.iter().rev().take(5) {
        ui.label(egui::RichText::new(e).small().color(c32(style::MUTED)));
    }
}

/// An edit in the words it was typed in.
fn describe(e: &Edit) -> String {
    match e {
        Edit::AddComponent { name, kind } => format!("add {name} {kind:?}"),
        Edit::AddSource { name, rate } => format!("source {name} {rate}"),
        Edit::Connect { from, to, call } => format!("connect {from} {to} {call:?}"),
        Edit::Disconnect { from, to } => format!("disconnect {from} {to}"),
        Edit::AddFlow { source, name, path } => format!("flow {source} {name} {}", path.join(",")),
        Edit::Remove { name } => format!("remove {name}"),
        Edit::Move { name, to } => format!("move {name} {} {}", to.0, to.1),
        Edit::Set {
            target,
            field,
            value,
        } => format!("set {target} {field} {value}"),
    }
}
