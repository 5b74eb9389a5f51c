//! Where a request goes after an instance has served it: the next hop of its flow's path (a
//! choice among options, an exit, feedback back to an earlier hop), a synchronous call or an
//! asynchronous hand-off, or a fan-out to several components at once and the fan-in of their
//! answers. The instance's own life (queue, workers, crashes) is in `instance`.

use crate::scenario::CallKind;
use crate::sim::flow::instance::{Fanning, Instance, Outbox, Surroundings, Worker};
use crate::sim::flow::request::{Outcome, Reply, Request, Response, Ret};
use crate::sim::schedule::dist::Nanos;
use crate::sim::schedule::topology::{Fan, FlowRoute};
use bevy::prelude::*;
use rand::Rng;
use std::collections::BTreeMap;

/// How long callers waited for their fan-outs' answers, per (flow, fan-out hop): the slowest
/// awaited call, where tail latency amplifies.
#[derive(Resource, Debug, Default, Clone)]
pub struct FanWaits {
    /// Per (flow, hop).
    pub by_hop: BTreeMap<(u16, u16), crate::sim::read::latency::ComponentLatency>,
}

impl FanWaits {
    /// Records one fan-in.
    pub fn record(&mut self, flow: u16, hop: u16, ns: Nanos) {
        self.by_hop.entry((flow, hop)).or_default().record(ns);
    }
}

/// The next stop of a request.
enum Stop {
    /// Call component `0`; the request will be at hop `1`.
    To(u32, usize),
    /// Fan out at hop `0`.
    Fan(usize),
    /// The route ends here.
    End,
}

impl Instance {
    /// Sends a request whose service here is done on to hop `next` (or further, past feedback
    /// not taken), or answers it when its route ends here.
    #[inline]
    pub(in crate::sim) fn route_on(
        &mut self,
        worker: u32,
        job: Request,
        next: usize,
        at: Nanos,
        w: &Surroundings,
        out: &mut Outbox,
    ) {
        let flow = &w.routes.flows[job.flow as usize];
        match self.next_stop(flow, next) {
            Stop::End => {
                self.depart(job, Reply::Ok, at, out);
                self.free(worker, at, out);
            }
            Stop::To(target, hop) => self.call(worker, job, target, hop, at, w, out),
            Stop::Fan(hop) => match &flow.fan[hop] {
                Some(fan) => self.fan_out(worker, job, hop, fan, at, w, out),
                None => self.fail(worker, job, at, out),
            },
        }
    }

    /// Where a request that finished hop `next - 1` goes. A feedback hop sends it back with its
    /// probability and is passed over otherwise; options that add up to less than 1 end the
    /// rest here.
    #[inline]
    fn next_stop(&mut self, flow: &FlowRoute, mut next: usize) -> Stop {
        if flow.plain {
            let Some(options) = flow.hops.get(next) else {
                return Stop::End;
            };
            return self.pick(options, next);
        }
        while next < flow.hops.len() {
            if flow.fan[next].is_some() {
                return Stop::Fan(next);
            }
            if let Some((to, p)) = flow.back[next] {
                if self.route.get().random::<f64>() < p {
                    return Stop::To(flow.hops[next][0].0, to as usize);
                }
                next += 1;
                continue;
            }
            return self.pick(&flow.hops[next], next);
        }
        Stop::End
    }

    /// One of hop `next`'s options by their cumulative shares (a draw only when there is a
    /// choice); past the last share the route ends.
    #[inline]
    fn pick(&mut self, options: &[(u32, f64)], next: usize) -> Stop {
        if options.len() == 1 && options[0].1 >= 1.0 {
            return Stop::To(options[0].0, next);
        }
        let x: f64 = self.route.get().random();
        options
            .iter()
            .find(|o| x < o.1)
            .map_or(Stop::End, |o| Stop::To(o.0, next))
    }

    /// The link to `target` and how it is called (an alternative route in force replaces it).
    fn link_to(&self, target: u32, w: &Surroundings) -> Option<(u32, CallKind)> {
        // One way out: known from the dense table, with no walk through the component's list.
        let (link, call) = match w.sole.out_to(target) {
            Some(out) => out,
            None => w
                .comp
                .out
                .iter()
                .find(|o| o.0 == target)
                .map(|o| (o.1, o.2))?,
        };
        Some(match w.reroute.get(link as usize) {
            Some(Some(alt)) => *alt,
            _ => (link, call),
        })
    }

    /// Fails a request whose route cannot go on (validation makes this unreachable).
    fn fail(&mut self, worker: u32, job: Request, at: Nanos, out: &mut Outbox) {
        self.counters.failed += 1;
        self.depart(job, Reply::Err(Outcome::Failed), at, out);
        self.free(worker, at, out);
    }

    /// Calls `target` for hop `hop`: a synchronous call holds the worker until the answer; an
    /// asynchronous one hands the request on and answers the caller now.
    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        worker: u32,
        job: Request,
        target: u32,
        hop: usize,
        at: Nanos,
        w: &Surroundings,
        out: &mut Outbox,
    ) {
        let Some((link, call)) = self.link_to(target, w) else {
            return self.fail(worker, job, at, out);
        };
        let mut down = job;
        down.hop = hop as u16;
        down.at = at;
        match call {
            CallKind::Sync => {
                down.ret = self.ret_to(worker);
                self.workers[worker as usize] = Worker::Waiting {
                    job,
                    hop: hop as u16,
                };
                self.waiting += 1;
                out.sends.push((link, down));
            }
            CallKind::Async | CallKind::Pull => {
                down.ret = Ret::Detached;
                // The caller is answered at the hand-off: no one waits on what is left, so it
                // cannot be late (never wasted), whatever the client's timeout.
                down.deadline = Nanos::MAX;
                if call == CallKind::Pull {
                    out.publishes.push((link, down));
                } else {
                    out.sends.push((link, down));
                }
                self.depart(job, Reply::Ack, at, out);
                self.free(worker, at, out);
            }
        }
    }

    fn ret_to(&self, worker: u32) -> Ret {
        Ret::Worker {
            instance: self.index,
            worker,
            incarnation: self.incarnation,
        }
    }

    /// Calls every target of a fan-out at once. Synchronous calls are awaited; asynchronous
    /// ones count as answered when sent. Goes on at once if that is already enough.
    #[allow(clippy::too_many_arguments)]
    fn fan_out(
        &mut self,
        worker: u32,
        job: Request,
        hop: usize,
        fan: &Fan,
        at: Nanos,
        w: &Surroundings,
        out: &mut Outbox,
    ) {
        let (mut awaited, mut answered) = (0u8, 0u8);
        for (i, &target) in fan.targets.iter().enumerate() {
            let Some((link, call)) = self.link_to(target, w) else {
                return self.fail(worker, job, at, out);
            };
            let mut down = job;
            down.hop = hop as u16;
            down.at = at;
            down.branch = i as u8;
            if call == CallKind::Sync {
                down.ret = self.ret_to(worker);
                awaited += 1;
            } else {
                down.ret = Ret::Detached;
                down.deadline = Nanos::MAX;
                answered += 1;
            }
            if call == CallKind::Pull {
                out.publishes.push((link, down));
            } else {
                out.sends.push((link, down));
            }
        }
        if answered >= fan.need {
            return self.route_on(worker, job, hop + 1, at, w, out);
        }
        self.workers[worker as usize] = Worker::Fanning(Fanning {
            job,
            hop: hop as u16,
            need: fan.need - answered,
            left: awaited,
            optional: fan.optional,
            since: at,
        });
        self.waiting += 1;
    }

    /// One answer of a fan-out reaches the waiting worker: enough answers go on (an optional
    /// call's failure counts as its answer); a failure of a call that is not optional fails the
    /// request.
    pub(in crate::sim) fn fan_answer(
        &mut self,
        worker: u32,
        mut f: Fanning,
        resp: &Response,
        w: &Surroundings,
        out: &mut Outbox,
    ) {
        let at = resp.at;
        let good = matches!(resp.status, Reply::Ok | Reply::Ack);
        let may_fail = f.optional >> resp.req.branch & 1 == 1;
        f.left = f.left.saturating_sub(1);
        // An optional call that failed has answered too: the request goes on without it.
        if good || may_fail {
            f.need = f.need.saturating_sub(1);
        }
        let done = if (good || may_fail) && f.need == 0 {
            Some(None)
        } else if (!good && !may_fail) || (f.left == 0 && f.need > 0) {
            Some(Some(match resp.status {
                Reply::Err(o) if !may_fail => o,
                _ => Outcome::Failed,
            }))
        } else {
            None
        };
        let Some(failed) = done else {
            self.workers[worker as usize] = Worker::Fanning(f);
            return;
        };
        self.account(at);
        self.waiting -= 1;
        out.fan_waits
            .push((f.job.flow, f.hop, at.saturating_sub(f.since)));
        match failed {
            None => self.route_on(worker, f.job, f.hop as usize + 1, at, w, out),
            Some(o) => {
                self.depart(f.job, Reply::Err(o), at, out);
                self.free(worker, at, out);
            }
        }
    }
}
