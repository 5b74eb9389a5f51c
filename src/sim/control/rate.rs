//! Seed 000's adaptive rate control, run once per health cycle after health is updated:
//! receivers work out a safe rate (capacity less a safety buffer) and split it among their
//! senders by share of traffic; senders query the receiver's health (cached by TTL), move their
//! allowed rate by the receiver's status within per-cycle limits, and follow the recommendation.
//! What a sender may not send waits at the sender (see `FlowControl`), so pressure propagates.

use crate::scenario::{BackpressureSpec, CallKind, Scenario};
use crate::sim::control::health::{HealthBand, Holt};
use crate::sim::control::queries::QuerySlots;
use crate::sim::flow::link::Urgency;
use crate::sim::read::events::RateReason;
use crate::sim::schedule::dist::{MS, Nanos, SEC};
use bevy::prelude::*;

/// Flow-control parameters and per-component controller state.
#[derive(Resource, Debug, Clone, Default)]
pub struct FlowConfig {
    /// Parameters.
    pub spec: BackpressureSpec,
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

/// Fallbacks decided by the controller each cycle, read by the flow phase.
#[derive(Resource, Debug, Default, Clone)]
pub struct Fallbacks {
    /// Per component: the share of a cache's misses it answers with stale data (0: none).
    pub stale: Vec<f64>,
    /// Per component: since when what a stale cache protects has been better than RED (ns).
    pub better_since: Vec<Option<Nanos>>,
    /// Per link: while set, requests for it go over this link (its alternative route) instead.
    pub reroute: Vec<Option<(u32, CallKind)>>,
}

/// Back to t = 0 for the scenario being loaded (the load schedule): flow-control parameters, controller memories, fallbacks.
pub(in crate::sim) fn reset(world: &mut World) {
    let scenario: &Scenario = &world.resource::<crate::sim::SimConfig>().scenario;
    let (n, links) = (scenario.components.len(), scenario.links.len());
    let spec = scenario.backpressure.clone();
    world.insert_resource(FlowConfig {
        spec,
        broadcast_messages: 0,
        capacity: vec![CapacityMemory::default(); n],
        incoming: vec![Holt::default(); n],
    });
    world.insert_resource(QuerySlots::default());
    world.insert_resource(Fallbacks {
        stale: vec![0.0; n],
        better_since: vec![None; n],
        reroute: vec![None; links],
    });
}

/// Run condition: seed 000's flow control is switched on.
pub fn flow_control_on(config: Res<FlowConfig>) -> bool {
    config.spec.enabled
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
pub fn calm(status: HealthBand, filling: bool) -> bool {
    status == HealthBand::Green || (status == HealthBand::Yellow && !filling)
}

/// What the receiver recommends to one sender.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Recommendation {
    /// Rate for this sender (real requests/s).
    pub rate: f64,
    /// Why.
    pub reason: RateReason,
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
    status: HealthBand,
    growing: bool,
    rec: Option<Recommendation>,
    spec: &BackpressureSpec,
) -> f64 {
    let a = spec.adjust;
    let factor = match status {
        HealthBand::Green => 1.0 + a.green,
        HealthBand::Yellow if growing => 1.0 + a.yellow,
        // A YELLOW receiver whose queue is not filling is treated as healthy.
        HealthBand::Yellow => 1.0 + a.green,
        HealthBand::Red => 1.0 + a.red,
        HealthBand::Critical => 1.0 + a.critical,
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
        status == HealthBand::Critical && rec.is_some_and(|r| r.urgency == Urgency::Immediate);
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
        assert!((next_rate(100.0, 100.0, HealthBand::Red, true, None, &spec) - 80.0).abs() < 1e-9);
        // GREEN: +5%.
        assert!(
            (next_rate(100.0, 200.0, HealthBand::Green, false, None, &spec) - 105.0).abs() < 1e-9
        );
        // CRITICAL with an immediate recommendation: the emergency cut of 50% at once.
        let rec = Recommendation {
            rate: 10.0,
            reason: RateReason::None,
            urgency: Urgency::Immediate,
        };
        assert!(
            (next_rate(100.0, 100.0, HealthBand::Critical, true, Some(rec), &spec) - 50.0).abs()
                < 1e-9
        );
        // Never below 10% of demand.
        assert!(
            (next_rate(10.0, 1000.0, HealthBand::Critical, true, Some(rec), &spec) - 100.0).abs()
                < 1e-9
        );
        // The seed's 8:00 PM: web at 40K/s, database RED, recommendation 35K: 12.5% fits in one cycle.
        let rec = Recommendation {
            rate: 35_000.0,
            reason: RateReason::None,
            urgency: Urgency::Gradual,
        };
        let r = next_rate(40_000.0, 40_000.0, HealthBand::Red, false, Some(rec), &spec);
        assert!((r - 35_000.0).abs() < 1e-6, "{r}");
        // A recommendation above the current rate: a healthy receiver lets the sender climb
        // toward it by at most 10% a cycle; a RED one, or a YELLOW one whose queue is filling,
        // holds it where it is.
        let rec = Recommendation {
            rate: 60_000.0,
            reason: RateReason::None,
            urgency: Urgency::Gradual,
        };
        let up = next_rate(
            40_000.0,
            70_000.0,
            HealthBand::Green,
            false,
            Some(rec),
            &spec,
        );
        assert!((up - 44_000.0).abs() < 1e-6, "{up}");
        for (status, growing) in [(HealthBand::Red, false), (HealthBand::Yellow, true)] {
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
