//! The flow phase: an exact discrete-event simulation of the traffic inside each fixed tick.
//! Every arrival, service completion and response is an event on one agenda, handled in time
//! order across the whole network, so a request may cross many hops within a tick and a
//! caller's worker is freed at the exact moment its response arrives. Events after the tick
//! stay on the agenda (service timers) or on the wire (link lanes, which the visualizer draws).

use super::dist::Nanos;
use super::events::{EventKind, SimEvent, Subject};
use super::instance::{Instance, Outbox, Window};
use super::link::Admit;
use super::link::{Link, NodeRef};
use super::metrics::ComponentLatency;
use super::policy::admission;
use super::query::{self, Answer, Asking, CheckEvent, HealthQueries, QuerySlots};
use super::rate::{Fallbacks, FlowConfig};
use super::request::{Outcome, Request, Response, Ret, Status};
use super::source::Source;
use super::topology::{Routes, Topology};
use super::{SimClock, SimSystems, SimTick};
use crate::scenario::CallKind;
use bevy::prelude::*;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Something that happens at a point in simulated time.
#[derive(Debug, Clone, Copy)]
enum Ev {
    /// A request reaches the receiver of `link`.
    Arrive { link: u32, req: Request },
    /// A service timer fires.
    Timer {
        instance: u32,
        worker: u32,
        incarnation: u32,
    },
    /// A response reaches the sender of `link`; `local` when the sender's own flow control or
    /// breaker refused the request (not counted as an error of the receiver).
    Respond {
        link: u32,
        resp: Response,
        local: bool,
    },
    /// An instance is taken down, brought back, slowed or retired (the command door).
    Fault { instance: u32, action: FaultAction },
    /// Requests held at the sender of `link` by its rate limit may go.
    Release { link: u32 },
}

/// Pending events, handed out in time order (ties in order of scheduling). Three stores keep
/// the common cases cheap: what is known at the start of a tick (the wire's deliveries and the
/// sources' arrivals) is sorted once; events at the current instant (zero-latency hops) go to a
/// FIFO; only the rest (service timers, latencies inside the tick) use the binary heap.
#[derive(Resource, Default)]
pub struct Agenda {
    heap: BinaryHeap<Reverse<(Nanos, u64, u32)>>,
    slab: Vec<Option<Ev>>,
    free: Vec<u32>,
    batch: Vec<(Nanos, u64, Ev)>,
    cursor: usize,
    instant: std::collections::VecDeque<Ev>,
    /// Links with something on the wire (only these are looked at when a tick starts).
    wired: Vec<u32>,
    wired_flag: Vec<bool>,
    now: Nanos,
    filling: bool,
    seq: u64,
}

impl Agenda {
    fn push(&mut self, at: Nanos, ev: Ev) {
        self.seq += 1;
        if self.filling {
            self.batch.push((at, self.seq, ev));
            return;
        }
        if at == self.now {
            self.instant.push_back(ev);
            return;
        }
        let slot = match self.free.pop() {
            Some(s) => {
                self.slab[s as usize] = Some(ev);
                s
            }
            None => {
                self.slab.push(Some(ev));
                (self.slab.len() - 1) as u32
            }
        };
        self.heap.push(Reverse((at, self.seq, slot)));
    }

    /// Notes that `link` has something on the wire.
    fn wire(&mut self, link: u32) {
        let i = link as usize;
        if i >= self.wired_flag.len() {
            self.wired_flag.resize(i + 1, false);
        }
        if !self.wired_flag[i] {
            self.wired_flag[i] = true;
            self.wired.push(link);
        }
    }

    /// Starts collecting the tick's known events.
    fn begin(&mut self) {
        self.batch.clear();
        self.cursor = 0;
        self.filling = true;
    }

    /// Sorts the collected events; from now on pushes are scheduled individually.
    fn seal(&mut self) {
        self.batch.sort_unstable_by_key(|e| (e.0, e.1));
        self.filling = false;
    }

    fn pop_before(&mut self, until: Nanos) -> Option<(Nanos, Ev)> {
        if let Some(ev) = self.instant.pop_front() {
            return Some((self.now, ev));
        }
        let batch = self.batch.get(self.cursor).map(|e| (e.0, e.1));
        let heap = self.heap.peek().map(|r| (r.0.0, r.0.1));
        let take_batch = match (batch, heap) {
            (None, None) => return None,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(b), Some(h)) => b < h,
        };
        if take_batch {
            let (at, _, ev) = self.batch[self.cursor];
            if at >= until {
                return None;
            }
            self.cursor += 1;
            self.now = at;
            Some((at, ev))
        } else {
            let &Reverse((at, _, slot)) = self.heap.peek()?;
            if at >= until {
                return None;
            }
            self.heap.pop();
            self.free.push(slot);
            self.now = at;
            self.slab[slot as usize].take().map(|e| (at, e))
        }
    }

    /// Events waiting (service timers in progress, at a tick boundary).
    pub fn len(&self) -> usize {
        self.heap.len() + self.instant.len() + self.batch.len() - self.cursor
    }

    /// True when nothing is scheduled.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What the command door does to an instance, at an exact time inside a tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FaultAction {
    /// Down for `duration` (what it holds fails, as in a crash); `scheduled` when it comes from
    /// the scenario's `faults`.
    Down {
        /// How long (ns).
        duration: Nanos,
        /// From the scenario's `faults`.
        scheduled: bool,
    },
    /// Back up now, if down.
    Up,
    /// Service times multiplied by `factor` for `duration`.
    Slow {
        /// How long (ns).
        duration: Nanos,
        /// Multiplier.
        factor: f64,
    },
    /// Taken out of service for good (fewer instances); what it holds fails.
    Retire,
}

/// An instance action due at an exact time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimedFault {
    /// When (ns).
    pub at: Nanos,
    /// Global instance index.
    pub instance: u32,
    /// What.
    pub action: FaultAction,
}

/// Instance actions the command door has made due and the flow phase has not begun yet,
/// latest first.
#[derive(Resource, Debug, Default, Clone)]
pub struct Faults {
    /// Pending actions, sorted so the next one is last.
    pub pending: Vec<TimedFault>,
}

impl Faults {
    /// Adds an action, keeping the next one (by time, then instance) last.
    pub fn add(&mut self, f: TimedFault) {
        self.pending.push(f);
        self.pending
            .sort_by_key(|p| std::cmp::Reverse((p.at, p.instance)));
    }
}

/// Requests queued per component, and the highest total seen (simulated units).
#[derive(Resource, Debug, Default, Clone)]
pub struct QueuePeaks {
    /// Current total queue per component.
    pub current: Vec<u64>,
    /// Highest total queue per component.
    pub peak: Vec<u64>,
}

impl QueuePeaks {
    fn resize(&mut self, n: usize) {
        self.current.resize(n, 0);
        self.peak.resize(n, 0);
    }

    fn change(&mut self, component: u32, before: u64, after: u64) {
        let c = component as usize;
        self.current[c] = self.current[c] + after - before;
        self.peak[c] = self.peak[c].max(self.current[c]);
    }
}

/// Buffers reused from tick to tick.
#[derive(Default)]
pub struct Scratch {
    requests: Vec<Request>,
    responses: Vec<Response>,
    sends: Vec<(u32, Request)>,
    loads: Vec<(bool, u64, f64)>,
    published_to: Vec<u32>,
    refused: Vec<Request>,
    released: Vec<Request>,
    out: Outbox,
}

/// The queries the flow phase works on.
type Net<'w, 's> = (
    Query<'w, 's, &'static mut Source>,
    Query<'w, 's, &'static mut Instance>,
    Query<'w, 's, &'static mut Link>,
    Query<'w, 's, &'static mut ComponentLatency>,
);

/// A load balancer (or a source in front of one) asks each instance of the receiver through its
/// cache before routing; keeps the healths to route by, and until when they all stay cached.
#[allow(clippy::too_many_arguments)]
fn ask_instances(
    l: &mut Link,
    info: &super::topology::ComponentInfo,
    topo: &Topology,
    at: Nanos,
    slots: &mut QuerySlots,
    queries: &HealthQueries,
    spec: &crate::scenario::BackpressureSpec,
    events: &mut MessageWriter<SimEvent>,
) {
    let n = info.instances.len();
    let link = l.index;
    let flow = &mut l.flow;
    flow.instance_views.resize_with(n, Default::default);
    flow.instance_health.clear();
    // Query slots: components first, then sources.
    let asker = match l.from {
        NodeRef::Component(c) => c as usize,
        NodeRef::Source(si) => topo.components.len() + si as usize,
    };
    let ttl = (spec.query_ttl_ms.load_balancer * 1e6) as Nanos;
    let mut asking = Asking {
        slots,
        asker,
        now: at,
        ttl,
        spec,
    };
    let mut fresh_until = Nanos::MAX;
    for (k, e) in info.instances.iter().enumerate() {
        let view = &mut flow.instance_views[k];
        let (got, source, event) = asking.ask(view, &mut flow.stats, || {
            queries
                .get_health_status(*e)
                .map(|h| Answer::from_status(h, at, spec))
        });
        if let Some(ev) = event {
            let kind = EventKind::HealthCheck {
                opened: ev == CheckEvent::Opened,
                open_s: spec.check_open_s,
            };
            events.write(SimEvent::new(
                at,
                Subject::LinkInstance(link, k as u32),
                kind,
            ));
        }
        // Nothing known (the health-check breaker is open): avoid it.
        let (h, until) = match source {
            query::Source::Unknown => (0.0, view.open_until.unwrap_or(at)),
            query::Source::Fresh | query::Source::Cached if !spec.broadcast => (
                got.map_or(1.0, |a| a.health),
                got.map_or(at, |a| a.at + ttl),
            ),
            _ => (got.map_or(1.0, |a| a.health), at),
        };
        fresh_until = fresh_until.min(until);
        flow.instance_health.push(h);
    }
    flow.instance_fresh_until = fresh_until;
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Agenda>()
        .init_resource::<QueuePeaks>()
        .init_resource::<Faults>()
        .add_systems(SimTick, sweep.in_set(SimSystems::Flow));
}

/// Back to t = 0: nothing scheduled, nothing on the wire.
pub(super) fn reset(world: &mut World) {
    world.insert_resource(Agenda::default());
    world.insert_resource(QueuePeaks::default());
    world.insert_resource(Faults::default());
}

/// Moves traffic for one tick.
pub fn sweep(
    clock: Res<SimClock>,
    topo: Res<Topology>,
    routes: Res<Routes>,
    mut agenda: ResMut<Agenda>,
    mut peaks: ResMut<QueuePeaks>,
    mut faults: ResMut<Faults>,
    fallbacks: Res<Fallbacks>,
    flow_config: Res<FlowConfig>,
    queries: HealthQueries,
    mut slots: ResMut<QuerySlots>,
    mut events: MessageWriter<SimEvent>,
    mut net: Net,
    mut scratch: Local<Scratch>,
) {
    let (from, until) = (clock.start, clock.now);
    let s = &mut *scratch;

    // What the wire delivers in this tick and what the sources send is known now.
    agenda.begin();
    let (sources, _, links, _) = &mut net;
    let mut wired = std::mem::take(&mut agenda.wired);
    wired.sort_unstable();
    for &li in &wired {
        let Ok(mut link) = links.get_mut(topo.links[li as usize]) else {
            continue;
        };
        link.take_due(until, &mut s.requests, &mut s.responses);
        if link.forward.is_empty() && link.backward.is_empty() {
            agenda.wired_flag[li as usize] = false;
        } else {
            agenda.wired.push(li);
        }
        for r in s.requests.drain(..) {
            agenda.push(r.at, Ev::Arrive { link: li, req: r });
        }
        for r in s.responses.drain(..) {
            agenda.push(
                r.at,
                Ev::Respond {
                    link: li,
                    resp: r,
                    local: false,
                },
            );
        }
    }
    // Instance actions from the command door that begin in this tick.
    while let Some(&f) = faults.pending.last() {
        if f.at >= until {
            break;
        }
        faults.pending.pop();
        agenda.push(
            f.at.max(from),
            Ev::Fault {
                instance: f.instance,
                action: f.action,
            },
        );
    }
    // Sources: timeouts, retries and new arrivals of this tick.
    for &e in &topo.sources {
        if let Ok(mut src) = sources.get_mut(e) {
            src.emit(from, until, &mut s.sends);
        }
    }
    send_all(
        &topo,
        links,
        &mut agenda,
        &mut s.sends,
        &mut s.refused,
        until,
    );
    agenda.seal();
    peaks.resize(topo.components.len());

    while let Some((at, ev)) = agenda.pop_before(until) {
        let (sources, instances, links, _) = &mut net;
        let mut touched: Option<u32> = None;
        match ev {
            Ev::Arrive { link, req } => {
                let Ok(mut l) = links.get_mut(topo.links[link as usize]) else {
                    continue;
                };
                l.counters.delivered += 1;
                let info = &topo.components[l.to as usize];
                touched = Some(l.to);
                let k = if info.instances.len() == 1 {
                    0
                } else if l.call == CallKind::Pull {
                    // A pulled message goes to the instance with the most idle workers.
                    l.pulling = l.pulling.saturating_sub(1);
                    let caps = info
                        .instances
                        .iter()
                        .map(|e| instances.get(*e).map_or(0, |i| i.pull_capacity()));
                    caps.enumerate()
                        .max_by_key(|(i, c)| (*c, std::cmp::Reverse(*i)))
                        .map_or(0, |x| x.0)
                } else {
                    if l.strategy == crate::scenario::Strategy::Healthiest {
                        let n = info.instances.len();
                        if at < l.flow.instance_fresh_until && l.flow.instance_health.len() == n {
                            // Every answer is still cached (or its breaker still open).
                            l.flow.stats.cache_hits += n as u64;
                        } else {
                            ask_instances(
                                &mut l,
                                info,
                                &topo,
                                at,
                                &mut slots,
                                &queries,
                                &flow_config.spec,
                                &mut events,
                            );
                        }
                    }
                    s.loads.clear();
                    for (k, e) in info.instances.iter().enumerate() {
                        // Health only matters to `Healthiest`; others leave it empty.
                        let h = l.flow.instance_health.get(k).copied().unwrap_or(1.0);
                        s.loads.push(
                            instances
                                .get(*e)
                                .map(|i| (i.accepts_at(at), i.outstanding(), h))
                                .unwrap_or((false, 0, 0.0)),
                        );
                    }
                    l.pick(&mut s.loads)
                };
                let window = Window {
                    comp: info,
                    routes: &routes,
                    reroute: &fallbacks.reroute,
                    stale: fallbacks.stale.get(l.to as usize).copied().unwrap_or(0.0),
                };
                if let Ok(mut inst) = instances.get_mut(info.instances[k]) {
                    let before = inst.queued;
                    inst.arrive(req, &window, &mut s.out);
                    peaks.change(inst.component, before, inst.queued);
                }
            }
            Ev::Timer {
                instance,
                worker,
                incarnation,
            } => {
                let Ok(mut inst) = instances.get_mut(topo.instances[instance as usize]) else {
                    continue;
                };
                touched = Some(inst.component);
                let window = Window {
                    comp: &topo.components[inst.component as usize],
                    routes: &routes,
                    reroute: &fallbacks.reroute,
                    stale: fallbacks
                        .stale
                        .get(inst.component as usize)
                        .copied()
                        .unwrap_or(0.0),
                };
                let before = inst.queued;
                inst.timer(worker, incarnation, at, &window, &mut s.out);
                peaks.change(inst.component, before, inst.queued);
            }
            Ev::Fault { instance, action } => {
                let Ok(mut inst) = instances.get_mut(topo.instances[instance as usize]) else {
                    continue;
                };
                touched = Some(inst.component);
                let before = inst.queued;
                inst.apply_fault(at, action, &mut s.out);
                peaks.change(inst.component, before, inst.queued);
            }
            Ev::Release { link } => {
                let Ok(mut l) = links.get_mut(topo.links[link as usize]) else {
                    continue;
                };
                l.flow.release_pending = false;
                admission::release(&mut l, at, &mut s.released);
                for r in s.released.drain(..) {
                    match l.send(r, until) {
                        Some((t, req)) => agenda.push(t, Ev::Arrive { link, req }),
                        None => agenda.wire(link),
                    }
                }
                if admission::held(&l) > 0 {
                    l.flow.release_pending = true;
                    let t = admission::next_release(&l, at);
                    agenda.push(t, Ev::Release { link });
                }
            }
            Ev::Respond { link, resp, local } => {
                let Ok(mut l) = links.get_mut(topo.links[link as usize]) else {
                    continue;
                };
                l.counters.responses_delivered += 1;
                if !local && matches!(resp.status, Status::Err(_)) {
                    l.counters.response_errors += 1;
                }
                match (l.from, resp.req.ret) {
                    (NodeRef::Source(si), _) => {
                        if let Ok(mut src) = sources.get_mut(topo.sources[si as usize]) {
                            src.on_response(resp, until, &mut s.sends);
                        }
                    }
                    (NodeRef::Component(_), Ret::Worker { instance, .. }) => {
                        if let Ok(mut inst) = instances.get_mut(topo.instances[instance as usize]) {
                            touched = Some(inst.component);
                            let before = inst.queued;
                            inst.on_response(resp, &mut s.out);
                            peaks.change(inst.component, before, inst.queued);
                        }
                    }
                    _ => {}
                }
            }
        }
        deliver(&topo, &routes, &mut agenda, &mut net, s, until);
        events.write_batch(s.out.events.drain(..));
        // A worker may have come free, or a topic been filled: consumers pull.
        if let Some(c) = touched
            && !topo.components[c as usize].pull_links.is_empty()
        {
            pull(&topo, c, at, &mut agenda, &mut net, until);
        }
        while let Some(c) = s.published_to.pop() {
            pull(&topo, c, at, &mut agenda, &mut net, until);
        }
    }
}

/// Consumers of component `c` pull messages from their topics while they have idle workers
/// that no pulled message is already on its way to.
fn pull(topo: &Topology, c: u32, at: Nanos, agenda: &mut Agenda, net: &mut Net, until: Nanos) {
    let (_, instances, links, _) = net;
    let info = &topo.components[c as usize];
    let idle: u64 = info
        .instances
        .iter()
        .filter_map(|e| instances.get(*e).ok())
        .map(|i| i.pull_capacity())
        .sum();
    let on_the_way: u64 = info
        .pull_links
        .iter()
        .filter_map(|l| links.get(topo.links[*l as usize]).ok())
        .map(|l| l.pulling)
        .sum();
    let mut room = idle.saturating_sub(on_the_way);
    while room > 0 {
        let mut any = false;
        for &li in &info.pull_links {
            if room == 0 {
                break;
            }
            let Ok(mut link) = links.get_mut(topo.links[li as usize]) else {
                continue;
            };
            let Some(mut req) = link.topic.pop_front() else {
                continue;
            };
            any = true;
            room -= 1;
            link.pulling += 1;
            req.at = at;
            match link.send(req, until) {
                Some((t, r)) => agenda.push(t, Ev::Arrive { link: li, req: r }),
                None => agenda.wire(li),
            }
        }
        if !any {
            break;
        }
    }
}

/// Applies what an event produced: timers, requests and responses onto links or the agenda,
/// ends of detached requests, and latencies.
fn deliver(
    topo: &Topology,
    routes: &Routes,
    agenda: &mut Agenda,
    net: &mut Net,
    s: &mut Scratch,
    until: Nanos,
) {
    let (sources, instances, links, latency) = net;
    for (at, instance, worker, incarnation) in s.out.timers.drain(..) {
        agenda.push(
            at,
            Ev::Timer {
                instance,
                worker,
                incarnation,
            },
        );
    }
    s.sends.append(&mut s.out.sends);
    send_all(topo, links, agenda, &mut s.sends, &mut s.refused, until);
    for (li, req) in s.out.publishes.drain(..) {
        let Ok(mut link) = links.get_mut(topo.links[li as usize]) else {
            continue;
        };
        match link.publish(req) {
            Ok(()) => s.published_to.push(link.to),
            Err(req) => {
                // The broker's topic is full: the message is dropped there.
                let src = routes.flows[req.flow as usize].source;
                if let Ok(mut source) = sources.get_mut(topo.sources[src as usize]) {
                    source.detached_end(&req, Outcome::Dropped, req.at);
                }
            }
        }
    }
    for r in s.out.replies.drain(..) {
        if let Ok(mut link) = links.get_mut(topo.links[r.req.via as usize]) {
            match link.reply(r, until) {
                // A client behind a zero-latency link hears at once: no need to schedule it.
                Some((at, resp)) if at == r.at && matches!(link.from, NodeRef::Source(_)) => {
                    let NodeRef::Source(si) = link.from else {
                        unreachable!()
                    };
                    link.counters.responses_delivered += 1;
                    if matches!(resp.status, Status::Err(_)) {
                        link.counters.response_errors += 1;
                    }
                    if let Ok(mut src) = sources.get_mut(topo.sources[si as usize]) {
                        src.on_response(resp, until, &mut s.sends);
                    }
                }
                Some((at, resp)) => agenda.push(
                    at,
                    Ev::Respond {
                        link: r.req.via,
                        resp,
                        local: false,
                    },
                ),
                None => agenda.wire(r.req.via),
            }
        }
    }
    if !s.sends.is_empty() {
        send_all(topo, links, agenda, &mut s.sends, &mut s.refused, until);
    }
    for req in s.refused.drain(..) {
        s.out.ends.push((req, Outcome::Rejected, req.at));
    }
    for (req, outcome, at) in s.out.ends.drain(..) {
        let src = routes.flows[req.flow as usize].source;
        if let Ok(mut source) = sources.get_mut(topo.sources[src as usize]) {
            source.detached_end(&req, outcome, at);
        }
    }
    if !s.out.sojourns.is_empty() {
        // Sojourns come from the one instance that handled the event.
        let comp = s.out.sojourns_of.take().and_then(|i| {
            instances
                .get(topo.instances[i as usize])
                .ok()
                .map(|i| i.component)
        });
        if let Some(c) = comp
            && let Ok(mut lat) = latency.get_mut(topo.components[c as usize].entity)
        {
            for v in s.out.sojourns.drain(..) {
                lat.record(v);
            }
        }
        s.out.sojourns.clear();
    }
}

fn send_all(
    topo: &Topology,
    links: &mut Query<&mut Link>,
    agenda: &mut Agenda,
    sends: &mut Vec<(u32, Request)>,
    refused: &mut Vec<Request>,
    until: Nanos,
) {
    for (l, r) in sends.drain(..) {
        let Ok(mut link) = links.get_mut(topo.links[l as usize]) else {
            continue;
        };
        let r_at = r.at;
        let r = match admission::admit(&mut link, r) {
            Admit::Send(r) => r,
            Admit::Held => {
                if !link.flow.release_pending {
                    link.flow.release_pending = true;
                    let t = admission::next_release(&link, r_at);
                    agenda.push(t, Ev::Release { link: l });
                }
                continue;
            }
            Admit::Refused(r) => {
                refuse(&mut link, l, r, agenda, refused);
                continue;
            }
        };
        match link.send(r, until) {
            Some((at, req)) => agenda.push(at, Ev::Arrive { link: l, req }),
            None => agenda.wire(l),
        }
    }
}

/// A request refused at its sender: a waiting caller gets a 503 at once; a detached request ends.
fn refuse(link: &mut Link, l: u32, req: Request, agenda: &mut Agenda, refused: &mut Vec<Request>) {
    match req.ret {
        Ret::Worker { .. } => {
            link.counters.responses_sent += 1;
            let resp = Response {
                at: req.at,
                req,
                status: Status::Err(Outcome::Rejected),
            };
            agenda.push(
                req.at,
                Ev::Respond {
                    link: l,
                    resp,
                    local: true,
                },
            );
        }
        _ => refused.push(req),
    }
}
