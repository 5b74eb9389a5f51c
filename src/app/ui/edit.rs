//! The left panel's edit box: a line of text (`add db Database`, `connect web db`, `set db
//! workers 4`; docs/APP.md) applied to the system as loaded, checked as a scenario file is,
//! with undo and redo (the buttons, Ctrl+Z, Ctrl+Shift+Z). A finished system restarts the run
//! at t = 0 on the same seed; an unfinished one (a source with no route yet) waits as a draft
//! until the edit that completes it. Its state is `app::state::Edits`.

use super::{UiState, c32};
use crate::picture::style;
use crate::scenario::Scenario;
use crate::scenario::edit::{self, Edit};
use crate::sim::door::command::{SimCommand, session_scenario};
use bevy_egui::egui;

/// The system edits apply to: the draft, or the one loaded.
pub(super) fn current(st: &UiState) -> Scenario {
    match &st.edits.draft {
        Some((s, _)) => s.clone(),
        None => (*st.config.loaded).clone(),
    }
}

/// Runs `s` if it is complete, from t = 0 or re-simulated to the moment shown (the user's
/// choice, `Edits::catch_up`); else keeps it as the draft, drawn but with nothing flowing.
pub(super) fn take(st: &mut UiState, s: Scenario, done: String) {
    let missing: Vec<String> = crate::scenario::validate(&s)
        .into_iter()
        .map(|p| format!("{}: {}", plain(&s, &p.field), p.message))
        .collect();
    let now = st.view.now();
    st.panels.keep_frame = true;
    if !missing.is_empty() {
        st.send(SimCommand::Load(Box::new(edit::preview(&s))));
        st.edits.feedback = Some((true, format!("{done}; unfinished, so nothing flows yet")));
        st.edits.draft = Some((s, missing));
    } else if st.edits.catch_up && now > 0 {
        st.edits.draft = None;
        // The what-ifs made so far replay at their times, where the edited system allows them.
        let with = session_scenario(&s, &st.queue);
        let kept = crate::scenario::validate(&with).is_empty();
        st.send(SimCommand::Load(Box::new(if kept { with } else { s })));
        st.control.catch_up = Some(now);
        let whatifs = if kept {
            ""
        } else {
            " (without the what-ifs, which no longer fit)"
        };
        let t = now as f64 / 1e9;
        st.edits.feedback = Some((
            true,
            format!("{done}; re-simulated to t = {t:.1} s{whatifs}"),
        ));
    } else {
        st.edits.draft = None;
        st.send(SimCommand::Load(Box::new(s)));
        st.edits.feedback = Some((true, format!("{done}; the run starts again at t = 0")));
    }
}

/// A problem's field in the words of the canvas: `components[2].workers` is `db.workers`,
/// `sources[0].flows` is `users.flows`, `links[1]` is `lb->web`.
pub(super) fn plain(s: &Scenario, field: &str) -> String {
    let Some((head, rest)) = field.split_once(']') else {
        return field.to_string();
    };
    let Some((list, index)) = head.split_once('[') else {
        return field.to_string();
    };
    let i: usize = index.parse().unwrap_or(usize::MAX);
    let name = match list {
        "components" => s.components.get(i).map(|c| c.name.clone()),
        "sources" => s.sources.get(i).map(|c| c.name.clone()),
        "links" => s.links.get(i).map(|l| format!("{}->{}", l.from, l.to)),
        _ => None,
    };
    name.map_or(field.to_string(), |n| format!("{n}{rest}"))
}

/// What to do next to finish an unfinished system, in the canvas's gestures.
pub(super) fn next_step(s: &Scenario) -> Option<String> {
    if s.sources.is_empty() {
        return Some("next: drag clients from the palette onto the canvas".into());
    }
    if s.components.is_empty() {
        return Some("next: drag a service (or any kind) onto the canvas".into());
    }
    let idle = s.sources.iter().find(|x| x.flows.is_empty())?;
    Some(format!(
        "next: Shift+drag from {} to the box its requests go to",
        idle.name
    ))
}

/// Makes `e` (typed, or a canvas gesture described by `words`): applied and run, or refused
/// with every problem it would add. True when it was made.
pub(super) fn make(st: &mut UiState, e: Edit, words: String) -> bool {
    let mut s = current(st);
    place(&mut s, &st.edits.moved);
    match st.edits.history.apply(&mut s, e) {
        Ok(()) => {
            st.edits.moved.clear();
            take(st, s, words);
            true
        }
        Err(problems) => {
            let text = (problems.iter())
                .map(|p| format!("{}: {}\n  hint: {}", plain(&s, &p.field), p.message, p.hint))
                .collect::<Vec<_>>()
                .join("\n");
            st.edits.feedback = Some((false, format!("refused, nothing changed:\n{text}")));
            false
        }
    }
}

/// Writes the boxes the user dragged (`moved`) as their `layout`, so a run started again
/// draws them where they were left.
pub(super) fn place(s: &mut Scenario, moved: &[(String, (f32, f32))]) {
    for (name, at) in moved {
        if let Some(c) = s.components.iter_mut().find(|c| &c.name == name) {
            c.layout = Some(*at);
        } else if let Some(c) = s.sources.iter_mut().find(|c| &c.name == name) {
            c.layout = Some(*at);
        }
    }
}

fn apply_line(st: &mut UiState) {
    let line = st.edits.line.trim().to_string();
    match Edit::parse(&line) {
        Ok(e) => {
            if make(st, e, format!("applied `{line}`")) {
                st.edits.line.clear();
            }
        }
        Err(why) => st.edits.feedback = Some((false, why)),
    }
}

/// The keys' undo and redo (Ctrl+Z, Ctrl+Shift+Z), every frame whatever panel is open.
pub(super) fn keys(st: &mut UiState) {
    let (undo, redo) = (
        std::mem::take(&mut st.edits.undo),
        std::mem::take(&mut st.edits.redo),
    );
    if undo || redo {
        undo_redo(st, undo);
    }
}

pub(super) fn undo_redo(st: &mut UiState, undo: bool) {
    let mut s = current(st);
    place(&mut s, &std::mem::take(&mut st.edits.moved));
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
    let edits: Vec<String> = st.edits.history.edits().map(|e| e.to_string()).collect();
    for e in edits.iter().rev().take(5) {
        ui.label(egui::RichText::new(e).small().color(c32(style::MUTED)));
    }
}
