//! `flowlab lesson FILE --check`: every step run headless on one simulation, in order, as the
//! presenter would play it, with every claim judged every tenth of a simulated second. The report
//! names each step, each claim and what was measured; the check fails when a `When` step's
//! condition is never reached or a claim does not hold.

use super::figures::{Condition, Expect, Judged, Moment, fill};
use super::{Lesson, Run};
use crate::runner::Simulation;
use crate::scenario::Scenario;
use crate::sim::schedule::dist::{Nanos, SEC};
use std::collections::VecDeque;

/// How often claims are judged, in simulated seconds.
const EVERY_S: f64 = 0.1;

/// One claim's verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The claim, as written.
    pub claim: String,
    /// Whether it held.
    pub ok: bool,
    /// When it held or failed, and what was measured.
    pub detail: String,
}

/// One step as it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct StepReport {
    /// The heading.
    pub heading: String,
    /// The caption with its figures filled in from this run.
    pub caption: Vec<String>,
    /// Simulated seconds at its start and end.
    pub span: (f64, f64),
    /// The simulation clock at its start and end (ns): a replay runs to exactly these.
    pub clock: (Nanos, Nanos),
    /// Its claims, the `When` condition first when there is one.
    pub outcomes: Vec<Outcome>,
}

/// A lesson as it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The lesson's title.
    pub title: String,
    /// Every step.
    pub steps: Vec<StepReport>,
    /// Why the run stopped early, if it did (`sim.max_held`).
    pub halted: Option<String>,
}

impl Report {
    /// Claims that did not hold.
    pub fn failed(&self) -> usize {
        self.steps
            .iter()
            .flat_map(|s| &s.outcomes)
            .filter(|o| !o.ok)
            .count()
    }

    /// The report as text: each step with its span, caption and claims.
    pub fn render(&self) -> String {
        let mut out = format!("{}\n", self.title);
        for (i, s) in self.steps.iter().enumerate() {
            out.push_str(&format!(
                "step {} \"{}\" (t = {:.1} -> {:.1} s)\n",
                i + 1,
                s.heading,
                s.span.0,
                s.span.1
            ));
            for line in &s.caption {
                out.push_str(&format!("    | {line}\n"));
            }
            for o in &s.outcomes {
                let mark = if o.ok { "ok  " } else { "FAIL" };
                out.push_str(&format!("  {mark} {}: {}\n", o.claim, o.detail));
            }
        }
        if let Some(h) = &self.halted {
            out.push_str(&format!("the run stopped: {h}\n"));
        }
        let claims: usize = self.steps.iter().map(|s| s.outcomes.len()).sum();
        out.push_str(&format!(
            "{} of {claims} claims hold in {} steps\n",
            claims - self.failed(),
            self.steps.len()
        ));
        out
    }
}

fn ns(s: f64) -> Nanos {
    (s.max(0.0) * SEC).round() as Nanos
}

/// A claim's state while its step runs.
struct Tally<'a> {
    expect: &'a Expect,
    /// When it was met (`Within`) or first broken (`Always`, `Never`), and what was measured.
    at: Option<(f64, String)>,
}

/// Runs every step of `l` on `s` and judges its claims.
pub fn check(l: &Lesson, s: &Scenario) -> Report {
    let mut sim = Simulation::new(s.clone());
    let mut steps = vec![];
    for step in &l.steps {
        let start_ns = sim.now();
        let start_s = start_ns as f64 / SEC;
        for c in &step.commands {
            sim.command_at(start_ns + ns(c.at_s), c.command.clone());
        }
        let start = sim.view(Moment::of);
        let (end_s, until) = match &step.run {
            Run::For(x) => (start_s + x, None),
            Run::Until(t) => (*t, None),
            Run::When(c, limit) => (start_s + limit, Some(c)),
        };
        let mut tallies: Vec<Tally> = step
            .expect
            .iter()
            .map(|expect| Tally { expect, at: None })
            .collect();
        let mut history: VecDeque<Moment> = VecDeque::new();
        let mut now = start.clone();
        let mut reached: Option<f64> = None;
        let mut k = 1u64;
        while now.t + 1e-9 < end_s && sim.halted().is_none() {
            let next = (start_s + k as f64 * EVERY_S).min(end_s);
            k += 1;
            sim.run_until(ns(next), |_| {});
            history.push_back(std::mem::replace(&mut now, sim.view(Moment::of)));
            while history.len() > 1 && history[1].t <= now.t - 1.0 + 1e-9 {
                history.pop_front();
            }
            let recent = history.front().unwrap_or(&start);
            let j = Judged {
                start: &start,
                recent,
                now: &now,
            };
            judge(&mut tallies, &j, start_s);
            if let Some(c) = until
                && j.holds(c)
            {
                reached = Some(now.t);
                break;
            }
        }
        let recent = history.front().unwrap_or(&start);
        let j = Judged {
            start: &start,
            recent,
            now: &now,
        };
        let mut outcomes = vec![];
        if let Some(c) = until {
            outcomes.push(Outcome {
                claim: format!("the step runs until {}", describe(c)),
                ok: reached.is_some(),
                detail: match reached {
                    Some(t) => format!("reached at t = {t:.1} s ({:.1} s in)", t - start_s),
                    None => format!("not reached by t = {:.1} s: {}", now.t, j.measured(c)),
                },
            });
        }
        outcomes.extend(tallies.iter().map(|t| verdict(t, &j, start_s)));
        steps.push(StepReport {
            heading: step.heading.clone(),
            caption: step.caption.iter().map(|line| fill(line, &j)).collect(),
            span: (start_s, now.t),
            clock: (start_ns, sim.now()),
            outcomes,
        });
    }
    Report {
        title: l.title.clone(),
        steps,
        halted: sim.halted(),
    }
}

/// Judges every claim at one moment.
fn judge(tallies: &mut [Tally], j: &Judged, start_s: f64) {
    for t in tallies.iter_mut().filter(|t| t.at.is_none()) {
        let since = j.now.t - start_s;
        let hit = match t.expect {
            Expect::Within(x, c) => since <= x + 1e-9 && j.holds(c),
            Expect::Always(c) => !j.holds(c),
            Expect::Never(c) => j.holds(c),
            Expect::AtEnd(_) => false,
        };
        if hit {
            let c = condition_of(t.expect);
            t.at = Some((j.now.t, j.measured(c)));
        }
    }
}

fn condition_of(e: &Expect) -> &Condition {
    match e {
        Expect::Within(_, c) | Expect::Always(c) | Expect::Never(c) | Expect::AtEnd(c) => c,
    }
}

/// A claim's verdict at the step's end.
fn verdict(t: &Tally, j: &Judged, start_s: f64) -> Outcome {
    let c = condition_of(t.expect);
    let (claim, ok, detail) = match (t.expect, &t.at) {
        (Expect::Within(x, _), Some((at, m))) => (
            format!("within {x} s, {}", describe(c)),
            true,
            format!("at t = {at:.1} s ({:.1} s in): {m}", at - start_s),
        ),
        (Expect::Within(x, _), None) => (
            format!("within {x} s, {}", describe(c)),
            false,
            format!("never in the step: at its end {}", j.measured(c)),
        ),
        (Expect::Always(_), None) => (
            format!("always {}", describe(c)),
            true,
            format!("held to the end: {}", j.measured(c)),
        ),
        (Expect::Always(_), Some((at, m))) => (
            format!("always {}", describe(c)),
            false,
            format!("broken at t = {at:.1} s: {m}"),
        ),
        (Expect::Never(_), None) => (
            format!("never {}", describe(c)),
            true,
            format!("never held: at the end {}", j.measured(c)),
        ),
        (Expect::Never(_), Some((at, m))) => (
            format!("never {}", describe(c)),
            false,
            format!("held at t = {at:.1} s: {m}"),
        ),
        (Expect::AtEnd(_), _) => (
            format!("at the end, {}", describe(c)),
            j.holds(c),
            j.measured(c),
        ),
    };
    Outcome { claim, ok, detail }
}

/// A condition in words.
fn describe(c: &Condition) -> String {
    use Condition::*;
    match c {
        QueueAtLeast(n, x) => format!("{n}'s queue holds at least {x}"),
        QueueBelow(n, x) => format!("{n}'s queue holds fewer than {x}"),
        StatusAtLeast(n, s) => format!("{n} is {s:?} or worse"),
        StatusAtMost(n, s) => format!("{n} is {s:?} or better"),
        Breaker(l, b) => format!("{l}'s breaker is {b:?}"),
        InstanceDown(i) => format!("{i} is down"),
        Crashed(n) => format!("{n} crashes"),
        Limited(l) => format!("{l} is rate-limited"),
        ServingStale(n) => format!("{n} serves stale data"),
        CriticalServedAbove(x) => format!("over {:.1}% of CRITICAL requests complete", 100.0 * x),
        RetriesAbove(x) => format!("retries are above {x}/s"),
        RetriesBelow(x) => format!("retries are below {x}/s"),
        GoodputAbove(x) => format!("goodput is above {x}/s"),
        GoodputBelow(x) => format!("goodput is below {x}/s"),
        DroppedAtMost(x) => format!("at most {x} requests are dropped"),
        DroppedAtLeastAt(c, x) => format!("at least {x} are dropped at {c}"),
        DroppedAtMostAt(c, x) => format!("at most {x} are dropped at {c}"),
        LostBelow(x) => format!("under {:.1}% of requests are lost", 100.0 * x),
        LostAtLeast(x) => format!("at least {:.1}% of requests are lost", 100.0 * x),
        WaitingAtLeast(l, x) => format!("at least {x} wait at {l}'s sender"),
        WaitingBelow(l, x) => format!("fewer than {x} wait at {l}'s sender"),
        ThrottledAbove(x) => format!("clients throttle over {x} attempts/s"),
        SentAbove(l, x) => format!("{l} carries over {x}/s"),
        SentBelow(l, x) => format!("{l} carries under {x}/s"),
        ScoreBelow(n, x) => format!("{n}'s health score is below {x}"),
        ScoreAtLeast(n, x) => format!("{n}'s health score is at least {x}"),
        P99Above(n, x) => format!("{n}'s p99 is above {x} ms"),
        P99Below(n, x) => format!("{n}'s p99 is below {x} ms"),
        ResourceAtLeast(n, x) => format!("{n}'s resource health is at least {x}"),
        ResourceBelow(n, x) => format!("{n}'s resource health is below {x}"),
        SystemHealthBelow(x) => format!("system health is below {x}"),
        SystemHealthAbove(x) => format!("system health is above {x}"),
        Not(c) => format!("not ({})", describe(c)),
        All(cs) => cs.iter().map(describe).collect::<Vec<_>>().join(" and "),
        Any(cs) => cs.iter().map(describe).collect::<Vec<_>>().join(" or "),
    }
}
