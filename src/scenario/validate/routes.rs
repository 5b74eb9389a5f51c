//! A flow's path: hops joined by links, shares that add up, feedback to a visited component,
//! fan-outs.

use super::checker::{Checker, known, num};
use crate::scenario::{FlowSpec, Hop, SourceSpec};
use std::collections::BTreeMap;

/// Checks one flow of a source: its weight, and that its path is non-empty and visits
/// components joined by links, hop by hop.
pub(super) fn check_flow(
    c: &mut Checker,
    ff: &str,
    src: &SourceSpec,
    flow: &FlowSpec,
    names: &BTreeMap<&str, &'static str>,
    linked: &BTreeMap<(&str, &str), usize>,
) {
    c.positive(&format!("{ff}.weight"), flow.weight, 1e12);
    if flow.path.is_empty() {
        c.bad(
            format!("{ff}.path"),
            "the route has no end: the path is empty",
            "list the components the flow visits, e.g. [To(\"web\")]",
        );
    }
    let mut prev: Vec<&str> = vec![src.name.as_str()];
    let mut visited: Vec<&str> = vec![];
    for (k, hop) in flow.path.iter().enumerate() {
        let hf = format!("{ff}.path[{k}]");
        let options: Vec<(&str, f64)> = match hop {
            Hop::To(n) => vec![(n.as_str(), 1.0)],
            Hop::OneOf(v) => v.iter().map(|(n, p)| (n.as_str(), *p)).collect(),
            Hop::Back(n, _) => vec![(n.as_str(), 1.0)],
            Hop::Fan { to, .. } => to.iter().map(|n| (n.as_str(), 1.0)).collect(),
        };
        match hop {
            Hop::OneOf(v) => check_hop_shares(c, &hf, v, k == 0),
            Hop::Back(n, p) => check_back(c, &hf, n, *p, k, &visited),
            Hop::Fan {
                to,
                wait_for,
                optional,
            } => check_fan(c, &hf, k, to, *wait_for, optional),
            Hop::To(_) => {}
        }
        for (n, _) in &options {
            check_hop_target(c, &hf, n, &prev, src, names, linked);
        }
        // After a feedback hop not taken, or a fan-out, the request goes on from where it was.
        if !matches!(hop, Hop::Back(..) | Hop::Fan { .. }) {
            prev = options.iter().map(|x| x.0).collect();
            visited.extend(prev.iter().copied());
        }
    }
}

/// Checks a fan-out: not first, 2 to 32 distinct targets, awaiting 1 to all of them, optional
/// calls among them.
pub(super) fn check_fan(
    c: &mut Checker,
    hf: &str,
    k: usize,
    to: &[String],
    wait_for: Option<u32>,
    optional: &[String],
) {
    if k == 0 {
        c.bad(
            hf,
            "a route cannot start with `Fan`",
            "the component before a fan-out makes the calls; start with To(...)",
        );
    }
    if to.len() < 2 || to.len() > 32 {
        c.bad(
            hf,
            format!("a fan-out calls {} components", to.len()),
            "call 2 to 32 components (use To for one)",
        );
    }
    if let Some(n) = to
        .iter()
        .enumerate()
        .find(|(i, n)| to[..*i].contains(n))
        .map(|x| x.1)
    {
        c.bad(
            hf,
            format!("`{n}` is called twice in one fan-out"),
            "call each component once",
        );
    }
    if let Some(w) = wait_for
        && (w == 0 || w as usize > to.len())
    {
        c.bad(
            format!("{hf}.wait_for"),
            format!("waits for {w} of {} answers", to.len()),
            format!("wait for 1 to {} (default: all)", to.len()),
        );
    }
    if let Some(n) = optional.iter().find(|n| !to.contains(n)) {
        c.bad(
            format!("{hf}.optional"),
            format!("`{n}` is not called by this fan-out"),
            format!("name some of: {}", to.join(", ")),
        );
    }
}

/// Checks a feedback hop: a probability below 1, back to a component visited earlier.
pub(super) fn check_back(c: &mut Checker, hf: &str, n: &str, p: f64, k: usize, visited: &[&str]) {
    if k == 0 {
        c.bad(
            hf,
            "a route cannot start with `Back`",
            "start with To(...) or OneOf(...)",
        );
    } else if !visited.contains(&n) {
        c.bad(
            hf,
            format!("`Back` goes to `{n}`, which this path has not visited before"),
            format!("go back to one of: {}", visited.join(", ")),
        );
    }
    if !(p > 0.0 && p < 1.0) {
        c.bad(
            hf,
            format!("the feedback probability is {}", num(p)),
            "above 0 and below 1 (at 1 a request would loop for ever)",
        );
    }
}

/// Checks that the shares of a `OneOf` hop are each >= 0 and add up to 1 (on the first hop) or
/// at most 1 (later: the rest end their route there).
pub(super) fn check_hop_shares(c: &mut Checker, hf: &str, v: &[(String, f64)], first: bool) {
    let sum: f64 = v.iter().map(|x| x.1).sum();
    let hint = if first {
        "give each option a share >= 0 so they add up to 1 (every request must go somewhere first)"
    } else {
        "give each option a share >= 0 so they add up to at most 1 (the rest end their route here)"
    };
    if v.is_empty() {
        c.bad(hf, "`OneOf` lists no option", hint);
    } else if let Some((n, p)) = v.iter().find(|x| x.1.is_nan() || x.1 < 0.0) {
        c.bad(
            hf,
            format!("the share of `{n}` is {}, below 0", num(*p)),
            hint,
        );
    } else if !sum.is_finite() || sum > 1.0 + 1e-6 || (first && (sum - 1.0).abs() > 1e-6) {
        let rule = if first { "not 1" } else { "more than 1" };
        c.bad(
            hf,
            format!("the shares add up to {}, {rule}", num(sum)),
            hint,
        );
    } else if sum <= 0.0 {
        c.bad(hf, "the shares add up to 0: no request goes on", hint);
    }
}

/// Checks that a hop's target `n` is a component, linked from every known sender in `prev` (the
/// previous hop's options, or the source itself).
pub(super) fn check_hop_target(
    c: &mut Checker,
    hf: &str,
    n: &str,
    prev: &[&str],
    src: &SourceSpec,
    names: &BTreeMap<&str, &'static str>,
    linked: &BTreeMap<(&str, &str), usize>,
) {
    match names.get(n) {
        Some(&"component") => {
            for p in prev {
                let known_sender = names.get(p) == Some(&"component") || *p == src.name;
                if known_sender && !linked.contains_key(&(*p, n)) {
                    c.bad(
                        hf,
                        format!("the route goes {p} -> {n} but no link joins them"),
                        format!("add a link (from: \"{p}\", to: \"{n}\")"),
                    );
                }
            }
        }
        Some(_) => c.bad(
            hf,
            format!("`{n}` is a source, not a component"),
            "routes visit components only",
        ),
        None => c.bad(hf, format!("`{n}` is not a component"), known(names)),
    }
}
