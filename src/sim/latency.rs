//! Latency histograms (HdrHistogram, so percentiles are never means of means): one per
//! component for the time requests spend in it, one for the system's end-to-end latency.

use super::dist::Nanos;
use super::series::Metric;
use bevy::prelude::*;
use hdrhistogram::Histogram;

/// Highest latency a histogram tracks: one day, in µs (histograms count whole microseconds, with
/// two significant figures; exact means come from the running sums instead).
const MAX_US: u64 = 86_400 * 1_000_000;

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_US, 2).expect("static histogram bounds are valid")
}

/// A latency histogram (µs) for the current sampling interval and one for the whole run; the
/// hot path records into the interval one only, which is folded into the total at each sample.
#[derive(Component, Debug, Clone)]
pub struct ComponentLatency {
    /// Since the last sample.
    pub interval: Histogram<u64>,
    /// Since the start.
    pub total: Histogram<u64>,
    /// Latencies (µs) not yet counted: appending is cache-friendly on the hot path, counting is
    /// done in batches while the histogram is warm.
    pending: Vec<u64>,
    /// p50, p95, p99 of the last interval rolled (µs; 0 when it was empty).
    last_interval_us: [u64; 3],
}

impl Default for ComponentLatency {
    fn default() -> Self {
        Self {
            interval: histogram(),
            total: histogram(),
            pending: Vec::new(),
            last_interval_us: [0; 3],
        }
    }
}

impl ComponentLatency {
    /// Records one latency given in ns.
    pub fn record(&mut self, ns: Nanos) {
        self.pending.push((ns / 1000).clamp(1, MAX_US));
        if self.pending.len() >= 4096 {
            self.flush();
        }
    }

    /// Counts the pending latencies into the interval histogram.
    pub fn flush(&mut self) {
        for v in self.pending.drain(..) {
            self.interval.saturating_record(v);
        }
    }

    /// Folds the interval into the total, keeping its percentiles (`last_interval_us`), and
    /// starts a new interval.
    pub fn roll(&mut self) {
        self.flush();
        self.last_interval_us = if self.interval.is_empty() {
            [0; 3]
        } else {
            Metric::LATENCY_PERCENTILES.map(|(q, _)| self.interval.value_at_quantile(q))
        };
        // Both histograms share bounds, so adding cannot fail.
        let _ = self.total.add(&self.interval);
        self.interval.reset();
    }

    /// p50, p95 and p99 of the last interval rolled (µs; 0 when it was empty).
    pub fn last_interval_us(&self) -> [u64; 3] {
        self.last_interval_us
    }

    /// Everything recorded so far (the total plus the current interval).
    pub fn whole(&self) -> Histogram<u64> {
        let mut h = self.total.clone();
        let _ = h.add(&self.interval);
        for v in &self.pending {
            h.saturating_record(*v);
        }
        h
    }
}

/// End-to-end latency of completed logical requests (system level).
#[derive(Resource, Debug, Clone, Default, Deref, DerefMut)]
pub struct SystemLatency(pub ComponentLatency);
