//! The flow phase: one sweep per tick over sources, then components in topological order.
//! A request can cross several hops within one tick, and every instance replays its events in
//! time order, so latency is exact. Responses travel upstream and reach callers the next tick,
//! at their exact timestamps; only a caller's freed worker picks up new work from the start of
//! that tick (see docs/ENGINE.md, "Time").

use super::SimClock;
use super::dist::Nanos;
use super::instance::{Event, Instance, Outbox, Window};
use super::link::Link;
use super::metrics::ComponentLatency;
use super::request::{Request, Response, Ret};
use super::source::Source;
use super::topology::{Routes, Topology};
use bevy::prelude::*;

/// Buffers reused from tick to tick.
#[derive(Default)]
pub struct Scratch {
    requests: Vec<(Nanos, u64, Request)>,
    responses: Vec<(Nanos, u64, Response)>,
    response_list: Vec<Response>,
    sends: Vec<(u32, Request)>,
    events: Vec<Vec<(Nanos, u64, Event)>>,
    flat: Vec<Event>,
    loads: Vec<(bool, u64)>,
    out: Outbox,
}

/// Moves traffic for one tick: sources, then every component in topological order.
pub fn sweep(
    clock: Res<SimClock>,
    topo: Res<Topology>,
    routes: Res<Routes>,
    mut sources: Query<&mut Source>,
    mut instances: Query<&mut Instance>,
    mut links: Query<&mut Link>,
    mut latency: Query<&mut ComponentLatency>,
    mut scratch: Local<Scratch>,
) {
    let (from, until) = (clock.start, clock.now);
    let s = &mut *scratch;

    for (si, &entity) in topo.sources.iter().enumerate() {
        s.responses.clear();
        for &l in &topo.source_links[si] {
            if let Ok(mut link) = links.get_mut(topo.links[l as usize]) {
                link.deliver_responses(until, &mut s.responses);
            }
        }
        s.responses.sort_unstable_by_key(|r| (r.0, r.1));
        s.response_list.clear();
        s.response_list.extend(s.responses.iter().map(|r| r.2));
        if let Ok(mut src) = sources.get_mut(entity) {
            src.run_tick(from, until, &s.response_list, &mut s.sends);
        }
        send_all(&topo, &mut links, &mut s.sends);
    }

    for &ci in &topo.order {
        let info = &topo.components[ci as usize];
        let n = info.instances.len();
        s.loads.clear();
        for &e in &info.instances {
            let load = instances
                .get(e)
                .map(|i| (i.up || i.down_until < until, i.outstanding()))
                .unwrap_or((false, 0));
            s.loads.push(load);
        }
        s.events.resize_with(n, Vec::new);
        s.events.iter_mut().for_each(|v| v.clear());

        // Arrivals, routed to instances by each link's strategy.
        for &l in &info.in_links {
            let Ok(mut link) = links.get_mut(topo.links[l as usize]) else { continue };
            s.requests.clear();
            link.deliver_requests(until, &mut s.requests);
            for &(t, seq, r) in &s.requests {
                let k = link.pick(&mut s.loads);
                s.events[k].push((t, seq, Event::Arrival(r)));
            }
        }
        // Responses to calls this component's instances made.
        s.responses.clear();
        for &(_, l, _) in &info.out {
            if let Ok(mut link) = links.get_mut(topo.links[l as usize]) {
                link.deliver_responses(until, &mut s.responses);
            }
        }
        for &(t, seq, r) in &s.responses {
            if let Ret::Worker { instance, .. } = r.req.ret {
                let k = instance.wrapping_sub(info.first_instance) as usize;
                if k < n {
                    s.events[k].push((t, seq, Event::Response(r)));
                }
            }
        }

        let window = Window { until, comp: info, routes: &routes };
        for (k, &e) in info.instances.iter().enumerate() {
            let Ok(mut inst) = instances.get_mut(e) else { continue };
            let evs = &mut s.events[k];
            if evs.is_empty() && inst.busy == 0 && inst.up {
                inst.horizon = until;
                continue;
            }
            evs.sort_unstable_by_key(|x| (x.0, x.1));
            s.flat.clear();
            s.flat.extend(evs.iter().map(|x| x.2));
            inst.run_window(&s.flat, &window, &mut s.out);
        }

        // Deliver the results.
        send_all(&topo, &mut links, &mut s.out.sends);
        for r in s.out.replies.drain(..) {
            if let Ok(mut link) = links.get_mut(topo.links[r.req.via as usize]) {
                link.reply(r);
            }
        }
        for (req, outcome, at) in s.out.ends.drain(..) {
            let src = routes.flows[req.flow as usize].source;
            if let Ok(mut source) = sources.get_mut(topo.sources[src as usize]) {
                source.detached_end(&req, outcome, at);
            }
        }
        if !s.out.sojourns.is_empty() {
            if let Ok(mut lat) = latency.get_mut(info.entity) {
                for v in s.out.sojourns.drain(..) {
                    lat.record(v);
                }
            }
            s.out.sojourns.clear();
        }
    }
}

fn send_all(topo: &Topology, links: &mut Query<&mut Link>, sends: &mut Vec<(u32, Request)>) {
    for (l, r) in sends.drain(..) {
        if let Ok(mut link) = links.get_mut(topo.links[l as usize]) {
            link.send(r);
        }
    }
}
