//! Bulkheads: a component's workers split into compartments by flow. Each bulkhead owns
//! `workers` of every instance's workers and a queue of its own; the flows it names use only
//! those, so a slow flow fills its own compartment and cannot starve another. The flows no
//! bulkhead names share the rest of the workers and the component's queue (with its policy).

use crate::scenario::{BulkheadSpec, Scenario};
use crate::sim::flow::request::Request;
use std::collections::VecDeque;

/// One compartment of an instance's workers.
#[derive(Debug, Clone, Default)]
pub struct Part {
    /// Workers it owns.
    pub workers: u32,
    /// Of those, serving or waiting on a call now.
    pub busy: u32,
    /// Requests waiting for one of its workers (bulkheads only; the shared part uses the
    /// instance's queue).
    pub queue: VecDeque<Request>,
    /// Most waiting (simulated requests).
    pub capacity: u64,
    /// Refused because its workers and queue were full.
    pub refused: u64,
}

/// An instance's compartments: part 0 is shared, parts 1.. are the bulkheads.
#[derive(Debug, Clone, Default)]
pub struct Bulkheads {
    /// Part of each global flow (0: shared).
    of_flow: Vec<u8>,
    /// The parts.
    pub parts: Vec<Part>,
}

impl Bulkheads {
    /// The compartments of component `ci` of `s` (`None` without bulkheads), with `workers`
    /// in all and `unit` real requests per simulated one.
    pub fn of(s: &Scenario, ci: usize, workers: u32, unit: u64) -> Option<Box<Self>> {
        let specs: &[BulkheadSpec] = &s.components[ci].bulkheads;
        if specs.is_empty() {
            return None;
        }
        let flows = s.sources.iter().flat_map(|src| src.flows.iter());
        let of_flow = flows
            .map(|f| {
                specs
                    .iter()
                    .position(|b| b.flows.contains(&f.name))
                    .map_or(0, |p| p as u8 + 1)
            })
            .collect();
        let mut b = Self {
            of_flow,
            parts: vec![Part::default()],
        };
        for spec in specs {
            b.parts.push(Part {
                workers: ((spec.workers as f64 / unit.max(1) as f64).round() as u32).max(1),
                capacity: spec.queue.div_ceil(unit.max(1)),
                ..Default::default()
            });
        }
        b.resize(workers);
        Some(Box::new(b))
    }

    /// The part of a request of global flow `flow`.
    #[inline]
    pub fn part(&self, flow: u16) -> usize {
        self.of_flow.get(flow as usize).copied().unwrap_or(0) as usize
    }

    /// The shared part gets the workers the bulkheads do not own.
    pub fn resize(&mut self, workers: u32) {
        let owned: u32 = self.parts[1..].iter().map(|p| p.workers).sum();
        self.parts[0].workers = workers.saturating_sub(owned);
    }

    /// Whether part `p` may take one more worker.
    #[inline]
    pub fn has_room(&self, p: usize) -> bool {
        self.parts[p].busy < self.parts[p].workers
    }

    /// Requests waiting in the bulkheads' own queues.
    pub fn queued(&self) -> u64 {
        self.parts[1..].iter().map(|p| p.queue.len() as u64).sum()
    }

    /// Everything waiting in the bulkheads' queues, out; every worker free (a crash).
    pub fn drain(&mut self, out: &mut Vec<Request>) {
        for p in &mut self.parts {
            out.extend(p.queue.drain(..));
            p.busy = 0;
        }
    }
}
