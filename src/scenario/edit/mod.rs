//! Building a system by edits: add a component or a source, connect two nodes, add a route,
//! remove, move, and set any field of a component, source, link or section by its path, with
//! the value written as in a scenario file. An edit is checked by the same validation as a
//! scenario file: one that would add a problem is refused with that problem (its field, what
//! is wrong, a hint) and changes nothing. [`History`] undoes and redoes them exactly.

mod canvas;
mod text;

pub use canvas::{
    Palette, connect_edit, delete_edit, drop_edit, fresh_name, preview, variant_value, variants,
};
pub use text::VERBS;

use crate::scenario::fmt::node::{self, Node, inline};
use crate::scenario::{
    CallKind, ComponentSpec, Hop, Kind, LinkSpec, Problem, Scenario, SourceSpec,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// One edit of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    /// A component of `kind` with one instance, one worker and a 1 ms service.
    AddComponent {
        /// Its name.
        name: String,
        /// What it is.
        kind: Kind,
    },
    /// A Poisson source sending `rate` requests per second (routes added with `AddFlow`).
    AddSource {
        /// Its name.
        name: String,
        /// Requests per second.
        rate: f64,
    },
    /// A link from a source or component to a component.
    Connect {
        /// Sender.
        from: String,
        /// Receiver.
        to: String,
        /// Synchronous call, asynchronous send or pull.
        call: CallKind,
    },
    /// Removes the link `from -> to`.
    Disconnect {
        /// Sender.
        from: String,
        /// Receiver.
        to: String,
    },
    /// A route of `source`: the components visited in order (each pair linked).
    AddFlow {
        /// The source.
        source: String,
        /// The flow's name.
        name: String,
        /// Components in order.
        path: Vec<String>,
    },
    /// Removes a component or source with its links (refused while a route passes it).
    Remove {
        /// Its name.
        name: String,
    },
    /// Where the app draws a component or source (picture units).
    Move {
        /// Its name.
        name: String,
        /// x, y.
        to: (f32, f32),
    },
    /// Sets one field: `target` is a component's or source's name, a link `from->to`, a
    /// section (`sim`, `health`, `backpressure`) or `scenario` (its top level: `name`,
    /// `faults`...); `field` a dotted path inside it (`service.mean_ms`, `flows.0.weight`, a
    /// number for an item of a list); `value` RON as a scenario file writes it.
    Set {
        /// What is changed.
        target: String,
        /// The field's path inside it.
        field: String,
        /// The new value, as RON text.
        value: String,
    },
    /// Several edits made as one (a canvas gesture), each checked in turn; undone together.
    Many(Vec<Edit>),
}

fn problem(
    field: impl Into<String>,
    message: impl Into<String>,
    hint: impl Into<String>,
) -> Problem {
    Problem {
        field: field.into(),
        message: message.into(),
        hint: hint.into(),
    }
}

/// A blank scenario to build from: no source, no component (`validate` names what is missing).
pub fn blank(name: &str) -> Scenario {
    Scenario {
        name: name.to_string(),
        description: String::new(),
        sim: Default::default(),
        sources: vec![],
        components: vec![],
        links: vec![],
        health: Default::default(),
        backpressure: Default::default(),
        faults: vec![],
        commands: vec![],
    }
}

/// Reads `text` as a `T` the way a scenario file is read (a bare value for an optional one).
fn read<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    options.from_str(text).map_err(|e| e.code.to_string())
}

/// `value` with the field at dotted `path` replaced by the RON text `new`.
fn set_field<T: Serialize + DeserializeOwned>(
    value: &T,
    path: &str,
    new: &str,
    at: &str,
) -> Result<T, Problem> {
    let compact = ron::to_string(value).map_err(|e| problem(at, e.to_string(), ""))?;
    let mut tree = node::parse(&compact).map_err(|e| problem(at, e, ""))?;
    let mut here = &mut tree;
    for step in path.split('.') {
        here = step_into(here, step)
            .map_err(|(message, hint)| problem(format!("{at}.{path}"), message, hint))?;
    }
    let before = inline(here);
    *here = Node::Atom(new.trim().to_string());
    read::<T>(&inline(&tree)).map_err(|e| {
        problem(
            format!("{at}.{path}"),
            format!("{e} (in `{}`)", new.trim()),
            format!("a value of the field's type, as now: {before}"),
        )
    })
}

/// The variants of the enum at dotted `path` from the scenario's root, as the reader lists
/// them when refusing an unknown one; `None` when the value there is not an enum.
fn enum_variants(s: &Scenario, path: &str) -> Option<Vec<String>> {
    let compact = ron::to_string(s).ok()?;
    let mut tree = node::parse(&compact).ok()?;
    let mut here = &mut tree;
    for step in path.split('.') {
        here = step_into(here, step).ok()?;
    }
    *here = Node::Atom("FlowlabProbeVariant".into());
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    match options.from_str::<Scenario>(&inline(&tree)) {
        Err(e) => match e.code {
            ron::error::Error::NoSuchEnumVariant { expected, .. } => {
                Some(expected.iter().map(|v| v.to_string()).collect())
            }
            _ => None,
        },
        Ok(_) => None,
    }
}

/// One step of a field path into `n`: a struct's field (through `Some`) or a list's item.
fn step_into<'a>(n: &'a mut Node, step: &str) -> Result<&'a mut Node, (String, String)> {
    let through_some = matches!(n, Node::Call(name, args) if name == "Some" && args.len() == 1);
    let n = if through_some {
        match n {
            Node::Call(_, args) => &mut args[0],
            _ => unreachable!("checked above"),
        }
    } else {
        n
    };
    match n {
        Node::Seq(items) => {
            let len = items.len();
            let k = step.parse::<usize>().ok().filter(|k| *k < len);
            match k {
                Some(k) => Ok(&mut items[k]),
                None => Err((
                    format!("no item `{step}` here"),
                    format!("{len} item(s), numbered from 0"),
                )),
            }
        }
        Node::Struct(_, fields) => match fields.iter().position(|f| f.0 == step) {
            Some(i) => Ok(&mut fields[i].1),
            None => {
                let names: Vec<&str> = fields.iter().map(|f| f.0.as_str()).collect();
                Err((
                    format!("no field `{step}` here"),
                    format!("fields: {}", names.join(", ")),
                ))
            }
        },
        _ => Err((
            format!("`{step}` is inside a value that has no fields"),
            "set the whole value one level up".into(),
        )),
    }
}

fn component<'a>(s: &'a mut Scenario, name: &str) -> Option<(usize, &'a mut ComponentSpec)> {
    (s.components.iter_mut().enumerate()).find(|(_, c)| c.name == name)
}

fn source<'a>(s: &'a mut Scenario, name: &str) -> Option<(usize, &'a mut SourceSpec)> {
    (s.sources.iter_mut().enumerate()).find(|(_, c)| c.name == name)
}

fn link<'a>(s: &'a mut Scenario, from: &str, to: &str) -> Option<(usize, &'a mut LinkSpec)> {
    (s.links.iter_mut().enumerate()).find(|(_, l)| l.from == from && l.to == to)
}

/// Applies `set` to the target it names.
fn set(s: &mut Scenario, target: &str, field: &str, value: &str) -> Result<(), Problem> {
    fn swap<T: Serialize + DeserializeOwned>(
        slot: &mut T,
        field: &str,
        value: &str,
        at: &str,
    ) -> Result<(), Problem> {
        *slot = set_field(slot, field, value, at)?;
        Ok(())
    }
    match target {
        "sim" => return swap(&mut s.sim, field, value, "sim"),
        "health" => return swap(&mut s.health, field, value, "health"),
        "backpressure" => return swap(&mut s.backpressure, field, value, "backpressure"),
        "scenario" => {
            *s = set_field(&*s, field, value, "scenario")?;
            return Ok(());
        }
        _ => {}
    }
    if let Some((i, c)) = component(s, target) {
        return swap(c, field, value, &format!("components[{i}]"));
    }
    if let Some((i, c)) = source(s, target) {
        return swap(c, field, value, &format!("sources[{i}]"));
    }
    if let Some((from, to)) = target.split_once("->")
        && let Some((i, l)) = link(s, from, to)
    {
        return swap(l, field, value, &format!("links[{i}]"));
    }
    Err(problem(
        "target",
        format!("`{target}` is no component, source, link or section"),
        "a name, `from->to`, sim, health, backpressure or scenario",
    ))
}

/// What `e` does to `s`, before validation.
fn change(s: &mut Scenario, e: &Edit) -> Result<(), Problem> {
    let taken = |s: &Scenario, n: &str| {
        s.components.iter().any(|c| c.name == n) || s.sources.iter().any(|c| c.name == n)
    };
    match e {
        Edit::AddComponent { name, .. } | Edit::AddSource { name, .. } if taken(s, name) => {
            return Err(problem(
                "name",
                format!("`{name}` is taken"),
                "choose another name",
            ));
        }
        Edit::AddComponent { name, kind } => {
            let text = format!("(name: {name:?}, kind: {kind:?}, service: (mean_ms: Some(1.0)))");
            s.components
                .push(read(&text).map_err(|m| problem("name", m, ""))?);
        }
        Edit::AddSource { name, rate } => {
            let text = format!("(name: {name:?}, rate: Constant({rate:?}), flows: [])");
            s.sources
                .push(read(&text).map_err(|m| problem("name", m, ""))?);
        }
        Edit::Connect { from, to, call } => {
            if link(s, from, to).is_some() {
                return Err(problem(
                    "links",
                    format!("{from}->{to} exists"),
                    "set its fields",
                ));
            }
            let text = format!("(from: {from:?}, to: {to:?}, call: {call:?})");
            s.links
                .push(read(&text).map_err(|m| problem("links", m, ""))?);
        }
        Edit::Disconnect { from, to } => match link(s, from, to) {
            Some((i, _)) => drop(s.links.remove(i)),
            None => return Err(problem("links", format!("no link {from}->{to}"), "")),
        },
        Edit::AddFlow {
            source: src,
            name,
            path,
        } => {
            let Some((_, spec)) = source(s, src) else {
                return Err(problem("source", format!("no source `{src}`"), ""));
            };
            let hops = path.iter().map(|c| Hop::To(c.clone())).collect();
            let text = format!("(name: {name:?}, path: [])");
            let mut flow: crate::scenario::FlowSpec =
                read(&text).map_err(|m| problem("name", m, ""))?;
            flow.path = hops;
            spec.flows.push(flow);
        }
        Edit::Remove { name } => remove(s, name)?,
        Edit::Move { name, to } => {
            if let Some((_, c)) = component(s, name) {
                c.layout = Some(*to);
            } else if let Some((_, c)) = source(s, name) {
                c.layout = Some(*to);
            } else {
                return Err(problem(
                    "name",
                    format!("no component or source `{name}`"),
                    "",
                ));
            }
        }
        Edit::Set {
            target,
            field,
            value,
        } => set(s, target, field, value)?,
        Edit::Many(list) => {
            for x in list {
                change(s, x)?;
            }
        }
    }
    Ok(())
}

/// Removes a component or source and its links; refused while a route passes a component.
fn remove(s: &mut Scenario, name: &str) -> Result<(), Problem> {
    for (i, src) in s.sources.iter().enumerate() {
        for (j, f) in src.flows.iter().enumerate() {
            let passes = f.path.iter().any(|h| match h {
                Hop::To(c) | Hop::Back(c, _) => c == name,
                Hop::OneOf(list) => list.iter().any(|(c, _)| c == name),
                Hop::Fan { to, .. } => to.iter().any(|c| c == name),
            });
            if passes {
                return Err(problem(
                    format!("sources[{i}].flows[{j}]"),
                    format!("the route `{}` passes `{name}`", f.name),
                    "change or remove the route first",
                ));
            }
        }
    }
    let before = (s.components.len(), s.sources.len());
    s.components.retain(|c| c.name != name);
    s.sources.retain(|c| c.name != name);
    if before == (s.components.len(), s.sources.len()) {
        return Err(problem(
            "name",
            format!("no component or source `{name}`"),
            "",
        ));
    }
    s.links.retain(|l| l.from != name && l.to != name);
    s.faults.retain(|f| f.component != name);
    Ok(())
}

/// A problem that only says the system is not finished (no source yet, a source with no
/// route): never a reason to refuse an edit, since the next one may finish it.
pub fn unfinished(p: &Problem) -> bool {
    p.message == "no traffic source" || (p.message == "no flows" && p.field.ends_with(".flows"))
}

/// `s` after `e`, or the problems it would add (`s` itself never changes): a structural
/// problem of the edit, or what validation finds in the result that it did not find before.
pub fn apply(s: &Scenario, e: &Edit) -> Result<Scenario, Vec<Problem>> {
    if let Edit::Many(list) = e {
        let mut next = s.clone();
        for x in list {
            next = apply(&next, x)?;
        }
        return Ok(next);
    }
    let mut next = s.clone();
    change(&mut next, e).map_err(|p| vec![p])?;
    let known: Vec<String> = crate::scenario::validate(s)
        .into_iter()
        .map(|p| p.message)
        .collect();
    // What an edit adds may be unfinished (a new source has no route yet): its own problems
    // are shown, not refused.
    let own = match e {
        Edit::AddComponent { .. } => Some(format!("components[{}]", s.components.len())),
        Edit::AddSource { .. } => Some(format!("sources[{}]", s.sources.len())),
        _ => None,
    };
    let new: Vec<Problem> = crate::scenario::validate(&next)
        .into_iter()
        .filter(|p| !known.contains(&p.message) && !unfinished(p))
        .filter(|p| {
            own.as_ref()
                .is_none_or(|o| !p.field.starts_with(o.as_str()))
        })
        .collect();
    if new.is_empty() { Ok(next) } else { Err(new) }
}

/// Edits made, for undo and redo: each with the scenario before and after it.
#[derive(Debug, Default, Clone)]
pub struct History {
    done: Vec<(Edit, Scenario, Scenario)>,
    undone: Vec<(Edit, Scenario, Scenario)>,
}

impl History {
    /// Applies `e` to `s` (refused: `s` unchanged); a new edit forgets what was undone.
    pub fn apply(&mut self, s: &mut Scenario, e: Edit) -> Result<(), Vec<Problem>> {
        let next = apply(s, &e)?;
        let before = std::mem::replace(s, next.clone());
        self.done.push((e, before, next));
        self.undone.clear();
        Ok(())
    }

    /// Takes back the last edit; false when there is none.
    pub fn undo(&mut self, s: &mut Scenario) -> bool {
        match self.done.pop() {
            Some((e, before, after)) => {
                *s = before.clone();
                self.undone.push((e, before, after));
                true
            }
            None => false,
        }
    }

    /// Makes the last undone edit again; false when there is none.
    pub fn redo(&mut self, s: &mut Scenario) -> bool {
        match self.undone.pop() {
            Some((e, before, after)) => {
                *s = after.clone();
                self.done.push((e, before, after));
                true
            }
            None => false,
        }
    }

    /// The edits in force, oldest first.
    pub fn edits(&self) -> impl Iterator<Item = &Edit> {
        self.done.iter().map(|d| &d.0)
    }
}
