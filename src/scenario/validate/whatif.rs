//! What-ifs in a scenario file: its scheduled faults and its commands, naming what exists.

use super::checker::{Checker, known, num};
use crate::scenario::{FaultSpec, Scenario};
use std::collections::BTreeMap;

/// A scenario's what-if commands: at a time of the run, naming what exists; never a load.
pub(super) fn check_commands(c: &mut Checker, s: &Scenario) {
    use crate::scenario::command::SimCommand as C;
    for (i, tc) in s.commands.iter().enumerate() {
        let f = format!("commands[{i}]");
        c.range(&format!("{f}.at_s"), tc.at_s, 0.0, 1e7);
        let (source, component) = match &tc.command {
            C::ScaleTraffic { source, .. }
            | C::Spike { source, .. }
            | C::SetClient { source, .. } => (Some(source), None),
            C::TakeDown { component, .. }
            | C::BringBack { component, .. }
            | C::SlowDown { component, .. }
            | C::TakeDownComponent { component, .. }
            | C::InjectErrors { component, .. }
            | C::SetWorkers { component, .. }
            | C::SetQueue { component, .. }
            | C::SetQueuePolicy { component, .. }
            | C::SetShed { component, .. }
            | C::SetConcurrency { component, .. }
            | C::SetInstances { component, .. } => (None, Some(component)),
            C::Load(_) | C::Reset => {
                c.bad(
                    format!("{f}.command"),
                    "a scenario file cannot load or reset itself",
                    "use the app or the API for Load and Reset",
                );
                (None, None)
            }
            _ => (None, None),
        };
        if let C::DegradeLink { link, .. }
        | C::SetLimit { link, .. }
        | C::SetWindow { link, .. }
        | C::SetLinkConcurrency { link, .. }
        | C::SetRedelivery { link, .. }
        | C::SetCredits { link, .. } = &tc.command
            && !s
                .links
                .iter()
                .any(|l| format!("{}->{}", l.from, l.to) == *link)
        {
            c.bad(
                format!("{f}.command.link"),
                format!("`{link}` is not a link"),
                "links are named from->to",
            );
        }
        if let Some(n) = source.filter(|n| !s.sources.iter().any(|x| &x.name == *n)) {
            c.bad(
                format!("{f}.command.source"),
                format!("`{n}` is not a source"),
                "name a source of this scenario",
            );
        }
        if let Some(n) = component.filter(|n| !s.components.iter().any(|x| &x.name == *n)) {
            c.bad(
                format!("{f}.command.component"),
                format!("`{n}` is not a component"),
                "name a component of this scenario",
            );
        }
    }
}

pub(super) fn check_faults(c: &mut Checker, s: &Scenario, names: &BTreeMap<&str, &'static str>) {
    for (i, f) in s.faults.iter().enumerate() {
        let at = format!("faults[{i}]");
        c.range(&format!("{at}.at_s"), f.at_s, 0.0, 1e7);
        c.positive(&format!("{at}.for_s"), f.for_s, 1e7);
        match &f.link {
            Some(link) => check_link_fault(c, s, &at, f, link),
            None => check_instance_fault(c, s, &at, f, names),
        }
    }
}

/// A fault on a link: it names one, says what goes wrong, and has nothing of an instance's.
pub(super) fn check_link_fault(c: &mut Checker, s: &Scenario, at: &str, f: &FaultSpec, link: &str) {
    let exists = s
        .links
        .iter()
        .any(|l| format!("{}->{}", l.from, l.to) == link);
    if !exists {
        let list: Vec<String> = s
            .links
            .iter()
            .map(|l| format!("{}->{}", l.from, l.to))
            .collect();
        c.bad(
            format!("{at}.link"),
            format!("`{link}` is not a link"),
            format!("links are named from->to: {}", list.join(", ")),
        );
    }
    if !f.component.is_empty() || f.all_instances || f.slowdown.is_some() || f.errors.is_some() {
        c.bad(
            format!("{at}.link"),
            "a link fault has no component, all_instances, slowdown or errors",
            "make a second fault for the component",
        );
    }
    let lost_after = f.lost_after_ms.unwrap_or(FaultSpec::LOST_AFTER_MS);
    if let Err(e) = crate::scenario::check_link_fault(
        f.added_latency_ms.unwrap_or(0.0),
        f.loss.unwrap_or(0.0),
        lost_after,
        s.sim.tick_ms,
    ) {
        c.bad(
            at.to_string(),
            e,
            "e.g. (link: \"a->b\", at_s: 30.0, for_s: 60.0, loss: Some(1.0)) for a partition",
        );
    }
}

/// A fault on an instance or a whole component: one kind of fault, on something that exists.
pub(super) fn check_instance_fault(
    c: &mut Checker,
    s: &Scenario,
    at: &str,
    f: &FaultSpec,
    names: &BTreeMap<&str, &'static str>,
) {
    match s.components.iter().find(|x| x.name == f.component) {
        None => c.bad(
            format!("{at}.component"),
            format!("`{}` is not a component", f.component),
            known(names),
        ),
        Some(comp) if !f.all_instances && f.instance >= comp.instances => c.bad(
            format!("{at}.instance"),
            format!(
                "`{}` has {} instance(s); there is no #{}",
                f.component, comp.instances, f.instance
            ),
            "instances are numbered from 0",
        ),
        _ => {}
    }
    if f.added_latency_ms.is_some() || f.loss.is_some() || f.lost_after_ms.is_some() {
        c.bad(
            at.to_string(),
            "added_latency_ms, loss and lost_after_ms are for a link fault",
            "add link: \"from->to\" (and no component)",
        );
    }
    if f.slowdown.is_some() && f.errors.is_some() {
        c.bad(
            at.to_string(),
            "slowdown and errors in one fault",
            "make two faults at the same time",
        );
    }
    if let Some(x) = f.slowdown {
        c.range(&format!("{at}.slowdown"), x, 1.0, 1e6);
    }
    if let Some(x) = f.errors
        && !(x > 0.0 && x <= 1.0)
    {
        c.bad(
            format!("{at}.errors"),
            format!("{} is not a share", num(x)),
            "a share of requests failed, above 0 and at most 1 (0.8 fails 80%)",
        );
    }
}
