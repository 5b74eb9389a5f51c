//! Semantic checks of a parsed scenario: every problem comes back with its field path and a hint,
//! so a person can fix the file without reading code.

pub(crate) mod checker;
mod routes;
mod strategies;
mod whatif;

use super::*;
use checker::{Checker, known, num};
use routes::check_flow;
use std::collections::BTreeMap;
use strategies::{
    check_bulkheads, check_client, check_concurrency, check_credits, check_limiter,
    check_queue_policy, check_redelivery,
};
use whatif::{check_commands, check_faults};

/// Largest accepted rate, in real requests per second.
const MAX_RATE: f64 = 1e9;

/// Returns every problem in the scenario (empty when it can be run).
pub fn validate(s: &Scenario) -> Vec<Problem> {
    let mut c = Checker { problems: vec![] };
    check_sim(&mut c, &s.sim);
    if let Some(why) = super::names::title_problem(&s.name) {
        c.bad("name", why, "a title of printable characters, at most 200");
    }
    let names = check_names(&mut c, s);
    let linked = check_links(&mut c, s, &names);
    check_alternatives(&mut c, s, &linked);

    for (i, src) in s.sources.iter().enumerate() {
        check_source(&mut c, s, i, src, &names, &linked);
    }
    for (i, comp) in s.components.iter().enumerate() {
        check_component(&mut c, &s.sim, i, comp);
        check_bulkheads(&mut c, s, i);
    }
    check_health(&mut c, &s.health);
    check_backpressure(&mut c, &s.backpressure);
    check_faults(&mut c, s, &names);
    check_commands(&mut c, s);
    check_budget(&mut c, s);
    c.problems
}

/// The whole scenario within the budget (`budget`): components, links, instances and simulated
/// workers, each with what it would take to fit.
fn check_budget(c: &mut Checker, s: &Scenario) {
    use super::budget::*;
    if s.components.len() > COMPONENTS {
        c.bad(
            "components",
            format!("{} components; at most {COMPONENTS}", s.components.len()),
            "model repeated parts as instances of one component",
        );
    }
    if s.sources.len() > SOURCES {
        c.bad(
            "sources",
            format!("{} sources; at most {SOURCES}", s.sources.len()),
            "model many clients as one source with a higher rate (a source is a population)",
        );
    }
    let flows: usize = s.sources.iter().map(|x| x.flows.len()).sum();
    if flows > FLOWS {
        c.bad(
            "sources",
            format!("{flows} flows in all; at most {FLOWS}"),
            "fewer sources or flows: a flow is a kind of request, a source a population",
        );
    }
    if s.links.len() > LINKS {
        c.bad(
            "links",
            format!("{} links; at most {LINKS}", s.links.len()),
            "fewer components, or fewer links between them",
        );
    }
    let unit = s.sim.request_unit.max(1) as f64;
    let (mut instances, mut workers) = (0u64, 0f64);
    let mut biggest = (0f64, "");
    for comp in &s.components {
        let n = comp
            .autoscale
            .map_or(comp.instances, |a| a.max.max(comp.instances)) as u64;
        let w = n as f64 * (comp.workers as f64 / unit).round().max(1.0);
        instances += n;
        workers += w;
        if w > biggest.0 {
            biggest = (w, &comp.name);
        }
    }
    if instances > INSTANCES {
        c.bad(
            "components",
            format!("{instances} instances in all (autoscaling max counted); at most {INSTANCES}"),
            "fewer instances, or larger ones (more workers each)",
        );
    }
    if workers > WORKERS as f64 {
        let need = (unit * workers / WORKERS as f64).ceil();
        c.bad(
            "components",
            format!(
                "{} simulated workers in all ({} of them `{}`'s); the budget is {} (about {} MB of memory)",
                num(workers),
                num(biggest.0),
                biggest.1,
                num(WORKERS as f64),
                WORKERS * BYTES_PER_WORKER / 1_000_000
            ),
            format!(
                "raise sim.request_unit to {} or more (one simulated request stands for that many), or give fewer workers",
                num(need)
            ),
        );
    }
}

/// Checks every source and component name (sources and components share one namespace) and that
/// there is at least one source; returns each name with what it names ("source" or "component").
fn check_names<'a>(c: &mut Checker, s: &'a Scenario) -> BTreeMap<&'a str, &'static str> {
    let mut names: BTreeMap<&str, &'static str> = BTreeMap::new();
    for (i, src) in s.sources.iter().enumerate() {
        check_name(
            c,
            &format!("sources[{i}].name"),
            &src.name,
            &mut names,
            "source",
        );
    }
    for (i, comp) in s.components.iter().enumerate() {
        check_name(
            c,
            &format!("components[{i}].name"),
            &comp.name,
            &mut names,
            "component",
        );
    }
    if s.sources.is_empty() {
        c.bad(
            "sources",
            "no traffic source",
            "add at least one entry to `sources`",
        );
    }
    names
}

/// Checks each link's ends, call kind, self-loops, duplicates and latency; returns every
/// (from, to) pair with the index of its link.
fn check_links<'a>(
    c: &mut Checker,
    s: &'a Scenario,
    names: &BTreeMap<&str, &'static str>,
) -> BTreeMap<(&'a str, &'a str), usize> {
    let mut linked: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    for (i, l) in s.links.iter().enumerate() {
        let f = format!("links[{i}]");
        if let Some(limit) = l.limit {
            check_limiter(c, &f, limit, s.sim.request_unit);
        }
        if let Some(r) = &l.redelivery {
            check_redelivery(c, &f, r, l.call);
        }
        if let Some(cr) = l.credits {
            check_credits(c, &f, cr, l);
        }
        if let Some(spec) = l.concurrency {
            if l.call != CallKind::Sync {
                c.bad(
                    format!("{f}.concurrency"),
                    "a sender-side concurrency limit counts requests until their answer, and only a Sync call has one",
                    "put it on a Sync link (or a server-side `concurrency` on the receiver)",
                );
            }
            check_concurrency(c, &f, spec);
        }
        if let Some(w) = l.window {
            if l.call != CallKind::Sync {
                c.bad(
                    format!("{f}.window"),
                    "a window counts requests until their answer, and only a Sync call has one",
                    "use a window on a Sync link (or a queue limit on the receiver)",
                );
            }
            if w.max == 0 || w.max > 10_000_000 || w.buffer > 10_000_000 {
                c.bad(
                    format!("{f}.window"),
                    format!("max {} and buffer {}", w.max, w.buffer),
                    "1 to 10000000 in flight, 0 to 10000000 waiting",
                );
            }
        }
        if !names.contains_key(l.from.as_str()) {
            c.bad(
                format!("{f}.from"),
                format!("`{}` is not a source or component", l.from),
                known(names),
            );
        }
        match names.get(l.to.as_str()) {
            None => c.bad(
                format!("{f}.to"),
                format!("`{}` is not a component", l.to),
                known(names),
            ),
            Some(&"source") => c.bad(
                format!("{f}.to"),
                format!("`{}` is a source; links cannot point at sources", l.to),
                "responses travel back along the link automatically; link only away from a source",
            ),
            _ => {}
        }
        if l.call == CallKind::Pull
            && s.components
                .iter()
                .find(|c| c.name == l.from)
                .is_none_or(|c| c.kind != Kind::Queue)
        {
            c.bad(
                format!("{f}.call"),
                format!("`{}` is not a Queue, so nothing can pull from it", l.from),
                "use Pull only on links leaving a component of kind Queue (a broker); use Async to push",
            );
        }
        if l.from == l.to && l.call == CallKind::Pull {
            c.bad(
                &f,
                "a broker cannot pull from itself",
                "pull from another component",
            );
        }
        if linked.insert((l.from.as_str(), l.to.as_str()), i).is_some() {
            c.bad(
                &f,
                format!("duplicate link {} -> {}", l.from, l.to),
                "keep one link per pair",
            );
        }
        check_timing(c, &format!("{f}.latency"), &l.latency, true);
    }
    linked
}

/// Checks each link's alternative: another component, linked from the sender, and linked on to
/// everywhere the original target sends requests next.
fn check_alternatives(c: &mut Checker, s: &Scenario, linked: &BTreeMap<(&str, &str), usize>) {
    for (i, l) in s.links.iter().enumerate() {
        let Some(alt) = &l.alternative else { continue };
        let f = format!("links[{i}].alternative");
        if !s.components.iter().any(|c| &c.name == alt) || alt == &l.to {
            c.bad(
                &f,
                format!("`{alt}` is not a component other than `{}`", l.to),
                "name another component the sender can send to instead",
            );
            continue;
        }
        if !linked.contains_key(&(l.from.as_str(), alt.as_str())) {
            c.bad(
                &f,
                format!("`{}` has no link to `{alt}`", l.from),
                format!("add a link from `{}` to `{alt}`", l.from),
            );
        }
        for next in s.links.iter().filter(|n| n.from == l.to) {
            if !linked.contains_key(&(alt.as_str(), next.to.as_str())) {
                c.bad(
                    &f,
                    format!(
                        "`{alt}` has no link to `{}`, where requests go after `{}`",
                        next.to, l.to
                    ),
                    format!("add a link from `{alt}` to `{}`", next.to),
                );
            }
        }
    }
}

/// Checks each fault: an existing component and instance, its start, length and slowdown.
/// What is allowed but most likely not meant: a fault or a command after the end of the run, a
/// sampling interval longer than the run. Printed as warnings; the scenario still runs.
pub fn warnings(s: &Scenario) -> Vec<Problem> {
    let end = s.sim.duration_s;
    let mut out = vec![];
    let mut warn = |field: String, message: String, hint: &str| {
        out.push(Problem {
            field,
            message,
            hint: hint.to_string(),
        })
    };
    for (i, f) in s.faults.iter().enumerate() {
        if f.at_s >= end {
            warn(
                format!("faults[{i}].at_s"),
                format!(
                    "{} s is after the run ends ({} s): it never happens",
                    num(f.at_s),
                    num(end)
                ),
                "move it inside the run or lengthen sim.duration_s",
            );
        }
    }
    for (i, c) in s.commands.iter().enumerate() {
        if c.at_s >= end {
            warn(
                format!("commands[{i}].at_s"),
                format!(
                    "{} s is after the run ends ({} s): it never happens",
                    num(c.at_s),
                    num(end)
                ),
                "move it inside the run or lengthen sim.duration_s",
            );
        }
    }
    if s.sim.sample_every_s > end {
        warn(
            "sim.sample_every_s".to_string(),
            format!(
                "{} s is longer than the run ({} s): no metrics row is written",
                num(s.sim.sample_every_s),
                num(end)
            ),
            "sample at least once in the run",
        );
    }
    out
}

fn check_name<'a>(
    c: &mut Checker,
    field: &str,
    name: &'a str,
    names: &mut BTreeMap<&'a str, &'static str>,
    what: &'static str,
) {
    if let Some(why) = super::names::name_problem(name) {
        c.bad(field, why, "use letters, digits, '-', '_' or '.'");
    } else if name == "system" {
        c.bad(
            field,
            "`system` is reserved: the metrics name the whole system so",
            "give this source or component another name",
        );
    } else if name.starts_with("flow:") || name.starts_with("priority:") {
        c.bad(
            field,
            format!("`{name}`: names starting with flow: or priority: are reserved"),
            "the metrics name flows and priority classes so; give this another name",
        );
    }
    if names.insert(name, what).is_some() {
        c.bad(
            field,
            format!("`{name}` is used twice"),
            "give every source and component its own name",
        );
    }
}

fn check_sim(c: &mut Checker, sim: &SimSettings) {
    c.positive("sim.tick_ms", sim.tick_ms, 1000.0);
    if sim.tick_ms.is_finite() && sim.tick_ms > 0.0 && sim.tick_ms * 1000.0 < 1.0 {
        c.bad(
            "sim.tick_ms",
            "ticks shorter than 1 µs",
            "the clock counts whole microseconds; use tick_ms >= 0.001",
        );
    }
    c.positive("sim.duration_s", sim.duration_s, 1e7);
    if c.positive("sim.sample_every_s", sim.sample_every_s, 1e6)
        && sim.sample_every_s * 1000.0 < sim.tick_ms
    {
        c.bad(
            "sim.sample_every_s",
            "shorter than one tick",
            "sample at least once per tick length",
        );
    }
    if sim.request_unit == 0 || sim.request_unit > 1_000_000 {
        c.bad(
            "sim.request_unit",
            format!("{} is out of range", sim.request_unit),
            "use 1 (exact) up to 1000000",
        );
    }
    if sim.max_held == 0 || sim.max_held > 100_000_000 {
        c.bad(
            "sim.max_held",
            format!("{} is out of range", sim.max_held),
            "use 1 to 100000000 simulated requests (about 100 bytes each)",
        );
    }
    if c.range("sim.warmup_s", sim.warmup_s, 0.0, 1e7) && sim.warmup_s >= sim.duration_s {
        c.bad(
            "sim.warmup_s",
            "warm-up is not shorter than the run",
            "use a warm-up below duration_s",
        );
    }
}

/// Checks one source: its rate and arrivals, the number of requests it would make, its flows,
/// priority mix and client settings.
fn check_source(
    c: &mut Checker,
    s: &Scenario,
    i: usize,
    src: &SourceSpec,
    names: &BTreeMap<&str, &'static str>,
    linked: &BTreeMap<(&str, &str), usize>,
) {
    let f = format!("sources[{i}]");
    check_layout(c, &f, src.layout);
    check_rate(c, &format!("{f}.rate"), &src.rate);
    if let Arrivals::Bursty { on_s, off_s } = src.arrivals {
        c.positive(&format!("{f}.arrivals.on_s"), on_s, 1e6);
        c.positive(&format!("{f}.arrivals.off_s"), off_s, 1e6);
    }
    let peak = src.rate.peak() * s.sim.duration_s / s.sim.request_unit.max(1) as f64;
    if peak.is_finite() && peak > 5e10 {
        c.bad(
            format!("{f}.rate"),
            format!("would simulate up to {peak:.3e} requests"),
            "shorten sim.duration_s or raise sim.request_unit",
        );
    }
    if src.flows.is_empty() {
        c.bad(format!("{f}.flows"), "no flows", "add a flow with a path");
    }
    for (j, flow) in src.flows.iter().enumerate() {
        if let Some(why) = super::names::name_problem(&flow.name) {
            c.bad(
                format!("{f}.flows[{j}].name"),
                why,
                "use letters, digits, '-', '_' or '.'",
            );
        }
        check_flow(c, &format!("{f}.flows[{j}]"), src, flow, names, linked);
    }
    check_priorities(c, &f, &src.priorities);
    check_client(c, &f, &src.client);
}

/// Checks a source's priority mix: shares >= 0 and not all 0.
fn check_priorities(c: &mut Checker, f: &str, p: &PriorityMix) {
    let parts = [p.critical, p.high, p.medium, p.low];
    if parts.iter().any(|x| !x.is_finite() || *x < 0.0) || parts.iter().sum::<f64>() <= 0.0 {
        c.bad(
            format!("{f}.priorities"),
            "shares must be >= 0 and not all 0",
            "e.g. (critical: 0.05, high: 0.15, medium: 0.6, low: 0.2)",
        );
    }
}

fn check_rate(c: &mut Checker, f: &str, r: &RateSchedule) {
    match r {
        RateSchedule::Constant(x) => {
            c.range(f, *x, 0.0, MAX_RATE);
        }
        RateSchedule::Ramp {
            from,
            to,
            start_s,
            end_s,
        } => {
            c.range(&format!("{f}.from"), *from, 0.0, MAX_RATE);
            c.range(&format!("{f}.to"), *to, 0.0, MAX_RATE);
            c.range(&format!("{f}.start_s"), *start_s, 0.0, 1e7);
            if end_s.is_nan() || end_s <= start_s {
                c.bad(
                    format!("{f}.end_s"),
                    "the ramp ends before it starts",
                    "make end_s greater than start_s",
                );
            }
        }
        RateSchedule::Step {
            before,
            after,
            at_s,
        } => {
            c.range(&format!("{f}.before"), *before, 0.0, MAX_RATE);
            c.range(&format!("{f}.after"), *after, 0.0, MAX_RATE);
            c.range(&format!("{f}.at_s"), *at_s, 0.0, 1e7);
        }
        RateSchedule::Spike {
            base,
            peak,
            start_s,
            duration_s,
        } => {
            c.range(&format!("{f}.base"), *base, 0.0, MAX_RATE);
            c.range(&format!("{f}.peak"), *peak, 0.0, MAX_RATE);
            c.range(&format!("{f}.start_s"), *start_s, 0.0, 1e7);
            c.positive(&format!("{f}.duration_s"), *duration_s, 1e7);
        }
        RateSchedule::Sine {
            mean,
            amplitude,
            period_s,
        } => {
            c.range(&format!("{f}.mean"), *mean, 0.0, MAX_RATE);
            if c.range(&format!("{f}.amplitude"), *amplitude, 0.0, MAX_RATE) && amplitude > mean {
                c.bad(
                    format!("{f}.amplitude"),
                    "amplitude exceeds the mean, so the rate would go negative",
                    "keep amplitude <= mean",
                );
            }
            c.positive(&format!("{f}.period_s"), *period_s, 1e9);
        }
        RateSchedule::Piecewise(points) => {
            if points.is_empty() {
                c.bad(f, "no points", "give at least one (t_s, rate) point");
            }
            for (k, (t, v)) in points.iter().enumerate() {
                c.range(&format!("{f}[{k}].0"), *t, 0.0, 1e7);
                c.range(&format!("{f}[{k}].1"), *v, 0.0, MAX_RATE);
                if k > 0 && (t.is_nan() || *t < points[k - 1].0) {
                    c.bad(
                        format!("{f}[{k}]"),
                        "times go backwards",
                        "list points in increasing time",
                    );
                }
            }
        }
    }
}

fn check_timing(c: &mut Checker, f: &str, t: &Timing, zero_ok: bool) {
    if zero_ok {
        c.range(&format!("{f}.mean_ms"), t.mean_ms, 0.0, 1e7);
    } else {
        c.positive(&format!("{f}.mean_ms"), t.mean_ms, 1e7);
    }
    check_shape(c, &format!("{f}.shape"), t.shape);
}

fn check_shape(c: &mut Checker, f: &str, s: Shape) {
    match s {
        Shape::Uniform { spread } => {
            c.range(&format!("{f}.spread"), spread, 0.0, 1.0);
        }
        Shape::LogNormal { sigma } => {
            c.positive(&format!("{f}.sigma"), sigma, 5.0);
        }
        _ => {}
    }
}

/// Checks one component: its size, service, engines, thrashing, restart delay and hit ratio.
/// A drawing position within the picture's bounds.
fn check_layout(c: &mut Checker, f: &str, layout: Option<(f32, f32)>) {
    if let Some((x, y)) = layout {
        c.range(&format!("{f}.layout.0"), x as f64, -100_000.0, 100_000.0);
        c.range(&format!("{f}.layout.1"), y as f64, -100_000.0, 100_000.0);
    }
}

/// An autoscaling section: bounds that hold the component's instances, within the limit on
/// instances, and shares and times in range (every spare is spawned up front).
fn check_autoscale(c: &mut Checker, f: &str, comp: &ComponentSpec) {
    let Some(a) = comp.autoscale else { return };
    let f = format!("{f}.autoscale");
    if a.min == 0 || a.max > 10_000 || a.min > a.max {
        c.bad(
            format!("{f}.min"),
            format!("min {} and max {} do not make a range", a.min, a.max),
            "use 1 <= min <= max <= 10000",
        );
    } else if comp.instances < a.min || comp.instances > a.max {
        c.bad(
            format!("{f}.max"),
            format!(
                "the component starts with {} instances, outside min {} .. max {}",
                comp.instances, a.min, a.max
            ),
            "start within the autoscaling range",
        );
    }
    c.range(&format!("{f}.scale_up_below"), a.scale_up_below, 0.0, 1.0);
    c.range(&format!("{f}.healthy_above"), a.healthy_above, 0.0, 1.0);
    c.range(&format!("{f}.underused_below"), a.underused_below, 0.0, 1.0);
    c.range(&format!("{f}.cooldown_s"), a.cooldown_s, 0.0, 1e6);
    c.range(&format!("{f}.warmup_s"), a.warmup_s, 0.0, 1e6);
    c.range(&format!("{f}.warmup_speed"), a.warmup_speed, 0.01, 1.0);
}

fn check_component(c: &mut Checker, sim: &SimSettings, i: usize, comp: &ComponentSpec) {
    let f = format!("components[{i}]");
    check_autoscale(c, &f, comp);
    check_layout(c, &f, comp.layout);
    check_size(c, &f, sim, comp);
    check_service(c, &f, &comp.service);
    check_engines(c, &f, &comp.engines);
    // The demand on engines that small takes longer than the clock could count.
    let mean = comp.service_mean_ms();
    if comp.service.mean_ms.is_none() && !(mean.is_finite() && mean <= 1e7) {
        c.bad(
            format!("{f}.engines"),
            format!(
                "the demand would take {} ms per request on these engines",
                num(mean)
            ),
            "give the engines more capacity (or the demand less), for at most 1e7 ms",
        );
    }
    check_queue_policy(c, &f, comp.queue_policy);
    if let Some(limit) = comp.concurrency {
        check_concurrency(c, &f, limit);
    }
    if let Some(shed) = comp.shed
        && !(shed.high > 0.0 && shed.high <= shed.critical && shed.critical <= 10.0)
    {
        c.bad(
            format!("{f}.shed"),
            format!(
                "high {} and critical {}",
                num(shed.high),
                num(shed.critical)
            ),
            "0 < high <= critical (defaults 0.7 and 0.9; above 1 never sheds)",
        );
    }
    if let Some(t) = comp.thrashing {
        c.range(&format!("{f}.thrashing.above"), t.above, 0.0, 0.999);
        c.range(&format!("{f}.thrashing.slowdown"), t.slowdown, 0.0, 1000.0);
    }
    c.range(
        &format!("{f}.restart_after_s"),
        comp.restart_after_s,
        0.0,
        1e7,
    );
    match (comp.kind, comp.hit_ratio) {
        (Kind::Cache, Some(h)) => {
            c.range(&format!("{f}.hit_ratio"), h, 0.0, 1.0);
        }
        (Kind::Cache, None) => {}
        (_, Some(_)) => c.bad(
            format!("{f}.hit_ratio"),
            "only a Cache has a hit ratio",
            "set kind: Cache or remove hit_ratio",
        ),
        _ => {}
    }
}

/// Checks a component's instances, its workers (in range and scalable by sim.request_unit) and
/// its queue bound.
fn check_size(c: &mut Checker, f: &str, sim: &SimSettings, comp: &ComponentSpec) {
    if comp.instances == 0 || comp.instances > 10_000 {
        c.bad(
            format!("{f}.instances"),
            format!("{} is out of range", comp.instances),
            "use 1 to 10000 instances",
        );
    }
    if comp.workers == 0 || comp.workers > 1_000_000 {
        c.bad(
            format!("{f}.workers"),
            format!("{} is out of range", comp.workers),
            "use 1 to 1000000 workers",
        );
    }
    let unit = sim.request_unit.max(1);
    if comp.workers > 0 && comp.workers < unit {
        c.bad(
            format!("{f}.workers"),
            format!("{} workers cannot be scaled by request_unit {unit}", comp.workers),
            "each simulated request stands for request_unit real ones, so workers must be at least request_unit; lower sim.request_unit",
        );
    }
    if let QueueSpec::Bounded(n) = comp.queue
        && n > 1_000_000_000
    {
        c.bad(
            format!("{f}.queue"),
            format!("Bounded({n}) is absurdly large"),
            "use Unbounded to show a queue without limit",
        );
    }
}

/// Checks a component's service: a mean time or some demand, its shape, and each demand in range.
fn check_service(c: &mut Checker, f: &str, sv: &ServiceSpec) {
    match sv.mean_ms {
        Some(m) => {
            c.positive(&format!("{f}.service.mean_ms"), m, 1e7);
        }
        None => {
            let d = sv.demand;
            if d.cpu_ms <= 0.0 && d.storage_ops <= 0.0 && d.network_kb <= 0.0 {
                c.bad(
                    format!("{f}.service"),
                    "no mean_ms and no demand on CPU, storage or network",
                    "set service.mean_ms, or a demand such as (cpu_ms: 2.0)",
                );
            }
        }
    }
    check_shape(c, &format!("{f}.service.shape"), sv.shape);
    let d = sv.demand;
    for (n, v) in [
        ("cpu_ms", d.cpu_ms),
        ("memory_mb", d.memory_mb),
        ("storage_ops", d.storage_ops),
        ("network_kb", d.network_kb),
    ] {
        c.range(&format!("{f}.service.demand.{n}"), v, 0.0, 1e9);
    }
}

/// Checks a component's engine capacities, and that base memory leaves room in the memory engine.
fn check_engines(c: &mut Checker, f: &str, e: &EngineSpec) {
    for (n, v) in [
        ("cpu_cores", e.cpu_cores),
        ("memory_mb", e.memory_mb),
        ("storage_iops", e.storage_iops),
        ("network_mbps", e.network_mbps),
    ] {
        c.positive(&format!("{f}.engines.{n}"), v, 1e12);
    }
    if c.range(
        &format!("{f}.engines.base_memory_mb"),
        e.base_memory_mb,
        0.0,
        1e12,
    ) && e.base_memory_mb >= e.memory_mb
    {
        c.bad(
            format!("{f}.engines.base_memory_mb"),
            "base memory fills the whole memory engine",
            "make base_memory_mb smaller than memory_mb",
        );
    }
}

fn check_health(c: &mut Checker, h: &HealthSpec) {
    c.positive("health.cycle_s", h.cycle_s, 3600.0);
    let w = h.weights;
    for (n, v) in [
        ("queue", w.queue),
        ("processing", w.processing),
        ("latency", w.latency),
        ("error", w.error),
    ] {
        c.range(&format!("health.weights.{n}"), v, 0.0, 1.0);
    }
    if (w.queue + w.processing + w.latency + w.error - 1.0).abs() > 1e-6 {
        c.bad(
            "health.weights",
            "weights do not add up to 1",
            "the seed's are (queue: 0.30, processing: 0.25, latency: 0.25, error: 0.20)",
        );
    }
    let b = h.bands;
    if !(b.green <= 100.0 && b.green > b.yellow && b.yellow > b.red && b.red > 0.0) {
        c.bad(
            "health.bands",
            "bands must fall: 100 >= green > yellow > red > 0",
            "the seed's are (green: 80, yellow: 60, red: 30)",
        );
    }
    c.range(
        "health.latency_points_per_multiple",
        h.latency_points_per_multiple,
        0.0,
        1000.0,
    );
    c.range(
        "health.error_points_per_multiple",
        h.error_points_per_multiple,
        0.0,
        1000.0,
    );
    c.positive("health.latency_window_s", h.latency_window_s, 3600.0);
    c.positive("health.error_window_s", h.error_window_s, 3600.0);
    c.positive("health.trend_window_s", h.trend_window_s, 3600.0);
    c.positive("health.forecast.alpha", h.forecast.alpha, 1.0);
    c.range("health.forecast.beta", h.forecast.beta, 0.0, 1.0);
    c.range(
        "health.forecast.horizon_s",
        h.forecast.horizon_s,
        0.0,
        3600.0,
    );
    c.positive(
        "health.forecast.anomaly_factor",
        h.forecast.anomaly_factor,
        1000.0,
    );
    c.range(
        "health.forecast.anomaly_min_share",
        h.forecast.anomaly_min_share,
        0.0,
        1.0,
    );
    if let Some(l) = h.baseline_latency_ms {
        c.positive("health.baseline_latency_ms", l, 1e7);
    }
    c.positive("health.baseline_error_rate", h.baseline_error_rate, 1.0);
    for (k, (below, health)) in h.engine_bands.iter().enumerate() {
        c.range(&format!("health.engine_bands[{k}].0"), *below, 0.0, 1.0);
        c.range(&format!("health.engine_bands[{k}].1"), *health, 0.0, 1.0);
        if k > 0 && *below <= h.engine_bands[k - 1].0 {
            c.bad(
                format!("health.engine_bands[{k}]"),
                "utilization bands must increase",
                "list bands from the lowest utilization up",
            );
        }
    }
    c.range("health.engine_floor", h.engine_floor, 0.0, 1.0);
    c.range("health.functional_above", h.functional_above, 0.0, 1.0);
    c.range("health.critical_below", h.critical_below, 0.0, 1.0);
    c.range("health.critical_penalty", h.critical_penalty, 0.0, 1.0);
    c.range("health.red_penalty", h.red_penalty, 0.0, 1.0);
    c.range("health.penalty_floor", h.penalty_floor, 0.0, 1.0);
}

fn check_backpressure(c: &mut Checker, b: &BackpressureSpec) {
    c.range("backpressure.safety_buffer", b.safety_buffer, 0.0, 0.99);
    let a = b.adjust;
    for (n, v) in [
        ("green", a.green),
        ("yellow", a.yellow),
        ("red", a.red),
        ("critical", a.critical),
    ] {
        c.range(&format!("backpressure.adjust.{n}"), v, -1.0, 1.0);
    }
    c.positive("backpressure.filling_within_s", b.filling_within_s, 1e7);
    c.range("backpressure.filling_above", b.filling_above, 0.0, 1.0);
    c.range("backpressure.max_increase", b.max_increase, 0.0, 10.0);
    c.range("backpressure.capacity_relax", b.capacity_relax, 0.0, 10.0);
    c.range(
        "backpressure.capacity_hold_s",
        b.capacity_hold_s,
        0.0,
        86_400.0,
    );
    c.range("backpressure.stale_hold_s", b.stale_hold_s, 0.0, 86_400.0);
    c.positive("backpressure.stale_return_step", b.stale_return_step, 1.0);
    c.range("backpressure.max_decrease", b.max_decrease, 0.0, 1.0);
    c.range(
        "backpressure.emergency_decrease",
        b.emergency_decrease,
        0.0,
        1.0,
    );
    c.range("backpressure.min_rate", b.min_rate, 0.0, 1.0);
    for (k, (h, d)) in b.delay_by_health.iter().enumerate() {
        c.range(
            &format!("backpressure.delay_by_health[{k}].0"),
            *h,
            0.0,
            1.0,
        );
        c.range(
            &format!("backpressure.delay_by_health[{k}].1"),
            *d,
            0.0,
            60_000.0,
        );
    }
    c.range("backpressure.max_hold_ms", b.max_hold_ms, 0.0, 3_600_000.0);
    check_breaker(c, &b.breaker);
    let q = b.query_ttl_ms;
    for (n, v) in [
        ("load_balancer", q.load_balancer),
        ("application", q.application),
        ("background", q.background),
    ] {
        c.range(
            &format!("backpressure.query_ttl_ms.{n}"),
            v,
            0.0,
            3_600_000.0,
        );
    }
    c.range(
        "backpressure.max_concurrent_queries",
        b.max_concurrent_queries as f64,
        1.0,
        1e6,
    );
    c.range("backpressure.query_time_ms", b.query_time_ms, 0.0, 60_000.0);
    c.range(
        "backpressure.check_failures_to_open",
        b.check_failures_to_open as f64,
        1.0,
        1e6,
    );
    c.range("backpressure.check_open_s", b.check_open_s, 0.0, 1e6);
}

/// The circuit breaker's settings (`backpressure.breaker`).
fn check_breaker(c: &mut Checker, k: &crate::scenario::BreakerSpec) {
    c.range(
        "backpressure.breaker.error_threshold",
        k.error_threshold,
        0.0,
        1.0,
    );
    c.positive("backpressure.breaker.over_for_s", k.over_for_s, 1e6);
    c.range("backpressure.breaker.open_block", k.open_block, 0.0, 1.0);
    c.positive("backpressure.breaker.probe_every_s", k.probe_every_s, 1e6);
    c.range(
        "backpressure.breaker.half_open_pass",
        k.half_open_pass,
        0.0,
        1.0,
    );
    c.positive(
        "backpressure.breaker.half_open_for_s",
        k.half_open_for_s,
        1e6,
    );
    if let crate::scenario::BreakerWindow::Count(n) = k.window {
        c.range(
            "backpressure.breaker.window.Count",
            n as f64,
            1.0,
            100_000.0,
        );
    }
    if let Some(ms) = k.slow_call_ms {
        c.positive("backpressure.breaker.slow_call_ms", ms, 1e7);
    }
    c.range(
        "backpressure.breaker.slow_call_rate",
        k.slow_call_rate,
        0.001,
        1.0,
    );
    if let Some(n) = k.half_open_calls {
        c.range(
            "backpressure.breaker.half_open_calls",
            n as f64,
            1.0,
            100_000.0,
        );
    }
}
