//! `flowlab fmt`: any scenario written the way a person writes one. Fields at their defaults
//! are left out (a field is left out only when the file without it reads as the same
//! scenario), values are written inline where they fit the line and one field or item per
//! line where not, sources, components, links, faults and commands one per line in the file's
//! order (the order is the simulation's: changing it would change the run), and comments on
//! lines of their own kept where the file had them. The result is checked: it must read back
//! as exactly the scenario the file held, or nothing is written.

mod comments;
mod minimal;
pub(crate) mod node;

use super::command::TimedCommand;
use super::{ComponentSpec, FaultSpec, LinkSpec, Scenario, ScenarioError, SourceSpec};
use minimal::{Memo, minimize};
use node::{NoNotes, Node, Notes, pretty};
use std::path::Path;

/// The top-level lists, each written one item per line.
const LISTS: [&str; 5] = ["sources", "components", "links", "faults", "commands"];

/// The scenario as a tree, each list's items and the rest without their defaults.
fn minimal_tree(s: &Scenario) -> Result<Node, String> {
    let compact = ron::to_string(s).map_err(|e| e.to_string())?;
    let Node::Struct(name, fields) = node::parse(&compact)? else {
        return Err("a scenario is a struct".into());
    };
    let mut memo = Memo::default();
    let mut out = vec![];
    for (k, v) in fields {
        let v = match (k.as_str(), v) {
            (list, Node::Seq(items)) if LISTS.contains(&list) => Node::Seq(
                items
                    .into_iter()
                    .map(|n| match list {
                        "sources" => minimize::<SourceSpec>(n, &[], &mut memo),
                        "components" => minimize::<ComponentSpec>(n, &[], &mut memo),
                        "links" => minimize::<LinkSpec>(n, &[], &mut memo),
                        "faults" => minimize::<FaultSpec>(n, &[], &mut memo),
                        _ => minimize::<TimedCommand>(n, &[], &mut memo),
                    })
                    .collect(),
            ),
            (_, v) => v,
        };
        out.push((k, v));
    }
    // The rest: tried with the lists as they are, never dropping a list that has items.
    let kept: Vec<String> = (out.iter())
        .filter(|(k, v)| LISTS.contains(&k.as_str()) && !matches!(v, Node::Seq(x) if x.is_empty()))
        .map(|(k, _)| k.clone())
        .collect();
    let keep: Vec<&str> = kept.iter().map(String::as_str).collect();
    Ok(minimize::<Scenario>(
        Node::Struct(name, out),
        &keep,
        &mut Memo::default(),
    ))
}

/// Whether the value at `path` of `n` has field or item `key`.
fn has(n: &Node, path: &[String], key: &str) -> bool {
    let mut at = n;
    for p in path.iter().map(String::as_str).chain(std::iter::once(key)) {
        let next = match at {
            Node::Struct(_, f) => f.iter().find(|(k, _)| k == p).map(|x| &x.1),
            Node::Seq(v) | Node::Tuple(v) | Node::Call(_, v) => {
                p.parse::<usize>().ok().and_then(|i| v.get(i))
            }
            _ => None,
        };
        match next {
            Some(x) => at = x,
            None => return false,
        }
    }
    true
}

fn write(tree: &Node, notes: &dyn Notes) -> String {
    let broken = |p: &[String]| p.is_empty() || p.len() == 1 && LISTS.contains(&p[0].as_str());
    let mut text = pretty(tree, 0, 0, &mut vec![], notes, &broken);
    text.push('\n');
    text
}

/// The scenario in canonical form, without comments (the app's "save session as scenario").
pub fn canonical(s: &Scenario) -> Result<String, String> {
    let text = write(&minimal_tree(s)?, &NoNotes);
    check(s, &text)?;
    Ok(text)
}

/// The scenario file `text` (read from `path`, named in messages) in canonical form, its
/// comments kept; refused with the reader's message when the file does not read.
pub fn format(text: &str, path: &Path) -> Result<String, ScenarioError> {
    let s = super::parse(text, path)?;
    format_with_comments(&s, text, true).map_err(|message| ScenarioError::Syntax {
        path: path.to_path_buf(),
        line: 1,
        col: 1,
        message: format!("flowlab fmt could not format it: {message}"),
    })
}

/// `s` in canonical form with the comments of `text` (the file it came from, perhaps before
/// edits); `in_lists` false keeps only the header and the top-level comments (after an edit
/// that removed an item, a list's comments would land on the wrong one).
pub fn format_with_comments(s: &Scenario, text: &str, in_lists: bool) -> Result<String, String> {
    let tree = minimal_tree(s)?;
    let mut notes = comments::Comments::of(text);
    if !in_lists {
        notes.keep_top_level();
    }
    notes.settle(&|p, k| has(&tree, p, k));
    let mut out = String::new();
    for h in &notes.header {
        out.push_str(h);
        out.push('\n');
    }
    out.push_str(&write(&tree, &notes));
    for t in &notes.trailer {
        out.push_str(t);
        out.push('\n');
    }
    if notes.unused() > 0 {
        return Err(format!("{} comment line(s) found no place", notes.unused()));
    }
    check(s, &out)?;
    Ok(out)
}

/// The written text must read back as exactly `s`.
fn check(s: &Scenario, text: &str) -> Result<(), String> {
    let back = super::parse(text, Path::new("<formatted>")).map_err(|e| e.to_string())?;
    let (a, b) = (ron::to_string(s), ron::to_string(&back));
    match (a, b) {
        (Ok(a), Ok(b)) if a == b => Ok(()),
        _ => Err("the formatted text reads as another scenario".into()),
    }
}
