//! Latency histograms (HdrHistogram, so percentiles are never means of means): one per
//! component for the time requests spend in it, one for the system's end-to-end latency.

use crate::sim::read::series::Metric;
use crate::sim::schedule::dist::Nanos;
use bevy::prelude::*;
use hdrhistogram::Histogram;

/// Highest latency a histogram tracks: one day, in µs (histograms count whole microseconds, with
/// two significant figures; exact means come from the running sums instead).
const MAX_US: u64 = 86_400 * 1_000_000;

/// The highest trackable value a new histogram is made with (its counts still cover 255 µs).
const FIRST_HIGH: u64 = 2;

/// An empty histogram: its counts cover 255 µs at first and grow with the largest latency
/// recorded (up to `MAX_US`), so a component whose requests take milliseconds holds 7 KB, not
/// the 32 KB a whole day needs. Growing keeps every bucket's bounds, so percentiles are the same.
fn histogram() -> Histogram<u64> {
    let mut h =
        Histogram::new_with_bounds(1, FIRST_HIGH, 2).expect("static histogram bounds are valid");
    h.auto(true);
    h
}

/// Counts `us` (already clamped to `MAX_US`), growing the counts to reach it. `saturating_record`
/// would clamp to the histogram's current top instead of growing.
fn grow_record(h: &mut Histogram<u64>, us: u64) {
    if h.record(us).is_err() {
        h.saturating_record(us);
    }
}

/// Latencies (µs) of the current sampling interval and a histogram of the whole run. Nothing is
/// allocated until something is recorded: the interval's latencies wait in a plain vector and
/// are counted, at each sample, in a histogram shared by every component on the thread (one
/// histogram, not one per component); only a component busy enough to hold more than
/// `PENDING_MAX` latencies in one interval gets an interval histogram of its own.
#[derive(Component, Debug, Clone, Default)]
pub struct ComponentLatency {
    /// Since the start (up to the last sample); `None` until the first latency.
    total: Option<Histogram<u64>>,
    /// Since the last sample, once `pending` overflowed or a latency was too long for it.
    interval: Option<Histogram<u64>>,
    /// Latencies (µs) not yet counted, 4 bytes each: one longer than `u32::MAX` µs (71 minutes)
    /// is counted at once in the interval histogram instead.
    pending: Vec<u32>,
    /// p50, p95, p99 of the last interval rolled (µs; 0 when it was empty).
    last_interval_us: [u64; 3],
}

/// Latencies held in a vector per interval before a component gets its own interval histogram.
const PENDING_MAX: usize = 1 << 16;

thread_local! {
    /// The interval histogram every component's latencies are counted in at a sample.
    static SCRATCH: std::cell::RefCell<Histogram<u64>> = std::cell::RefCell::new(histogram());
}

impl ComponentLatency {
    /// Records one latency given in ns.
    pub fn record(&mut self, ns: Nanos) {
        let us = (ns / 1000).clamp(1, MAX_US);
        match u32::try_from(us) {
            Ok(us) => self.pending.push(us),
            Err(_) => grow_record(self.interval.get_or_insert_with(histogram), us),
        }
        if self.pending.len() >= PENDING_MAX {
            let h = self.interval.get_or_insert_with(histogram);
            for v in self.pending.drain(..) {
                grow_record(h, v.into());
            }
        }
    }

    /// Folds the interval into the total, keeping its percentiles (`last_interval_us`), and
    /// starts a new interval.
    pub fn roll(&mut self) {
        if self.pending.is_empty() && self.interval.as_ref().is_none_or(|h| h.is_empty()) {
            self.last_interval_us = [0; 3];
            return;
        }
        let (pending, total, last) = (
            &mut self.pending,
            &mut self.total,
            &mut self.last_interval_us,
        );
        let mut fold = |h: &mut Histogram<u64>| {
            for v in pending.drain(..) {
                grow_record(h, v.into());
            }
            *last = Metric::LATENCY_PERCENTILES.map(|(q, _)| h.value_at_quantile(q));
            // Both histograms share bounds, so adding cannot fail.
            let _ = total.get_or_insert_with(histogram).add(&*h);
            h.reset();
        };
        match &mut self.interval {
            Some(h) => fold(h),
            None => SCRATCH.with(|s| {
                let mut s = s.borrow_mut();
                fold(&mut s);
                // Back to its first size after a component grew it, so what `add` keeps of a
                // component (its internal max) never depends on which component, or which
                // earlier simulation on this thread, was counted before it.
                if s.high() > FIRST_HIGH {
                    *s = histogram();
                }
            }),
        }
    }

    /// p50, p95 and p99 of the last interval rolled (µs; 0 when it was empty).
    pub fn last_interval_us(&self) -> [u64; 3] {
        self.last_interval_us
    }

    /// The whole run up to the last sample (`None`: nothing yet).
    pub fn total(&self) -> Option<&Histogram<u64>> {
        self.total.as_ref()
    }

    /// Everything recorded so far (the total plus the current interval).
    pub fn whole(&self) -> Histogram<u64> {
        let mut h = self.total.clone().unwrap_or_else(histogram);
        if let Some(iv) = &self.interval {
            let _ = h.add(iv);
        }
        for v in &self.pending {
            grow_record(&mut h, (*v).into());
        }
        h
    }
}

/// End-to-end latency of completed logical requests (system level).
#[derive(Resource, Debug, Clone, Default, Deref, DerefMut)]
pub struct SystemLatency(pub ComponentLatency);

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Nanos = 1_000_000;
    const HOUR: Nanos = 3_600_000 * MS;

    #[test]
    fn a_latency_of_hours_counts_beside_milliseconds_and_survives_the_roll() {
        // Five hours does not fit the pending vector's 4-byte µs: it must still be counted,
        // in this interval's percentiles and in the whole run, as a plain latency would.
        let mut lat = ComponentLatency::default();
        for _ in 0..98 {
            lat.record(2 * MS);
        }
        lat.record(5 * HOUR);
        lat.record(5 * HOUR);
        let whole = lat.whole();
        assert_eq!(whole.len(), 100);
        assert!(lat.total().is_none(), "nothing rolled yet");
        lat.roll();
        let [p50, _, p99] = lat.last_interval_us();
        assert_eq!(p50, whole.value_at_quantile(0.5));
        assert!((1_990..=2_010).contains(&p50), "p50 {p50} µs");
        let five_hours_us = 5 * 3_600 * 1_000_000;
        assert!(p99 >= five_hours_us * 99 / 100, "p99 {p99} µs");
        assert_eq!(lat.total().map(|h| h.len()), Some(100));
        assert_eq!(lat.whole().max(), whole.max());
        // The next interval starts empty.
        lat.roll();
        assert_eq!(lat.last_interval_us(), [0; 3]);
    }

    #[test]
    fn a_busy_interval_spills_into_its_own_histogram_without_losing_a_latency() {
        let mut lat = ComponentLatency::default();
        for i in 0..(PENDING_MAX as u64 + 10) {
            lat.record((1 + i % 10) * MS);
        }
        assert_eq!(lat.whole().len(), PENDING_MAX as u64 + 10);
        lat.roll();
        assert_eq!(lat.total().map(|h| h.len()), Some(PENDING_MAX as u64 + 10));
        let [p50, _, _] = lat.last_interval_us();
        assert!((4_950..=6_050).contains(&p50), "p50 {p50} µs");
    }
}
