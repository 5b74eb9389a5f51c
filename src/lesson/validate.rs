//! Every field of a lesson checked against its scenario: names that exist, numbers in range,
//! captions that fit, placeholders that are figures, commands a run would accept.

use super::figures::{Condition, Expect, placeholder_problem, placeholders};
use super::goals::GoalDone;
use super::stage::{Camera, Show, Target};
use super::{Lesson, Run};
use crate::scenario::{Scenario, TimedCommand, names};

/// Most steps in a lesson.
const MAX_STEPS: usize = 40;
/// Most caption lines in a step, and characters a line.
const MAX_LINES: usize = 4;
const MAX_LINE_CHARS: usize = 90;
/// Longest a step may run, in simulated seconds.
const MAX_STEP_S: f64 = 3600.0;

/// Every problem, as (field, why).
pub fn problems(l: &Lesson, s: &Scenario) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = vec![];
    if let Some(why) = names::title_problem(&l.title) {
        out.push(("title".into(), why));
    } else if l.title.trim().is_empty() {
        out.push(("title".into(), "empty".into()));
    }
    if l.steps.is_empty() || l.steps.len() > MAX_STEPS {
        out.push((
            "steps".into(),
            format!("give 1 to {MAX_STEPS} steps (there are {})", l.steps.len()),
        ));
    }
    let components: Vec<&str> = s.components.iter().map(|c| c.name.as_str()).collect();
    let links: Vec<String> = s
        .links
        .iter()
        .map(|l| format!("{}->{}", l.from, l.to))
        .collect();
    let link_names: Vec<&str> = links.iter().map(String::as_str).collect();
    let mut until_before = 0.0;
    for (i, step) in l.steps.iter().enumerate() {
        let f = format!("steps[{i}]");
        let mut bad = |field: String, why: String| out.push((field, why));
        words(&mut bad, &f, step, &components, &link_names);
        match &step.run {
            Run::For(x) if !(x.is_finite() && *x > 0.0 && *x <= MAX_STEP_S) => bad(
                format!("{f}.run"),
                format!("For({x}): give simulated seconds above 0, at most {MAX_STEP_S}"),
            ),
            Run::Until(t) if !(t.is_finite() && *t > until_before && *t <= 1e7) => bad(
                format!("{f}.run"),
                format!("Until({t}): give a time after the last step's Until ({until_before} s)"),
            ),
            Run::When(c, limit) => {
                if !(limit.is_finite() && *limit > 0.0 && *limit <= MAX_STEP_S) {
                    bad(
                        format!("{f}.run"),
                        format!("When(.., {limit}): give a limit above 0, at most {MAX_STEP_S} s"),
                    );
                }
                condition(&mut bad, &format!("{f}.run"), c, s);
            }
            _ => {}
        }
        if let Run::Until(t) = step.run {
            until_before = t;
        }
        for (k, e) in step.expect.iter().enumerate() {
            let fe = format!("{f}.expect[{k}]");
            let c = match e {
                Expect::Within(x, c) => {
                    if !(x.is_finite() && *x > 0.0 && *x <= MAX_STEP_S) {
                        bad(fe.clone(), format!("Within({x}, ..): give seconds above 0"));
                    }
                    c
                }
                Expect::Always(c) | Expect::Never(c) | Expect::AtEnd(c) => c,
            };
            condition(&mut bad, &fe, c, s);
        }
        stage(&mut bad, &f, step, s);
        for (k, c) in step.commands.iter().enumerate() {
            if !(c.at_s.is_finite() && c.at_s >= 0.0 && c.at_s <= MAX_STEP_S) {
                bad(
                    format!("{f}.commands[{k}].at_s"),
                    format!(
                        "{}: give seconds from the step's start, 0 to {MAX_STEP_S}",
                        c.at_s
                    ),
                );
            }
        }
    }
    lesson_level(l, s, &mut out);
    out.extend(commands(l, s));
    out
}

/// A step's heading and caption lines: plain text, short enough, figures that exist.
fn words(
    bad: &mut impl FnMut(String, String),
    f: &str,
    step: &super::Step,
    components: &[&str],
    links: &[&str],
) {
    if let Some(why) = names::title_problem(&step.heading) {
        bad(format!("{f}.heading"), why);
    } else if step.heading.chars().count() > 60 {
        bad(format!("{f}.heading"), "longer than 60 characters".into());
    }
    if step.caption.len() > MAX_LINES {
        bad(
            format!("{f}.caption"),
            format!("{} lines: at most {MAX_LINES}", step.caption.len()),
        );
    }
    for (k, line) in step.caption.iter().enumerate() {
        if let Some(why) = names::title_problem(line) {
            bad(format!("{f}.caption[{k}]"), why);
        } else if line.chars().count() > MAX_LINE_CHARS {
            bad(
                format!("{f}.caption[{k}]"),
                format!("longer than {MAX_LINE_CHARS} characters: split it"),
            );
        }
        for p in placeholders(line) {
            if let Some(why) = placeholder_problem(p, components, links) {
                bad(format!("{f}.caption[{k}]"), why);
            }
        }
    }
}

/// The goals, the subtitle and the takeaways.
fn lesson_level(l: &Lesson, s: &Scenario, out: &mut Vec<(String, String)>) {
    for (k, g) in l.goals.iter().enumerate() {
        let f = format!("goals[{k}]");
        if let Some(why) = names::title_problem(&g.text) {
            out.push((format!("{f}.text"), why));
        } else if g.text.trim().is_empty() || g.text.chars().count() > 80 {
            out.push((format!("{f}.text"), "give 1 to 80 characters".into()));
        }
        match &g.done {
            GoalDone::Command(w) if w.trim().is_empty() => out.push((
                format!("{f}.done"),
                "Command(\"\"): name words of the command".into(),
            )),
            GoalDone::Reached(c) => {
                condition(&mut |a, b| out.push((a, b)), &format!("{f}.done"), c, s)
            }
            _ => {}
        }
    }
    for (k, line) in l.subtitle.iter().chain(&l.takeaways).enumerate() {
        if let Some(why) = names::title_problem(line) {
            out.push((format!("subtitle/takeaways[{k}]"), why));
        } else if line.chars().count() > MAX_LINE_CHARS {
            out.push((
                format!("subtitle/takeaways[{k}]"),
                format!("longer than {MAX_LINE_CHARS} characters: split it"),
            ));
        }
    }
    if l.subtitle.len() > MAX_LINES || l.takeaways.len() > 8 {
        out.push((
            "subtitle/takeaways".into(),
            format!("at most {MAX_LINES} subtitle lines and 8 takeaways"),
        ));
    }
}

/// Most callouts in a step, and characters in a callout's label.
const MAX_CALLOUTS: usize = 4;
const MAX_LABEL_CHARS: usize = 40;

/// The camera, highlights, callouts, panels, speed and narration of a step.
fn stage(bad: &mut impl FnMut(String, String), f: &str, step: &super::Step, s: &Scenario) {
    let is_component = |n: &str| s.components.iter().any(|c| c.name == n);
    let is_instance = |n: &str| {
        n.split_once('#').is_some_and(|(comp, k)| {
            let k: Option<u32> = k.parse().ok();
            s.components
                .iter()
                .any(|c| c.name == comp && k.is_some_and(|k| k < c.instances))
        })
    };
    let is_link = |n: &str| s.links.iter().any(|l| format!("{}->{}", l.from, l.to) == n);
    let is_source = |n: &str| s.sources.iter().any(|x| x.name == n);
    match &step.camera {
        Camera::Frame(names) if names.is_empty() => bad(
            format!("{f}.camera"),
            "Frame([]): name at least one component".into(),
        ),
        Camera::Frame(names) => {
            for n in names.iter().filter(|n| !is_component(n) && !is_source(n)) {
                bad(
                    format!("{f}.camera"),
                    format!("`{n}` is not a component or source"),
                );
            }
        }
        Camera::Zoom(n) if !is_component(n) && !is_source(n) => bad(
            format!("{f}.camera"),
            format!("`{n}` is not a component or source"),
        ),
        _ => {}
    }
    for (k, n) in step.highlight.iter().enumerate() {
        if !(is_component(n) || is_instance(n) || is_link(n) || is_source(n)) {
            bad(
                format!("{f}.highlight[{k}]"),
                format!("`{n}` is not a component, source, instance (name#k) or link (from->to)"),
            );
        }
    }
    if step.callouts.len() > MAX_CALLOUTS {
        bad(
            format!("{f}.callouts"),
            format!("{} callouts: at most {MAX_CALLOUTS}", step.callouts.len()),
        );
    }
    for (k, c) in step.callouts.iter().enumerate() {
        let fc = format!("{f}.callouts[{k}]");
        let n = c.at.name();
        let (ok, what) = match &c.at {
            Target::Component(_) => (is_component(n) || is_source(n), "a component"),
            Target::Instance(_) | Target::Gauge(_) => (is_instance(n), "an instance (name#k)"),
            Target::Link(_) | Target::Gate(_) => (is_link(n), "a link (from->to)"),
            Target::Plot | Target::Chart(_) => (
                step.show
                    .iter()
                    .any(|x| matches!(x, Show::Inspector(_) | Show::Panels)),
                "shown: add show: [Inspector(..)] for the plots",
            ),
        };
        if !ok {
            bad(format!("{fc}.at"), format!("`{n}` is not {what}"));
        }
        if let Some(why) = names::title_problem(&c.label) {
            bad(format!("{fc}.label"), why);
        } else if c.label.trim().is_empty() || c.label.chars().count() > MAX_LABEL_CHARS {
            bad(
                format!("{fc}.label"),
                format!("give 1 to {MAX_LABEL_CHARS} characters"),
            );
        }
        if !(c.from_s.is_finite() && c.from_s >= 0.0 && c.from_s <= MAX_STEP_S) {
            bad(
                format!("{fc}.from_s"),
                format!("{}: give seconds from the step's start", c.from_s),
            );
        }
    }
    for (k, x) in step.show.iter().enumerate() {
        if let Show::Inspector(n) = x
            && !(is_component(n) || is_instance(n) || is_link(n) || is_source(n))
        {
            bad(
                format!("{f}.show[{k}]"),
                format!("`{n}` is not a component, source, instance or link"),
            );
        }
    }
    if let Some(v) = step.speed
        && !(v.is_finite() && (0.01..=100.0).contains(&v))
    {
        bad(
            format!("{f}.speed"),
            format!("{v}: give 0.01 to 100 simulated s per second"),
        );
    }
    if let Some(why) = names::text_problem(&step.narration, 1000) {
        bad(format!("{f}.narration"), why);
    }
}

/// Names in a condition exist in the scenario; its numbers are in range.
fn condition(bad: &mut impl FnMut(String, String), f: &str, c: &Condition, s: &Scenario) {
    use Condition::*;
    let component = |bad: &mut dyn FnMut(String, String), n: &str| {
        if !s.components.iter().any(|c| c.name == n) {
            bad(f.to_string(), format!("`{n}` is not a component"));
        }
    };
    // A figure from `lo` to `hi`; what it is, for the message.
    let range = |bad: &mut dyn FnMut(String, String), x: f64, lo: f64, hi: f64, what: &str| {
        if !(x.is_finite() && x >= lo && x <= hi) {
            bad(f.to_string(), format!("{x} is not {what}"));
        }
    };
    match c {
        QueueAtLeast(n, _)
        | QueueBelow(n, _)
        | StatusAtLeast(n, _)
        | StatusAtMost(n, _)
        | Crashed(n)
        | ServingStale(n)
        | DroppedAtLeastAt(n, _)
        | DroppedAtMostAt(n, _) => component(bad, n),
        ScoreBelow(n, x) | ScoreAtLeast(n, x) => {
            component(bad, n);
            range(bad, *x, 0.0, 100.0, "a score from 0 to 100");
        }
        P99Above(n, x) | P99Below(n, x) => {
            component(bad, n);
            range(bad, *x, 0.0, f64::INFINITY, "a latency in ms");
        }
        ResourceAtLeast(n, x) | ResourceBelow(n, x) => {
            component(bad, n);
            range(bad, *x, 0.0, 1.0, "a health from 0 to 1");
        }
        SystemHealthBelow(x) | SystemHealthAbove(x) => {
            range(bad, *x, 0.0, 1.0, "a health from 0 to 1");
        }
        InstanceDown(name) => {
            let ok = name.split_once('#').is_some_and(|(comp, k)| {
                let k: Option<u32> = k.parse().ok();
                s.components
                    .iter()
                    .any(|c| c.name == comp && k.is_some_and(|k| k < c.instances))
            });
            if !ok {
                bad(
                    f.to_string(),
                    format!("`{name}` is not an instance (write component#k, from 0)"),
                );
            }
        }
        Breaker(link, _)
        | Limited(link)
        | WaitingAtLeast(link, _)
        | WaitingBelow(link, _)
        | SentAbove(link, _)
        | SentBelow(link, _)
            if !s
                .links
                .iter()
                .any(|l| format!("{}->{}", l.from, l.to) == *link) =>
        {
            bad(f.to_string(), format!("`{link}` is not a link (from->to)"));
        }
        GoodputAbove(x)
        | GoodputBelow(x)
        | RetriesAbove(x)
        | RetriesBelow(x)
        | ThrottledAbove(x)
        | SentAbove(_, x)
        | SentBelow(_, x)
            if !(x.is_finite() && *x >= 0.0) =>
        {
            bad(f.to_string(), format!("{x} is not a rate"));
        }
        LostBelow(x) | LostAtLeast(x) | CriticalServedAbove(x)
            if !(x.is_finite() && (0.0..=1.0).contains(x)) =>
        {
            bad(f.to_string(), format!("{x} is not a share from 0 to 1"));
        }
        Not(c) => condition(bad, f, c, s),
        All(cs) | Any(cs) => cs.iter().for_each(|c| condition(bad, f, c, s)),
        _ => {}
    }
}

/// Every step's commands rehearsed through the command door, as the run applies them.
fn commands(l: &Lesson, s: &Scenario) -> Vec<(String, String)> {
    let mut t = s.clone();
    let mut at: Vec<(usize, usize)> = vec![];
    for (i, step) in l.steps.iter().enumerate() {
        for (k, c) in step.commands.iter().enumerate() {
            t.commands.push(TimedCommand {
                at_s: 0.0,
                command: c.command.clone(),
            });
            at.push((i, k));
        }
    }
    let own = s.commands.len();
    let mut found = crate::scenario::validate(&t);
    if found.is_empty() {
        found = crate::runner::rehearse_commands(&t);
    }
    found
        .into_iter()
        .map(|p| {
            let index = p
                .command_index()
                .and_then(|(k, _)| k.checked_sub(own))
                .and_then(|k| at.get(k));
            let field = match index {
                Some((i, k)) => format!("steps[{i}].commands[{k}]"),
                None => p.field,
            };
            (field, format!("{} (hint: {})", p.message, p.hint))
        })
        .collect()
}
