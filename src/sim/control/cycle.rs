//! Seed 000's per-cycle control ("Adaptive Rate Control", "Circuit Breaker Integration",
//! "Fallback Behavior"), run once per health cycle after health is updated: caches fall back to
//! stale data, receivers work out a safe rate and recommend shares of it, senders query the
//! receiver's health (cached) and move their allowed rate, breakers change state, senders reroute
//! to alternatives. The pure rules live in `rate`; this module applies them to the links.

use crate::scenario::{BackpressureSpec, Kind};
use crate::sim::SimClock;
use crate::sim::SimSystems;
use crate::sim::SimTick;
use crate::sim::control::health::{HealthBand, HealthConfig, HealthStatus};
use crate::sim::control::queries::{
    Answer, Asking, CheckEvent, Freshness, HealthQueries, QuerySlots,
};
use crate::sim::control::rate::{
    Fallbacks, FlowConfig, Recommendation, allocate_expecting, calm, delay_for, flow_control_on,
    next_rate,
};
use crate::sim::flow::core::FlowCore;
use crate::sim::flow::link::{Link, NodeRef, Urgency};
use crate::sim::flow::request::FlowHeaders;
use crate::sim::read::events::{EventKind, Fallback, RateReason, SimEvent, Subject};
use crate::sim::schedule::cadence::{Cadence, on_health_cycle};
use crate::sim::schedule::dist::{MS, Nanos, SEC};
use crate::sim::schedule::topology::{ComponentInfo, Topology};
use crate::sim::strategies::LinkControl;
use crate::sim::strategies::breaker::CycleSeen;
use crate::sim::strategies::control::CycleInput;
use bevy::prelude::*;

pub(in crate::sim) fn plugin(app: &mut App) {
    app.init_resource::<FlowConfig>()
        .init_resource::<QuerySlots>()
        .init_resource::<Fallbacks>()
        .init_resource::<crate::sim::control::autoscale::LastScaled>()
        .init_resource::<crate::sim::read::watch::Watch>()
        .add_systems(
            SimTick,
            (
                measure_demand,
                (cache_fallbacks, control_rates, alternative_routes)
                    .chain()
                    .run_if(flow_control_on),
                stamp_headers,
                crate::sim::control::autoscale::autoscale.run_if(flow_control_on),
                crate::sim::read::watch::watch_mechanisms,
            )
                .chain()
                .run_if(on_health_cycle)
                .in_set(SimSystems::RateControl),
        )
        .add_systems(
            crate::sim::SimLoad,
            (
                crate::sim::control::rate::reset,
                crate::sim::control::autoscale::reset,
                crate::sim::read::watch::reset,
            )
                .in_set(crate::sim::LoadSystems::Reset),
        );
}

/// Demand on every link over the last cycle (and broadcast health messages, when that design
/// is simulated instead of direct queries).
fn measure_demand(
    topo: Res<Topology>,
    cadence: Res<Cadence>,
    mut config: ResMut<FlowConfig>,
    mut core: ResMut<FlowCore>,
) {
    if config.spec.broadcast {
        // Every component and instance pushes its status to every other component.
        let n = topo.components.len() as u64;
        let senders = n + topo.instances.len() as u64;
        config.broadcast_messages += senders * n.saturating_sub(1);
    }
    let unit = topo.unit as f64;
    let dt = cadence.cycle as f64 / SEC;
    let max_hold = (config.spec.max_hold_ms * MS) as Nanos;
    for l in core.links.iter_mut() {
        let offered = if matches!(l.from, NodeRef::Component(_)) {
            l.flow.offered
        } else {
            l.counters.sent
        };
        l.flow.demand = (offered - l.flow.offered_at_cycle) as f64 * unit / dt;
        l.flow.offered_at_cycle = offered;
        l.flow.max_hold = max_hold;
    }
}

/// Caches serve stale data while what they protect is RED or CRITICAL (as they last heard).
/// Once it has been better than RED for `stale_hold_s` they send their misses back gradually,
/// `stale_return_step` more of them each cycle: going back at the first better answer, and all
/// at once, sends the misses' load straight back to a database that has just recovered and
/// turns it RED again (a flapping fallback).
fn cache_fallbacks(
    clock: Res<SimClock>,
    topo: Res<Topology>,
    config: Res<FlowConfig>,
    core: Res<FlowCore>,
    mut fallbacks: ResMut<Fallbacks>,
    mut events: MessageWriter<SimEvent>,
) {
    let spec = &config.spec;
    let stale_hold = (spec.stale_hold_s * SEC) as Nanos;
    for c in topo.components.iter().filter(|c| c.kind == Kind::Cache) {
        let red = c
            .out
            .iter()
            .any(|(_, li, _)| core.link(*li).is_some_and(|l| l.flow.view.heard_red()));
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
            Fallback::StaleOn
        } else if share <= 0.0 && was > 0.0 {
            Fallback::Fresh
        } else if was >= 1.0 && share < 1.0 {
            Fallback::StaleReturning
        } else {
            continue;
        };
        let kind = EventKind::Fallback(what);
        events.write(SimEvent::new(clock.now, Subject::Component(c.index), kind));
    }
}

/// What a receiver decided this cycle for its senders.
struct ReceiverPlan {
    /// Per in-link: its share of the safe rate, when the receiver splits it.
    allotments: Option<Vec<f64>>,
    /// Demand per in-link (real requests/s).
    demands: Vec<f64>,
    /// Sum of the demands.
    incoming: f64,
    /// Capacity less the safety buffer.
    safe: f64,
    /// Why and how urgently.
    reason: RateReason,
    urgency: Urgency,
    /// The receiver answers (at least one instance is live).
    answering: bool,
}

/// The receiver's side (seed 000, "Receiver-Side Control"): capacity is what it really
/// processes while its queue grows (by more than 1% of its capacity per second), else what its
/// live instances can do. Using the measured throughput at other times would ratchet down: a
/// throttled receiver serves only what it is sent. A queue that is (nearly) full and dropping
/// counts as overloaded too: it no longer grows. The measured capacity is remembered, and once
/// the receiver has been calm for a while it probes upward a little each cycle (hysteresis).
fn receiver_plan(
    c: &ComponentInfo,
    h: &HealthStatus,
    links: &[Link],
    config: &mut FlowConfig,
    spec: &BackpressureSpec,
    health: &HealthConfig,
    now: Nanos,
) -> ReceiverPlan {
    let overloaded = h.queue_growth_per_s > 0.01 * h.max_throughput
        || (h.queue_capacity > 0.0 && h.queue_length as f64 >= 0.9 * h.queue_capacity);
    let own = Answer::from_status(h, now, spec);
    let capacity = config.capacity[c.index as usize].update(
        overloaded,
        h.throughput,
        h.max_throughput,
        calm(own.status, own.filling),
        now,
        spec,
    );
    // The safety buffer is kept once, at the bottleneck. A receiver whose measured capacity
    // comes from its own sends being rate-limited downstream passes that rate on without a
    // second buffer: buffers would compound along a chain (0.9 x 0.9 x ...), leaving the real
    // bottleneck underused.
    let memory = &mut config.capacity[c.index as usize];
    if overloaded {
        memory.held_downstream = c.out.iter().any(|(_, li, _)| {
            links
                .get(*li as usize)
                .is_some_and(|l| l.flow.limit.is_some())
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
        .map(|l| links.get(*l as usize).map_or(0.0, |l| l.flow.demand))
        .collect();
    // Predictive backpressure: the receiver also forecasts its incoming traffic
    // `health.forecast.horizon_s` ahead (Holt's linear method over its cycles) and splits its
    // safe rate among its senders as soon as the forecast exceeds it, so the caps are in force
    // before the overload lands.
    let incoming: f64 = demands.iter().sum();
    let expected = if spec.predictive {
        let f = health.spec.forecast;
        let holt = &mut config.incoming[c.index as usize];
        holt.observe(incoming, f.alpha, f.beta, f.anomaly_factor);
        incoming.max(holt.forecast(f.horizon_s / health.spec.cycle_s))
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
        _ if foreseen => (RateReason::ForecastOverload, Urgency::Gradual),
        HealthBand::Critical => (RateReason::QueueOverloadCritical, Urgency::Immediate),
        HealthBand::Red => (RateReason::DownstreamOverload, Urgency::Gradual),
        _ => (RateReason::ApproachingCapacity, Urgency::Gradual),
    };
    ReceiverPlan {
        allotments,
        demands,
        incoming,
        safe,
        reason,
        urgency,
        answering: h.answering,
    }
}

/// Runs one control cycle: every receiver's plan, then each of its senders' side.
fn control_rates(
    clock: Res<SimClock>,
    topo: Res<Topology>,
    health_cfg: Res<HealthConfig>,
    mut config: ResMut<FlowConfig>,
    queries: HealthQueries,
    mut slots: ResMut<QuerySlots>,
    mut core: ResMut<FlowCore>,
    mut events: MessageWriter<SimEvent>,
) {
    let spec = config.spec.clone();
    for c in &topo.components {
        let Some(h) = queries.published(c.entity) else {
            continue;
        };
        let plan = receiver_plan(
            c,
            h,
            &core.links,
            &mut config,
            &spec,
            &health_cfg,
            clock.now,
        );
        if h.anomaly {
            let kind = EventKind::Anomaly {
                queue: h.queue_length,
            };
            events.write(SimEvent::new(clock.now, Subject::Component(c.index), kind));
        }
        for (k, &li) in c.in_links.iter().enumerate() {
            let Some(l) = core.links.get_mut(li as usize) else {
                continue;
            };
            let NodeRef::Component(sender) = l.from else {
                continue;
            };
            let rec = recommendation(l, &plan, k);
            l.flow.recommended = rec.map(|r| r.rate);
            l.flow.urgency = rec.map_or(Urgency::Gradual, |r| r.urgency);
            let ctx = SenderCtx {
                class: topo.components[sender as usize].kind,
                sender,
                receiver: c.entity,
                rec,
                loose_ok: plan.allotments.is_none(),
                now: clock.now,
                unit: topo.unit as f64,
                spec: &spec,
            };
            match &mut l.control {
                LinkControl::Seed000 => {
                    sender_cycle(l, &ctx, &queries, &mut slots, &mut events);
                }
                LinkControl::Off => {}
                LinkControl::Custom(_) => custom_cycle(l, h, ctx.now, ctx.unit, &mut events),
            }
        }
    }
}

/// A sender already limited always hears its share of the safe rate: a ceiling it may climb
/// toward while the receiver is healthy, never past (a limit that climbs past the safe rate and
/// is cut back saw-tooths). It is lifted once it stops binding (see `next_limit`).
fn recommendation(l: &Link, plan: &ReceiverPlan, k: usize) -> Option<Recommendation> {
    let sticky = (l.flow.limit.is_some() && plan.incoming > 0.0 && plan.answering)
        .then(|| plan.safe * plan.demands[k] / plan.incoming);
    plan.allotments
        .as_ref()
        .map(|a| a[k])
        .or(sticky)
        .map(|rate| Recommendation {
            rate,
            reason: plan.reason,
            urgency: plan.urgency,
        })
}

/// What a sender works with in its cycle.
struct SenderCtx<'a> {
    class: Kind,
    sender: u32,
    receiver: Entity,
    rec: Option<Recommendation>,
    /// The receiver split nothing this cycle: a limit that does not bind may be lifted.
    loose_ok: bool,
    now: Nanos,
    unit: f64,
    spec: &'a BackpressureSpec,
}

/// The sender's side (seed 000, "Sender-Side Control"): asks the receiver directly, through its
/// cache; runs its breaker; sets the backpressure delay; moves its allowed rate.
fn sender_cycle(
    l: &mut Link,
    ctx: &SenderCtx,
    queries: &HealthQueries,
    slots: &mut QuerySlots,
    events: &mut MessageWriter<SimEvent>,
) {
    let spec = ctx.spec;
    let seen = ask_receiver(l, ctx, queries, slots, events);
    let (status, target_health, growing) = (seen.status, seen.health, seen.filling);
    breaker_cycle(l, ctx.now, &seen, spec, events);
    l.flow.delay = delay_for(target_health, spec);
    let old = l.flow.limit;
    let new = next_limit(l, ctx, status, growing);
    l.flow.target = ctx.rec.map(|r| r.rate).or(new);
    if new != old {
        let why = ctx.rec.map_or(RateReason::of_status(status), |r| r.reason);
        l.flow.reason = why;
        let actual = queries
            .published(ctx.receiver)
            .map_or(HealthBand::Critical, |h| h.status);
        let kind = EventKind::RateChange {
            old,
            new,
            reason: why,
            urgency: l.flow.urgency,
            status,
            actual,
        };
        events.write(SimEvent::new(ctx.now, Subject::Link(l.index), kind));
        l.flow.set_limit(new, ctx.unit, ctx.now);
    }
}

/// A controller plugged in through the policy seam sets the link's allowed rate.
fn custom_cycle(
    l: &mut Link,
    receiver: &HealthStatus,
    now: Nanos,
    unit: f64,
    events: &mut MessageWriter<SimEvent>,
) {
    let LinkControl::Custom(c) = &mut l.control else {
        return;
    };
    let input = CycleInput {
        now,
        demand: l.flow.demand,
        limit: l.flow.limit,
        receiver: receiver.answering.then_some(receiver),
    };
    let (new, reason) = c.cycle(&input);
    let old = l.flow.limit;
    if new != old {
        l.flow.reason = reason;
        let kind = EventKind::RateChange {
            old,
            new,
            reason,
            urgency: Urgency::Gradual,
            status: receiver.status,
            actual: receiver.status,
        };
        events.write(SimEvent::new(now, Subject::Link(l.index), kind));
        l.flow.set_limit(new, unit, now);
    }
}

/// The receiver's status as the sender knows it: (status, health, queue filling). Without a
/// fresh answer, load balancers and background services go by the last one; application
/// services proceed with caution (no increases).
fn ask_receiver(
    l: &mut Link,
    ctx: &SenderCtx,
    queries: &HealthQueries,
    slots: &mut QuerySlots,
    events: &mut MessageWriter<SimEvent>,
) -> Seen {
    let spec = ctx.spec;
    let ttl = match ctx.class {
        Kind::LoadBalancer => spec.query_ttl_ms.load_balancer,
        Kind::Queue => spec.query_ttl_ms.background,
        _ => spec.query_ttl_ms.application,
    };
    let mut asking = Asking {
        slots,
        asker: ctx.sender as usize,
        now: ctx.now,
        ttl: (ttl * MS) as Nanos,
        spec,
    };
    let flow = &mut l.flow;
    let (got, source, event) = asking.ask(&mut flow.view, &mut flow.stats, || {
        queries
            .get_health_status(ctx.receiver)
            .map(|h| Answer::from_status(h, ctx.now, spec))
    });
    if let Some(ev) = event {
        let kind = EventKind::HealthCheck {
            opened: ev == CheckEvent::Opened,
            open_s: spec.check_open_s,
        };
        events.write(SimEvent::new(ctx.now, Subject::Link(l.index), kind));
    }
    let lenient = ctx.class == Kind::LoadBalancer || ctx.class == Kind::Queue;
    let seen = |status, health, filling, error_rate| Seen {
        status,
        health,
        filling,
        error_rate,
    };
    match (got, source) {
        (Some(a), Freshness::Fresh | Freshness::Cached) => {
            seen(a.status, a.health, a.filling, a.error_rate)
        }
        (Some(a), Freshness::Stale) if lenient => seen(a.status, a.health, a.filling, a.error_rate),
        (Some(a), Freshness::Stale) => seen(
            a.status.max(HealthBand::Yellow),
            a.health,
            true,
            a.error_rate,
        ),
        (None, Freshness::Stale) => seen(HealthBand::Yellow, 1.0, true, 0.0),
        // The health-check breaker is open: assume the worst.
        _ => seen(HealthBand::Critical, 0.0, true, 1.0),
    }
}

/// What a sender makes of its receiver this cycle.
struct Seen {
    /// Status band.
    status: HealthBand,
    /// Aggregated health (0-1).
    health: f64,
    /// The receiver's queue is filling (or it is not known).
    filling: bool,
    /// The receiver's own error rate (0-1).
    error_rate: f64,
}

/// The next allowed rate of a link (`None`: unlimited).
fn next_limit(l: &mut Link, ctx: &SenderCtx, status: HealthBand, growing: bool) -> Option<f64> {
    let (spec, rec) = (ctx.spec, ctx.rec);
    let demand = l.flow.demand;
    let calm = calm(status, growing);
    match l.flow.limit {
        None if calm && rec.is_none() => None,
        // An allotment above the current demand (the overload is forecast, not here yet)
        // becomes a cap as it is; anything else starts from the demand.
        None => Some(match rec {
            Some(r) if r.rate >= demand => r.rate,
            _ => next_rate(demand.max(1.0), demand, status, growing, rec, spec),
        }),
        Some(cur) => {
            // A link that carried nothing this cycle (its traffic rerouted, or none offered)
            // keeps its limit: there is nothing to adapt to.
            let next = if demand > 0.0 {
                next_rate(cur, demand, status, growing, rec, spec)
            } else {
                cur
            };
            // A limit above the demand does not bind: it is not raised further. It is lifted
            // at once if the receiver is GREEN, or once it has stayed so with the receiver calm
            // for `capacity_hold_s` (hysteresis: a limit that comes and goes with every dip in
            // traffic is a flapping one).
            let hold = (spec.capacity_hold_s * SEC) as Nanos;
            let loose = demand <= 0.95 * cur;
            let next = if loose { next.min(cur) } else { next };
            let slack = calm && loose && ctx.loose_ok;
            l.flow.slack_since = if slack {
                l.flow.slack_since.or(Some(ctx.now))
            } else {
                None
            };
            if (slack && status == HealthBand::Green)
                || l.flow.slack_since.is_some_and(|t| ctx.now >= t + hold)
            {
                l.flow.slack_since = None;
                None
            } else {
                Some(next)
            }
        }
    }
}

/// Seed 000's alternative routes: a sender that hears its target cannot accept load, while the
/// alternative can, sends there instead.
fn alternative_routes(
    clock: Res<SimClock>,
    topo: Res<Topology>,
    core: Res<FlowCore>,
    mut fallbacks: ResMut<Fallbacks>,
    mut events: MessageWriter<SimEvent>,
) {
    for (li, alt) in topo.alternatives.iter().enumerate() {
        let Some(alt) = *alt else { continue };
        let cannot =
            |l: &Link| l.flow.view.heard_red() || l.flow.view.answer.is_some_and(|a| !a.accepting);
        let (Some(main), Some(other)) = (core.links.get(li), core.link(alt)) else {
            continue;
        };
        let on = cannot(main) && !cannot(other);
        if on != fallbacks.reroute[li].is_some() {
            let what = if on {
                Fallback::Reroute { to: other.to }
            } else {
                Fallback::RouteBack
            };
            let kind = EventKind::Fallback(what);
            events.write(SimEvent::new(clock.now, Subject::Link(li as u32), kind));
            fallbacks.reroute[li] = on.then_some((alt, other.call));
        }
    }
}

/// After each control cycle, refreshes the headers every link between components stamps on the
/// requests it carries: its allowed rate, breaker state, the sender's and the receiver's status
/// (as the sender last heard it), the reason of the last rate change, the alternatives.
fn stamp_headers(topo: Res<Topology>, queries: HealthQueries, mut core: ResMut<FlowCore>) {
    for l in core.links.iter_mut() {
        let NodeRef::Component(sender) = l.from else {
            continue;
        };
        let sender_status = queries
            .published(topo.components[sender as usize].entity)
            .map_or(HealthBand::Green, |h| h.status);
        let receiver = &topo.components[l.to as usize];
        let live = receiver.instances.len().saturating_sub(1);
        let alternatives = live + topo.alternatives[l.index as usize].is_some() as usize;
        let target = l.flow.view.answer.map_or(HealthBand::Green, |a| a.status);
        let reason = if l.flow.limit.is_some() {
            l.flow.reason
        } else {
            RateReason::None
        };
        l.flow.headers = FlowHeaders {
            max_rate: l.flow.limit.map_or(f32::INFINITY, |r| r as f32),
            max_attempts: 1,
            breaker: l.breaker.state as u8,
            sender_status: sender_status as u8,
            target_status: target as u8,
            reason: reason as u8,
            alternatives: alternatives.min(255) as u8,
            retry_after_ms: 0,
        };
    }
}

/// One cycle of a link's circuit breaker (`Breaker::cycle`, seed 000's "Circuit Breaker
/// Integration"). The error rate is the target's answers to the requests the breaker let
/// through: the sender's own refusals (breaker, rate limit) are not answers. The receiver is
/// healthy when GREEN or YELLOW and its own error rate is within the threshold (a target that
/// fails most requests is not healthy whatever its score).
fn breaker_cycle(
    l: &mut Link,
    now: Nanos,
    receiver: &Seen,
    spec: &BackpressureSpec,
    events: &mut MessageWriter<SimEvent>,
) {
    let k = &spec.breaker;
    let seen = CycleSeen {
        responses: l.counters.responses_delivered - l.counters.refused_locally,
        errors: l.counters.response_errors,
        healthy: matches!(receiver.status, HealthBand::Green | HealthBand::Yellow)
            && receiver.error_rate <= k.error_threshold,
    };
    if let Some((from, to, reason)) = l.breaker.cycle(k, now, seen) {
        let kind = EventKind::Breaker { from, to, reason };
        events.write(SimEvent::new(now, Subject::Link(l.index), kind));
    }
}
