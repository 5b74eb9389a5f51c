//! The figures of one run, and their names in the tidy CSV (which round-trips them exactly, so
//! `flowlab merge` rebuilds every output from the shards' CSVs).

/// Slices of a run's time line: the time series per variant are kept as the mean goodput and
/// the most requests held in each of this many equal slices of the run (warm-up included).
pub const SLICES: usize = 60;

/// The figures of one run (real requests).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    /// Offered: logical requests created per second.
    pub offered: f64,
    /// Completed per second.
    pub goodput: f64,
    /// p50, p99 and p99.9 end-to-end latency of completed requests (ms).
    pub latency_ms: [f64; 3],
    /// Share of logical requests that ended so, by outcome.
    pub shares: [f64; 5],
    /// Share of CRITICAL requests completed (NaN when none were sent).
    pub critical_served: f64,
    /// Services completed after the client gave up, per second.
    pub wasted: f64,
    /// Retries sent per second.
    pub retries: f64,
    /// Seconds after the spike ended until goodput was back within 10% of its level before
    /// the spike, and stayed there for 3 s (NaN: no spike, or not back by the end).
    pub recovery_s: f64,
    /// Oscillation: the coefficient of variation of goodput per second after the warm-up
    /// (outside the spike and its recovery when there is one).
    pub oscillation: f64,
    /// Work left behind at asynchronous hand-offs that completed, per second.
    pub work_done: f64,
    /// Of the work left behind that ended, the share that did not complete (dropped, failed
    /// and dead-lettered); NaN when nothing was handed off.
    pub work_lost: f64,
    /// Of the work left behind that ended, the share moved to a dead-letter queue.
    pub dead_lettered: f64,
    /// The most requests held anywhere at once (queued, in service or waiting on a call at a
    /// component; on a wire, a topic, a retry queue or held at a sender): the run's memory,
    /// each request a fixed-size record. Sampled at the end of every slice.
    pub peak_held: f64,
    /// Mean goodput (completed per second) in each slice of the run.
    pub goodput_t: [f64; SLICES],
    /// The most requests held at a slice's end, per slice.
    pub held_t: [f64; SLICES],
    /// Work left behind at hand-offs completed per second, per slice.
    pub work_t: [f64; SLICES],
    /// 1 when the run stopped before its end (`sim.max_held`): its figures cover only the time
    /// before the stop; else 0.
    pub stopped: f64,
}

impl Default for Figures {
    fn default() -> Self {
        Self {
            offered: 0.0,
            goodput: 0.0,
            latency_ms: [0.0; 3],
            shares: [0.0; 5],
            critical_served: 0.0,
            wasted: 0.0,
            retries: 0.0,
            recovery_s: 0.0,
            oscillation: 0.0,
            work_done: 0.0,
            work_lost: 0.0,
            dead_lettered: 0.0,
            peak_held: 0.0,
            goodput_t: [0.0; SLICES],
            held_t: [0.0; SLICES],
            work_t: [0.0; SLICES],
            stopped: 0.0,
        }
    }
}

/// The named single figures, in CSV order.
const SINGLE: [&str; 19] = [
    "offered_per_s",
    "goodput_per_s",
    "latency_p50_ms",
    "latency_p99_ms",
    "latency_p999_ms",
    "completed_share",
    "dropped_share",
    "rejected_share",
    "failed_share",
    "timed_out_share",
    "critical_served_share",
    "wasted_per_s",
    "recovery_s",
    "goodput_oscillation",
    "work_done_per_s",
    "work_lost_share",
    "dead_lettered_share",
    "peak_held",
    "stopped",
];

impl Figures {
    fn single(&mut self, i: usize) -> &mut f64 {
        match i {
            0 => &mut self.offered,
            1 => &mut self.goodput,
            2..=4 => &mut self.latency_ms[i - 2],
            5..=9 => &mut self.shares[i - 5],
            10 => &mut self.critical_served,
            11 => &mut self.wasted,
            12 => &mut self.recovery_s,
            13 => &mut self.oscillation,
            14 => &mut self.work_done,
            15 => &mut self.work_lost,
            16 => &mut self.dead_lettered,
            17 => &mut self.peak_held,
            _ => &mut self.stopped,
        }
    }

    /// Names and values, in CSV order: the single figures, then the time line
    /// (`goodput_t00`..`goodput_t59`, `held_t00`..`held_t59`, `work_t00`..`work_t59`: slice k
    /// covers the k-th sixtieth of the run).
    pub fn named(&self) -> Vec<(String, f64)> {
        let mut f = *self;
        let mut out: Vec<(String, f64)> = SINGLE
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_string(), *f.single(i)))
            .collect();
        out.extend((0..SLICES).map(|k| (format!("goodput_t{k:02}"), self.goodput_t[k])));
        out.extend((0..SLICES).map(|k| (format!("held_t{k:02}"), self.held_t[k])));
        out.extend((0..SLICES).map(|k| (format!("work_t{k:02}"), self.work_t[k])));
        out
    }

    /// How many figures `named` gives.
    pub fn count() -> usize {
        SINGLE.len() + 3 * SLICES
    }

    /// Sets the figure named `name` (as `named` writes it); `None` for an unknown name.
    pub fn set_named(&mut self, name: &str, v: f64) -> Option<()> {
        if let Some(i) = SINGLE.iter().position(|n| *n == name) {
            *self.single(i) = v;
            return Some(());
        }
        let slice = |prefix: &str| -> Option<usize> {
            let k: usize = name.strip_prefix(prefix)?.parse().ok()?;
            (k < SLICES).then_some(k)
        };
        if let Some(k) = slice("goodput_t") {
            self.goodput_t[k] = v;
        } else if let Some(k) = slice("work_t") {
            self.work_t[k] = v;
        } else {
            self.held_t[slice("held_t")?] = v;
        }
        Some(())
    }
}
