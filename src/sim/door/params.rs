//! Parameter changes through the command door: a change is made to a copy of the running
//! scenario, validated with the same checks as a scenario file (so a command can never set what
//! a file could not), and only then applied to the live simulation.

use crate::scenario::{Scenario, validate};
use crate::sim::SimConfig;
use crate::sim::control::health::HealthConfig;
use crate::sim::control::rate::FlowConfig;
use bevy::prelude::*;

/// The running scenario with `edit` applied, if it still validates; otherwise every problem,
/// with its field path and hint.
pub fn validated(world: &World, edit: impl FnOnce(&mut Scenario)) -> Result<Scenario, String> {
    let mut s = (*world.resource::<SimConfig>().scenario).clone();
    edit(&mut s);
    let problems = validate(&s);
    if problems.is_empty() {
        return Ok(s);
    }
    Err(problems
        .iter()
        .map(|p| format!("{}: {} ({})", p.field, p.message, p.hint))
        .collect::<Vec<_>>()
        .join("; "))
}

/// Sets one number of the `backpressure` or `health` section by its dotted path in the scenario
/// format (`backpressure.safety_buffer`, `health.weights.queue`, `backpressure.breaker.over_for_s`).
pub fn set_param(world: &mut World, path: &str, value: f64) -> Result<String, String> {
    let (section, rest) = path.split_once('.').ok_or_else(|| {
        format!("{path:?}: give a section and a field, e.g. backpressure.safety_buffer")
    })?;
    let scenario = match section {
        "backpressure" => {
            let spec = edited(
                &world.resource::<SimConfig>().scenario.backpressure,
                rest,
                value,
            )?;
            validated(world, |s| s.backpressure = spec)?
        }
        "health" => {
            let spec = edited(&world.resource::<SimConfig>().scenario.health, rest, value)?;
            validated(world, |s| s.health = spec)?
        }
        _ => {
            return Err(format!(
                "{path:?}: only backpressure.* and health.* are parameters; components and sources have their own commands"
            ));
        }
    };
    world.resource_mut::<FlowConfig>().spec = scenario.backpressure.clone();
    world.resource_mut::<HealthConfig>().spec = scenario.health.clone();
    world
        .resource_mut::<crate::sim::schedule::cadence::Cadence>()
        .health_cycle = (scenario.health.cycle_s * crate::sim::schedule::dist::SEC)
        as crate::sim::schedule::dist::Nanos;
    world.resource_mut::<SimConfig>().scenario = std::sync::Arc::new(scenario);
    Ok(format!("{path} = {value}"))
}

/// `spec` with the number at `path` (dotted, relative to the section) replaced by `value`.
fn edited<T>(spec: &T, path: &str, value: f64) -> Result<T, String>
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let mut tree = serde_json::to_value(spec).map_err(|e| e.to_string())?;
    let pointer = format!("/{}", path.replace('.', "/"));
    let slot = tree
        .pointer_mut(&pointer)
        .ok_or_else(|| format!("no parameter {path:?} in this section"))?;
    if !(slot.is_number() || slot.is_null()) {
        return Err(format!("{path:?} is not a number"));
    }
    *slot = serde_json::Number::from_f64(value)
        .map(serde_json::Value::Number)
        .ok_or_else(|| format!("{value} is not a finite number"))?;
    serde_json::from_value(tree).map_err(|e| format!("{path:?}: {e}"))
}
