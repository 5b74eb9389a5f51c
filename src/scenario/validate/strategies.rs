//! The strategies' parameters: client retries and throttling, rate limiters, adaptive
//! concurrency limits, queue policies.

use super::checker::{Checker, num};
use crate::scenario::{
    CallKind, ClientSpec, ConcurrencySpec, LimiterSpec, QueuePolicySpec, RedeliverySpec,
};

/// Checks a source's client: its timeout and retry policy (attempts, backoff, multiplier).
pub(super) fn check_client(c: &mut Checker, f: &str, client: &ClientSpec) {
    if let Some(t) = client.timeout_ms {
        c.positive(&format!("{f}.client.timeout_ms"), t, 1e9);
    }
    let r = &client.retry;
    if r.max_attempts == 0 || r.max_attempts > 100 {
        c.bad(
            format!("{f}.client.retry.max_attempts"),
            format!("{} is out of range", r.max_attempts),
            "1 means no retry; at most 100",
        );
    }
    c.range(
        &format!("{f}.client.retry.base_backoff_ms"),
        r.base_backoff_ms,
        0.0,
        1e9,
    );
    c.range(
        &format!("{f}.client.retry.multiplier"),
        r.multiplier,
        1.0,
        100.0,
    );
    c.range(
        &format!("{f}.client.retry.max_backoff_ms"),
        r.max_backoff_ms,
        0.0,
        1e9,
    );
    if let Some(b) = r.budget {
        c.range(
            &format!("{f}.client.retry.budget.ratio"),
            b.ratio,
            0.0,
            10.0,
        );
        c.range(
            &format!("{f}.client.retry.budget.min_per_s"),
            b.min_per_s,
            0.0,
            1e6,
        );
        c.range(
            &format!("{f}.client.retry.budget.ttl_s"),
            b.ttl_s,
            1.0,
            60.0,
        );
    }
    if let Some(t) = client.throttle {
        c.range(&format!("{f}.client.throttle.k"), t.k, 1.0, 100.0);
        c.positive(&format!("{f}.client.throttle.window_s"), t.window_s, 3600.0);
    }
}

/// A link's rate limiter: rates, bursts and limits of at least one request, windows above 0;
/// a sliding log keeps at most a million times.
pub(super) fn check_limiter(c: &mut Checker, f: &str, l: LimiterSpec, unit: u32) {
    let f = format!("{f}.limit");
    let (amount, window) = match l {
        LimiterSpec::TokenBucket { rate, burst } => {
            c.positive(&format!("{f}.rate"), rate, 1e9);
            (burst, None)
        }
        LimiterSpec::FixedWindow { limit, window_s }
        | LimiterSpec::SlidingLog { limit, window_s }
        | LimiterSpec::SlidingCounter { limit, window_s } => (limit, Some(window_s)),
    };
    c.range(
        &format!("{f}.{}", if window.is_some() { "limit" } else { "burst" }),
        amount,
        1.0,
        1e9,
    );
    if let Some(w) = window {
        c.positive(&format!("{f}.window_s"), w, 86_400.0);
    }
    if matches!(l, LimiterSpec::SlidingLog { .. }) && amount / unit.max(1) as f64 > 1e6 {
        c.bad(
            format!("{f}.limit"),
            format!(
                "a log of {} admission times",
                num(amount / unit.max(1) as f64)
            ),
            "use SlidingCounter for limits above a million per window (or a larger request_unit)",
        );
    }
}

/// An adaptive concurrency limit: 1 <= min <= initial <= max <= 1e6, and its algorithm's own
/// numbers in range.
pub(super) fn check_concurrency(c: &mut Checker, f: &str, l: ConcurrencySpec) {
    let f = format!("{f}.concurrency");
    let (initial, min, max) = l.bounds();
    if !(min >= 1.0 && min <= initial && initial <= max && max <= 1e6) {
        c.bad(
            f.clone(),
            format!(
                "min {}, initial {}, max {}",
                num(min),
                num(initial),
                num(max)
            ),
            "1 <= min <= initial <= max <= 1000000 (defaults 1, 20, 1000)",
        );
    }
    match l {
        ConcurrencySpec::Aimd { backoff, .. } => {
            c.range(&format!("{f}.backoff"), backoff, 0.1, 0.99);
        }
        ConcurrencySpec::Gradient2 {
            tolerance,
            smoothing,
            ..
        } => {
            c.range(&format!("{f}.tolerance"), tolerance, 1.0, 10.0);
            c.range(&format!("{f}.smoothing"), smoothing, 0.01, 1.0);
        }
        ConcurrencySpec::Vegas { .. } => {}
    }
}

/// A queue strategy's parameters in range.
pub(super) fn check_queue_policy(c: &mut Checker, f: &str, q: QueuePolicySpec) {
    let f = format!("{f}.queue_policy");
    match q {
        QueuePolicySpec::EarlyDrop { exponent } => {
            c.range(&format!("{f}.exponent"), exponent, 0.1, 100.0);
        }
        QueuePolicySpec::CoDel {
            target_ms,
            interval_ms,
            ..
        } => {
            c.positive(&format!("{f}.target_ms"), target_ms, 1e6);
            if c.positive(&format!("{f}.interval_ms"), interval_ms, 1e7) && interval_ms < target_ms
            {
                c.bad(
                    format!("{f}.interval_ms"),
                    "shorter than the target",
                    "CoDel's interval is a window of several targets (defaults: target 5, interval 100)",
                );
            }
        }
        QueuePolicySpec::AdaptiveLifo { after_ms } => {
            c.range(&format!("{f}.after_ms"), after_ms, 0.0, 1e7);
        }
        _ => {}
    }
}

/// A broker's redelivery: on a Pull link only, 1 to 255 deliveries, at most 16 delay tiers of
/// 0 to a day each.
pub(super) fn check_redelivery(c: &mut Checker, f: &str, r: &RedeliverySpec, call: CallKind) {
    if call != CallKind::Pull {
        c.bad(
            format!("{f}.redelivery"),
            "only a broker redelivers: redelivery is for a Pull link from a Queue",
            "put it on the Pull link its consumer reads from",
        );
    }
    if !(1..=255).contains(&r.attempts) {
        c.bad(
            format!("{f}.redelivery.attempts"),
            format!("{} deliveries", r.attempts),
            "1 to 255 deliveries in all (1: dead-letter at the first failure)",
        );
    }
    if r.delays_s.len() > 16 {
        c.bad(
            format!("{f}.redelivery.delays_s"),
            format!("{} retry queues", r.delays_s.len()),
            "at most 16 delay tiers",
        );
    }
    for (k, d) in r.delays_s.iter().enumerate() {
        c.range(&format!("{f}.redelivery.delays_s[{k}]"), *d, 0.0, 86_400.0);
    }
}

/// A component's bulkheads: at most 16, each naming flows some source sends (each flow in at
/// most one), owning at least one worker, all together no more than the component has.
pub(super) fn check_bulkheads(c: &mut Checker, s: &crate::scenario::Scenario, i: usize) {
    let comp = &s.components[i];
    if comp.bulkheads.is_empty() {
        // Most components have none: the flows are listed only for one that does.
        return;
    }
    let f = format!("components[{i}].bulkheads");
    if comp.bulkheads.len() > 16 {
        c.bad(
            &f,
            format!("{} bulkheads", comp.bulkheads.len()),
            "at most 16",
        );
    }
    let known: Vec<&str> = s
        .sources
        .iter()
        .flat_map(|src| src.flows.iter().map(|fl| fl.name.as_str()))
        .collect();
    let mut seen: Vec<&str> = vec![];
    for (k, b) in comp.bulkheads.iter().enumerate() {
        let fk = format!("{f}[{k}]");
        if b.flows.is_empty() {
            c.bad(
                format!("{fk}.flows"),
                "names no flow",
                "name the flows it keeps apart",
            );
        }
        for name in &b.flows {
            if !known.contains(&name.as_str()) {
                c.bad(
                    format!("{fk}.flows"),
                    format!("`{name}` is not a flow of any source"),
                    format!("known flows: {}", known.join(", ")),
                );
            } else if seen.contains(&name.as_str()) {
                c.bad(
                    format!("{fk}.flows"),
                    format!("`{name}` is in two bulkheads"),
                    "a flow uses one compartment",
                );
            }
            seen.push(name);
        }
        if b.workers == 0 || b.queue > 10_000_000 {
            c.bad(
                &fk,
                format!("{} workers, queue {}", b.workers, b.queue),
                "at least 1 worker; a queue of 0 to 10000000",
            );
        }
    }
    let owned: u64 = comp.bulkheads.iter().map(|b| b.workers as u64).sum();
    if owned > comp.workers as u64 {
        c.bad(
            &f,
            format!(
                "the bulkheads own {owned} workers, the component has {}",
                comp.workers
            ),
            "give the bulkheads fewer workers (the rest serve the other flows)",
        );
    }
}

/// Credits: on an `Async` link only (a window is refused there), 1 to 1e7 credits, a buffer of
/// 0 to 1e7.
pub(super) fn check_credits(
    c: &mut Checker,
    f: &str,
    cr: crate::scenario::CreditSpec,
    l: &crate::scenario::LinkSpec,
) {
    if l.call != CallKind::Async {
        c.bad(
            format!("{f}.credits"),
            "credits come back when the receiver is done with a message: an Async link's flow control",
            "use credits on an Async link (a Sync link has `window` or `concurrency`; Pull is already pulled)",
        );
    }
    if cr.credits == 0 || cr.credits > 10_000_000 || cr.buffer > 10_000_000 {
        c.bad(
            format!("{f}.credits"),
            format!("{} credits and a buffer of {}", cr.credits, cr.buffer),
            "1 to 10000000 credits, a buffer of 0 to 10000000",
        );
    }
}
