//! The summary of a run: whole-system totals and one row per component, read through the
//! read seam, rendered as tables that fit in 100 columns.

use crate::sim::flow::request::Outcome;
use crate::sim::read::view::SimView;
use crate::sim::schedule::dist::SEC;
use bevy::prelude::*;
use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};

/// Totals so far, from the read seam.
pub(crate) fn summary_of(v: &SimView) -> Summary {
    let unit = v.unit();
    let mut system = SystemSummary {
        seconds: v.now() as f64 / SEC,
        ..default()
    };
    let mut background_ns = 0.0;
    for s in v.sources() {
        let c = s.counters;
        system.generated += c.generated * unit;
        system.attempts += c.attempts * unit;
        system.retries += c.retries * unit;
        system.in_system += s.live;
        system.late_responses += c.late_responses * unit;
        system.handed_off += c.handed_off * unit;
        for o in Outcome::ALL {
            system.ended[o as usize] += c.ended[o as usize] * unit;
            system.background[o as usize] += c.background[o as usize] * unit;
        }
        background_ns += c.background_latency_ns * unit as f64;
        system.dead_lettered += c.dead_lettered * unit;
    }
    for l in v.links() {
        system.redelivered += l.counters.redelivered * unit;
        system.retry_waiting += l.retry_waiting;
    }
    system.background_in_flight =
        system.handed_off - system.background.iter().sum::<u64>() - system.dead_lettered;
    let done = system.background[Outcome::Completed as usize];
    system.background_mean_ms = background_ns / done.max(1) as f64 / 1e6;
    let lat = v.system_latency();
    system.latency_ms = lat.percentiles_ms;
    system.mean_latency_ms = lat.mean_us / 1e3;
    let mut components = vec![];
    let mut worst: Option<Bottleneck> = None;
    for c in v.components() {
        let k = c.counters;
        let lat = v.component_latency(c.index).unwrap_or_default();
        // Refusals at this component's own sends (breaker, rate limit), and of those the ones
        // that came back to a waiting worker as errors.
        let (mut rejected, mut refused_back) = (0, 0);
        for (_, li, _) in &v.topology().components[c.index as usize].out {
            if let Some(l) = v.link(*li) {
                rejected += l.refused;
                refused_back += l.counters.refused_locally * unit;
            }
        }
        let (b, busiest) = saturation(v, c.index, c.name);
        let errors = k.errors * unit;
        let row = ComponentSummary {
            name: c.name.to_string(),
            arrivals: k.arrivals * unit,
            served: k.served * unit,
            ok: k.ok * unit,
            goodput: k.ok_in_time * unit,
            goodput_per_s: (k.ok_in_time * unit) as f64 / system.seconds.max(1e-9),
            dropped: k.dropped * unit,
            rejected,
            failed: k.failed * unit,
            passed_back: errors.saturating_sub((k.dropped + k.failed) * unit + refused_back),
            errors,
            wasted: k.wasted * unit,
            peak_queue: c.peak_queue,
            crashes: k.crashes,
            latency_ms: lat.percentiles_ms,
            mean_latency_ms: lat.mean_us / 1e3,
            busiest,
        };
        consider(&mut worst, b);
        system.wasted += row.wasted;
        components.push(row);
    }
    system.bottleneck = worst;
    system.deadlock = deadlock(v);
    system.classes = class_summaries(v);
    system.fans = fan_summaries(v, &components);
    Summary { system, components }
}

/// Each fan-out hop that has completed fan-ins: its calls' p99 against the wait for them.
fn fan_summaries(v: &SimView, components: &[ComponentSummary]) -> Vec<FanSummary> {
    let routes = &v.routes().flows;
    let mut out = vec![];
    for (&(flow, hop), lat) in &v.fan_waits().by_hop {
        let h = lat.whole();
        let Some(fan) = routes
            .get(flow as usize)
            .and_then(|f| f.fan.get(hop as usize)?.as_ref())
        else {
            continue;
        };
        let calls = fan
            .targets
            .iter()
            .filter_map(|t| components.get(*t as usize))
            .map(|c| (c.name.clone(), c.latency_ms[2]))
            .collect();
        let q = |x: f64| {
            if h.is_empty() {
                0.0
            } else {
                h.value_at_quantile(x) as f64 / 1e3
            }
        };
        out.push(FanSummary {
            flow: routes[flow as usize].name.clone(),
            calls,
            wait_ms: [q(0.5), q(0.99)],
            count: h.len() * v.unit(),
        });
    }
    out
}

/// Flows (when there is more than one) and priority classes (when sources send more than one).
fn class_summaries(v: &SimView) -> Vec<ClassSummary> {
    use crate::sim::flow::request::Priority;
    use crate::sim::read::classes::ClassFigures;
    let unit = v.unit();
    let c = v.classes();
    let one = |name: String, f: &ClassFigures| {
        let h = f.latency.whole();
        let q = |x: f64| {
            if h.is_empty() {
                0.0
            } else {
                h.value_at_quantile(x) as f64 / 1e3
            }
        };
        ClassSummary {
            name,
            ended: f.ended.map(|n| n * unit),
            latency_ms: [q(0.5), q(0.95), q(0.99)],
            mean_ms: f.mean_ms(),
        }
    };
    let mut out = vec![];
    if c.flows.len() > 1 {
        out.extend(c.flows.iter().map(|(n, f)| one(format!("flow:{n}"), f)));
    }
    if c.classes_sent.iter().filter(|x| **x).count() > 1 {
        for p in Priority::ALL
            .into_iter()
            .filter(|p| c.classes_sent[*p as usize])
        {
            out.push(one(format!("priority:{}", p.name()), c.priority(p)));
        }
    }
    out
}

/// A component's busiest engine over the sampled run: how long it spent saturated, from when,
/// and its highest utilization; and (busiest engine, its peak).
/// The component the summary names as the bottleneck: the one whose busiest engine was at or
/// above `Bottleneck::SATURATED` longest (then the highest peak), if any was. The picture marks
/// the same component.
pub fn bottleneck(v: &SimView) -> Option<Bottleneck> {
    let mut worst = None;
    for c in v.components() {
        consider(&mut worst, saturation(v, c.index, c.name).0);
    }
    worst
}

/// Keeps `b` if it was saturated longer (then higher) than the worst so far.
fn consider(worst: &mut Option<Bottleneck>, b: Bottleneck) {
    if b.for_s > 0.0
        && worst
            .as_ref()
            .is_none_or(|w| (b.for_s, b.peak) > (w.for_s, w.peak))
    {
        *worst = Some(b);
    }
}

fn saturation(v: &SimView, c: u32, name: &str) -> (Bottleneck, (&'static str, f64)) {
    use crate::sim::flow::engines::EngineKind;
    use crate::sim::read::series::{Metric, SeriesEntity};
    let mut best = Bottleneck {
        component: name.to_string(),
        ..default()
    };
    let mut busiest = ("cpu", 0.0);
    for kind in EngineKind::ALL {
        let samples: Vec<(f64, f64)> = v
            .series(SeriesEntity::Component(c), Metric::util(kind))
            .collect();
        let peak = samples.iter().map(|x| x.1).fold(0.0, f64::max);
        if peak > busiest.1 {
            busiest = (kind.name(), peak);
        }
        // Each sample stands for the interval since the one before it.
        let (mut for_s, mut from_s, mut prev) = (0.0, None, 0.0);
        for &(t, u) in &samples {
            if u >= Bottleneck::SATURATED {
                for_s += t - prev;
                from_s.get_or_insert(t);
            }
            prev = t;
        }
        if (for_s, peak) > (best.for_s, best.peak) {
            best = Bottleneck {
                component: name.to_string(),
                engine: kind.name(),
                peak,
                from_s: from_s.unwrap_or(0.0),
                for_s,
            };
        }
    }
    (best, busiest)
}

/// Whole-system totals (real requests).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SystemSummary {
    /// Simulated seconds.
    pub seconds: f64,
    /// Logical requests created.
    pub generated: u64,
    /// Attempts sent.
    pub attempts: u64,
    /// Retries sent.
    pub retries: u64,
    /// Logical requests ended, by outcome (`Outcome as usize`).
    pub ended: [u64; 5],
    /// Still in progress at the end.
    pub in_system: u64,
    /// Services completed after the client gave up.
    pub wasted: u64,
    /// Responses that arrived after the client gave up.
    pub late_responses: u64,
    /// p50, p95, p99 end-to-end latency of completed requests (ms).
    pub latency_ms: [f64; 3],
    /// Mean end-to-end latency of completed requests (ms).
    pub mean_latency_ms: f64,
    /// Requests whose client was answered at an asynchronous hand-off (counted as completed
    /// then), leaving work behind.
    pub handed_off: u64,
    /// How the work left behind ended, by outcome (`Outcome as usize`).
    pub background: [u64; 5],
    /// Work left behind still running at the end.
    pub background_in_flight: u64,
    /// Background messages a broker redelivered after a failed delivery.
    pub redelivered: u64,
    /// Of those, waiting in retry queues at the end.
    pub retry_waiting: u64,
    /// Background messages in dead-letter queues.
    pub dead_lettered: u64,
    /// Mean time from a request's creation to the end of the work it left behind (ms).
    pub background_mean_ms: f64,
    /// The component whose busiest engine was saturated longest, if any was.
    pub bottleneck: Option<Bottleneck>,
    /// Components that wait on each other in a cycle of synchronous calls at the end, every
    /// worker of each waiting on a call to the next (in cycle order, the first repeated).
    pub deadlock: Option<Vec<String>>,
    /// Per flow and per priority class some source sends: end-to-end figures.
    pub classes: Vec<ClassSummary>,
    /// Per fan-out hop: each call's p99 and the caller's wait for the answers it awaited.
    pub fans: Vec<FanSummary>,
}

/// Tail latency at a fan-out: the calls one by one, and the wait for the slowest awaited.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FanSummary {
    /// Flow name.
    pub flow: String,
    /// Each called component and its p99 time in it (ms).
    pub calls: Vec<(String, f64)>,
    /// p50 and p99 of the caller's wait for the awaited answers (ms).
    pub wait_ms: [f64; 2],
    /// Fan-ins completed.
    pub count: u64,
}

/// End-to-end figures of one flow (`flow:NAME`) or priority class (`priority:CLASS`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClassSummary {
    /// `flow:NAME` or `priority:CLASS`.
    pub name: String,
    /// Logical requests ended, by outcome (real requests).
    pub ended: [u64; 5],
    /// p50, p95, p99 end-to-end latency of the completed ones (ms).
    pub latency_ms: [f64; 3],
    /// Their exact mean (ms).
    pub mean_ms: f64,
}

/// The component that limited the run: its busiest engine spent the longest at or above
/// `Bottleneck::SATURATED` utilization.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bottleneck {
    /// Component name.
    pub component: String,
    /// Its busiest engine (`cpu`, `memory`, `storage`, `network`).
    pub engine: &'static str,
    /// Highest utilization sampled (0-1).
    pub peak: f64,
    /// First sample at or above the threshold (s).
    pub from_s: f64,
    /// Sampled seconds at or above it.
    pub for_s: f64,
}

impl Bottleneck {
    /// Utilization that counts as saturated: past it, queueing delay climbs steeply.
    pub const SATURATED: f64 = 0.85;
}

impl SystemSummary {
    /// Logical requests ended with `o`.
    pub fn ended(&self, o: Outcome) -> u64 {
        self.ended[o as usize]
    }
}

/// Per-component totals (real requests).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ComponentSummary {
    /// Name.
    pub name: String,
    /// Requests that arrived.
    pub arrivals: u64,
    /// Local services completed.
    pub served: u64,
    /// Successful departures.
    pub ok: u64,
    /// Successful departures before the client's deadline.
    pub goodput: u64,
    /// Of those, per simulated second.
    pub goodput_per_s: f64,
    /// Requests its own sends were refused at its side of a link (breaker or rate limit: 503).
    pub rejected: u64,
    /// Failures it passed back from further down (errors that are not its own losses).
    pub passed_back: u64,
    /// Its busiest engine and that engine's highest utilization sampled (0-1).
    pub busiest: (&'static str, f64),
    /// Dropped here (queue full).
    pub dropped: u64,
    /// Failed here (crash, instance down).
    pub failed: u64,
    /// Departures with any error (its own losses, refusals at its sends, failures passed back).
    pub errors: u64,
    /// Services completed after the client gave up.
    pub wasted: u64,
    /// Highest total queue.
    pub peak_queue: u64,
    /// Out-of-memory crashes.
    pub crashes: u64,
    /// p50, p95, p99 time in the component (ms).
    pub latency_ms: [f64; 3],
    /// Mean time in the component (ms).
    pub mean_latency_ms: f64,
}

/// Totals of a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Whole system.
    pub system: SystemSummary,
    /// Per component, in scenario order.
    pub components: Vec<ComponentSummary>,
}

impl Summary {
    /// The component called `name`.
    pub fn component(&self, name: &str) -> Option<&ComponentSummary> {
        self.components.iter().find(|c| c.name == name)
    }

    /// The summary as text tables, each within 100 columns: the system, what each component
    /// carried, what each lost and why, the work left behind at asynchronous hand-offs, and
    /// the bottleneck.
    pub fn render(&self) -> String {
        let s = &self.system;
        let mut sys = Table::new();
        sys.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
            "generated",
            "completed",
            "dropped",
            "rejected",
            "failed",
            "timed out",
            "in system",
            "retries",
        ]);
        sys.add_row(vec![
            thousands(s.generated),
            thousands(s.ended(Outcome::Completed)),
            thousands(s.ended(Outcome::Dropped)),
            thousands(s.ended(Outcome::Rejected)),
            thousands(s.ended(Outcome::Failed)),
            thousands(s.ended(Outcome::TimedOut)),
            thousands(s.in_system),
            thousands(s.retries),
        ]);
        let mut out = format!(
            "System ({:.1} simulated s)\n{sys}\nend to end: p50 {:.2} ms, p99 {:.2} ms; wasted work (served after the client gave up): {}\n",
            s.seconds,
            s.latency_ms[0],
            s.latency_ms[2],
            thousands(s.wasted)
        );
        out.push_str(&hand_offs(s));
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
            "component",
            "served",
            "goodput/s",
            "p50 ms",
            "p99 ms",
            "peak queue",
            "busiest engine",
            "crashes",
        ]);
        let mut losses = Table::new();
        losses.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
            "component",
            "dropped here",
            "refused sending",
            "failed here",
            "passed back",
            "wasted",
        ]);
        for c in &self.components {
            t.add_row(vec![
                c.name.clone(),
                thousands(c.served),
                thousands(c.goodput_per_s.round() as u64),
                format!("{:.2}", c.latency_ms[0]),
                format!("{:.2}", c.latency_ms[2]),
                thousands(c.peak_queue),
                format!("{} {:.0}%", c.busiest.0, c.busiest.1 * 100.0),
                thousands(c.crashes),
            ]);
            losses.add_row(vec![
                c.name.clone(),
                thousands(c.dropped),
                thousands(c.rejected),
                thousands(c.failed),
                thousands(c.passed_back),
                thousands(c.wasted),
            ]);
        }
        out.push_str(&format!(
            "Components\n{t}\nLosses by where and why\n{losses}\n"
        ));
        if !s.classes.is_empty() {
            let classes = classes_table(&s.classes);
            out.push_str(&format!(
                "By flow and priority class, end to end\n{classes}\n"
            ));
        }
        out.extend(s.fans.iter().map(fan_line));
        if let Some(cycle) = &s.deadlock {
            out.push_str(&format!(
                "deadlock: {}: every worker of each waits on a synchronous call to the next, so no request in the cycle can finish (break the cycle, or give the calls a timeout)\n",
                cycle.join(" -> ")
            ));
        }
        out.push_str(&bottleneck_line(s.bottleneck.as_ref()));
        out
    }
}

/// A cycle of synchronous calls among components that are stuck at the end (every worker
/// waiting on a call, none serving), if there is one: a deadlock, which no engine's load shows.
fn deadlock(v: &SimView) -> Option<Vec<String>> {
    use crate::scenario::CallKind;
    let topo = v.topology();
    let stuck: Vec<bool> = v
        .components()
        .map(|c| c.waiting > 0 && c.busy == 0 && c.waiting >= c.workers)
        .collect();
    let next = |c: usize| -> Vec<usize> {
        topo.components[c]
            .out
            .iter()
            .filter(|(to, _, call)| *call == CallKind::Sync && stuck[*to as usize])
            .map(|(to, _, _)| *to as usize)
            .collect()
    };
    // Depth-first search with colours: 0 unseen, 1 on the path, 2 done.
    let mut colour = vec![0u8; stuck.len()];
    for start in (0..stuck.len()).filter(|c| stuck[*c]) {
        if colour[start] != 0 {
            continue;
        }
        let mut path = vec![start];
        let mut todo = vec![next(start)];
        colour[start] = 1;
        while let Some(children) = todo.last_mut() {
            match children.pop() {
                Some(n) if colour[n] == 1 => {
                    let from = path.iter().position(|p| *p == n).unwrap_or(0);
                    let mut cycle: Vec<String> = path[from..]
                        .iter()
                        .map(|c| topo.components[*c].name.clone())
                        .collect();
                    cycle.push(topo.components[n].name.clone());
                    return Some(cycle);
                }
                Some(n) if colour[n] == 0 => {
                    colour[n] = 1;
                    path.push(n);
                    todo.push(next(n));
                }
                Some(_) => {}
                None => {
                    todo.pop();
                    if let Some(done) = path.pop() {
                        colour[done] = 2;
                    }
                }
            }
        }
    }
    None
}

/// One fan-out's tail: the wait for the awaited calls against each call's p99, wrapped to
/// stay within 100 columns.
fn fan_line(f: &FanSummary) -> String {
    let mut out = format!(
        "fan-out in flow {}: the wait for {} calls has p99 {:.1} ms (p50 {:.1}); each call's p99:",
        f.flow,
        f.calls.len(),
        f.wait_ms[1],
        f.wait_ms[0]
    );
    let mut line = String::from("\n ");
    for (n, p99) in &f.calls {
        let item = format!(" {n} {p99:.1} ms,");
        if line.len() + item.len() > 96 {
            out.push_str(&line);
            line = String::from("\n ");
        }
        line.push_str(&item);
    }
    out.push_str(line.trim_end_matches(','));
    out.push('\n');
    out
}

/// Each flow's and class's outcomes and latency.
fn classes_table(classes: &[ClassSummary]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_header(vec![
        "class",
        "completed",
        "dropped",
        "rejected",
        "failed",
        "timed out",
        "p50 ms",
        "p99 ms",
    ]);
    for c in classes {
        let mut row = vec![c.name.clone()];
        row.extend(Outcome::ALL.iter().map(|o| thousands(c.ended[*o as usize])));
        row.push(format!("{:.2}", c.latency_ms[0]));
        row.push(format!("{:.2}", c.latency_ms[2]));
        t.add_row(row);
    }
    t
}

/// The line that names the bottleneck, or says there was none.
fn bottleneck_line(b: Option<&Bottleneck>) -> String {
    let at = Bottleneck::SATURATED * 100.0;
    match b {
        Some(b) => format!(
            "bottleneck: {} ({} at {:.0}% at its peak; at or above {at:.0}% for {:.0} s, first at t = {:.0} s)\n",
            b.component,
            b.engine,
            b.peak * 100.0,
            b.for_s,
            b.from_s
        ),
        None => format!("bottleneck: none (no component's engines reached {at:.0}%)\n"),
    }
}

/// A count with thousands separators: 47,012,345.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// The work left behind at asynchronous hand-offs: how it ended, and what a broker redelivered
/// or dead-lettered (empty when nothing was handed off).
fn hand_offs(s: &SystemSummary) -> String {
    let mut out = String::new();
    if s.handed_off == 0 {
        return out;
    }
    out.push_str(&format!(
        "asynchronous hand-offs: {} clients answered at the hand-off (counted as completed)\n  \
             work left behind: {} completed (mean {} ms after the request began),\n  \
             {} dropped, {} failed, {} still running\n",
        thousands(s.handed_off),
        thousands(s.background[Outcome::Completed as usize]),
        if s.background_mean_ms < 100.0 {
            format!("{:.1}", s.background_mean_ms)
        } else {
            thousands(s.background_mean_ms.round() as u64)
        },
        thousands(s.background[Outcome::Dropped as usize]),
        thousands(s.background[Outcome::Failed as usize]),
        thousands(s.background_in_flight),
    ));
    if s.redelivered + s.dead_lettered > 0 {
        out.push_str(&format!(
                "  redelivered by a broker: {} ({} waiting in retry queues at the end); dead-letter queue: {}\n",
                thousands(s.redelivered),
                thousands(s.retry_waiting),
                thousands(s.dead_lettered),
            ));
    }
    out
}
