//! Seed 000's adaptive rate control, run once per health cycle after health is updated:
//! receivers work out a safe rate (capacity less a safety buffer) and split it among their
//! senders by share of traffic; senders query the receiver's health (cached by TTL), move their
//! allowed rate by the receiver's status within per-cycle limits, and follow the recommendation.
//! What a sender may not send waits at the sender (see `FlowControl`), so pressure propagates.

use super::SimClock;
use super::decisions::DecisionLog;
use super::dist::{MS, Nanos, SEC};
use super::health::{HealthConfig, Holt, Status};
use super::link::{BreakerState, Link, NodeRef, Urgency};
use super::query::{Answer, Asking, CheckEvent, HealthQueries, QuerySlots, Source};
use super::request::FlowHeaders;
use super::topology::Topology;
use crate::scenario::{BackpressureSpec, Kind};
use bevy::prelude::*;

/// Flow-control parameters and the cycle clock.
#[derive(Resource, Debug, Clone)]
pub struct FlowConfig {
    /// Parameters.
    pub spec: BackpressureSpec,
    /// Next cycle (ns).
    pub next: Nanos,
    /// Health messages the broadcast design has sent so far (with `broadcast` on: every
    /// component and instance to every other component, every cycle); compare with the links'
    /// query counts.
    pub broadcast_messages: u64,
    /// Per component: the capacity it measured while overloaded, which it recommends from.
    pub capacity: Vec<CapacityMemory>,
    /// Per component: Holt's linear method over its incoming traffic, one observation a cycle
    /// (predictive backpressure forecasts from it).
    pub incoming: Vec<Holt>,
}

/// A receiver's memory of the capacity it measured while overloaded.
#[derive(Debug, Clone, Copy, Default)]
pub struct CapacityMemory {
    /// What it really served while its queue grew (real requests/s); `None`: its live
    /// instances' full capacity.
    pub measured: Option<f64>,
    /// Since when it has been calm: GREEN, or YELLOW with a queue that is not filling (ns).
    pub calm_since: Option<Nanos>,
    /// What it measured before its last drop: once calm, it climbs back there quickly (like
    /// TCP's slow start up to its threshold), then probes beyond it slowly.
    pub before: Option<f64>,
    /// The last measurement was taken while the receiver's own sends were rate-limited
    /// downstream (its capacity then is its downstream's safe rate, already buffered).
    pub held_downstream: bool,
}

impl CapacityMemory {
    /// Updates the memory at the end of a cycle and returns the capacity to recommend from:
    /// the throughput while overloaded; the remembered figure while not; once calm for
    /// `hold`, the figure rises by `relax` a cycle until it reaches `full` and is forgotten.
    pub fn update(
        &mut self,
        overloaded: bool,
        throughput: f64,
        full: f64,
        calm: bool,
        now: Nanos,
        spec: &BackpressureSpec,
    ) -> f64 {
        self.calm_since = if calm {
            self.calm_since.or(Some(now))
        } else {
            None
        };
        let hold = (spec.capacity_hold_s * SEC) as Nanos;
        let probing = self.calm_since.is_some_and(|t| now >= t + hold);
        self.measured = if overloaded {
            // A dip measured in the middle of a cascade is not the new capacity: the estimate
            // falls by at most `max_decrease` a cycle, like the rates it sets.
            let floor = self.measured.map_or(0.0, |m| m * (1.0 - spec.max_decrease));
            let new = throughput.max(floor).min(full);
            match (self.measured, self.before) {
                // Overloaded again at (about) the level it had climbed back to: that level no
                // longer holds.
                (_, Some(b)) if new >= 0.97 * b => self.before = None,
                (Some(m), b) if new < m => self.before = Some(b.map_or(m, |b| b.max(m))),
                _ => {}
            }
            Some(new)
        } else {
            let before = self.before;
            self.measured
                .map(|m| match before {
                    _ if !probing => m,
                    // Back to where it was before the drop by `max_increase` a cycle...
                    Some(b) if m < b => (m * (1.0 + spec.max_increase)).min(b),
                    // ...then beyond, slowly.
                    _ => m * (1.0 + spec.capacity_relax),
                })
                .filter(|m| *m < full)
        };
        if self.measured.is_none() {
            self.before = None;
        }
        self.measured.unwrap_or(full)
    }
}

/// A receiver that may take more: GREEN, or YELLOW with a queue that is not filling (a YELLOW
/// receiver at a steady load is treated as healthy).
pub fn calm(status: Status, filling: bool) -> bool {
    status == Status::Green || (status == Status::Yellow && !filling)
}

/// What the receiver recommends to one sender.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recommendation {
    /// Rate for this sender (real requests/s).
    pub rate: f64,
    /// Why.
    pub reason: &'static str,
    /// How urgently.
    pub urgency: Urgency,
}

/// The receiver's side: safe rate = capacity x (1 - buffer); when the incoming traffic exceeds
/// it, each sender is allotted the safe rate times its share, so the allotments add up to the
/// safe rate (the seed's 40.5K split 67/33 gives about 27K and 13.5K).
pub fn allocate(capacity: f64, buffer: f64, demands: &[f64]) -> Option<Vec<f64>> {
    allocate_expecting(capacity, buffer, demands, demands.iter().sum())
}

/// As `allocate`, but the cut applies when the traffic `expected` (the incoming traffic, or
/// with predictive backpressure its forecast) exceeds the safe rate. Shares are still those of
/// the current demands; an allotment above a sender's current demand is a cap set before the
/// overload lands, not a cut.
pub fn allocate_expecting(
    capacity: f64,
    buffer: f64,
    demands: &[f64],
    expected: f64,
) -> Option<Vec<f64>> {
    let safe = capacity * (1.0 - buffer);
    let incoming: f64 = demands.iter().sum();
    if expected <= safe || incoming <= 0.0 {
        return None;
    }
    Some(demands.iter().map(|d| safe * d / incoming).collect())
}

/// The sender's side: the next allowed rate from the current one and the receiver's
/// recommendation, or without one its status, within the per-cycle limits and the floor.
pub fn next_rate(
    current: f64,
    demand: f64,
    status: Status,
    growing: bool,
    rec: Option<Recommendation>,
    spec: &BackpressureSpec,
) -> f64 {
    let a = spec.adjust;
    let factor = match status {
        Status::Green => 1.0 + a.green,
        Status::Yellow if growing => 1.0 + a.yellow,
        // A YELLOW receiver whose queue is not filling is treated as healthy.
        Status::Yellow => 1.0 + a.green,
        Status::Red => 1.0 + a.red,
        Status::Critical => 1.0 + a.critical,
    };
    // A recommendation from the receiver's capacity is the more precise signal; the status
    // rules steer when there is none (the seed's 8:00 PM: RED, yet 40K -> 35K as calculated).
    // A recommendation above the current rate is a ceiling, not an order: the sender only rises
    // toward it while the receiver is healthy (GREEN, or YELLOW with a queue that is not
    // filling), and holds otherwise. Without this hysteresis a receiver whose queue has just
    // drained recommends its full capacity, the sender climbs back into the overload, and the
    // rate saw-tooths between the cut and the climb.
    let target = match rec {
        None => current * factor,
        Some(r) if r.rate <= current || calm(status, growing) => r.rate,
        Some(_) => current,
    };
    let emergency =
        status == Status::Critical && rec.is_some_and(|r| r.urgency == Urgency::Immediate);
    let down = if emergency {
        spec.emergency_decrease
    } else {
        spec.max_decrease
    };
    let next = target.clamp(current * (1.0 - down), current * (1.0 + spec.max_increase));
    next.max(spec.min_rate * demand)
}

/// The extra delay before sending to a receiver of aggregated health `health`.
pub fn delay_for(health: f64, spec: &BackpressureSpec) -> Nanos {
    let ms = spec
        .delay_by_health
        .iter()
        .filter(|(at_or_below, _)| health <= *at_or_below)
        .map(|x| x.1)
        .fold(0.0, f64::max);
    (ms * MS) as Nanos
}

/// Runs one control cycle.
pub fn control_rates(
    clock: Res<SimClock>,
    topo: Res<Topology>,
    health_cfg: Res<HealthConfig>,
    mut config: ResMut<FlowConfig>,
    queries: HealthQueries,
    mut slots: ResMut<QuerySlots>,
    mut links: Query<&mut Link>,
    mut log: ResMut<DecisionLog>,
    mut fallbacks: ResMut<super::sweep::Fallbacks>,
) {
    if clock.now < config.next {
        return;
    }
    let cycle = ((health_cfg.spec.cycle_s * SEC) as Nanos).max(clock.tick);
    config.next = clock.now + cycle;
    let spec = config.spec.clone();
    if spec.broadcast {
        // Every component and instance pushes its status to every other component.
        let n = topo.components.len() as u64;
        let senders = n + topo.instances.len() as u64;
        config.broadcast_messages += senders * n.saturating_sub(1);
    }
    let unit = topo.unit as f64;
    let dt = cycle as f64 / SEC;
    let hold = (spec.capacity_hold_s * SEC) as Nanos;
    let t = clock.seconds();

    // Demand on every link over the last cycle.
    for &e in &topo.links {
        let Ok(mut l) = links.get_mut(e) else {
            continue;
        };
        let offered = if matches!(l.from, NodeRef::Component(_)) {
            l.flow.offered
        } else {
            l.counters.sent
        };
        l.flow.demand = (offered - l.flow.offered_at_cycle) as f64 * unit / dt;
        l.flow.offered_at_cycle = offered;
        l.flow.max_hold = (spec.max_hold_ms * MS) as Nanos;
    }
    if !spec.enabled {
        return;
    }

    // Caches serve stale data while what they protect is RED or CRITICAL (as they last heard).
    // Once it has been better than RED for `stale_hold_s` they send their misses back gradually,
    // `stale_return_step` more of them each cycle: going back at the first better answer, and
    // all at once, sends the misses' load straight back to a database that has just recovered
    // and turns it RED again (a flapping fallback).
    let stale_hold = (spec.stale_hold_s * SEC) as Nanos;
    for c in topo.components.iter().filter(|c| c.kind == Kind::Cache) {
        let red = c.out.iter().any(|(_, li, _)| {
            links
                .get(topo.links[*li as usize])
                .is_ok_and(|l| l.flow.view.heard_red())
        });
        let k = c.index as usize;
        let was = fallbacks.stale[k];
        fallbacks.better_since[k] = if red {
            None
        } else {
            fallbacks.better_since[k].or(Some(clock.now))
        };
        let returning = fallbacks.better_since[k].is_some_and(|t| clock.now >= t + stale_hold);
        let share = if red {
            1.0
        } else if returning {
            (was - spec.stale_return_step).max(0.0)
        } else {
            was
        };
        fallbacks.stale[k] = share;
        let what = if share >= 1.0 && was < 1.0 {
            "serving stale data: downstream RED or CRITICAL"
        } else if share <= 0.0 && was > 0.0 {
            "fresh data again"
        } else if was >= 1.0 && share < 1.0 {
            "sending misses back to the database gradually"
        } else {
            continue;
        };
        log.note(t, "fallback", &c.name, what.to_string(), None, 2);
    }
    for c in &topo.components {
        // The receiver's side works from its own status.
        let Some(h) = queries.published(c.entity) else {
            continue;
        };
        // The receiver: capacity is what it really processes while its queue grows (by more than
        // 1% of its capacity per second), else what its live instances can do. Using the
        // measured throughput at other times would ratchet down: a throttled receiver serves
        // only what it is sent. A queue that is (nearly) full and dropping counts as overloaded
        // too: it no longer grows. The measured capacity is remembered, and once the receiver
        // has been calm for a while it probes upward a little each cycle (hysteresis).
        let overloaded = h.queue_growth_per_s > 0.01 * h.max_throughput
            || (h.queue_capacity > 0.0 && h.queue_length as f64 >= 0.9 * h.queue_capacity);
        let capacity = config.capacity[c.index as usize].update(
            overloaded,
            h.throughput,
            h.max_throughput,
            {
                let own = Answer::from_status(h, clock.now, &spec);
                calm(own.status, own.filling)
            },
            clock.now,
            &spec,
        );
        // The safety buffer is kept once, at the bottleneck. A receiver whose measured capacity
        // comes from its own sends being rate-limited downstream passes that rate on without a
        // second buffer: buffers would compound along a chain (0.9 x 0.9 x ...), leaving the
        // real bottleneck underused.
        let memory = &mut config.capacity[c.index as usize];
        if overloaded {
            memory.held_downstream = c.out.iter().any(|(_, li, _)| {
                links
                    .get(topo.links[*li as usize])
                    .is_ok_and(|l| l.flow.limit.is_some())
            });
        }
        let buffer = if memory.measured.is_some() && memory.held_downstream {
            0.0
        } else {
            spec.safety_buffer
        };
        let demands: Vec<f64> = c
            .in_links
            .iter()
            .map(|l| {
                links
                    .get(topo.links[*l as usize])
                    .map_or(0.0, |l| l.flow.demand)
            })
            .collect();
        if h.anomaly {
            log.note(
                t,
                "anomaly",
                &c.name,
                format!("queue {} far off its forecast", h.queue_length),
                None,
                1,
            );
        }
        // Predictive backpressure: the receiver also forecasts its incoming traffic
        // `health.forecast.horizon_s` ahead (Holt's linear method over its cycles) and splits
        // its safe rate among its senders as soon as the forecast exceeds it, so the caps are in
        // force before the overload lands.
        let incoming: f64 = demands.iter().sum();
        let expected = if spec.predictive {
            let f = health_cfg.spec.forecast;
            let holt = &mut config.incoming[c.index as usize];
            holt.observe(incoming, f.alpha, f.beta, f.anomaly_factor);
            incoming.max(holt.forecast(f.horizon_s / health_cfg.spec.cycle_s))
        } else {
            incoming
        };
        let safe = capacity * (1.0 - buffer);
        // A receiver that is down makes no recommendations: its senders go by their health
        // checks, which fail.
        let allotments =
            allocate_expecting(capacity, buffer, &demands, expected).filter(|_| h.answering);
        // Allotted only because of the forecast: the traffic itself is still within the safe rate.
        let foreseen = allotments.is_some() && incoming <= safe;
        let (reason, urgency) = match h.status {
            _ if foreseen => ("forecast_overload", Urgency::Gradual),
            Status::Critical => ("queue_overload_critical", Urgency::Immediate),
            Status::Red => ("downstream_overload", Urgency::Gradual),
            _ => ("approaching_capacity", Urgency::Gradual),
        };
        for (k, &li) in c.in_links.iter().enumerate() {
            let Ok(mut l) = links.get_mut(topo.links[li as usize]) else {
                continue;
            };
            let NodeRef::Component(sender) = l.from else {
                continue;
            };
            // A sender already limited always hears its share of the safe rate: a ceiling it
            // may climb toward while the receiver is healthy, never past (a limit that climbs
            // past the safe rate and is cut back saw-tooths). It is lifted once it stops
            // binding (see below).
            let sticky = (l.flow.limit.is_some() && incoming > 0.0 && h.answering)
                .then(|| safe * demands[k] / incoming);
            let rec = allotments
                .as_ref()
                .map(|a| a[k])
                .or(sticky)
                .map(|rate| Recommendation {
                    rate,
                    reason,
                    urgency,
                });
            l.flow.recommended = rec.map(|r| r.rate);
            l.flow.urgency = rec.map_or(Urgency::Gradual, |r| r.urgency);

            // The sender asks the receiver directly, through its cache.
            let class = topo.components[sender as usize].kind;
            let ttl = match class {
                Kind::LoadBalancer => spec.query_ttl_ms.load_balancer,
                Kind::Queue => spec.query_ttl_ms.background,
                _ => spec.query_ttl_ms.application,
            };
            let mut asking = Asking {
                slots: &mut slots,
                asker: sender as usize,
                now: clock.now,
                ttl: (ttl * MS) as Nanos,
                spec: &spec,
            };
            let flow = &mut l.flow;
            let (got, source, event) = asking.ask(&mut flow.view, &mut flow.stats, || {
                queries
                    .get_health_status(c.entity)
                    .map(|h| Answer::from_status(h, clock.now, &spec))
            });
            if let Some(ev) = event {
                log_check(&mut log, t, &l.name, ev, spec.check_open_s);
            }
            let (status, target_health, growing) = match (got, source) {
                (Some(a), Source::Fresh | Source::Cached) => (a.status, a.health, a.filling),
                // No fresh answer: load balancers and background services go by the last one;
                // application services proceed with caution (no increases).
                (Some(a), Source::Stale) if class == Kind::LoadBalancer || class == Kind::Queue => {
                    (a.status, a.health, a.filling)
                }
                (Some(a), Source::Stale) => (a.status.max(Status::Yellow), a.health, true),
                (None, Source::Stale) => (Status::Yellow, 1.0, true),
                // The health-check breaker is open: assume the worst.
                _ => (Status::Critical, 0.0, true),
            };
            breaker_cycle(&mut l, clock.now, t, status, &spec, &mut log);
            l.flow.delay = delay_for(target_health, &spec);

            let demand = l.flow.demand;
            let old = l.flow.limit;
            let calm = calm(status, growing);
            let new = match old {
                None if calm && rec.is_none() => None,
                // An allotment above the current demand (the overload is forecast, not here
                // yet) becomes a cap as it is; anything else starts from the demand.
                None => Some(match rec {
                    Some(r) if r.rate >= demand => r.rate,
                    _ => next_rate(demand.max(1.0), demand, status, growing, rec, &spec),
                }),
                Some(cur) => {
                    // A link that carried nothing this cycle (its traffic rerouted, or none
                    // offered) keeps its limit: there is nothing to adapt to.
                    let next = if demand > 0.0 {
                        next_rate(cur, demand, status, growing, rec, &spec)
                    } else {
                        cur
                    };
                    // A limit above the demand does not bind: it is not raised further. It is
                    // lifted at once if the receiver is GREEN, or once it has stayed so with
                    // the receiver calm for `capacity_hold_s` (hysteresis: a limit that comes
                    // and goes with every dip in traffic is a flapping one).
                    let loose = demand <= 0.95 * cur;
                    let next = if loose { next.min(cur) } else { next };
                    let slack = calm && loose && allotments.is_none();
                    l.flow.slack_since = if slack {
                        l.flow.slack_since.or(Some(clock.now))
                    } else {
                        None
                    };
                    if (slack && status == Status::Green)
                        || l.flow.slack_since.is_some_and(|t| clock.now >= t + hold)
                    {
                        l.flow.slack_since = None;
                        None
                    } else {
                        Some(next)
                    }
                }
            };
            l.flow.target = rec.map(|r| r.rate).or(new);
            if new != old {
                let why = rec.map_or(
                    match status {
                        Status::Green => "downstream_healthy",
                        Status::Yellow => "downstream_stressed",
                        Status::Red => "downstream_overload",
                        Status::Critical => "downstream_critical",
                    },
                    |r| r.reason,
                );
                l.flow.reason = why;
                let big = match (old, new) {
                    (Some(a), Some(b)) => (a - b).abs() > 0.01 * a,
                    _ => true,
                };
                if big {
                    log.rate_change(t, &l.name, old, new, why, l.flow.urgency, status);
                }
                l.flow.set_limit(new, unit, clock.now);
            }
        }
    }

    // Alternative routes: a sender that hears its target cannot accept load, while the
    // alternative can, sends there instead.
    for (li, alt) in topo.alternatives.iter().enumerate() {
        let Some(alt) = *alt else { continue };
        let cannot =
            |l: &Link| l.flow.view.heard_red() || l.flow.view.answer.is_some_and(|a| !a.accepting);
        let (Ok(main), Ok(other)) = (
            links.get(topo.links[li]),
            links.get(topo.links[alt as usize]),
        ) else {
            continue;
        };
        let on = cannot(main) && !cannot(other);
        if on != fallbacks.reroute[li].is_some() {
            let to = &topo.components[other.to as usize].name;
            let what = if on {
                format!("rerouting to {to}: target cannot accept load")
            } else {
                "back on its own route".to_string()
            };
            log.note(t, "fallback", &main.name, what, None, 2);
            fallbacks.reroute[li] = on.then_some((alt, other.call));
        }
    }
}

/// After each control cycle, refreshes the headers every link between components stamps on the
/// requests it carries: its allowed rate, breaker state, the sender's and the receiver's status
/// (as the sender last heard it), the reason of the last rate change, the alternatives.
pub fn stamp_headers(
    config: Res<FlowConfig>,
    topo: Res<Topology>,
    queries: HealthQueries,
    mut links: Query<&mut Link>,
    mut last: Local<Nanos>,
) {
    if *last == config.next {
        return;
    }
    *last = config.next;
    for &e in &topo.links {
        let Ok(mut l) = links.get_mut(e) else {
            continue;
        };
        let NodeRef::Component(sender) = l.from else {
            continue;
        };
        let sender_status = queries
            .published(topo.components[sender as usize].entity)
            .map_or(Status::Green, |h| h.status);
        let receiver = &topo.components[l.to as usize];
        let live = receiver.instances.len().saturating_sub(1);
        let alternatives = live + topo.alternatives[l.index as usize].is_some() as usize;
        let target = l.flow.view.answer.map_or(Status::Green, |a| a.status);
        let reason = if l.flow.limit.is_some() {
            FlowHeaders::reason_code(l.flow.reason)
        } else {
            0
        };
        l.flow.headers = FlowHeaders {
            max_rate: l.flow.limit.map_or(f32::INFINITY, |r| r as f32),
            max_attempts: 1,
            breaker: l.breaker.state as u8,
            sender_status: sender_status as u8,
            target_status: target as u8,
            reason,
            alternatives: alternatives.min(255) as u8,
        };
    }
}

/// Notes a health-check breaker change in the decision log.
pub fn log_check(log: &mut DecisionLog, t: f64, link: &str, ev: CheckEvent, open_s: f64) {
    let what = match ev {
        CheckEvent::Opened => {
            format!("health checks keep failing: target treated as down, not asked for {open_s} s")
        }
        CheckEvent::Closed => "health checks answered again".to_string(),
    };
    log.note(t, "health_check", link, what, None, 2);
}

/// One cycle of a link's circuit breaker: CLOSED opens when the error rate has stayed above the
/// threshold for `over_for_s`; OPEN probes the receiver's health every `probe_every_s` and goes
/// HALF-OPEN when it is healthy; HALF-OPEN closes after `half_open_for_s` if the error rate
/// stayed under the threshold and the receiver is healthy, and opens again if problems return.
fn breaker_cycle(
    l: &mut Link,
    now: Nanos,
    t: f64,
    receiver: Status,
    spec: &BackpressureSpec,
    log: &mut DecisionLog,
) {
    let k = spec.breaker;
    let (resp, errs) = (l.counters.responses_delivered, l.counters.response_errors);
    let (d_resp, d_err) = (resp - l.breaker.seen.0, errs - l.breaker.seen.1);
    l.breaker.seen = (resp, errs);
    let over = d_resp >= k.min_responses && d_err as f64 > k.error_threshold * d_resp as f64;
    let healthy = matches!(receiver, Status::Green | Status::Yellow);
    let secs = |ns: Nanos| ns as f64 / SEC;
    let next = match l.breaker.state {
        BreakerState::Closed => {
            if over {
                let since = *l.breaker.over_since.get_or_insert(now);
                (secs(now - since) >= k.over_for_s)
                    .then_some((BreakerState::Open, "error rate above threshold"))
            } else {
                l.breaker.over_since = None;
                None
            }
        }
        BreakerState::Open => {
            if secs(now - l.breaker.probed) >= k.probe_every_s {
                l.breaker.probed = now;
                healthy.then_some((BreakerState::HalfOpen, "probe: receiver healthy"))
            } else {
                None
            }
        }
        BreakerState::HalfOpen => {
            if over {
                Some((BreakerState::Open, "problems returned"))
            } else if secs(now - l.breaker.since) >= k.half_open_for_s {
                let (r0, e0) = l.breaker.half_open_base;
                let rate = (errs - e0) as f64 / ((resp - r0).max(1)) as f64;
                if rate <= k.error_threshold && healthy {
                    Some((BreakerState::Closed, "stable and healthy"))
                } else {
                    Some((BreakerState::Open, "not stable"))
                }
            } else {
                None
            }
        }
    };
    if let Some((state, reason)) = next {
        let from = l.breaker.state;
        l.breaker.enter(state, now, k.open_block, k.half_open_pass);
        l.breaker.half_open_base = (resp, errs);
        log.note(
            t,
            "breaker",
            &l.name,
            reason.to_string(),
            Some(format!("{} -> {}", from.name(), state.name())),
            2,
        );
    }
}

/// Seed 000's autoscaling, once per cycle after rate control: a component whose live instances
/// are all below `scale_up_below` health gets a spare provisioned (warming up); one whose live
/// instances are all healthy and underused gives its last idle one back; at most one action per
/// `cooldown_s`, within `min` and `max`.
pub fn autoscale(
    clock: Res<SimClock>,
    topo: Res<Topology>,
    config: Res<FlowConfig>,
    scenario: Res<super::SimConfig>,
    mut instances: Query<(
        &mut super::instance::Instance,
        &super::health::InstanceHealth,
    )>,
    mut last: Local<(Nanos, Vec<Option<Nanos>>)>,
    mut log: ResMut<DecisionLog>,
) {
    // Run right after each rate-control cycle (which moved `config.next`).
    if !config.spec.enabled || last.0 == config.next {
        return;
    }
    last.0 = config.next;
    last.1.resize(topo.components.len(), None);
    let t = clock.seconds();
    for (ci, spec) in scenario.scenario.components.iter().enumerate() {
        let Some(a) = spec.autoscale else { continue };
        let c = &topo.components[ci];
        if last.1[ci].is_some_and(|at| clock.now.saturating_sub(at) < (a.cooldown_s * SEC) as Nanos)
        {
            continue;
        }
        let live: Vec<(f64, f64)> = c
            .instances
            .iter()
            .filter_map(|e| instances.get(*e).ok())
            .filter(|(i, _)| i.provisioned)
            .map(|(i, h)| (h.0, i.pressure))
            .collect();
        let n = live.len() as u32;
        let all_weak = !live.is_empty() && live.iter().all(|(h, _)| *h < a.scale_up_below);
        let all_idle = live
            .iter()
            .all(|(h, p)| *h >= a.healthy_above && *p < a.underused_below);
        if all_weak && n < a.max {
            let spare = c
                .instances
                .iter()
                .find(|e| instances.get(**e).is_ok_and(|(i, _)| !i.provisioned));
            if let Some(&e) = spare
                && let Ok((mut inst, _)) = instances.get_mut(e)
            {
                let warm = clock.now + (a.warmup_s * SEC) as Nanos;
                inst.provision(clock.now, warm, a.warmup_speed);
                last.1[ci] = Some(clock.now);
                log.note(
                    t,
                    "scale_up",
                    &c.name,
                    format!("every instance below {} health", a.scale_up_below),
                    Some(format!("{} -> {} instances", n, n + 1)),
                    2,
                );
            }
        } else if all_idle && n > a.min {
            let victim = c
                .instances
                .iter()
                .rev()
                .find(|e| instances.get(**e).is_ok_and(|(i, _)| i.provisioned));
            if let Some(&e) = victim
                && let Ok((mut inst, _)) = instances.get_mut(e)
                && inst.deprovision()
            {
                last.1[ci] = Some(clock.now);
                log.note(
                    t,
                    "scale_down",
                    &c.name,
                    "all instances healthy and underused".to_string(),
                    Some(format!("{} -> {} instances", n, n - 1)),
                    2,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allotments_add_up_to_the_safe_rate() {
        // The seed: 45K capacity, 10% buffer, 60K incoming split 40K/20K.
        let a = allocate(45_000.0, 0.10, &[40_000.0, 20_000.0]).unwrap();
        assert!(
            (a[0] - 27_000.0).abs() < 1.0 && (a[1] - 13_500.0).abs() < 1.0,
            "{a:?}"
        );
        assert!((a.iter().sum::<f64>() - 40_500.0).abs() < 1e-6);
        assert!(
            allocate(45_000.0, 0.10, &[20_000.0, 10_000.0]).is_none(),
            "no cut below the safe rate"
        );
    }

    #[test]
    fn senders_move_within_the_per_cycle_limits() {
        let spec = BackpressureSpec::default();
        // RED asks for -50%, but a cycle allows at most -20%.
        assert!((next_rate(100.0, 100.0, Status::Red, true, None, &spec) - 80.0).abs() < 1e-9);
        // GREEN: +5%.
        assert!((next_rate(100.0, 200.0, Status::Green, false, None, &spec) - 105.0).abs() < 1e-9);
        // CRITICAL with an immediate recommendation: the emergency cut of 50% at once.
        let rec = Recommendation {
            rate: 10.0,
            reason: "x",
            urgency: Urgency::Immediate,
        };
        assert!(
            (next_rate(100.0, 100.0, Status::Critical, true, Some(rec), &spec) - 50.0).abs() < 1e-9
        );
        // Never below 10% of demand.
        assert!(
            (next_rate(10.0, 1000.0, Status::Critical, true, Some(rec), &spec) - 100.0).abs()
                < 1e-9
        );
        // The seed's 8:00 PM: web at 40K/s, database RED, recommendation 35K: 12.5% fits in one cycle.
        let rec = Recommendation {
            rate: 35_000.0,
            reason: "x",
            urgency: Urgency::Gradual,
        };
        let r = next_rate(40_000.0, 40_000.0, Status::Red, false, Some(rec), &spec);
        assert!((r - 35_000.0).abs() < 1e-6, "{r}");
        // A recommendation above the current rate: a healthy receiver lets the sender climb
        // toward it by at most 10% a cycle; a RED one, or a YELLOW one whose queue is filling,
        // holds it where it is.
        let rec = Recommendation {
            rate: 60_000.0,
            reason: "x",
            urgency: Urgency::Gradual,
        };
        let up = next_rate(40_000.0, 70_000.0, Status::Green, false, Some(rec), &spec);
        assert!((up - 44_000.0).abs() < 1e-6, "{up}");
        for (status, growing) in [(Status::Red, false), (Status::Yellow, true)] {
            let r = next_rate(40_000.0, 70_000.0, status, growing, Some(rec), &spec);
            assert!((r - 40_000.0).abs() < 1e-6, "{status:?}: {r}");
        }
    }

    #[test]
    fn a_receiver_remembers_its_measured_capacity_until_calm_for_a_while() {
        let mut m = CapacityMemory::default();
        let sec = SEC as Nanos;
        let spec = BackpressureSpec::default();
        let full = 190_000.0;
        // Overloaded: it recommends from what it really served.
        assert_eq!(m.update(true, 112_000.0, full, false, 0, &spec), 112_000.0);
        // Its queue drains: it still remembers, calm or not, until calm for 30 s.
        assert_eq!(
            m.update(false, 100_000.0, full, false, sec, &spec),
            112_000.0
        );
        for s in 2..=31 {
            assert_eq!(
                m.update(false, 100_000.0, full, true, s * sec, &spec),
                112_000.0
            );
        }
        // Then it probes upward by 1% a cycle...
        let c = m.update(false, 100_000.0, full, true, 32 * sec, &spec);
        assert!((c - 113_120.0).abs() < 1e-6, "{c}");
        // ...until overloaded again, which it measures anew...
        assert_eq!(
            m.update(true, 111_000.0, full, false, 33 * sec, &spec),
            111_000.0
        );
        // ...though a dip in the middle of a cascade lowers it by at most 20% a cycle.
        assert_eq!(
            m.update(true, 50_000.0, full, false, 34 * sec, &spec),
            88_800.0
        );
        // Once calm for 30 s again, it climbs back to where it was before its drops by 10% a
        // cycle, then 1% beyond.
        for s in 35..=64 {
            let c = m.update(false, 50_000.0, full, true, s * sec, &spec);
            assert!((c - 88_800.0).abs() < 1e-6, "still holding at {s}s: {c}");
        }
        for (s, want) in [
            (65, 97_680.0),
            (66, 107_448.0),
            (67, 113_120.0),
            (68, 114_251.2),
        ] {
            let c = m.update(false, 50_000.0, full, true, s * sec, &spec);
            assert!((c - want).abs() < 1e-6, "{s}s: {c}");
        }
        // Without a measurement: the full capacity.
        assert_eq!(
            CapacityMemory::default().update(false, 5.0, full, true, 0, &spec),
            full
        );
    }

    #[test]
    fn the_delay_table_follows_the_seed() {
        let spec = BackpressureSpec::default();
        assert_eq!(delay_for(0.9, &spec), 0);
        assert_eq!(delay_for(0.33, &spec), 5_000_000);
        assert_eq!(delay_for(0.17, &spec), 20_000_000);
    }
}
