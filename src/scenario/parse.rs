//! Reading a scenario: the file read within bounds, RON parsed with errors that name the line,
//! column and field, then validated; every problem found at once.

use super::*;
use std::path::{Path, PathBuf};

/// Why a scenario could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read (missing, a directory, too large, not text).
    #[error(transparent)]
    Input(#[from] crate::files::InputError),
    /// RON syntax or type error.
    #[error("{path}:{line}:{col}: {message}")]
    Syntax {
        /// File path.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What ron said.
        message: String,
    },
    /// The file parsed but describes an impossible system.
    #[error("{path}: {}", format_problems(.problems))]
    Invalid {
        /// File path.
        path: PathBuf,
        /// Every problem found.
        problems: Vec<Problem>,
    },
}

/// One semantic problem: where, what, and how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Field path, e.g. `components[2].workers`.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl Problem {
    /// For a problem in a scenario's `commands`: the command's index and the rest of the field
    /// path after it (`commands[3].command` gives 3 and `.command`).
    pub fn command_index(&self) -> Option<(usize, &str)> {
        let (k, tail) = self.field.strip_prefix("commands[")?.split_once(']')?;
        Some((k.parse().ok()?, tail))
    }
}

fn format_problems(problems: &[Problem]) -> String {
    let mut s = format!("{} problem(s) in scenario", problems.len());
    for p in problems {
        s.push_str(&format!(
            "\n  - {}: {}\n    hint: {}",
            p.field, p.message, p.hint
        ));
    }
    s
}

/// Parses scenario text (a UTF-8 byte-order mark is allowed); `path` is only used in messages.
pub fn parse(text: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // `implicit_some`: a bare value is accepted where an optional one is meant (`mean_ms: 2.0`
    // as well as `mean_ms: Some(2.0)`).
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    let scenario: Scenario = options.from_str(text).map_err(|e| {
        let (line, col) = (e.span.start.line, e.span.start.col);
        let mut message = syntax_message(&e.code);
        if let Some(field) = field_at(text, line, col) {
            message = format!("{field}: {message}");
        }
        ScenarioError::Syntax {
            path: path.to_path_buf(),
            line,
            col,
            message,
        }
    })?;
    let problems = validate(&scenario);
    if problems.is_empty() {
        Ok(scenario)
    } else {
        Err(ScenarioError::Invalid {
            path: path.to_path_buf(),
            problems,
        })
    }
}

/// The field whose value is at (1-based) `line`, `col`: the last `name:` before it on that line,
/// so that a message about a value says which field it is.
fn field_at(text: &str, line: usize, col: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?;
    let before: String = l.chars().take(col.saturating_sub(1)).collect();
    let colon = before
        .trim_end()
        .strip_suffix(':')
        .map(str::len)
        .or_else(|| before.rfind(':'))?;
    let name: String = before[..colon]
        .chars()
        .rev()
        .skip_while(|c| c.is_whitespace())
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit())).then_some(name)
}

/// A flowlab file other than a scenario (a comparison, a lesson) parsed from RON as scenarios
/// are (a bare value where an optional one is meant), a syntax error as `file:line:col: message`.
pub(crate) fn from_ron<T: serde::de::DeserializeOwned>(
    text: &str,
    path: &Path,
) -> Result<T, String> {
    let options =
        ron::Options::default().with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
    options.from_str(text).map_err(|e| {
        format!(
            "{}:{}:{}: {}",
            path.display(),
            e.span.start.line,
            e.span.start.col,
            syntax_message(&e.code)
        )
    })
}

/// RON's message, with a hint where RON's own words leave a newcomer guessing.
pub(crate) fn syntax_message(code: &ron::Error) -> String {
    let text = code.to_string();
    match code {
        // RON's own words suggest a Rust crate to its programmer; the person here wrote a file.
        ron::Error::ExceededRecursionLimit => {
            "nested too deeply (over 128 levels of brackets): no flowlab file nests so deep; is it the right file?".into()
        }
        ron::Error::ExpectedOption => {
            format!("{text}: this field is optional; write a value, Some(value), or None")
        }
        ron::Error::IntegerOutOfBounds => format!(
            "{text}: counts are whole numbers from 0 (see docs/SCENARIO_FORMAT.md for each field's range)"
        ),
        _ => text,
    }
}

/// Largest scenario file read (bytes): the reader stops there, so a huge file or a device that
/// never ends (`/dev/zero`) cannot exhaust memory.
pub const MAX_FILE_BYTES: u64 = crate::files::MAX_INPUT_BYTES;

/// Reads, parses and validates a scenario file; `-` reads standard input.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = crate::files::read_text(path, "scenario")?;
    parse(&text, path)
}
