//! Leaving out what a reader need not write: every struct field whose absence reads back as
//! the same value (its serde default), found by trying. A field is dropped only when the
//! element without it deserializes to exactly what it was, so the result means the same.

use super::node::{Node, inline};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// A step into a value: a struct's field, or an item of a list, tuple or call.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(usize),
}

fn child<'a>(n: &'a Node, s: &Step) -> Option<&'a Node> {
    match (n, s) {
        (Node::Struct(_, f), Step::Field(k)) => f.iter().find(|(x, _)| x == k).map(|x| &x.1),
        (Node::Seq(v) | Node::Tuple(v) | Node::Call(_, v), Step::Index(i)) => v.get(*i),
        _ => None,
    }
}

fn child_mut<'a>(n: &'a mut Node, s: &Step) -> Option<&'a mut Node> {
    match (n, s) {
        (Node::Struct(_, f), Step::Field(k)) => {
            f.iter_mut().find(|(x, _)| x == k).map(|x| &mut x.1)
        }
        (Node::Seq(v) | Node::Tuple(v) | Node::Call(_, v), Step::Index(i)) => v.get_mut(*i),
        _ => None,
    }
}

fn at<'a>(n: &'a Node, path: &[Step]) -> Option<&'a Node> {
    path.iter().try_fold(n, child)
}

fn at_mut<'a>(n: &'a mut Node, path: &[Step]) -> Option<&'a mut Node> {
    path.iter().try_fold(n, |n, s| child_mut(n, s))
}

/// Paths of every struct inside `n`, outermost first.
fn structs(n: &Node, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match n {
        Node::Struct(_, fields) => {
            out.push(path.clone());
            for (k, v) in fields {
                path.push(Step::Field(k.clone()));
                structs(v, path, out);
                path.pop();
            }
        }
        Node::Seq(v) | Node::Tuple(v) | Node::Call(_, v) => {
            for (i, x) in v.iter().enumerate() {
                path.push(Step::Index(i));
                structs(x, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// A value's compact text after reading `text` as a `T` (`None`: it does not read).
fn reads_as<T: DeserializeOwned + Serialize>(text: &str) -> Option<String> {
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let value: T = options.from_str(text).ok()?;
    ron::to_string(&value).ok()
}

/// Decisions already taken, by (type, field path with list positions erased, value): whether
/// a field of that value at that place can be left out. Serde defaults are per field, so the
/// answer does not depend on the rest of the element.
#[derive(Default)]
pub struct Memo(HashMap<(&'static str, String, String), bool>);

fn key(path: &[Step], field: &str) -> String {
    let mut k: Vec<&str> = path
        .iter()
        .map(|s| match s {
            Step::Field(f) => f.as_str(),
            Step::Index(_) => "[]",
        })
        .collect();
    k.push(field);
    k.join(".")
}

/// `n` (the compact text of a `T`, parsed) without the fields a reader need not write; fields
/// named in `keep` at its top are never tried.
pub fn minimize<T: DeserializeOwned + Serialize>(
    mut n: Node,
    keep: &[&str],
    memo: &mut Memo,
) -> Node {
    let Some(target) = reads_as::<T>(&inline(&n)) else {
        return n;
    };
    let ty = std::any::type_name::<T>();
    let mut paths = vec![];
    structs(&n, &mut vec![], &mut paths);
    for path in paths {
        let Some(Node::Struct(_, fields)) = at(&n, &path) else {
            continue;
        };
        let names: Vec<(String, String)> =
            fields.iter().map(|(k, v)| (k.clone(), inline(v))).collect();
        for (field, value) in names {
            if path.is_empty() && keep.contains(&field.as_str()) {
                continue;
            }
            let memo_key = (ty, key(&path, &field), value);
            let mut without = n.clone();
            if let Some(Node::Struct(_, f)) = at_mut(&mut without, &path) {
                f.retain(|(k, _)| *k != field);
            }
            let drop = *memo
                .0
                .entry(memo_key)
                .or_insert_with(|| reads_as::<T>(&inline(&without)).as_ref() == Some(&target));
            if drop {
                n = without;
            }
        }
    }
    n
}
