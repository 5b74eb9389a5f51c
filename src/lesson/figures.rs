//! What a lesson's claims are made of: conditions on the read view at a moment of the run (a
//! queue, a status, a breaker, an instance down, goodput over the last second, losses since the
//! step began), expectations over a step, and the figures a caption may quote.

use crate::sim::read::view::{InstanceState, SimView};
use crate::sim::schedule::states::{BreakerState, HealthBand};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A component's status, as the badges read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
pub enum StatusIs {
    /// GREEN.
    Green,
    /// YELLOW.
    Yellow,
    /// RED.
    Red,
    /// CRITICAL.
    Critical,
}

impl StatusIs {
    fn band(self) -> HealthBand {
        match self {
            StatusIs::Green => HealthBand::Green,
            StatusIs::Yellow => HealthBand::Yellow,
            StatusIs::Red => HealthBand::Red,
            StatusIs::Critical => HealthBand::Critical,
        }
    }
}

/// A link's circuit breaker, as the gate reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum BreakerIs {
    /// CLOSED.
    Closed,
    /// OPEN.
    Open,
    /// HALF-OPEN.
    HalfOpen,
}

/// Something true or false at a moment of the run.
#[derive(Debug, Clone, Deserialize)]
pub enum Condition {
    /// The component holds at least this many requests in its queues (real requests).
    QueueAtLeast(String, u64),
    /// The component holds fewer than this many requests in its queues.
    QueueBelow(String, u64),
    /// The component's status is this or worse.
    StatusAtLeast(String, StatusIs),
    /// The component's status is this or better.
    StatusAtMost(String, StatusIs),
    /// The link's (`from->to`) breaker is in this state.
    Breaker(String, BreakerIs),
    /// The instance (`component#k`) is down.
    InstanceDown(String),
    /// The component crashed (out of memory) since the step began.
    Crashed(String),
    /// The link (`from->to`) has a rate limit set by flow control.
    Limited(String),
    /// The component (a cache) serves stale data.
    ServingStale(String),
    /// Requests completed over the last second, per second, above this.
    GoodputAbove(f64),
    /// Requests completed over the last second, per second, below this.
    GoodputBelow(f64),
    /// Retries sent over the last second, per second, above this.
    RetriesAbove(f64),
    /// Retries sent over the last second, per second, below this.
    RetriesBelow(f64),
    /// Of the CRITICAL requests that ended since the step began, the share completed is above
    /// this.
    CriticalServedAbove(f64),
    /// Requests (or, behind an asynchronous hand-off, work) dropped at the component since the
    /// step began: at least this many.
    DroppedAtLeastAt(String, u64),
    /// The same, at most this many.
    DroppedAtMostAt(String, u64),
    /// Requests dropped since the step began, at most this many.
    DroppedAtMost(u64),
    /// Of the requests that ended since the step began, the share not completed (dropped,
    /// rejected, failed or timed out) is below this.
    LostBelow(f64),
    /// Of the requests that ended since the step began, the share not completed is at least this.
    LostAtLeast(f64),
    /// Messages waiting at the link's (`from->to`) sender for a credit or a window slot: at
    /// least this many.
    WaitingAtLeast(String, u64),
    /// The same, fewer than this many.
    WaitingBelow(String, u64),
    /// Attempts the clients' adaptive throttles rejected locally over the last second, per
    /// second, above this.
    ThrottledAbove(f64),
    /// Requests sent over the link (`from->to`) over the last second, per second, above this.
    SentAbove(String, f64),
    /// The same, below this.
    SentBelow(String, f64),
    /// The component's health score (0-100, as its badge reads) is below this.
    ScoreBelow(String, f64),
    /// The component's health score is at least this.
    ScoreAtLeast(String, f64),
    /// The component's p99 latency since the run began (as its box reads), in ms,
    /// above this.
    P99Above(String, f64),
    /// The same, below this.
    P99Below(String, f64),
    /// The component's resource health (its engines through its instances, 0-1, the box's
    /// "resources" line) is at least this.
    ResourceAtLeast(String, f64),
    /// The same, below this.
    ResourceBelow(String, f64),
    /// System health (0-1, the top bar's figure) is below this.
    SystemHealthBelow(f64),
    /// System health is above this.
    SystemHealthAbove(f64),
    /// Not this.
    Not(Box<Condition>),
    /// All of these.
    All(Vec<Condition>),
    /// Any of these.
    Any(Vec<Condition>),
}

/// A claim about a step.
#[derive(Debug, Clone, Deserialize)]
pub enum Expect {
    /// The condition holds at some moment within this many seconds of the step's start.
    Within(f64, Condition),
    /// The condition holds at every moment of the step.
    Always(Condition),
    /// The condition holds at no moment of the step.
    Never(Condition),
    /// The condition holds when the step ends.
    AtEnd(Condition),
}

/// What the read view shows at one moment, as the conditions read it (real requests).
#[derive(Debug, Clone, Default)]
pub struct Moment {
    /// Simulated seconds.
    pub t: f64,
    /// Queued requests per component.
    pub queued: BTreeMap<String, u64>,
    /// Status per component (components without a health reading are GREEN).
    pub status: BTreeMap<String, HealthBand>,
    /// Crashes so far per component.
    pub crashes: BTreeMap<String, u64>,
    /// Dropped so far at each component (its queue full).
    pub dropped_at: BTreeMap<String, u64>,
    /// Instances down.
    pub down: Vec<String>,
    /// Breaker state per link.
    pub breakers: BTreeMap<String, BreakerState>,
    /// Links with a rate limit from flow control.
    pub limited: Vec<String>,
    /// Components serving stale data.
    pub stale: Vec<String>,
    /// Logical requests ended so far, by outcome.
    pub ended: [u64; 5],
    /// Retries sent so far.
    pub retries: u64,
    /// CRITICAL requests completed and ended so far (simulated units).
    pub critical: (u64, u64),
    /// Health score per component and its four parts (queue, processing, latency, errors).
    pub scores: BTreeMap<String, (f64, [f64; 4])>,
    /// Resource health per component (engines -> instances -> component, 0-1).
    pub resource: BTreeMap<String, f64>,
    /// System health (0-1).
    pub system: f64,
    /// The weights of the four parts.
    pub weights: [f64; 4],
    /// p99 latency per component (ms), as its box shows it (0 before any was measured).
    pub p99_ms: BTreeMap<String, f64>,
    /// Messages waiting at each windowed link's sender (real requests).
    pub waiting: BTreeMap<String, u64>,
    /// Attempts rejected by the clients' adaptive throttles so far.
    pub throttled: u64,
    /// Requests sent so far over each link (real requests).
    pub sent: BTreeMap<String, u64>,
    /// Refusals that named a Retry-After so far, and the sum of what they named (ns).
    pub retry_after: (u64, f64),
}

impl Moment {
    /// The moment the view shows.
    pub fn of(v: &SimView) -> Self {
        let unit = v.unit();
        let mut m = Moment {
            t: v.seconds(),
            ..Default::default()
        };
        for c in v.components() {
            m.queued.insert(c.name.to_string(), c.queued);
            let band = c.health.as_ref().map_or(HealthBand::Green, |h| h.status);
            m.status.insert(c.name.to_string(), band);
            let crashes = v.instances_of(c.index).map(|i| i.counters.crashes).sum();
            m.crashes.insert(c.name.to_string(), crashes);
            m.dropped_at.insert(c.name.to_string(), c.dropped);
            let p99 = v
                .component_latency(c.index)
                .map_or(0.0, |l| l.percentiles_ms[2]);
            m.p99_ms.insert(c.name.to_string(), p99);
            if c.stale > 0.0 {
                m.stale.push(c.name.to_string());
            }
            if let Some(h) = &c.health {
                let p = h.scores;
                m.scores.insert(
                    c.name.to_string(),
                    (h.score, [p.queue, p.processing, p.latency, p.error]),
                );
                m.resource.insert(c.name.to_string(), h.health);
            }
        }
        let w = v.health_spec().weights;
        m.weights = [w.queue, w.processing, w.latency, w.error];
        m.system = v.system().health;
        for i in v.instances() {
            if i.state == InstanceState::Down {
                m.down.push(i.name.to_string());
            }
        }
        for l in v.links() {
            m.breakers.insert(l.name.to_string(), l.breaker);
            if l.rate_limit.is_some() {
                m.limited.push(l.name.to_string());
            }
            m.sent.insert(l.name.to_string(), l.counters.sent * unit);
            if let Some(w) = l.window {
                m.waiting.insert(l.name.to_string(), w.waiting);
            }
        }
        for s in v.sources() {
            for k in 0..5 {
                m.ended[k] += s.counters.ended[k] * unit;
            }
            m.retries += s.counters.retries * unit;
            m.throttled += s.counters.throttled * unit;
            m.retry_after.0 += s.counters.retry_after_hints * unit;
            m.retry_after.1 += s.counters.retry_after_ns * unit as f64;
        }
        let c = v
            .classes()
            .priority(crate::sim::flow::request::Priority::Critical);
        m.critical = (c.ended[0], c.ended.iter().sum());
        m
    }
}

/// The moments a condition is judged on: when the step began, a second ago, and now.
pub struct Judged<'a> {
    /// When the step began.
    pub start: &'a Moment,
    /// About a second before `now` (the step's start if it began less than a second ago).
    pub recent: &'a Moment,
    /// Now.
    pub now: &'a Moment,
}

impl Judged<'_> {
    /// Completed per second between `recent` and `now`.
    pub fn goodput(&self) -> f64 {
        per_s(self.recent, self.now, |m| m.ended[0])
    }

    /// Retries sent per second between `recent` and `now`.
    pub fn retries(&self) -> f64 {
        per_s(self.recent, self.now, |m| m.retries)
    }

    /// Attempts throttled locally per second between `recent` and `now`.
    pub fn throttled(&self) -> f64 {
        per_s(self.recent, self.now, |m| m.throttled)
    }

    /// Requests sent over link `l` per second, between moments `a` and `b`.
    pub fn sent(&self, l: &str, a: &Moment, b: &Moment) -> f64 {
        per_s(a, b, |m| m.sent.get(l).copied().unwrap_or(0))
    }

    /// Messages waiting at link `l`'s sender now.
    pub fn waiting(&self, l: &str) -> u64 {
        self.now.waiting.get(l).copied().unwrap_or(0)
    }

    /// The mean Retry-After named by refusals since the step began (ms; 0 when none did).
    pub fn retry_after_ms(&self) -> f64 {
        let n = self.now.retry_after.0 - self.start.retry_after.0;
        let ns = self.now.retry_after.1 - self.start.retry_after.1;
        if n == 0 { 0.0 } else { ns / n as f64 / 1e6 }
    }

    /// Share of the CRITICAL requests ended since the step began that completed (1 when none
    /// ended).
    pub fn critical_served(&self) -> f64 {
        let done = self.now.critical.0 - self.start.critical.0;
        let all = self.now.critical.1 - self.start.critical.1;
        if all == 0 {
            1.0
        } else {
            done as f64 / all as f64
        }
    }

    /// Share of the requests ended since the step began that did not complete.
    pub fn lost(&self) -> f64 {
        let d: Vec<u64> = (0..5)
            .map(|k| self.now.ended[k] - self.start.ended[k])
            .collect();
        let all: u64 = d.iter().sum();
        if all == 0 {
            0.0
        } else {
            (all - d[0]) as f64 / all as f64
        }
    }

    /// Dropped at component `c` since the step began.
    pub fn dropped_at(&self, c: &str) -> u64 {
        let at = |m: &Moment| m.dropped_at.get(c).copied().unwrap_or(0);
        at(self.now).saturating_sub(at(self.start))
    }

    /// Dropped since the step began.
    pub fn dropped(&self) -> u64 {
        self.now.ended[1] - self.start.ended[1]
    }

    /// Whether `c` holds now.
    pub fn holds(&self, c: &Condition) -> bool {
        use Condition::*;
        let n = self.now;
        let q = |name: &str| n.queued.get(name).copied().unwrap_or(0);
        let st = |name: &str| n.status.get(name).copied().unwrap_or_default();
        match c {
            QueueAtLeast(name, x) => q(name) >= *x,
            QueueBelow(name, x) => q(name) < *x,
            StatusAtLeast(name, s) => st(name) >= s.band(),
            StatusAtMost(name, s) => st(name) <= s.band(),
            Breaker(link, b) => {
                let want = match b {
                    BreakerIs::Closed => BreakerState::Closed,
                    BreakerIs::Open => BreakerState::Open,
                    BreakerIs::HalfOpen => BreakerState::HalfOpen,
                };
                n.breakers.get(link) == Some(&want)
            }
            InstanceDown(name) => n.down.iter().any(|d| d == name),
            Crashed(name) => {
                n.crashes.get(name).copied().unwrap_or(0)
                    > self.start.crashes.get(name).copied().unwrap_or(0)
            }
            Limited(link) => n.limited.contains(link),
            ServingStale(name) => n.stale.contains(name),
            CriticalServedAbove(x) => self.critical_served() > *x,
            DroppedAtLeastAt(c, x) => self.dropped_at(c) >= *x,
            DroppedAtMostAt(c, x) => self.dropped_at(c) <= *x,
            RetriesAbove(x) => self.retries() > *x,
            RetriesBelow(x) => self.retries() < *x,
            GoodputAbove(x) => self.goodput() > *x,
            GoodputBelow(x) => self.goodput() < *x,
            DroppedAtMost(x) => self.dropped() <= *x,
            LostBelow(x) => self.lost() < *x,
            LostAtLeast(x) => self.lost() >= *x,
            WaitingAtLeast(l, x) => self.waiting(l) >= *x,
            WaitingBelow(l, x) => self.waiting(l) < *x,
            ThrottledAbove(x) => self.throttled() > *x,
            SentAbove(l, x) => self.sent(l, self.recent, n) > *x,
            SentBelow(l, x) => self.sent(l, self.recent, n) < *x,
            ScoreBelow(name, x) => self.score(name) < *x,
            ScoreAtLeast(name, x) => self.score(name) >= *x,
            P99Above(name, x) => self.p99(name) > *x,
            P99Below(name, x) => self.p99(name) < *x,
            ResourceAtLeast(name, x) => self.resource(name) >= *x,
            ResourceBelow(name, x) => self.resource(name) < *x,
            SystemHealthBelow(x) => n.system < *x,
            SystemHealthAbove(x) => n.system > *x,
            Not(c) => !self.holds(c),
            All(cs) => cs.iter().all(|c| self.holds(c)),
            Any(cs) => cs.iter().any(|c| self.holds(c)),
        }
    }

    /// A component's health score now (100 before its first health cycle).
    pub fn score(&self, name: &str) -> f64 {
        self.now.scores.get(name).map_or(100.0, |s| s.0)
    }

    /// A component's p99 latency now (ms).
    pub fn p99(&self, name: &str) -> f64 {
        self.now.p99_ms.get(name).copied().unwrap_or(0.0)
    }

    /// A component's resource health now (1 before its first health cycle).
    pub fn resource(&self, name: &str) -> f64 {
        self.now.resource.get(name).copied().unwrap_or(1.0)
    }

    /// A component's score as the seed writes it: each part times its weight, added up.
    pub fn formula(&self, name: &str) -> String {
        let (score, parts) = self
            .now
            .scores
            .get(name)
            .copied()
            .unwrap_or((100.0, [100.0; 4]));
        let terms: Vec<String> = parts
            .iter()
            .zip(self.now.weights)
            .map(|(p, w)| format!("({p:.0} × {w:.2})"))
            .collect();
        // The total as the badge shows it (whole points, rounded down).
        format!("{} = {:.0}", terms.join(" + "), score.floor())
    }

    /// What a condition's figure measures now, for a message ("queue of database 120K").
    pub fn measured(&self, c: &Condition) -> String {
        use Condition::*;
        let n = self.now;
        match c {
            ScoreBelow(name, _) | ScoreAtLeast(name, _) => {
                format!(
                    "{name}'s score is {:.1}: {}",
                    self.score(name),
                    self.formula(name)
                )
            }
            SystemHealthBelow(_) | SystemHealthAbove(_) => {
                format!("system health {:.2}", n.system)
            }
            P99Above(name, _) | P99Below(name, _) => {
                format!("{name}'s p99 is {:.1} ms", self.p99(name))
            }
            ResourceAtLeast(name, _) | ResourceBelow(name, _) => {
                format!("{name}'s resource health is {:.2}", self.resource(name))
            }
            QueueAtLeast(name, _) | QueueBelow(name, _) => format!(
                "{name}'s queue holds {}",
                n.queued.get(name).copied().unwrap_or(0)
            ),
            StatusAtLeast(name, _) | StatusAtMost(name, _) => format!(
                "{name} is {}",
                n.status.get(name).copied().unwrap_or_default().name()
            ),
            Breaker(link, _) => format!(
                "{link}'s breaker is {}",
                n.breakers.get(link).copied().unwrap_or_default().name()
            ),
            InstanceDown(name) => format!(
                "{name} is {}",
                if n.down.contains(name) { "down" } else { "up" }
            ),
            Crashed(name) => format!(
                "{name} crashed {} time(s) in the step",
                n.crashes.get(name).copied().unwrap_or(0)
                    - self.start.crashes.get(name).copied().unwrap_or(0)
            ),
            Limited(link) => format!(
                "{link} is {}",
                if n.limited.contains(link) {
                    "rate-limited"
                } else {
                    "not limited"
                }
            ),
            ServingStale(name) => format!(
                "{name} {}",
                if n.stale.contains(name) {
                    "serves stale data"
                } else {
                    "serves fresh data"
                }
            ),
            GoodputAbove(_) | GoodputBelow(_) => format!("goodput {:.0}/s", self.goodput()),
            WaitingAtLeast(l, _) | WaitingBelow(l, _) => {
                format!("{} waiting at {l}'s sender", self.waiting(l))
            }
            ThrottledAbove(_) => format!("throttled {:.0}/s", self.throttled()),
            SentAbove(l, _) | SentBelow(l, _) => {
                format!("{l} carries {:.0}/s", self.sent(l, self.recent, n))
            }
            RetriesAbove(_) | RetriesBelow(_) => format!("retries {:.0}/s", self.retries()),
            CriticalServedAbove(_) => format!(
                "{:.1}% of CRITICAL requests completed",
                100.0 * self.critical_served()
            ),
            DroppedAtMost(_) => format!("{} dropped", self.dropped()),
            DroppedAtLeastAt(c, _) | DroppedAtMostAt(c, _) => {
                format!("{} dropped at {c}", self.dropped_at(c))
            }
            LostBelow(_) | LostAtLeast(_) => format!("{:.1}% lost", 100.0 * self.lost()),
            Not(c) => format!("not: {}", self.measured(c)),
            All(cs) | Any(cs) => cs
                .iter()
                .map(|c| self.measured(c))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

/// The figures quoted per component (`{queue:db}`).
macro_rules! PER_COMPONENT {
    () => {
        "queue" | "status" | "crashes" | "dropped" | "score" | "formula" | "health" | "p99"
    };
}

/// The names of the figures a caption may quote: `{goodput}` (completed per second over the
/// step), `{lost}` (% not completed of those that ended in the step), `{critical}` (% of the
/// CRITICAL requests that ended in the step that completed), `{dropped}`, `{t}` (the
/// time the step ended), `{queue:NAME}` (queued at the step's end), `{status:NAME}` (the status
/// then), `{crashes:NAME}` (crashes in the step), `{score:NAME}` (its health score then),
/// `{formula:NAME}` (that score as its weighted parts), `{health:NAME}` (its resource health)
/// and `{system}` (system health).
pub fn placeholder_problem(name: &str, components: &[&str], links: &[&str]) -> Option<String> {
    match name.split_once(':') {
        None if [
            "goodput",
            "goodput_now",
            "lost",
            "dropped",
            "t",
            "critical",
            "system",
            "retries",
            "throttled",
            "retry_after",
        ]
        .contains(&name) =>
        {
            None
        }
        Some((PER_COMPONENT!(), c)) if components.contains(&c) => None,
        Some((PER_COMPONENT!(), c)) => Some(format!("`{c}` is not a component")),
        Some(("waiting" | "sent", l)) if links.contains(&l) => None,
        Some(("waiting" | "sent", l)) => Some(format!("`{l}` is not a link (from->to)")),
        _ => Some(format!(
            "`{{{name}}}` is not a figure: goodput, goodput_now, lost, dropped, t, critical, system, retries, throttled, retry_after, queue:NAME, status:NAME, crashes:NAME, dropped:NAME, score:NAME, formula:NAME, health:NAME, p99:NAME, waiting:FROM->TO, sent:FROM->TO"
        )),
    }
}

/// The `{...}` names in `text`.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut out = vec![];
    let mut rest = text;
    while let Some(a) = rest.find('{') {
        let Some(b) = rest[a..].find('}') else { break };
        out.push(&rest[a + 1..a + b]);
        rest = &rest[a + b + 1..];
    }
    out
}

/// What `count` counts, per second, from moment `a` to moment `b`.
fn per_s(a: &Moment, b: &Moment, count: impl Fn(&Moment) -> u64) -> f64 {
    count(b).saturating_sub(count(a)) as f64 / (b.t - a.t).max(1e-9)
}

/// A rate as captions quote it ("1.24K/s").
fn rate(x: f64) -> String {
    crate::picture::style::short(x) + "/s"
}

/// `text` with every placeholder replaced by the step's figure.
pub fn fill(text: &str, j: &Judged) -> String {
    let mut out = text.to_string();
    for p in placeholders(text) {
        let value = match p.split_once(':') {
            None => match p {
                "goodput" => rate(per_s(j.start, j.now, |m| m.ended[0])),
                "goodput_now" => rate(j.goodput()),
                "lost" => format!("{:.1}%", 100.0 * j.lost()),
                "critical" => format!("{:.1}%", 100.0 * j.critical_served()),
                "dropped" => crate::picture::style::short(j.dropped() as f64),
                "t" => format!("{:.1} s", j.now.t),
                "retries" => rate(per_s(j.start, j.now, |m| m.retries)),
                "throttled" => rate(per_s(j.start, j.now, |m| m.throttled)),
                "retry_after" => format!("{:.0} ms", j.retry_after_ms()),
                "system" => format!("{:.2}", j.now.system),
                _ => continue,
            },
            Some(("score", c)) => format!("{:.0}", j.score(c).floor()),
            Some(("formula", c)) => j.formula(c),
            Some(("health", c)) => format!("{:.2}", j.resource(c)),
            Some(("p99", c)) => crate::picture::style::millis(j.p99(c)),
            Some(("queue", c)) => {
                crate::picture::style::short(j.now.queued.get(c).copied().unwrap_or(0) as f64)
            }
            Some(("status", c)) => j
                .now
                .status
                .get(c)
                .copied()
                .unwrap_or_default()
                .name()
                .to_string(),
            Some(("dropped", c)) => crate::picture::style::short(j.dropped_at(c) as f64),
            Some(("waiting", l)) => crate::picture::style::short(j.waiting(l) as f64),
            Some(("sent", l)) => rate(j.sent(l, j.start, j.now)),
            Some(("crashes", c)) => (j.now.crashes.get(c).copied().unwrap_or(0)
                - j.start.crashes.get(c).copied().unwrap_or(0))
            .to_string(),
            _ => continue,
        };
        out = out.replacen(&format!("{{{p}}}"), &value, 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moment(t: f64, sent: u64, throttled: u64, hints: u64, hinted_ms: f64) -> Moment {
        let mut m = Moment {
            t,
            throttled,
            retry_after: (hints, hinted_ms * 1e6),
            ..Default::default()
        };
        m.sent.insert("a->b".into(), sent);
        m.waiting.insert("a->b".into(), 3 * sent / 1000);
        m.p99_ms.insert("b".into(), 1234.0);
        m
    }

    #[test]
    fn link_and_client_figures_read_rates_over_the_step_and_the_last_second() {
        let (start, recent, now) = (
            moment(10.0, 0, 0, 0, 0.0),
            moment(19.0, 9_000, 500, 10, 2_000.0),
            moment(20.0, 11_000, 800, 20, 5_000.0),
        );
        let j = Judged {
            start: &start,
            recent: &recent,
            now: &now,
        };
        // Over the last second: 2,000 sent, 300 throttled.
        assert!(j.holds(&Condition::SentAbove("a->b".into(), 1_999.0)));
        assert!(j.holds(&Condition::SentBelow("a->b".into(), 2_001.0)));
        assert!(j.holds(&Condition::ThrottledAbove(299.0)));
        assert!(!j.holds(&Condition::ThrottledAbove(301.0)));
        assert!(j.holds(&Condition::WaitingAtLeast("a->b".into(), 33)));
        assert!(j.holds(&Condition::P99Above("b".into(), 1_000.0)));
        // Over the step (10 s): 1,100/s sent; 20 Retry-After hints of 250 ms on average.
        let text = fill(
            "{sent:a->b} {throttled} {retry_after} {waiting:a->b} {p99:b}",
            &j,
        );
        assert_eq!(text, "1.10K/s 80/s 250 ms 33 1.2 s");
    }
}
