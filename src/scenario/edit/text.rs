//! Edits as a line of text, for `flowlab edit` and the app's edit box:
//!
//! ```text
//! add NAME KIND                 a component (LoadBalancer, Service, Cache, Database, Queue, ExternalApi)
//! source NAME RATE              a Poisson source, RATE requests/s
//! connect FROM TO [CALL]        a link (Sync, Async or Pull; default Sync)
//! disconnect FROM TO
//! flow SOURCE NAME A,B,C        a route through components A, B, C
//! remove NAME
//! move NAME X Y
//! set TARGET FIELD VALUE        VALUE as RON, the rest of the line (set web service.mean_ms 2.0)
//! ```

use super::Edit;
use crate::scenario::{CallKind, Kind};

/// The words every edit starts with, for messages.
pub const VERBS: &str = "add, source, connect, disconnect, flow, remove, move, set";

fn kind(word: &str) -> Result<Kind, String> {
    Ok(match word {
        "LoadBalancer" => Kind::LoadBalancer,
        "Service" => Kind::Service,
        "Cache" => Kind::Cache,
        "Database" => Kind::Database,
        "Queue" => Kind::Queue,
        "ExternalApi" => Kind::ExternalApi,
        _ => {
            return Err(format!(
                "`{word}` is no kind: LoadBalancer, Service, Cache, Database, Queue or ExternalApi"
            ));
        }
    })
}

fn number<T: std::str::FromStr>(word: &str, what: &str) -> Result<T, String> {
    word.parse()
        .map_err(|_| format!("`{word}` is not a number ({what})"))
}

impl Edit {
    /// Reads one edit from a line of text (see the module documentation).
    pub fn parse(line: &str) -> Result<Edit, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let usage = |u: &str| Err(format!("usage: {u}"));
        let s = |i: usize| words[i].to_string();
        Ok(match words.as_slice() {
            ["add", _, k] => Edit::AddComponent {
                name: s(1),
                kind: kind(k)?,
            },
            ["add", ..] => return usage("add NAME KIND"),
            ["source", _, r] => Edit::AddSource {
                name: s(1),
                rate: number(r, "requests per second")?,
            },
            ["source", ..] => return usage("source NAME RATE"),
            ["connect", _, _, rest @ ..] => Edit::Connect {
                from: s(1),
                to: s(2),
                call: match rest {
                    [] | ["Sync"] => CallKind::Sync,
                    ["Async"] => CallKind::Async,
                    ["Pull"] => CallKind::Pull,
                    _ => return usage("connect FROM TO [Sync|Async|Pull]"),
                },
            },
            ["connect", ..] => return usage("connect FROM TO [Sync|Async|Pull]"),
            ["disconnect", _, _] => Edit::Disconnect {
                from: s(1),
                to: s(2),
            },
            ["disconnect", ..] => return usage("disconnect FROM TO"),
            ["flow", _, _, path] => Edit::AddFlow {
                source: s(1),
                name: s(2),
                path: path.split(',').map(str::to_string).collect(),
            },
            ["flow", ..] => return usage("flow SOURCE NAME A,B,C"),
            ["remove", _] => Edit::Remove { name: s(1) },
            ["remove", ..] => return usage("remove NAME"),
            ["move", _, x, y] => Edit::Move {
                name: s(1),
                to: (number(x, "x")?, number(y, "y")?),
            },
            ["move", ..] => return usage("move NAME X Y"),
            ["set", _, _, _, ..] => {
                // The value is the rest of the line, spaces and all.
                let rest = line.trim_start()[3..].trim_start();
                let rest = rest[words[1].len()..].trim_start();
                let value = rest[words[2].len()..].trim();
                Edit::Set {
                    target: s(1),
                    field: s(2),
                    value: value.to_string(),
                }
            }
            ["set", ..] => return usage("set TARGET FIELD VALUE"),
            [] => return Err(format!("an empty edit: start with one of {VERBS}")),
            [verb, ..] => return Err(format!("`{verb}` is no edit: start with one of {VERBS}")),
        })
    }
}

/// An edit in the words [`Edit::parse`] reads (a gesture's edits joined by `; `).
impl std::fmt::Display for Edit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Edit::AddComponent { name, kind } => write!(f, "add {name} {kind:?}"),
            Edit::AddSource { name, rate } => write!(f, "source {name} {rate}"),
            Edit::Connect { from, to, call } => write!(f, "connect {from} {to} {call:?}"),
            Edit::Disconnect { from, to } => write!(f, "disconnect {from} {to}"),
            Edit::AddFlow { source, name, path } => {
                write!(f, "flow {source} {name} {}", path.join(","))
            }
            Edit::Remove { name } => write!(f, "remove {name}"),
            Edit::Move { name, to } => write!(f, "move {name} {} {}", to.0, to.1),
            Edit::Set {
                target,
                field,
                value,
            } => write!(f, "set {target} {field} {value}"),
            Edit::Many(list) => {
                let words: Vec<String> = list.iter().map(|e| e.to_string()).collect();
                f.write_str(&words.join("; "))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_read_from_a_line_and_say_what_is_wrong() {
        assert_eq!(
            Edit::parse("set web service (mean_ms: Some(2.0), shape: Deterministic)").unwrap(),
            Edit::Set {
                target: "web".into(),
                field: "service".into(),
                value: "(mean_ms: Some(2.0), shape: Deterministic)".into()
            }
        );
        assert_eq!(
            Edit::parse("connect web db Async").unwrap(),
            Edit::Connect {
                from: "web".into(),
                to: "db".into(),
                call: CallKind::Async
            }
        );
        assert!(matches!(
            Edit::parse("flow users browse lb,web").unwrap(),
            Edit::AddFlow { path, .. } if path == ["lb", "web"]
        ));
        assert!(
            Edit::parse("add db Databse")
                .unwrap_err()
                .contains("no kind")
        );
        assert!(
            Edit::parse("source u fast")
                .unwrap_err()
                .contains("not a number")
        );
        assert!(Edit::parse("jump").unwrap_err().contains("no edit"));
        assert!(Edit::parse("move x 1").unwrap_err().contains("usage"));
    }
}
