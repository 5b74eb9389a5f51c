//! The validator's tools: a checker that collects problems with their field path and hint,
//! and numbers and names written the way messages need them.

use crate::scenario::Problem;
use std::collections::BTreeMap;

/// Collects problems as they are found.
pub(super) struct Checker {
    pub(super) problems: Vec<Problem>,
}

impl Checker {
    pub(super) fn bad(
        &mut self,
        field: impl Into<String>,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.problems.push(Problem {
            field: field.into(),
            message: message.into(),
            hint: hint.into(),
        });
    }

    /// A finite number within [min, max].
    pub(super) fn range(&mut self, field: &str, v: f64, min: f64, max: f64) -> bool {
        let what = if !v.is_finite() {
            "is not a finite number".to_string()
        } else if v < min {
            format!("is below {}", num(min))
        } else if v > max {
            format!("is above {}", num(max))
        } else {
            return true;
        };
        self.bad(
            field,
            format!("{} {what}", num(v)),
            format!("use a number between {} and {}", num(min), num(max)),
        );
        false
    }

    /// A finite number greater than zero and at most max.
    pub(super) fn positive(&mut self, field: &str, v: f64, max: f64) -> bool {
        let what = if !v.is_finite() {
            "is not a finite number".to_string()
        } else if v <= 0.0 {
            "must be greater than 0".to_string()
        } else if v > max {
            format!("is above the largest allowed, {}", num(max))
        } else {
            return true;
        };
        self.bad(
            field,
            format!("{} {what}", num(v)),
            format!("use a number in (0, {}]", num(max)),
        );
        false
    }
}

/// A number as a person writes it: 1e300 rather than 301 digits, 0.5 rather than 0.5000001.
pub fn num(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 || !v.is_finite() {
        format!("{v}")
    } else if !(1e-4..1e9).contains(&a) {
        // Three significant figures: 1e20, 1.5e-7.
        let e = format!("{v:.2e}");
        let (m, x) = e.split_once('e').unwrap_or((&e, "0"));
        let m = m.trim_end_matches('0').trim_end_matches('.');
        format!("{m}e{x}")
    } else {
        let s = format!("{v:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

pub(super) fn known(names: &BTreeMap<&str, &'static str>) -> String {
    let list: Vec<&str> = names.keys().copied().collect();
    format!("known names: {}", list.join(", "))
}
