//! Comments of the file being formatted, kept where it had them: a comment on lines of its
//! own is anchored to what follows it (the header before the scenario, a top-level field, an
//! item of a list, a field of an item; deeper comments go before the item's field that holds
//! them) and written again there. A comment at the end of a line of code is not kept.

use super::node::Notes;
use std::cell::RefCell;
use std::collections::HashMap;

/// Where a comment goes: before key `key` (a field name, an item index, or `]` for a list's
/// end) of the value at `path`.
type Anchor = (Vec<String>, String);

/// The comments of one file, by anchor.
#[derive(Default)]
pub struct Comments {
    /// Lines before the scenario's opening parenthesis.
    pub header: Vec<String>,
    /// Lines after its closing one.
    pub trailer: Vec<String>,
    at: HashMap<Anchor, Vec<String>>,
    /// Per struct path, its keys in the order the file wrote them.
    order: HashMap<Vec<String>, Vec<String>>,
    used: RefCell<Vec<Anchor>>,
}

#[derive(Clone)]
enum Kind {
    Struct,
    Seq,
    Other,
}

#[derive(Clone)]
struct Open {
    kind: Kind,
    key: String,
    items: usize,
}

/// The path a pretty-writer gives the value being written inside `stack` (each container's
/// current key), at most `depth` containers deep.
fn path_of(stack: &[Open], depth: usize) -> Vec<String> {
    stack[..depth]
        .iter()
        .map(|o| match o.kind {
            Kind::Seq => o.items.saturating_sub(1).to_string(),
            _ => o.key.clone(),
        })
        .collect()
}

impl Comments {
    /// Reads the comments of `text` and where each one belongs.
    pub fn of(text: &str) -> Self {
        let mut c = Comments::default();
        let mut stack: Vec<Open> = vec![];
        let mut pending: Vec<String> = vec![];
        let mut closed = false;
        for line in text.lines() {
            let t = line.trim();
            if t.starts_with("//") {
                pending.push(t.to_string());
                continue;
            }
            if t.is_empty() {
                continue;
            }
            if !pending.is_empty() {
                let lines = std::mem::take(&mut pending);
                if stack.is_empty() {
                    if closed {
                        c.trailer.extend(lines);
                    } else {
                        c.header.extend(lines);
                    }
                } else {
                    c.anchor(&stack, t, lines);
                }
            }
            scan(t, &mut stack, &mut c.order, &mut closed);
        }
        c.trailer.extend(pending);
        c
    }

    fn anchor(&mut self, stack: &[Open], t: &str, lines: Vec<String>) {
        let word: String = t
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let field = !word.is_empty() && t[word.len()..].trim_start().starts_with(':');
        let top = stack.len();
        let anchor = match stack.last().map(|o| &o.kind) {
            // Deeper than an item's fields: before the item's field that holds it.
            _ if top > 3 => (path_of(stack, 2), stack[2].key.clone()),
            Some(Kind::Struct) if field => (path_of(stack, top - 1), word),
            Some(Kind::Struct) if t.starts_with(')') => (path_of(stack, top - 1), "]".into()),
            Some(Kind::Seq) if t.starts_with(']') => (path_of(stack, top - 1), "]".into()),
            Some(Kind::Seq) => (path_of(stack, top - 1), stack[top - 1].items.to_string()),
            _ if top >= 2 => (path_of(stack, top - 1), stack[top - 1].key.clone()),
            _ => (vec![], String::new()),
        };
        self.at.entry(anchor).or_default().extend(lines);
    }

    /// Moves each comment whose field the formatter left out to the next field the file had
    /// after it that is still written (`present` says which are), or to the end of the list
    /// or item that held it.
    pub fn settle(&mut self, present: &dyn Fn(&[String], &str) -> bool) {
        // Each pass moves a comment at most one level up; a path is only so deep.
        for _ in 0..16 {
            if !self.settle_once(present) {
                return;
            }
        }
    }

    /// One pass of `settle`; true when a comment moved.
    fn settle_once(&mut self, present: &dyn Fn(&[String], &str) -> bool) -> bool {
        let mut moved = false;
        let mut anchors: Vec<Anchor> = self.at.keys().cloned().collect();
        anchors.sort();
        for (path, key) in anchors {
            let here = match path.split_last() {
                Some((last, parent)) => present(parent, last),
                None => true,
            };
            if here && (key == "]" || present(&path, &key)) {
                continue;
            }
            let lines = self
                .at
                .remove(&(path.clone(), key.clone()))
                .unwrap_or_default();
            let order = self.order.get(&path).cloned().unwrap_or_default();
            let after = order.iter().skip_while(|k| **k != key).skip(1);
            let next = after.into_iter().find(|k| here && present(&path, k));
            let anchor = match next {
                Some(k) => (path, k.clone()),
                None if path.is_empty() => (vec![], "]".into()),
                None => (
                    path[..path.len() - 1].to_vec(),
                    path[path.len() - 1].clone(),
                ),
            };
            self.at.entry(anchor).or_default().extend(lines);
            moved = true;
        }
        moved
    }

    /// Forgets the comments inside lists (their anchors are positions in the list).
    pub fn keep_top_level(&mut self) {
        self.at.retain(|(path, _), _| path.is_empty());
    }

    /// Comments not written (their anchor was never reached).
    pub fn unused(&self) -> usize {
        let used = self.used.borrow();
        (self.at.iter())
            .filter(|(a, _)| !used.contains(a))
            .map(|(_, l)| l.len())
            .sum()
    }
}

/// Follows the brackets of one line of code (outside strings and comments).
fn scan(
    t: &str,
    stack: &mut Vec<Open>,
    order: &mut HashMap<Vec<String>, Vec<String>>,
    closed: &mut bool,
) {
    let b = t.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'/' if b.get(i + 1) == Some(&b'/') => return,
            b'(' | b'[' | b'{' => {
                begin_item(stack);
                let kind = if c == b'[' { Kind::Seq } else { Kind::Other };
                stack.push(Open {
                    kind,
                    key: String::new(),
                    items: 0,
                });
            }
            b')' | b']' | b'}' => {
                stack.pop();
                *closed |= stack.is_empty();
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                let rest = t[i..].trim_start();
                let top = stack.len();
                if rest.starts_with(':') && top > 0 && !matches!(stack[top - 1].kind, Kind::Seq) {
                    let key = t[start..i].to_string();
                    let path = path_of(stack, top - 1);
                    stack[top - 1].kind = Kind::Struct;
                    stack[top - 1].key = key.clone();
                    order.entry(path).or_default().push(key);
                } else {
                    begin_item(stack);
                }
                continue;
            }
            b',' => {
                if let Some(o) = stack.last_mut()
                    && matches!(o.kind, Kind::Seq)
                {
                    o.key.clear();
                }
            }
            b' ' | b':' => {}
            _ => begin_item(stack),
        }
        i += 1;
    }
}

/// A value starts: in a list, it is the next item (once per item).
fn begin_item(stack: &mut [Open]) {
    if let Some(o) = stack.last_mut()
        && matches!(o.kind, Kind::Seq)
    {
        // An item has begun unless one is open and not yet ended by a comma: counted at its
        // first character, after `[` or a comma.
        if o.key != "open" {
            o.items += 1;
            o.key = "open".into();
        }
    }
}

impl Notes for Comments {
    fn before(&self, path: &[String], key: &str) -> Vec<String> {
        let anchor = (path.to_vec(), key.to_string());
        match self.at.get(&anchor) {
            Some(lines) => {
                self.used.borrow_mut().push(anchor);
                lines.clone()
            }
            None => vec![],
        }
    }

    fn under(&self, path: &[String]) -> bool {
        self.at
            .keys()
            .any(|(p, _)| p.len() >= path.len() && p[..path.len()] == *path)
    }
}
