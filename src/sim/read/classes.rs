//! End-to-end figures per class of request: per flow and per priority class, so that "did
//! priority shedding protect CRITICAL requests?" has an answer. Every logical request that ends
//! is counted in its flow and its class, with its latency if it completed (exact sums for means,
//! HdrHistograms for percentiles). Written to the metrics CSV as the entities `flow:NAME` and
//! `priority:CLASS` (docs/METRICS.md).

use crate::scenario::Scenario;
use crate::sim::flow::request::{Outcome, Priority};
use crate::sim::flow::source::Finished;
use crate::sim::read::latency::ComponentLatency;
use bevy::prelude::*;

/// One class's running totals.
#[derive(Debug, Clone, Default)]
pub struct ClassFigures {
    /// Logical requests ended, by outcome (simulated units).
    pub ended: [u64; 5],
    /// Sum of end-to-end latencies of the completed ones (ns).
    pub latency_ns: f64,
    /// Their latency histogram.
    pub latency: ComponentLatency,
    /// `ended` and `latency_ns` at the last sample.
    pub(in crate::sim) prev: ([u64; 5], f64),
}

impl ClassFigures {
    /// Counts a request that ended; its latency goes into the histogram only when `histogram`
    /// (a lone flow's or class's percentiles are the system's, and are read from there).
    fn count(&mut self, f: &Finished, histogram: bool) {
        self.ended[f.outcome as usize] += 1;
        if f.outcome == Outcome::Completed {
            self.latency_ns += f.latency as f64;
            if histogram {
                self.latency.record(f.latency);
            }
        }
    }

    /// Exact mean end-to-end latency of everything completed so far (ms).
    pub fn mean_ms(&self) -> f64 {
        self.latency_ns / self.ended[Outcome::Completed as usize].max(1) as f64 / 1e6
    }
}

/// Figures per flow (global flow index) and per priority class (`Priority as usize`).
#[derive(Resource, Debug, Clone, Default)]
pub struct ClassStats {
    /// Per flow, with its name.
    pub flows: Vec<(String, ClassFigures)>,
    /// Per priority class.
    pub priorities: [ClassFigures; 4],
    /// Classes some source sends (only those get rows in the CSV).
    pub classes_sent: [bool; 4],
    /// More than one flow, and more than one class sent: fixed by the scenario, so decided
    /// once instead of for every request that ends.
    several: (bool, bool),
}

impl ClassStats {
    /// More than one flow: each needs its own latency histogram.
    pub fn several_flows(&self) -> bool {
        self.several.0
    }

    /// More than one class sent: each needs its own latency histogram.
    pub fn several_classes(&self) -> bool {
        self.several.1
    }
}

impl ClassStats {
    /// Empty figures for the flows and classes of `s`.
    pub fn of(s: &Scenario) -> Self {
        // A flow name used by two sources is told apart by its source: `source/flow`.
        let all: Vec<(&str, &str)> = s
            .sources
            .iter()
            .flat_map(|src| {
                src.flows
                    .iter()
                    .map(|f| (src.name.as_str(), f.name.as_str()))
            })
            .collect();
        // How many sources name each flow (counted once: setup stays linear in the flows).
        let mut uses: std::collections::HashMap<&str, usize> = Default::default();
        for (_, f) in &all {
            *uses.entry(f).or_default() += 1;
        }
        let flows: Vec<(String, ClassFigures)> = all
            .iter()
            .map(|(src, f)| {
                let shared = uses.get(f).copied().unwrap_or(0) > 1;
                let name = if shared {
                    format!("{src}/{f}")
                } else {
                    f.to_string()
                };
                (name, ClassFigures::default())
            })
            .collect();
        let mut classes_sent = [false; 4];
        for src in &s.sources {
            let p = src.priorities;
            for (k, share) in [p.critical, p.high, p.medium, p.low]
                .into_iter()
                .enumerate()
            {
                classes_sent[k] |= share > 0.0;
            }
        }
        let several = (
            flows.len() > 1,
            classes_sent.iter().filter(|x| **x).count() > 1,
        );
        Self {
            flows,
            priorities: Default::default(),
            classes_sent,
            several,
        }
    }

    /// Counts one logical request that ended.
    pub fn count(&mut self, f: &Finished) {
        let (flows, classes) = (self.several_flows(), self.several_classes());
        if let Some((_, fig)) = self.flows.get_mut(f.flow as usize) {
            fig.count(f, flows);
        }
        self.priorities[f.priority as usize].count(f, classes);
    }

    /// The figures of priority class `p`.
    pub fn priority(&self, p: Priority) -> &ClassFigures {
        &self.priorities[p as usize]
    }

    /// The figures of the flow called `name`.
    pub fn flow(&self, name: &str) -> Option<&ClassFigures> {
        self.flows.iter().find(|f| f.0 == name).map(|f| &f.1)
    }

    /// Closes the sampling interval of every class's histogram.
    pub fn roll(&mut self) {
        for (_, f) in &mut self.flows {
            f.latency.roll();
        }
        for f in &mut self.priorities {
            f.latency.roll();
        }
    }
}
