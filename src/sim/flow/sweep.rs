//! The flow phase: an exact discrete-event simulation of the traffic inside each fixed tick.
//! Every arrival, service completion and response is an event on one agenda, handled in time
//! order across the whole network, so a request may cross many hops within a tick and a
//! caller's worker is freed at the exact moment its response arrives. Events after the tick
//! stay on the agenda (service timers) or on the wire (link lanes, which the visualizer draws).

use crate::scenario::CallKind;
use crate::sim::SimClock;
use crate::sim::SimSystems;
use crate::sim::SimTick;
use crate::sim::control::queries::{self, Answer, Asking, CheckEvent, HealthQueries, QuerySlots};
use crate::sim::control::rate::{Fallbacks, FlowConfig};
use crate::sim::door::faults::Faults;
use crate::sim::flow::agenda::{Agenda, Ev};
use crate::sim::flow::core::FlowCore;
use crate::sim::flow::instance::{Instance, Outbox, Surroundings};
use crate::sim::flow::link::{Admit, Due};
use crate::sim::flow::link::{Link, NodeRef};
use crate::sim::flow::prefetch;
use crate::sim::flow::request::{Outcome, Reply, Request, Response, Ret};
use crate::sim::flow::source::TrafficSource;
use crate::sim::read::events::{EventKind, SimEvent, Subject};
use crate::sim::schedule::dist::Nanos;
use crate::sim::schedule::topology::{Routes, Topology};
use crate::sim::strategies::redelivery::Fate;
use crate::sim::{LoadSystems, SimLoad};
use bevy::prelude::*;

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
    sends: Vec<(u32, Request)>,
    loads: Vec<(bool, u64, f64)>,
    published_to: Vec<u32>,
    refused: Vec<Request>,
    released: Vec<Request>,
    out: Outbox,
}

/// A load balancer (or a source in front of one) asks each instance of the receiver through its
/// cache before routing; keeps the healths to route by, and until when they all stay cached.
#[allow(clippy::too_many_arguments)]
fn ask_instances(
    l: &mut Link,
    info: &crate::sim::schedule::topology::ComponentInfo,
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
            queries::Freshness::Unknown => (0.0, view.open_until.unwrap_or(at)),
            queries::Freshness::Fresh | queries::Freshness::Cached if !spec.broadcast => (
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

pub(in crate::sim) fn plugin(app: &mut App) {
    app.init_resource::<Agenda>()
        .init_resource::<QueuePeaks>()
        .init_resource::<Faults>()
        .add_systems(SimTick, sweep.in_set(SimSystems::Flow))
        .add_systems(SimLoad, reset.in_set(LoadSystems::Clear));
}

/// Of the next `k` ticks from `now`, how many the flow phase would find nothing to do in, as
/// far as the world tells (`idle_flow`).
pub fn quiet_flow(world: &World, now: Nanos, tick: Nanos, k: u64) -> u64 {
    let parts = (world.resource::<Agenda>(), world.resource::<Faults>());
    idle_flow(parts, world.resource::<FlowCore>(), (now, tick), k)
}

/// Of the next `k` ticks from `now` (ticks of `tick` ns), how many the flow phase would find
/// nothing to do in: no event in the agenda, instance action from the command door, arrival on
/// the wire, or source arrival, retry or deadline. Stops looking as soon as the answer is 0.
fn idle_flow(
    (agenda, faults): (&Agenda, &Faults),
    core: &FlowCore,
    (now, tick): (Nanos, Nanos),
    mut k: u64,
) -> u64 {
    // Ticks ending at or before `t`: an event at `t` is handled in the tick after them.
    let before = |t: Nanos| t.saturating_sub(now) / tick;
    k = k.min(before(agenda.next_at()));
    if let Some(f) = faults.pending.last() {
        k = k.min(before(f.at));
    }
    for &li in &agenda.wired {
        if k == 0 {
            return 0;
        }
        if let Some(l) = core.link(li) {
            k = k.min(before(l.next_due()));
        }
    }
    for src in &core.sources {
        if k == 0 {
            return 0;
        }
        let (deadline, next) = src.next_due();
        k = k.min(before(next));
        // A deadline is handled at the start of the tick after the one it falls in: one
        // already past is handled by the next tick.
        if deadline < now {
            return 0;
        } else if deadline < Nanos::MAX {
            k = k.min(before(deadline) + 1);
        }
    }
    k
}

/// Back to t = 0: nothing scheduled, nothing on the wire (the load schedule).
fn reset(world: &mut World) {
    world.insert_resource(Agenda::default());
    world.insert_resource(crate::sim::flow::routing::FanWaits::default());
    world.insert_resource(QueuePeaks::default());
    world.insert_resource(Faults::default());
}

/// What the handlers of one tick's events share.
struct Tick<'a, 'w, 's, 'e> {
    topo: &'a Topology,
    routes: &'a Routes,
    fallbacks: &'a Fallbacks,
    spec: &'a crate::scenario::BackpressureSpec,
    queries: &'a HealthQueries<'w, 's>,
    slots: &'a mut QuerySlots,
    events: &'a mut MessageWriter<'e, SimEvent>,
    agenda: &'a mut Agenda,
    peaks: &'a mut QueuePeaks,
    until: Nanos,
}

impl Tick<'_, '_, '_, '_> {
    /// The event context of an instance of component `c`.
    fn surroundings(&self, c: u32) -> Surroundings<'_> {
        Surroundings {
            comp: &self.topo.components[c as usize],
            routes: self.routes,
            reroute: &self.fallbacks.reroute,
            stale: self.fallbacks.stale.get(c as usize).copied().unwrap_or(0.0),
            sole: self.topo.sole(c),
        }
    }
}

/// What the flow phase works on: the network's state, the agenda and the wire.
#[derive(bevy::ecs::system::SystemParam)]
pub struct Flow<'w, 's> {
    topo: Res<'w, Topology>,
    routes: Res<'w, Routes>,
    agenda: ResMut<'w, Agenda>,
    peaks: ResMut<'w, QueuePeaks>,
    faults: ResMut<'w, Faults>,
    fallbacks: Res<'w, Fallbacks>,
    flow_config: Res<'w, FlowConfig>,
    queries: HealthQueries<'w, 's>,
    slots: ResMut<'w, QuerySlots>,
    events: MessageWriter<'w, SimEvent>,
    fans: ResMut<'w, crate::sim::flow::routing::FanWaits>,
    net: ResMut<'w, FlowCore>,
}

/// The flow phase of one tick (`SimTick`).
pub fn sweep(clock: Res<SimClock>, mut flow: Flow, mut scratch: Local<Scratch>) {
    flow.tick(&mut scratch, clock.start, clock.now);
}

impl<'w, 's> Flow<'w, 's> {
    /// Moves traffic for the tick `[from, until)`: what is known at its start goes on the
    /// agenda, then every event is handled in time order across the whole network.
    pub(in crate::sim) fn tick(&mut self, s: &mut Scratch, from: Nanos, until: Nanos) {
        let Flow {
            topo,
            routes,
            agenda,
            peaks,
            faults,
            fallbacks,
            flow_config,
            queries,
            slots,
            events,
            fans,
            net,
        } = self;
        begin_tick(agenda, faults, net, s, from, until);
        peaks.resize(topo.components.len());
        let mut cx = Tick {
            topo,
            routes,
            fallbacks,
            spec: &flow_config.spec,
            queries,
            slots,
            events,
            agenda,
            peaks,
            until,
        };
        let prefetch = prefetch::worth_it(net);
        while let Some((at, ev)) = cx.agenda.pop_before(cx.until) {
            if prefetch {
                prefetch::ahead(cx.agenda, net, cx.topo);
            }
            let touched = dispatch(&mut cx, net, s, at, ev);
            after_event(&mut cx, net, s, at, touched);
        }
        for (flow, hop, ns) in s.out.fan_waits.drain(..) {
            fans.record(flow, hop, ns);
        }
    }

    /// Of the next `most` ticks after `now` (ticks of `tick` ns), how many the flow would find
    /// nothing to do in (`idle_flow`), read through the flow's own queries.
    pub(in crate::sim) fn idle_ahead(&self, now: Nanos, tick: Nanos, most: u64) -> u64 {
        let parts = (&*self.agenda, &*self.faults);
        idle_flow(parts, &self.net, (now, tick), most)
    }

    /// The sources (whose finished requests the metrics collect) and the event writer.
    pub(in crate::sim) fn sources(
        &mut self,
    ) -> (u64, &mut [TrafficSource], &mut MessageWriter<'w, SimEvent>) {
        (self.topo.unit, &mut self.net.sources, &mut self.events)
    }
}

/// One event, handled by the part of the network it happens to. Returns the component touched.
fn dispatch(cx: &mut Tick, net: &mut FlowCore, s: &mut Scratch, at: Nanos, ev: Ev) -> Option<u32> {
    match ev {
        Ev::Arrive { link, req } => on_arrive(cx, net, s, at, link, req),
        Ev::Timer {
            instance,
            worker,
            incarnation,
        } => on_instance(cx, net, instance, |inst, w| {
            inst.timer(worker, incarnation, at, w, &mut s.out)
        }),
        Ev::Fault { instance, action } => on_instance(cx, net, instance, |inst, _| {
            inst.apply_fault(at, action, &mut s.out)
        }),
        Ev::Release { link } => on_release(cx, net, s, at, link),
        Ev::Credit { link } => {
            if let Some(l) = net.link_mut(link)
                && let Some(next) = l.credit_returned(at)
            {
                cx.agenda.send(l, link, next, cx.until);
            }
            None
        }
        Ev::Republish { link, req } => {
            s.out.publishes.push((link, req));
            if let Some(l) = net.link_mut(link)
                && let Some(r) = l.redelivery.as_mut()
            {
                r.waiting -= 1;
            }
            None
        }
        Ev::Respond { link, resp, local } => on_respond(cx, net, s, link, resp, local),
    }
}

/// What the wire delivers in this tick, the instance actions due in it, and what the sources
/// send are known at its start: they go on the agenda as one sorted batch.
fn begin_tick(
    agenda: &mut Agenda,
    faults: &mut Faults,
    net: &mut FlowCore,
    s: &mut Scratch,
    from: Nanos,
    until: Nanos,
) {
    agenda.begin(from, until);
    let FlowCore { sources, links, .. } = net;
    let mut wired = std::mem::take(&mut agenda.wired);
    wired.sort_unstable();
    for &li in &wired {
        let Some(link) = links.get_mut(li as usize) else {
            continue;
        };
        link.take_due_each(until, |m| match m {
            Due::Request(req) => agenda.push(req.at, Ev::Arrive { link: li, req }),
            Due::Response(resp) => {
                let ev = Ev::Respond {
                    link: li,
                    resp,
                    local: false,
                };
                agenda.push(resp.at, ev);
            }
        });
        if link.forward.is_empty() && link.backward.is_empty() {
            agenda.wired_flag[li as usize] = false;
        } else {
            agenda.wired.push(li);
        }
    }
    // Instance actions from the command door that begin in this tick.
    while let Some(f) = faults.next_before(until) {
        let ev = Ev::Fault {
            instance: f.instance,
            action: f.action,
        };
        agenda.push(f.at.max(from), ev);
    }
    // Sources: timeouts, retries and new arrivals of this tick.
    for src in sources.iter_mut() {
        src.emit(from, until, &mut s.sends);
    }
    send_all(links, agenda, &mut s.sends, &mut s.refused, until);
    agenda.seal();
}

/// A request reaches the receiver of `link`: the link's strategy picks an instance, which takes
/// it. Returns the component touched.
fn on_arrive(
    cx: &mut Tick,
    net: &mut FlowCore,
    s: &mut Scratch,
    at: Nanos,
    link: u32,
    req: Request,
) -> Option<u32> {
    let FlowCore {
        instances, links, ..
    } = net;
    let l = links.get_mut(link as usize)?;
    l.counters.delivered += 1;
    // With one instance the receiver is known from the dense table, with no walk through the
    // component's instance list; with several, the link picks one.
    let i = if let Some(i) = cx.topo.sole(l.to).instance() {
        i
    } else {
        let info = &cx.topo.components[l.to as usize];
        info.instance_ids[pick_instance(cx, instances, s, l, info, at)]
    };
    let window = cx.surroundings(l.to);
    let inst = instances.get_mut(i as usize)?;
    let before = inst.queued;
    inst.arrive(req, &window, &mut s.out);
    cx.peaks.change(inst.component, before, inst.queued);
    Some(l.to)
}

/// Which of the receiver's several instances a request arriving on `l` goes to: a pulled
/// message to the one with the most idle workers; otherwise the link's load-balancing strategy
/// picks (`Healthiest` asks each instance's health through the sender's cache first).
fn pick_instance(
    cx: &mut Tick,
    instances: &[Instance],
    s: &mut Scratch,
    l: &mut Link,
    info: &crate::sim::schedule::topology::ComponentInfo,
    at: Nanos,
) -> usize {
    if l.call == CallKind::Pull {
        l.pulling = l.pulling.saturating_sub(1);
        let caps = info
            .instance_ids
            .iter()
            .map(|i| instances.get(*i as usize).map_or(0, |i| i.pull_capacity()));
        return caps
            .enumerate()
            .max_by_key(|(i, c)| (*c, std::cmp::Reverse(*i)))
            .map_or(0, |x| x.0);
    }
    if l.strategy == crate::scenario::Balancing::Healthiest {
        let n = info.instances.len();
        if at < l.flow.instance_fresh_until && l.flow.instance_health.len() == n {
            // Every answer is still cached (or its breaker still open).
            l.flow.stats.cache_hits += n as u64;
        } else {
            let (topo, spec) = (cx.topo, cx.spec);
            ask_instances(l, info, topo, at, cx.slots, cx.queries, spec, cx.events);
        }
    }
    s.loads.clear();
    for (k, i) in info.instance_ids.iter().enumerate() {
        // Health only matters to `Healthiest`; others leave it empty.
        let h = l.flow.instance_health.get(k).copied().unwrap_or(1.0);
        s.loads.push(
            instances
                .get(*i as usize)
                .map(|i| (i.accepts_at(at), i.outstanding(), h))
                .unwrap_or((false, 0, 0.0)),
        );
    }
    l.pick(&mut s.loads)
}

/// Something happens to one instance (a service timer, an action of the command door).
fn on_instance(
    cx: &mut Tick,
    net: &mut FlowCore,
    instance: u32,
    f: impl FnOnce(&mut Instance, &Surroundings),
) -> Option<u32> {
    let inst = net.instance_mut(instance)?;
    let c = inst.component;
    let window = cx.surroundings(c);
    let before = inst.queued;
    f(inst, &window);
    cx.peaks.change(c, before, inst.queued);
    Some(c)
}

/// Requests held at the sender of `link` may go.
fn on_release(
    cx: &mut Tick,
    net: &mut FlowCore,
    s: &mut Scratch,
    at: Nanos,
    link: u32,
) -> Option<u32> {
    let l = net.link_mut(link)?;
    l.flow.release_pending = false;
    l.release_held(at, &mut s.released);
    for r in s.released.drain(..) {
        cx.agenda.send(l, link, r, cx.until);
    }
    if l.held() > 0 {
        l.flow.release_pending = true;
        let t = l.next_release(at);
        cx.agenda.push(t, Ev::Release { link });
    }
    None
}

/// A response reaches the sender of `link`: a client, or the worker that waits for it.
fn on_respond(
    cx: &mut Tick,
    net: &mut FlowCore,
    s: &mut Scratch,
    link: u32,
    resp: Response,
    local: bool,
) -> Option<u32> {
    let FlowCore {
        sources,
        instances,
        links,
        ..
    } = net;
    let l = links.get_mut(link as usize)?;
    l.counters.responses_delivered += 1;
    if local {
        l.counters.refused_locally += 1;
    } else if matches!(resp.status, Reply::Err(_)) {
        l.counters.response_errors += 1;
    }
    if !local {
        let failed = matches!(resp.status, Reply::Err(_));
        let state = l.breaker.state;
        if let Some((to, reason)) = l.breaker.calls.on_answer(&resp.req, resp.at, failed, state) {
            let k = cx.spec.breaker;
            l.breaker.enter(to, resp.at, k.open_block, k.half_open_pass);
            let kind = EventKind::Breaker {
                from: state,
                to,
                reason,
            };
            cx.events
                .write(SimEvent::new(resp.at, Subject::Link(link), kind));
        }
    }
    if !local && let Some(next) = l.window_answered(&resp) {
        cx.agenda.send(l, link, next, cx.until);
    }
    match (l.from, resp.req.ret) {
        (NodeRef::Source(si), _) => {
            if let Some(src) = sources.get_mut(si as usize) {
                src.on_response(resp, cx.until, &mut s.sends);
            }
            None
        }
        (NodeRef::Component(_), Ret::Worker { instance, .. }) => {
            let inst = instances.get_mut(instance as usize)?;
            let before = inst.queued;
            let window = cx.surroundings(inst.component);
            inst.on_response(resp, &window, &mut s.out);
            cx.peaks.change(inst.component, before, inst.queued);
            Some(inst.component)
        }
        // A detached request lost on the wire (a link fault) ends here.
        (NodeRef::Component(_), Ret::Detached) => {
            // The sender hears of the loss: its credit is back.
            if let Some(next) = l.credit_returned(resp.at) {
                cx.agenda.send(l, link, next, cx.until);
            }
            if let Reply::Err(o) = resp.status {
                let src = cx.routes.flows[resp.req.flow as usize].source;
                if let Some(source) = sources.get_mut(src as usize) {
                    source.detached_end(&resp.req, o, resp.at);
                }
            }
            None
        }
        _ => None,
    }
}

/// After each event: what it produced goes out, its events are emitted, and consumers pull if a
/// worker may have come free or a topic been filled.
fn after_event(
    cx: &mut Tick,
    net: &mut FlowCore,
    s: &mut Scratch,
    at: Nanos,
    touched: Option<u32>,
) {
    let (topo, until) = (cx.topo, cx.until);
    deliver(cx.routes, cx.agenda, net, s, until);
    cx.events.write_batch(s.out.events.drain(..));
    if let Some(c) = touched
        && !topo.components[c as usize].pull_links.is_empty()
    {
        pull(topo, c, at, cx.agenda, net, until);
    }
    while let Some(c) = s.published_to.pop() {
        pull(topo, c, at, cx.agenda, net, until);
    }
}

/// Consumers of component `c` pull messages from their topics while they have idle workers
/// that no pulled message is already on its way to.
fn pull(topo: &Topology, c: u32, at: Nanos, agenda: &mut Agenda, net: &mut FlowCore, until: Nanos) {
    let FlowCore {
        instances, links, ..
    } = net;
    let info = &topo.components[c as usize];
    let idle: u64 = info
        .instance_ids
        .iter()
        .filter_map(|i| instances.get(*i as usize))
        .map(|i| i.pull_capacity())
        .sum();
    let on_the_way: u64 = info
        .pull_links
        .iter()
        .filter_map(|l| links.get(*l as usize))
        .map(|l| l.pulling)
        .sum();
    let mut room = idle.saturating_sub(on_the_way);
    while room > 0 {
        let mut any = false;
        for &li in &info.pull_links {
            if room == 0 {
                break;
            }
            let Some(link) = links.get_mut(li as usize) else {
                continue;
            };
            let Some(mut req) = link.topic.pop_front() else {
                continue;
            };
            any = true;
            room -= 1;
            link.pulling += 1;
            req.at = at;
            agenda.send(link, li, req, until);
        }
        if !any {
            break;
        }
    }
}

/// Applies what an event produced: timers, requests and responses onto links or the agenda,
/// ends of detached requests, and latencies.
fn deliver(
    routes: &Routes,
    agenda: &mut Agenda,
    net: &mut FlowCore,
    s: &mut Scratch,
    until: Nanos,
) {
    let FlowCore {
        sources,
        instances,
        links,
        latency,
    } = net;
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
    give_credits_back(links, agenda, &mut s.out.credits);
    s.sends.append(&mut s.out.sends);
    send_all(links, agenda, &mut s.sends, &mut s.refused, until);
    for (li, req) in s.out.publishes.drain(..) {
        let Some(link) = links.get_mut(li as usize) else {
            continue;
        };
        match link.publish(req) {
            Ok(()) => s.published_to.push(link.to),
            Err(req) => {
                // The broker's topic is full: the message is dropped there.
                let src = routes.flows[req.flow as usize].source;
                if let Some(source) = sources.get_mut(src as usize) {
                    source.detached_end(&req, Outcome::Dropped, req.at);
                }
            }
        }
    }
    for r in s.out.replies.drain(..) {
        if let Some(link) = links.get_mut(r.req.via as usize) {
            match link.reply(r, until) {
                // A client behind a zero-latency link hears at once: no need to schedule it.
                Some((at, resp))
                    if at == r.at
                        && matches!(link.from, NodeRef::Source(_))
                        && link.window.is_none() =>
                {
                    let NodeRef::Source(si) = link.from else {
                        unreachable!()
                    };
                    link.counters.responses_delivered += 1;
                    if matches!(resp.status, Reply::Err(_)) {
                        link.counters.response_errors += 1;
                    }
                    if let Some(src) = sources.get_mut(si as usize) {
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
        send_all(links, agenda, &mut s.sends, &mut s.refused, until);
    }
    for req in s.refused.drain(..) {
        s.out.ends.push((req, Outcome::Rejected, req.at));
    }
    end_detached(routes, agenda, sources, links, &mut s.out.ends);
    if !s.out.sojourns.is_empty() {
        // Sojourns come from the one instance that handled the event.
        let comp =
            (s.out.sojourns_of.take()).and_then(|i| instances.get(i as usize).map(|i| i.component));
        if let Some(c) = comp
            && let Some(lat) = latency.get_mut(c as usize)
        {
            for v in s.out.sojourns.drain(..) {
                lat.record(v);
            }
        }
        s.out.sojourns.clear();
    }
}

/// Detached requests that ended: a broker redelivers one that failed at its consumer (or
/// dead-letters it); the rest end at their source's bookkeeping.
fn end_detached(
    routes: &Routes,
    agenda: &mut Agenda,
    sources: &mut [TrafficSource],
    links: &mut [Link],
    ends: &mut Vec<(Request, Outcome, Nanos)>,
) {
    for (req, outcome, at) in ends.drain(..) {
        // A broker redelivers a message that failed at its consumer, or dead-letters it.
        let fate = match outcome {
            Outcome::Completed => None,
            _ => links.get_mut(req.via as usize).and_then(|l| {
                let fate = l.redelivery.as_mut()?.failed(&req, at)?;
                match fate {
                    Fate::Again(..) => l.counters.redelivered += 1,
                    Fate::DeadLetter => l.counters.dead_lettered += 1,
                }
                Some(fate)
            }),
        };
        if let Some(Fate::Again(t, again)) = fate {
            agenda.push(
                t,
                Ev::Republish {
                    link: req.via,
                    req: again,
                },
            );
            continue;
        }
        let src = routes.flows[req.flow as usize].source;
        if let Some(source) = sources.get_mut(src as usize) {
            match fate {
                Some(_) => source.dead_lettered(&req, at),
                None => source.detached_end(&req, outcome, at),
            }
        }
    }
}

/// Credits a receiver gave back travel to the senders of links that run on credits.
fn give_credits_back(links: &mut [Link], agenda: &mut Agenda, credits: &mut Vec<(u32, Nanos)>) {
    for (li, at) in credits.drain(..) {
        if let Some(link) = links.get_mut(li as usize)
            && link.has_credits()
        {
            let t = link.credit_arrives(at);
            agenda.push(t, Ev::Credit { link: li });
        }
    }
}

fn send_all(
    links: &mut [Link],
    agenda: &mut Agenda,
    sends: &mut Vec<(u32, Request)>,
    refused: &mut Vec<Request>,
    until: Nanos,
) {
    for (l, r) in sends.drain(..) {
        let Some(link) = links.get_mut(l as usize) else {
            continue;
        };
        let r_at = r.at;
        let r = match link.admit(r) {
            Admit::Send(r) => r,
            Admit::Held => {
                if !link.flow.release_pending {
                    link.flow.release_pending = true;
                    let t = link.next_release(r_at);
                    agenda.push(t, Ev::Release { link: l });
                }
                continue;
            }
            Admit::Refused(r) => {
                refuse(link, l, r, agenda, refused);
                continue;
            }
            // It goes when an answer comes back (`on_respond`).
            Admit::Windowed => continue,
        };
        agenda.send(link, l, r, until);
    }
}

/// A request refused at its sender: a waiting caller or client gets a 503 (a limiter's 429) at
/// once; a detached request ends.
fn refuse(link: &mut Link, l: u32, req: Request, agenda: &mut Agenda, refused: &mut Vec<Request>) {
    match req.ret {
        Ret::Worker { .. } | Ret::Client => {
            link.counters.responses_sent += 1;
            let resp = Response {
                at: req.at,
                req,
                status: Reply::Err(Outcome::Rejected),
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
