//! Every field of the selected component, source or link, editable in the inspector: numbers
//! with their units, checkboxes, menus for enums (the variants are the reader's own list),
//! optional values that can be cleared, nested settings folded, lists as RON text. The field's
//! tree is the spec as RON writes it (`scenario::fmt::node`); a change is an `Edit::Set` made
//! through `edit::make`, so it is checked as a file is, refused with the reason, and undone
//! with Ctrl+Z.

use super::{UiState, c32, edit};
use crate::picture::style;
use crate::scenario::edit::{self as edits, Edit};
use crate::scenario::fmt::node::{self, Node};
use bevy_egui::egui;

/// Fields not edited here: a box's name, a link's ends (the edit box renames and reconnects),
/// and where it is drawn (drag it).
const FIXED: [&str; 4] = ["name", "from", "to", "layout"];

/// The "Every field" section for `target` (a component's or source's name, `from->to`).
pub(super) fn section(ui: &mut egui::Ui, st: &mut UiState, target: &str) {
    let s = edit::current(st);
    let (text, kind) = if let Some(c) = s.components.iter().find(|c| c.name == target) {
        (ron::to_string(c), "component")
    } else if let Some(c) = s.sources.iter().find(|c| c.name == target) {
        (ron::to_string(c), "source")
    } else if let Some((from, to)) = target.split_once("->")
        && let Some(l) = s.links.iter().find(|l| l.from == from && l.to == to)
    {
        (ron::to_string(l), "link")
    } else {
        return;
    };
    let Some(Node::Struct(_, fields)) = text.ok().and_then(|t| node::parse(&t).ok()) else {
        return;
    };
    let r = egui::CollapsingHeader::new("Every field (edit)")
        .id_salt(("fields", target))
        .show(ui, |ui| {
            ui.label(
                egui::RichText::new("a change restarts the run (see Build); Ctrl+Z undoes it")
                    .small()
                    .color(c32(style::MUTED)),
            );
            let at = Place {
                target,
                kind,
                path: "",
            };
            grid(ui, st, at, &fields);
        });
    st.probe_rect("Every field (edit)", r.header_response.rect);
}

/// Where a value is: its box or link, and its dotted path inside it.
#[derive(Clone, Copy)]
struct Place<'a> {
    target: &'a str,
    /// Component, source or link: the variants found for one serve every one of its kind.
    kind: &'static str,
    path: &'a str,
}

impl Place<'_> {
    fn field(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }
}

/// A struct's fields, one row each; nested structs fold.
fn grid(ui: &mut egui::Ui, st: &mut UiState, at: Place, fields: &[(String, Node)]) {
    for (key, value) in fields {
        if at.path.is_empty() && FIXED.contains(&key.as_str()) {
            continue;
        }
        let path = at.field(key);
        let here = Place { path: &path, ..at };
        let inner = match value {
            Node::Call(name, args) if name == "Some" && args.len() == 1 => &args[0],
            v => v,
        };
        if let Node::Struct(None, sub) = inner {
            egui::CollapsingHeader::new(key.as_str())
                .id_salt(("field", at.target, &path))
                .show(ui, |ui| grid(ui, st, here, sub));
            continue;
        }
        let r = ui.horizontal(|ui| {
            ui.label(egui::RichText::new(key).color(c32(style::MUTED)));
            value_ui(ui, st, here, key, value);
        });
        st.probe_rect(&format!("field: {path}"), r.response.rect);
        // A refused change says why here, beside the field, as well as in the palette.
        if let Some((t, p, why)) = &st.edits.refused
            && t == at.target
            && *p == path
        {
            ui.label(egui::RichText::new(why).color(c32(style::RED)));
        }
    }
}

/// One value's widget.
fn value_ui(ui: &mut egui::Ui, st: &mut UiState, at: Place, key: &str, n: &Node) {
    match n {
        Node::Atom(a) if a == "true" || a == "false" => {
            let mut on = a == "true";
            if ui.checkbox(&mut on, "").changed() {
                commit(st, at, on.to_string());
            }
        }
        Node::Atom(a) if number(a).is_some() => {
            if let Some(v) = number_ui(ui, at, key, a) {
                commit(st, at, v);
            }
        }
        Node::Atom(a) if a.starts_with('"') => text_ui(ui, st, at, a, |t| format!("{t:?}")),
        Node::Atom(a) if a == "None" || a.chars().all(|c| c.is_alphanumeric() || c == '_') => {
            if !variant_ui(ui, st, at, a) {
                text_ui(ui, st, at, a, str::to_string);
            }
        }
        Node::Call(name, args) if name == "Some" && args.len() == 1 => {
            value_ui(ui, st, at, key, &args[0]);
            if ui
                .small_button("none")
                .on_hover_text("clear: no value")
                .clicked()
            {
                commit(st, at, "None".into());
            }
        }
        Node::Call(name, _) | Node::Struct(Some(name), _) => {
            ui.vertical(|ui| {
                variant_ui(ui, st, at, name);
                text_ui(ui, st, at, &node::inline(n), str::to_string);
            });
        }
        other => text_ui(ui, st, at, &node::inline(other), str::to_string),
    }
}

/// A number's value, when `a` is one (as RON writes it).
fn number(a: &str) -> Option<f64> {
    let numeric = a.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.');
    numeric.then(|| a.parse::<f64>().ok()).flatten()
}

/// The unit a field's name gives its number.
fn unit(key: &str) -> &'static str {
    let ends = |s: &str| key.ends_with(s);
    match () {
        _ if ends("_ms") => " ms",
        _ if ends("per_s") || key == "rate" || ends("_rps") => " /s",
        _ if ends("_s") => " s",
        _ if ends("_mb") => " MB",
        _ if ends("_pct") || ends("percent") => " %",
        _ => "",
    }
}

/// A number, held while it is dragged or typed, given back (as RON) when let go.
fn number_ui(ui: &mut egui::Ui, at: Place, key: &str, a: &str) -> Option<String> {
    let was = number(a)?;
    let integer = !a.contains(['.', 'e', 'E']);
    let id = ui.id().with(("number", at.target, at.path));
    let mut v: f64 = ui.data(|d| d.get_temp(id)).unwrap_or(was);
    let speed = if integer {
        1.0
    } else {
        (was.abs() * 0.01).max(0.001)
    };
    let mut drag = egui::DragValue::new(&mut v).speed(speed).suffix(unit(key));
    if integer {
        drag = drag.fixed_decimals(0);
    }
    let r = ui.add(drag);
    if r.dragged() || r.has_focus() {
        ui.data_mut(|d| d.insert_temp(id, v));
        return None;
    }
    ui.data_mut(|d| d.remove::<f64>(id));
    (v != was).then(|| {
        if integer {
            format!("{}", v.round() as i64)
        } else {
            format!("{v:?}")
        }
    })
}

/// A line of RON (or a string's text), applied with Enter or when the field is left.
fn text_ui(ui: &mut egui::Ui, st: &mut UiState, at: Place, now: &str, to_ron: fn(&str) -> String) {
    let shown = now
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(now)
        .to_string();
    let id = ui.id().with(("text", at.target, at.path));
    let mut t: String = ui.data(|d| d.get_temp(id)).unwrap_or_else(|| shown.clone());
    let r = ui.add(egui::TextEdit::singleline(&mut t).desired_width(170.0));
    if r.has_focus() {
        ui.data_mut(|d| d.insert_temp(id, t));
    } else if r.lost_focus() {
        ui.data_mut(|d| d.remove::<String>(id));
        if t != shown {
            commit(st, at, to_ron(&t));
        }
    }
}

/// A menu of the enum's variants; false when the field is not an enum.
fn variant_ui(ui: &mut egui::Ui, st: &mut UiState, at: Place, current: &str) -> bool {
    let key = format!("{}|{}", at.kind, at.path);
    let known = match st.edits.variants.get(&key) {
        Some(v) => v.clone(),
        None => {
            let v = edits::variants(&edit::current(st), at.target, at.path);
            st.edits.variants.insert(key, v.clone());
            v
        }
    };
    let Some(mut options) = known else {
        return false;
    };
    if current == "None" || options.iter().any(|o| o == "None") {
        options.retain(|o| o != "None");
        options.insert(0, "None".into());
    }
    let mut chosen = None;
    egui::ComboBox::from_id_salt(("variant", at.target, at.path))
        .selected_text(current)
        .show_ui(ui, |ui| {
            for o in &options {
                if ui.selectable_label(o == current, o).clicked() && o != current {
                    chosen = Some(o.clone());
                }
            }
        });
    if let Some(o) = chosen {
        let value = if o == "None" {
            Some(o.clone())
        } else {
            edits::variant_value(&edit::current(st), at.target, at.path, &o)
        };
        match value {
            Some(v) => commit(st, at, v),
            None => {
                let why = format!("{o} needs values: type it in the edit box (`set ...`)");
                st.edits.feedback = Some((false, why));
            }
        }
    }
    true
}

fn commit(st: &mut UiState, at: Place, value: String) {
    let words = format!("set {} {} {value}", at.target, at.path);
    let e = Edit::Set {
        target: at.target.to_string(),
        field: at.path.to_string(),
        value,
    };
    let path = at.path.to_string();
    st.edits.refused = if edit::make(st, e, words) {
        None
    } else {
        let why = st.edits.feedback.as_ref().map(|f| f.1.clone());
        let why = why
            .unwrap_or_default()
            .replace("refused, nothing changed:\n", "refused: ");
        Some((at.target.to_string(), path, why))
    };
}
