//! Particles that tell the truth: requests and responses moving along the links, from the
//! engine's own counts and in-transit records, never invented.
//!
//! - **Exact** (slow motion: a link's latency lasts a visible fraction of a second): particles
//!   are the requests on the wire at their exact positions, `(now - depart) / (arrive - depart)`.
//! - **Stretched** (faster): latencies are too short to see, so every `N` requests a link sends
//!   emit one particle that crosses the edge in `visible_s` of wall time. Density is then
//!   proportional to the link's real rate.
//!
//! One particle stands for `N` requests, from a 1-2-5 ladder chosen so the busiest moment of the
//! scenario stays within the particle budget; `N` changes only with the speed, and the legend
//! shows it. An edge with any traffic shows at least one particle every `floor_s`.
//! Lost requests leave markers where they ended: dropped at a full queue (grey, at the
//! instance), failed (red cross, at the instance), refused at a gate (magenta, bouncing back to
//! the sender), timed out (amber ring, at the client); retries travel marked.

use crate::sim::flow::link::NodeRef;
use crate::sim::read::view::{SimView, TransitKind};
use crate::sim::schedule::dist::{Nanos, SEC};
use crate::sim::schedule::topology::Routes;

/// Settings of the particle model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParticleSettings {
    /// Most particles on screen at the busiest moment.
    pub budget: usize,
    /// Wall seconds a stretched particle takes to cross an edge.
    pub visible_s: f64,
    /// Exact mode when the links' mean latency lasts at least this many wall seconds.
    pub exact_from_s: f64,
    /// An edge with traffic shows a particle at least this often (wall seconds).
    pub floor_s: f64,
    /// Particles per wall second on the busiest edge (more would read as a solid bar).
    pub busiest_per_s: f64,
}

impl Default for ParticleSettings {
    fn default() -> Self {
        Self {
            budget: 20_000,
            visible_s: 1.2,
            exact_from_s: 0.15,
            floor_s: 2.0,
            busiest_per_s: 50.0,
        }
    }
}

/// How particles move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Individual requests at their exact positions.
    Exact,
    /// Travel time stretched to stay visible.
    #[default]
    Stretched,
}

/// What a particle is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A request going forward.
    Request,
    /// A retry going forward (marked).
    Retry,
    /// A response going back.
    Response,
    /// An error response going back.
    Error,
    /// A request refused at the sender's gate (429/503), bouncing back.
    Refused,
}

/// One particle: on `link`, from `born` for `life` (simulation ns).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Particle {
    /// Link index.
    pub link: u32,
    /// What it is.
    pub kind: Kind,
    /// When it left (ns).
    pub born: Nanos,
    /// How long it travels (ns).
    pub life: Nanos,
    /// Flow index (for colouring by flow).
    pub flow: u16,
    /// Priority class 0-3 (for colouring by priority).
    pub priority: u8,
}

impl Particle {
    /// Share of the way travelled at `now` (0-1), in the direction of travel.
    pub fn progress(&self, now: Nanos) -> f32 {
        (now.saturating_sub(self.born) as f64 / self.life.max(1) as f64).clamp(0.0, 1.0) as f32
    }
}

/// Where a lost request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkerKind {
    /// Dropped at a full queue.
    Dropped,
    /// Failed: a crash or an instance down.
    Failed,
    /// The client gave up.
    TimedOut,
}

/// A mark where requests were lost, fading over its life.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Marker {
    /// Where: an instance's tile (`Component(c)` with `instance`), or a client (`Source`).
    pub at: NodeRef,
    /// The instance ordinal inside its component.
    pub instance: u32,
    /// What happened.
    pub kind: MarkerKind,
    /// How many real requests it stands for.
    pub count: u64,
    /// When (ns) and for how long it shows.
    pub born: Nanos,
    /// Its life (ns).
    pub life: Nanos,
}

/// The 1-2-5 ladder: the smallest of 1, 2, 5, 10, 20, 50, ... at least `x`.
pub fn ladder(x: f64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 5] {
            let v = step.saturating_mul(m);
            if v as f64 >= x || v == u64::MAX {
                return v;
            }
        }
        step = step.saturating_mul(10);
    }
}

/// Per link: what was counted at the last update, and emission state.
#[derive(Debug, Clone, Default)]
struct LinkMemory {
    sent: u64,
    responses: u64,
    errors: u64,
    refused: u64,
    acc_fwd: u64,
    acc_back: u64,
    last_emit: Nanos,
    turn: u64,
}

/// The particle model of one run.
#[derive(Debug, Clone, Default)]
pub struct Particles {
    /// Settings.
    pub settings: ParticleSettings,
    /// Requests one particle stands for.
    pub per_particle: u64,
    /// The speed `per_particle` was chosen for.
    pub speed: f64,
    /// Current mode.
    pub mode: Mode,
    /// Live particles.
    pub live: Vec<Particle>,
    /// Live markers.
    pub markers: Vec<Marker>,
    /// Particles emitted so far, per link (tests, legend).
    pub emitted: Vec<u64>,
    links: Vec<LinkMemory>,
    instances: Vec<(u64, u64)>,
    sources: Vec<(u64, u64)>,
    /// Per link: the flows that cross it with their weights (cumulative), for colours.
    flows: Vec<Vec<(u16, u8)>>,
    peak_rate: f64,
    at: Nanos,
}

impl Particles {
    /// A model for the scenario in `view`, whose busiest link carries at most `peak_rate` real
    /// requests/s.
    pub fn new(
        view: &SimView,
        routes: &Routes,
        peak_rate: f64,
        settings: ParticleSettings,
    ) -> Self {
        let mut p = Particles {
            settings,
            peak_rate,
            links: vec![LinkMemory::default(); view.link_count()],
            emitted: vec![0; view.link_count()],
            flows: link_flows(view, routes),
            at: view.now(),
            ..Default::default()
        };
        p.set_speed(1.0, view);
        p.baseline(view);
        p
    }

    /// Remembers what was counted so far, so only what happens from now on is drawn.
    fn baseline(&mut self, view: &SimView) {
        let unit = view.unit();
        for l in view.links() {
            let m = &mut self.links[l.index as usize];
            m.sent = l.counters.sent * unit;
            m.responses = l.counters.responses_sent * unit;
            m.errors = l.counters.response_errors * unit;
            m.refused = (l.refused + l.breaker_refused) * unit;
        }
        self.instances = view
            .instances()
            .map(|i| (i.counters.dropped * unit, i.counters.failed * unit))
            .collect();
        self.sources = view
            .sources()
            .map(|s| {
                let t = s.counters.ended[crate::sim::flow::request::Outcome::TimedOut as usize];
                (t * unit, s.counters.retries * unit)
            })
            .collect();
    }

    /// Chooses `per_particle` and the mode for `speed` (simulated seconds per wall second).
    pub fn set_speed(&mut self, speed: f64, view: &SimView) {
        self.speed = speed.max(1e-6);
        let s = &self.settings;
        // The busiest edge shows about `busiest_per_s` particles a wall second; every edge
        // together stays within the budget.
        let per_s = self.peak_rate * self.speed.max(0.0);
        let on_screen = per_s * s.visible_s * (self.links.len().max(1) as f64);
        self.per_particle = ladder((per_s / s.busiest_per_s).max(on_screen / s.budget as f64));
        let latency_s = mean_latency_s(view);
        self.mode = if latency_s > 0.0 && latency_s / self.speed >= s.exact_from_s {
            Mode::Exact
        } else {
            Mode::Stretched
        };
        if self.mode == Mode::Exact {
            // In slow motion particles are the requests themselves, one each, unless more are
            // on the wire than the budget.
            let on_wire: u64 = view.links().map(|l| l.in_transit).sum();
            self.per_particle = ladder(on_wire as f64 / s.budget as f64);
        }
    }

    /// Brings the model to the view's time: forgets what has arrived, emits what was sent.
    pub fn update(&mut self, view: &SimView) {
        let now = view.now();
        if now < self.at {
            // A reset: start again.
            self.live.clear();
            self.markers.clear();
            self.links
                .iter_mut()
                .for_each(|l| *l = LinkMemory::default());
            self.instances.clear();
            self.sources.clear();
        }
        let since = self.at.min(now);
        self.at = now;
        self.live.retain(|p| p.born + p.life > now);
        self.markers.retain(|m| m.born + m.life > now);
        let life = ((self.settings.visible_s * self.speed) * SEC) as Nanos;
        let life = life.max(1);
        for l in view.links() {
            self.link_update(view, l.index, since, now, life);
        }
        self.losses(view, since, now, life);
    }

    fn link_update(&mut self, view: &SimView, link: u32, since: Nanos, now: Nanos, life: Nanos) {
        let Some(l) = view.link(link) else { return };
        let unit = view.unit();
        let n = self.per_particle.max(1);
        let floor = (self.settings.floor_s * self.speed * SEC) as Nanos;
        let i = link as usize;
        let m = &mut self.links[i];
        let sent = l.counters.sent * unit;
        let back = l.counters.responses_sent * unit;
        let errors = l.counters.response_errors * unit;
        let refused = (l.refused + l.breaker_refused) * unit;
        let (d_sent, d_back) = (
            sent.saturating_sub(m.sent),
            back.saturating_sub(m.responses),
        );
        let d_err = errors.saturating_sub(m.errors);
        let d_ref = refused.saturating_sub(m.refused);
        (m.sent, m.responses, m.errors, m.refused) = (sent, back, errors, refused);
        let mut out = vec![];
        if self.mode == Mode::Stretched {
            m.acc_fwd += d_sent;
            m.acc_back += d_back;
            let mut k_fwd = m.acc_fwd / n;
            let k_back = m.acc_back / n;
            m.acc_fwd %= n;
            m.acc_back %= n;
            // The floor: an edge with traffic is never empty for long.
            if k_fwd == 0 && d_sent > 0 && now.saturating_sub(m.last_emit) >= floor {
                k_fwd = 1;
                m.acc_fwd = 0;
            }
            let err_share = if d_back > 0 {
                d_err as f64 / d_back as f64
            } else {
                0.0
            };
            for j in 0..k_fwd {
                out.push((Kind::Request, spread(since, now, j, k_fwd)));
            }
            for j in 0..k_back {
                let kind = if (j as f64 + 0.5) / (k_back as f64) < err_share {
                    Kind::Error
                } else {
                    Kind::Response
                };
                out.push((kind, spread(since, now, j, k_back)));
            }
        }
        // Refusals bounce back at the gate, whatever the mode: each is news.
        let k_ref = d_ref.div_ceil(n).min(50);
        for j in 0..k_ref {
            out.push((Kind::Refused, spread(since, now, j, k_ref)));
        }
        if !out.is_empty() {
            m.last_emit = now;
        }
        for (kind, born) in out {
            let (flow, priority) = self.colour_key(i);
            self.live.push(Particle {
                link,
                kind,
                born,
                life,
                flow,
                priority,
            });
            self.emitted[i] += 1;
        }
    }

    /// A deterministic walk through the flows that cross link `i`.
    fn colour_key(&mut self, i: usize) -> (u16, u8) {
        let m = &mut self.links[i];
        m.turn += 1;
        let flows = &self.flows[i];
        if flows.is_empty() {
            return (0, 2);
        }
        let (f, p) = flows[(m.turn as usize * 7919) % flows.len()];
        (f, p)
    }

    /// Markers where requests were lost since the last update.
    fn losses(&mut self, view: &SimView, since: Nanos, now: Nanos, life: Nanos) {
        let unit = view.unit();
        self.instances.resize(view.instance_count(), (0, 0));
        for inst in view.instances() {
            let (d, f) = (inst.counters.dropped * unit, inst.counters.failed * unit);
            let prev = &mut self.instances[inst.index as usize];
            let (dd, df) = (d.saturating_sub(prev.0), f.saturating_sub(prev.1));
            *prev = (d, f);
            for (kind, count) in [(MarkerKind::Dropped, dd), (MarkerKind::Failed, df)] {
                if count > 0 {
                    self.markers.push(Marker {
                        at: NodeRef::Component(inst.component),
                        instance: inst.ordinal,
                        kind,
                        count,
                        born: since.max(now.saturating_sub(life)),
                        life,
                    });
                }
            }
        }
        self.sources.resize(view.source_count(), (0, 0));
        for s in view.sources() {
            let t = s.counters.ended[crate::sim::flow::request::Outcome::TimedOut as usize] * unit;
            let r = s.counters.retries * unit;
            let prev = &mut self.sources[s.index as usize];
            let (dt, dr) = (t.saturating_sub(prev.0), r.saturating_sub(prev.1));
            *prev = (t, r);
            if dt > 0 {
                self.markers.push(Marker {
                    at: NodeRef::Source(s.index),
                    instance: 0,
                    kind: MarkerKind::TimedOut,
                    count: dt,
                    born: now,
                    life,
                });
            }
            // Retries: a share of the first hop's particles travel marked.
            if dr > 0 && self.mode == Mode::Stretched {
                let k = dr.div_ceil(self.per_particle.max(1)).min(20);
                for &link in s.links {
                    for j in 0..k {
                        self.live.push(Particle {
                            link,
                            kind: Kind::Retry,
                            born: spread(since, now, j, k),
                            life,
                            flow: 0,
                            priority: 2,
                        });
                    }
                }
            }
        }
    }

    /// Particles to draw at the view's time: the live ones, and in exact mode the requests and
    /// responses on the wire (one in `per_particle`, chosen by their departure time).
    pub fn visible(&self, view: &SimView) -> Vec<Particle> {
        let mut out = self.live.clone();
        if self.mode == Mode::Exact {
            let n = self.per_particle.max(1);
            for l in view.links() {
                for t in view.in_transit(l.index) {
                    if n > 1 && !splitmix(t.depart).is_multiple_of(n) {
                        continue;
                    }
                    let kind = match t.kind {
                        TransitKind::Request => Kind::Request,
                        TransitKind::Response { error: false } => Kind::Response,
                        TransitKind::Response { error: true } => Kind::Error,
                    };
                    out.push(Particle {
                        link: l.index,
                        kind,
                        born: t.depart,
                        life: t.arrive.saturating_sub(t.depart).max(1),
                        flow: t.flow,
                        priority: t.priority as u8,
                    });
                }
            }
        }
        out
    }
}

/// The `j`-th of `k` instants spread evenly over `(since, now]`.
fn spread(since: Nanos, now: Nanos, j: u64, k: u64) -> Nanos {
    let span = now.saturating_sub(since);
    now - span * (k - 1 - j.min(k - 1)) / k.max(1)
}

/// A well-mixed hash of a departure time, to thin requests on the wire without flicker.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Mean one-way latency over the links with traffic on the wire now (s); 0 when none.
fn mean_latency_s(view: &SimView) -> f64 {
    let (mut sum, mut n) = (0.0, 0u64);
    for l in view.links() {
        for t in view.in_transit(l.index).take(16) {
            sum += t.arrive.saturating_sub(t.depart) as f64 / SEC;
            n += 1;
        }
    }
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// Per link: the (flow, priority class) pairs of the flows that cross it, for colours.
fn link_flows(view: &SimView, routes: &Routes) -> Vec<Vec<(u16, u8)>> {
    let topo = view.topology();
    let mut out = vec![vec![]; view.link_count()];
    for (fi, f) in routes.flows.iter().enumerate() {
        let mut from = NodeRef::Source(f.source);
        for (k, hop) in f.hops.iter().enumerate() {
            for &(to, _) in hop {
                let link = match from {
                    NodeRef::Source(s) => topo.source_links[s as usize]
                        .iter()
                        .copied()
                        .find(|l| view.link(*l).is_some_and(|v| v.to == to)),
                    NodeRef::Component(c) => topo.components[c as usize]
                        .out
                        .iter()
                        .find(|o| o.0 == to)
                        .map(|o| o.1),
                };
                if let Some(l) = link {
                    for p in 0..4u8 {
                        out[l as usize].push((fi as u16, p));
                    }
                }
            }
            // After a feedback hop not taken, or a fan-out, the request goes on from where it
            // was.
            if f.back[k].is_none() && f.fan[k].is_none() {
                from = NodeRef::Component(hop[0].0);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_is_1_2_5() {
        let got: Vec<u64> = [0.3, 1.0, 1.5, 3.0, 7.0, 11.0, 49.0, 51.0, 2000.0]
            .iter()
            .map(|x| ladder(*x))
            .collect();
        assert_eq!(got, [1, 1, 2, 5, 10, 20, 50, 100, 2000]);
    }

    #[test]
    fn spread_instants_cover_the_interval() {
        let t: Vec<Nanos> = (0..4).map(|j| spread(0, 100, j, 4)).collect();
        assert_eq!(t, [25, 50, 75, 100]);
        assert_eq!(spread(10, 10, 0, 1), 10);
    }
}
