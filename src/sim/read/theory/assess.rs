//! Which components queueing theory describes at their current load, and what it predicts.
//!
//! The arrival rate of each component comes from the traffic equations: each source's rate at
//! `t` split over its flows by weight, each route's hops visited in turn (a `OneOf` by its
//! probabilities, a cache passing on its misses). A component is a textbook station when its
//! arrivals are Poisson (Poisson sources, merged and split at random, or the departures of an
//! M/M/c station with room to spare: Burke's theorem, as in a Jackson network) and its workers
//! serve with nothing else in the way: no synchronous calls holding them, no shedding, limits,
//! bulkheads, breakers or retries. Where one of those holds, the assessment names it instead of
//! giving a number that does not apply.

use super::formulas::{self, Prediction};
use crate::scenario::{Arrivals, CallKind, ComponentSpec, Hop, Kind, QueuePolicySpec, QueueSpec};
use crate::scenario::{Balancing, Scenario, Shape};
use std::collections::HashMap;

/// Seconds a source's rate must have stayed put for its load to count as steady.
pub const STEADY_S: f64 = 30.0;

/// Largest share of arrivals a station upstream may drop for its departures to count as the
/// Poisson stream of an unbounded one.
const NEGLIGIBLE_DROP: f64 = 1e-3;

/// What the run looks like now, beyond the scenario: filled from the read view.
#[derive(Debug, Clone, Default)]
pub struct Live {
    /// Simulated time (s).
    pub t_s: f64,
    /// Per source (scenario order): it sent retries over the last interval.
    pub retrying: Vec<bool>,
    /// Per component: live instances.
    pub instances_up: Vec<u32>,
    /// Per component: reasons of the moment the theory does not apply (an instance slowed, a
    /// rate limit in force on a link into it, an open breaker), in words.
    pub broken: Vec<Vec<String>>,
}

/// What the theory says about one component.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// A steady state, predicted.
    Predicts(Prediction),
    /// More arrive than the servers can serve and nothing bounds the queue: it grows without
    /// bound (ρ, the offered load over the servers, is at least 1).
    Unstable {
        /// Offered load per server.
        rho: f64,
    },
    /// The model's assumptions do not hold, for these reasons.
    Broken(Vec<String>),
}

/// One component's station, as the theory sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// Component index.
    pub component: usize,
    /// Kendall's notation of the model used ("M/M/4", "M/M/1/10", "M/D/1").
    pub model: String,
    /// Arrival rate from the traffic equations (real requests/s).
    pub lambda: f64,
    /// Servers: live instances × workers per instance (as simulated).
    pub servers: u32,
    /// Mean service time (s).
    pub service_s: f64,
    /// Most requests in the station, waiting and in service (`None`: unbounded).
    pub capacity: Option<u64>,
    /// The verdict.
    pub verdict: Verdict,
    /// Caveats of a prediction that stands (a pooled queue for several instances).
    pub notes: Vec<String>,
}

impl Assessment {
    /// The prediction, where the theory gives one.
    pub fn prediction(&self) -> Option<&Prediction> {
        match &self.verdict {
            Verdict::Predicts(p) => Some(p),
            _ => None,
        }
    }
}

/// Where a request can come from into a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum From {
    Source(usize),
    Component(usize),
}

/// The traffic equations' result: arrival rate per component and what feeds it.
#[derive(Debug, Default)]
struct Traffic {
    /// Real requests/s per component.
    lambda: Vec<f64>,
    /// Per component: who sends to it, by which kind of link.
    feeds: Vec<Vec<(From, CallKind)>>,
    /// Per component: it calls someone synchronously on some route (its workers wait).
    holds: Vec<Option<usize>>,
    /// Per component: reached on a route with feedback (`Back`).
    feedback: Vec<bool>,
    /// Per component: called by a fan-out.
    fanned: Vec<bool>,
    /// The link from a node to a component, by index in `s.links`.
    links: HashMap<(From, usize), usize>,
}

/// Every link by (sender, receiver), looked up once rather than searched per hop.
fn links_of(s: &Scenario, index: &HashMap<&str, usize>) -> HashMap<(From, usize), usize> {
    let sources: HashMap<&str, usize> = (s.sources.iter().enumerate())
        .map(|(i, x)| (x.name.as_str(), i))
        .collect();
    let mut out = HashMap::with_capacity(s.links.len());
    for (k, l) in s.links.iter().enumerate() {
        let from = match (index.get(l.from.as_str()), sources.get(l.from.as_str())) {
            (Some(&c), _) => From::Component(c),
            (None, Some(&i)) => From::Source(i),
            (None, None) => continue,
        };
        if let Some(&to) = index.get(l.to.as_str()) {
            out.entry((from, to)).or_insert(k);
        }
    }
    out
}

/// Solves the traffic equations at `t_s`.
fn traffic(s: &Scenario, index: &HashMap<&str, usize>, t_s: f64) -> Traffic {
    let n = s.components.len();
    let mut tr = Traffic {
        lambda: vec![0.0; n],
        feeds: vec![vec![]; n],
        holds: vec![None; n],
        feedback: vec![false; n],
        fanned: vec![false; n],
        links: links_of(s, index),
    };
    for (si, src) in s.sources.iter().enumerate() {
        let rate = src.rate.rate_at(t_s);
        let weights: f64 = src.flows.iter().map(|f| f.weight).sum();
        for flow in &src.flows {
            let mut at: Vec<(From, f64)> = vec![(From::Source(si), rate * flow.weight / weights)];
            let mut visited = vec![];
            for hop in &flow.path {
                let targets: Vec<(&str, f64)> = match hop {
                    Hop::To(c) => vec![(c.as_str(), 1.0)],
                    Hop::OneOf(list) => list.iter().map(|(c, p)| (c.as_str(), *p)).collect(),
                    Hop::Back(..) => {
                        for &c in &visited {
                            tr.feedback[c] = true;
                        }
                        break;
                    }
                    Hop::Fan { to, .. } => {
                        for t in to {
                            let Some(&c) = index.get(t.as_str()) else {
                                continue;
                            };
                            tr.fanned[c] = true;
                            for &(f, m) in &at {
                                link_visit(s, &mut tr, f, c, m);
                            }
                            visited.push(c);
                        }
                        continue;
                    }
                };
                let mut next = vec![];
                for (t, p) in targets {
                    let Some(&c) = index.get(t) else { continue };
                    let mut mass = 0.0;
                    for &(f, m) in &at {
                        link_visit(s, &mut tr, f, c, m * p);
                        mass += m * p;
                    }
                    visited.push(c);
                    let comp = &s.components[c];
                    let pass = if comp.kind == Kind::Cache {
                        1.0 - comp.hit_ratio.unwrap_or(0.0)
                    } else {
                        1.0
                    };
                    next.push((From::Component(c), mass * pass));
                }
                at = next;
            }
        }
    }
    tr
}

/// One hop of mass `m` from `f` into component `c`.
fn link_visit(s: &Scenario, tr: &mut Traffic, f: From, c: usize, m: f64) {
    let call = tr
        .links
        .get(&(f, c))
        .map_or(CallKind::Sync, |&k| s.links[k].call);
    tr.lambda[c] += m;
    if !tr.feeds[c].contains(&(f, call)) {
        tr.feeds[c].push((f, call));
    }
    if let From::Component(x) = f
        && call == CallKind::Sync
        && tr.holds[x].is_none()
    {
        tr.holds[x] = Some(c);
    }
}

/// Squared coefficient of variation of a service shape.
fn cs2(shape: Shape) -> f64 {
    match shape {
        Shape::Exponential => 1.0,
        Shape::Deterministic => 0.0,
        Shape::Uniform { spread } => spread * spread / 3.0,
        Shape::LogNormal { sigma } => (sigma * sigma).exp() - 1.0,
    }
}

/// Kendall's letter of a service shape.
fn letter(shape: Shape) -> &'static str {
    match shape {
        Shape::Exponential => "M",
        Shape::Deterministic => "D",
        _ => "G",
    }
}

/// What in the component itself keeps it from being a textbook station.
fn own_problems(c: &ComponentSpec, tr: &Traffic, ci: usize, s: &Scenario) -> Vec<String> {
    let mut out = vec![];
    if let Some(x) = tr.holds[ci] {
        out.push(format!(
            "its workers wait on synchronous calls to {} (a worker is held for its service and the answer)",
            s.components[x].name
        ));
    }
    if tr.feedback[ci] {
        out.push("a route feeds requests back to it (Back): arrivals are not Poisson".into());
    }
    if tr.fanned[ci] {
        out.push("a fan-out calls it together with others".into());
    }
    if !c.bulkheads.is_empty() {
        out.push("bulkheads split its workers".into());
    }
    if c.shed.is_some() {
        out.push("it sheds load by priority".into());
    }
    if c.concurrency.is_some() {
        out.push("an adaptive concurrency limit refuses arrivals".into());
    }
    if c.queue_policy != QueuePolicySpec::DropNewest {
        out.push(format!(
            "its queue policy ({}) drops or reorders by time",
            policy_name(c.queue_policy)
        ));
    }
    if c.thrashing.is_some() {
        out.push("thrashing slows its service as load rises".into());
    }
    if c.autoscale.is_some() && s.backpressure.enabled {
        out.push("autoscaling changes its instances".into());
    }
    out
}

fn policy_name(p: QueuePolicySpec) -> &'static str {
    match p {
        QueuePolicySpec::DropNewest => "DropNewest",
        QueuePolicySpec::DropOldest => "DropOldest",
        QueuePolicySpec::DropRandom => "DropRandom",
        QueuePolicySpec::EarlyDrop { .. } => "EarlyDrop",
        QueuePolicySpec::PriorityShed => "PriorityShed",
        QueuePolicySpec::CoDel { .. } => "CoDel",
        QueuePolicySpec::AdaptiveLifo { .. } => "AdaptiveLifo",
        QueuePolicySpec::DeadlineAware => "DeadlineAware",
    }
}

/// What in the way requests reach it keeps its arrivals from being Poisson.
fn feed_problems(
    s: &Scenario,
    tr: &Traffic,
    ci: usize,
    live: &Live,
    done: &[Option<Assessment>],
) -> Vec<String> {
    let mut out = vec![];
    let to = &s.components[ci].name;
    for &(f, call) in &tr.feeds[ci] {
        let from = match f {
            From::Source(i) => &s.sources[i].name,
            From::Component(x) => &s.components[x].name,
        };
        if let Some(l) = tr.links.get(&(f, ci)).map(|&k| &s.links[k]) {
            let shaping = [
                (l.limit.is_some(), "a rate limiter on", "holds"),
                (l.window.is_some(), "a window on", "holds"),
                (l.credits.is_some(), "credits on", "hold"),
                (l.concurrency.is_some(), "a concurrency limit on", "holds"),
            ];
            for (on, what, verb) in shaping {
                if on {
                    out.push(format!("{what} {from}->{to} {verb} back its arrivals"));
                }
            }
        }
        match (f, call) {
            (_, CallKind::Pull) => out.push(format!("it pulls from the broker {from}")),
            (From::Source(i), _) => {
                let src = &s.sources[i];
                if src.arrivals != Arrivals::Poisson {
                    out.push(format!("{from}'s arrivals are not Poisson"));
                }
                if live.retrying.get(i).copied().unwrap_or(false) {
                    out.push(format!("{from}'s retries feed back into its arrivals"));
                }
                if src.client.throttle.is_some() {
                    out.push(format!("{from} throttles itself (client-side)"));
                }
                if let Some(change) = unsteady(src, live.t_s) {
                    out.push(change);
                }
            }
            (From::Component(_), CallKind::Sync) => out.push(format!(
                "its arrivals are the service completions of {from}, whose workers wait on it: not Poisson"
            )),
            (From::Component(x), _) => {
                let poisson = done[x].as_ref().is_some_and(|a| {
                    a.model.starts_with("M/M/")
                        && a.prediction().is_some_and(|p| p.p_drop < NEGLIGIBLE_DROP)
                        && a.notes.is_empty()
                });
                if !poisson {
                    out.push(format!(
                        "its arrivals are the departures of {from}, which is not an M/M/c queue with room to spare: not Poisson"
                    ));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Why a source's load does not count as steady at `t_s`, if it does not.
fn unsteady(src: &crate::scenario::SourceSpec, t_s: f64) -> Option<String> {
    let now = src.rate.rate_at(t_s);
    let changed = (0..=STEADY_S as usize).any(|k| {
        let then = src.rate.rate_at((t_s - k as f64).max(0.0));
        (then - now).abs() > 0.02 * now.max(then)
    });
    changed.then(|| {
        format!(
            "{}'s rate changed in the last {STEADY_S:.0} s (no steady state yet)",
            src.name
        )
    })
}

/// The station of component `ci` (its problems already known to be none): servers, room and
/// the model that fits.
fn station(s: &Scenario, ci: usize, lambda: f64, live: &Live) -> Assessment {
    let c = &s.components[ci];
    let unit = s.sim.request_unit.max(1) as u64;
    // As simulated: workers and room per instance in simulated requests.
    let workers = ((c.workers as f64 / unit as f64).round() as u32).max(1);
    let room = match c.queue {
        QueueSpec::Bounded(n) => Some(n.div_ceil(unit)),
        QueueSpec::Unbounded => None,
    };
    let up = live.instances_up.get(ci).copied().unwrap_or(c.instances);
    let service_s = c.service_mean_ms() / 1000.0;
    let mut a = Assessment {
        component: ci,
        model: String::new(),
        lambda,
        servers: up * workers,
        service_s,
        capacity: room.map(|q| up as u64 * (q + workers as u64)),
        verdict: Verdict::Broken(vec![]),
        notes: vec![],
    };
    if up == 0 {
        a.verdict = Verdict::Broken(vec!["no instance is up".into()]);
        return a;
    }
    // Several instances: exact when the sender spreads at random (each instance an M/M/w of
    // its own), else one shared queue, which waits less than separate ones.
    let split = if up > 1 && c.strategy == Balancing::Random {
        up
    } else {
        1
    };
    if up > 1 && split == 1 {
        a.notes.push(format!(
            "{up} instances, each with its own queue, predicted as one shared queue of {} workers: a lower bound on waiting",
            a.servers
        ));
    }
    let (lam, servers) = (lambda / unit as f64 / split as f64, a.servers / split);
    let cap = a.capacity.map(|k| k / split as u64);
    let mu = 1.0 / service_s;
    let l = letter(c.service.shape);
    let predicted = match (l, cap) {
        ("M", None) => {
            a.model = format!("M/M/{servers}");
            formulas::mmc(lam, mu, servers)
        }
        ("M", Some(k)) => {
            a.model = format!("M/M/{servers}/{k}");
            formulas::mmck(lam, mu, servers, k)
        }
        (_, _) if servers == 1 => {
            a.model = format!("M/{l}/1");
            let p = formulas::mg1(lam, service_s, cs2(c.service.shape));
            match (p, cap) {
                (Some(p), Some(k)) if p.l * 20.0 > k as f64 => {
                    a.verdict = Verdict::Broken(vec![format!(
                        "M/{l}/1/{k}: a bounded queue with non-exponential service has no closed form"
                    )]);
                    return a;
                }
                _ => p,
            }
        }
        _ => {
            a.model = format!("M/{l}/{servers}");
            a.verdict = Verdict::Broken(vec![format!(
                "M/{l}/c with c = {servers} has no exact closed form"
            )]);
            return a;
        }
    };
    a.verdict = match predicted {
        Some(mut p) => {
            // Back to the whole component, in real requests.
            p.lq *= (split as u64 * unit) as f64;
            p.l *= (split as u64 * unit) as f64;
            Verdict::Predicts(p)
        }
        None => Verdict::Unstable {
            rho: lam * service_s / servers as f64,
        },
    };
    a
}

/// Every component's assessment at `live.t_s`, in scenario order.
pub fn assess(s: &Scenario, live: &Live) -> Vec<Assessment> {
    let index: HashMap<&str, usize> = s
        .components
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.as_str(), i))
        .collect();
    let tr = traffic(s, &index, live.t_s);
    let n = s.components.len();
    let mut done: Vec<Option<Assessment>> = vec![None; n];
    // Upstream first: a component's arrivals depend on its feeders' verdicts.
    let mut state = vec![0u8; n];
    for ci in 0..n {
        visit(s, &tr, live, ci, &mut state, &mut done);
    }
    done.into_iter()
        .map(|a| a.expect("every component assessed"))
        .collect()
}

fn visit(
    s: &Scenario,
    tr: &Traffic,
    live: &Live,
    ci: usize,
    state: &mut [u8],
    done: &mut [Option<Assessment>],
) {
    if state[ci] != 0 {
        return;
    }
    state[ci] = 1;
    let mut cyclic = false;
    for &(f, _) in &tr.feeds[ci] {
        if let From::Component(x) = f {
            if state[x] == 1 {
                cyclic = true;
            }
            visit(s, tr, live, x, state, done);
        }
    }
    let mut problems = own_problems(&s.components[ci], tr, ci, s);
    problems.extend(feed_problems(s, tr, ci, live, done));
    if cyclic {
        problems.push("requests come back to it around a cycle of links".into());
    }
    if tr.lambda[ci] <= 0.0 {
        problems.push("no route sends it requests now".into());
    }
    if let Some(now) = live.broken.get(ci) {
        problems.extend(now.iter().cloned());
    }
    let mut a = station(s, ci, tr.lambda[ci], live);
    if !problems.is_empty() {
        if let Verdict::Broken(own) = &a.verdict {
            problems.extend(own.iter().cloned());
        }
        a.verdict = Verdict::Broken(problems);
        a.notes.clear();
    }
    state[ci] = 2;
    done[ci] = Some(a);
}
