//! Swapping a strategy while the run goes on, through the command door: a link's rate limiter,
//! a source's retries and throttling, a component's load shedding (the queue's policy is in
//! `resize`). Each change is validated on a copy of the scenario first, then put in place.

use crate::scenario::{ConcurrencySpec, LimiterSpec, RetrySpec, ShedSpec, ThrottleSpec};
use crate::sim::SimConfig;
use crate::sim::door::params::validated;
use crate::sim::flow::client::ClientPolicy;
use crate::sim::flow::core::FlowCore;

fn core_mut(world: &mut World) -> &mut FlowCore {
    FlowCore::in_world(world)
}
use crate::sim::flow::link::Link;
use crate::sim::schedule::dist::{Stream, stream};
use crate::sim::schedule::topology::Topology;
use crate::sim::strategies::concurrency::ConcurrencyLimit;
use crate::sim::strategies::limit::Limiter;
use bevy::prelude::*;

/// Applies a command that swaps a strategy; any other command is not one of these.
pub fn apply(
    world: &mut World,
    cmd: &crate::sim::door::command::SimCommand,
) -> Result<String, String> {
    use crate::sim::door::command::SimCommand::*;
    match cmd {
        SetLimit { link, limit } => set_limit(world, link, *limit),
        SetWindow { link, window } => set_window(world, link, *window),
        SetClient {
            source,
            retry,
            throttle,
        } => set_client(world, source, retry.clone(), *throttle),
        SetShed { component, shed } => set_shed(world, component, *shed),
        SetConcurrency { component, limit } => set_concurrency(world, component, *limit),
        SetLinkConcurrency { link, limit } => set_link_concurrency(world, link, *limit),
        SetRedelivery { link, redelivery } => set_redelivery(world, link, redelivery.clone()),
        SetCredits { link, credits } => set_credits(world, link, *credits),
        SetQueuePolicy { component, policy } => {
            crate::sim::door::resize::set_queue_policy(world, component, *policy)
        }
        _ => Err("not a strategy command".into()),
    }
}

/// Puts a rate limiter on the link `from->to` (or takes it off).
pub fn set_limit(
    world: &mut World,
    link: &str,
    limit: Option<LimiterSpec>,
) -> Result<String, String> {
    let (li, _) = link_named(world, link)?;
    let unit = world.resource::<Topology>().unit;
    let scenario = validated(world, |s| s.links[li].limit = limit)?;
    if let Some(l) = core_mut(world).link_mut(li as u32) {
        l.limiter = limit.map(|spec| Limiter::new(spec, unit));
    }
    world.resource_mut::<SimConfig>().scenario = std::sync::Arc::new(scenario);
    Ok(match limit {
        Some(spec) => format!("{link}: rate limit {spec:?}"),
        None => format!("{link}: no rate limit"),
    })
}

/// Puts a window on the link `from->to` (or takes it off); requests in flight when it is put
/// on count from then on.
pub fn set_window(
    world: &mut World,
    link: &str,
    window: Option<crate::scenario::WindowSpec>,
) -> Result<String, String> {
    let (li, _) = link_named(world, link)?;
    let scenario = validated(world, |s| s.links[li].window = window)?;
    rewindow(world, li, scenario);
    Ok(match window {
        Some(w) => format!(
            "{link}: window of {} in flight, {} waiting",
            w.max, w.buffer
        ),
        None => format!("{link}: no window"),
    })
}

/// Puts a sender-side adaptive concurrency limit on the link `from->to` (or takes it off); it
/// starts afresh from its initial limit.
pub fn set_link_concurrency(
    world: &mut World,
    link: &str,
    limit: Option<ConcurrencySpec>,
) -> Result<String, String> {
    let (li, _) = link_named(world, link)?;
    let scenario = validated(world, |s| s.links[li].concurrency = limit)?;
    rewindow(world, li, scenario);
    Ok(match limit {
        Some(spec) => format!("{link}: sender-side concurrency limit {spec:?}"),
        None => format!("{link}: no sender-side concurrency limit"),
    })
}

/// Puts credits on the `Async` link `from->to` (or takes them off); the receiver's instances
/// give credits back from then on. Messages sent before count as using none.
pub fn set_credits(
    world: &mut World,
    link: &str,
    credits: Option<crate::scenario::CreditSpec>,
) -> Result<String, String> {
    let (li, _) = link_named(world, link)?;
    let scenario = validated(world, |s| s.links[li].credits = credits)?;
    let to = scenario.links[li].to.clone();
    let on = scenario
        .links
        .iter()
        .any(|l| l.to == to && l.credits.is_some());
    rewindow(world, li, scenario);
    let on = on
        || core_mut(world)
            .link(li as u32)
            .is_some_and(Link::has_credits);
    if let Some(c) = world.resource::<Topology>().component(&to) {
        for i in c.instance_ids.clone() {
            if let Some(inst) = core_mut(world).instance_mut(i) {
                inst.credited = on;
            }
        }
    }
    Ok(match credits {
        Some(c) => format!(
            "{link}: {} credits, {} may wait at the sender",
            c.credits, c.buffer
        ),
        None => format!("{link}: no credits"),
    })
}

/// Puts a broker's redelivery on the `Pull` link `from->to` (or takes it off); messages in
/// its retry queues still go back to the topic when their delay is over.
pub fn set_redelivery(
    world: &mut World,
    link: &str,
    redelivery: Option<crate::scenario::RedeliverySpec>,
) -> Result<String, String> {
    let (li, _) = link_named(world, link)?;
    let scenario = validated(world, |s| s.links[li].redelivery = redelivery.clone())?;
    if let Some(l) = core_mut(world).link_mut(li as u32) {
        let waiting = l.redelivery.as_ref().map_or(0, |r| r.waiting);
        let mut next = redelivery
            .as_ref()
            .map(crate::sim::strategies::redelivery::Redelivery::new);
        if let Some(r) = &mut next {
            r.waiting = waiting;
        } else if waiting > 0 {
            // Kept to count what is still in the retry queues (nothing new goes there).
            let mut keep = crate::sim::strategies::redelivery::Redelivery::new(&Default::default());
            keep.waiting = waiting;
            keep.off = true;
            next = Some(keep);
        }
        l.redelivery = next;
    }
    world.resource_mut::<SimConfig>().scenario = std::sync::Arc::new(scenario);
    Ok(match redelivery {
        Some(r) => format!(
            "{link}: redelivery, {} deliveries, retry delays {:?} s, then the dead-letter queue",
            r.attempts, r.delays_s
        ),
        None => format!("{link}: no redelivery"),
    })
}

/// Link `li`'s window rebuilt from the edited `scenario`, which then runs. Requests that were
/// waiting for the old window wait for the new one; without one they go with the next answer
/// (an unbounded window that only drains). Requests in flight count from then on.
fn rewindow(world: &mut World, li: usize, scenario: crate::scenario::Scenario) {
    let unit = world.resource::<Topology>().unit;
    let spec = &scenario.links[li];
    let mut next = crate::sim::flow::link::Window::of(spec, unit);
    if let Some(l) = core_mut(world).link_mut(li as u32) {
        let old = l.window.take();
        // Messages waiting for credits taken off go with the credits still coming back.
        let credit = old.as_ref().is_some_and(|w| w.credit);
        let waiting: Vec<_> = old.map(|w| w.waiting.into()).unwrap_or_default();
        if next.is_none() && !waiting.is_empty() {
            next = Some(crate::sim::flow::link::Window {
                max: u64::MAX,
                credit,
                ..Default::default()
            });
        }
        if let Some(w) = &mut next {
            w.waiting.extend(waiting);
        }
        l.window = next;
    }
    world.resource_mut::<SimConfig>().scenario = std::sync::Arc::new(scenario);
}

/// The link named `from->to`: its index and entity.
pub fn link_named(world: &World, name: &str) -> Result<(usize, Entity), String> {
    let topo = world.resource::<Topology>();
    topo.link_index(name)
        .map(|i| (i, topo.links[i]))
        .ok_or_else(|| format!("no link named {name:?} (links are named from->to)"))
}

/// The index of the source called `name`.
fn source(world: &World, name: &str) -> Result<usize, String> {
    let topo = world.resource::<Topology>();
    topo.source_index(name)
        .ok_or_else(|| format!("no source named {name:?}"))
}

/// Sets a source's retry policy and client throttling (its budget and throttle start afresh).
pub fn set_client(
    world: &mut World,
    name: &str,
    retry: RetrySpec,
    throttle: Option<ThrottleSpec>,
) -> Result<String, String> {
    let i = source(world, name)?;
    let scenario = validated(world, |s| {
        s.sources[i].client.retry = retry.clone();
        s.sources[i].client.throttle = throttle;
    })?;
    let seed = scenario.sim.seed;
    if let Some(src) = core_mut(world).source_mut(i as u32) {
        let rng = stream(seed, Stream::Retry, (3 << 40) | i as u64);
        src.client = ClientPolicy::new(retry.budget, throttle, rng);
        src.set_retry(retry.clone());
    }
    world.resource_mut::<SimConfig>().scenario = std::sync::Arc::new(scenario);
    Ok(format!(
        "{name}: {} attempt(s), jitter {:?}{}{}",
        retry.max_attempts,
        retry.jitter,
        retry.budget.map_or(String::new(), |b| format!(
            ", budget {:.0}% + {}/s",
            b.ratio * 100.0,
            b.min_per_s
        )),
        throttle.map_or(String::new(), |t| format!(
            ", adaptive throttling k = {}",
            t.k
        ))
    ))
}

/// Sets a component's load shedding (or takes it off).
pub fn set_shed(
    world: &mut World,
    component: &str,
    shed: Option<ShedSpec>,
) -> Result<String, String> {
    let ci = world
        .resource::<Topology>()
        .component(component)
        .map(|c| c.index as usize)
        .ok_or_else(|| format!("no component named {component:?}"))?;
    let scenario = validated(world, |s| s.components[ci].shed = shed)?;
    world.resource_mut::<Topology>().components[ci].shed = shed;
    world.resource_mut::<SimConfig>().scenario = std::sync::Arc::new(scenario);
    Ok(match shed {
        Some(s) => format!(
            "{component}: sheds by priority from {} and {}",
            s.high, s.critical
        ),
        None => format!("{component}: no load shedding"),
    })
}

/// Sets a component's adaptive concurrency limit (or takes it off); every instance starts afresh
/// from the initial limit.
pub fn set_concurrency(
    world: &mut World,
    component: &str,
    limit: Option<ConcurrencySpec>,
) -> Result<String, String> {
    let topo = world.resource::<Topology>();
    let c = topo
        .component(component)
        .ok_or_else(|| format!("no component named {component:?}"))?;
    let (ci, instances) = (c.index as usize, c.instance_ids.clone());
    let scenario = validated(world, |s| s.components[ci].concurrency = limit)?;
    for i in instances {
        if let Some(inst) = core_mut(world).instance_mut(i) {
            inst.concurrency = limit.map(|spec| Box::new(ConcurrencyLimit::new(spec)));
        }
    }
    world.resource_mut::<SimConfig>().scenario = std::sync::Arc::new(scenario);
    Ok(match limit {
        Some(spec) => format!("{component}: adaptive concurrency limit {spec:?}"),
        None => format!("{component}: no concurrency limit"),
    })
}
