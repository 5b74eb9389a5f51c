//! What a name may hold. Names of sources, components and flows appear in the metrics CSV, the
//! picture and the command line, so they are letters (of any script), digits, `-`, `_` and `.`,
//! at most 64 characters. Titles (a scenario's `name`, a comparison's `question` and variant
//! names) are free text, but never control or format characters (a right-to-left override, a
//! zero-width space), which would make what is printed differ from what is stored. A refused
//! character is shown by its code point, never echoed.

use unicode_general_category::{GeneralCategory, get_general_category};

/// Longest name of a source, component or flow, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;

fn allowed_in_name(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.')
}

fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            get_general_category(c),
            GeneralCategory::Format
                | GeneralCategory::LineSeparator
                | GeneralCategory::ParagraphSeparator
                | GeneralCategory::Surrogate
                | GeneralCategory::PrivateUse
                | GeneralCategory::Unassigned
        )
}

/// `text` with every character `keep` refuses written as `\u{...}`.
fn shown(text: &str, keep: impl Fn(char) -> bool) -> String {
    text.chars()
        .map(|c| {
            if keep(c) {
                c.to_string()
            } else {
                c.escape_unicode().to_string()
            }
        })
        .collect()
}

/// What is wrong with a name of a source, component or flow, if anything.
pub fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the name is empty".into());
    }
    if let Some((k, c)) = name.chars().enumerate().find(|(_, c)| !allowed_in_name(*c)) {
        return Some(format!(
            "the name `{}` holds U+{:04X} at character {}: names are letters, digits, '-', '_' and '.'",
            shown(name, allowed_in_name),
            c as u32,
            k + 1
        ));
    }
    let n = name.chars().count();
    (n > MAX_NAME_CHARS)
        .then(|| format!("the name is {n} characters long: at most {MAX_NAME_CHARS}"))
}

/// What is wrong with a title, if anything (an empty one is the caller's to refuse).
pub fn title_problem(text: &str) -> Option<String> {
    text_problem(text, MAX_TITLE_CHARS)
}

/// The same check as `title_problem` for a longer text (at most `most` characters).
pub fn text_problem(text: &str, most: usize) -> Option<String> {
    if let Some((k, c)) = text.chars().enumerate().find(|(_, c)| hidden(*c)) {
        return Some(format!(
            "`{}` holds U+{:04X} at character {}, a control or format character that would print differently from what is stored",
            shown(text, |c| !hidden(c)),
            c as u32,
            k + 1
        ));
    }
    let n = text.chars().count();
    (n > most).then(|| format!("it is {n} characters long: at most {most}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_hold_letters_digits_and_three_marks_and_a_refused_character_is_shown_by_code_point() {
        for ok in ["web", "db-2", "cache_eu.west", "Überweisung", "支付"] {
            assert_eq!(name_problem(ok), None, "{ok}");
        }
        let rlo = name_problem("we\u{202e}b").unwrap();
        assert!(rlo.contains("U+202E at character 3"), "{rlo}");
        assert!(
            !rlo.contains('\u{202e}'),
            "the character itself is never echoed"
        );
        assert!(name_problem("a\u{200b}b").unwrap().contains("U+200B"));
        assert!(name_problem("a b").unwrap().contains("U+0020"));
        assert!(name_problem("web,db").is_some());
        assert!(
            name_problem(&"x".repeat(65))
                .unwrap()
                .contains("at most 64")
        );
        assert!(title_problem("Netflix Friday: 3x, with backpressure").is_none());
        assert!(
            title_problem("drop \u{202e}newest")
                .unwrap()
                .contains("U+202E")
        );
        assert!(title_problem("a\nb").unwrap().contains("U+000A"));
    }
}
