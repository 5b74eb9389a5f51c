//! Time series of every sampled metric, for charts: a table with a column per (entity, metric)
//! and a row per sample, filled with exactly the values written to the metrics CSV. Memory is
//! bounded: at most [`SERIES_CAPACITY`] samples, the oldest dropped first, and at most
//! [`SERIES_POINTS`] values in all: a system with thousands of entities keeps a shorter history
//! (never under [`SERIES_MIN`] samples), so a long run of a large system cannot grow the store
//! past 128 MB, or past `SERIES_MIN` samples of each series where that is more (140 MB for
//! 10,000 components).

use crate::sim::flow::request::Outcome;
use crate::sim::schedule::states::EngineKind;
use bevy::prelude::*;
use std::collections::BTreeMap;

/// Most samples kept per series (20 minutes at the default one sample a second).
pub const SERIES_CAPACITY: usize = 1_200;

/// Values kept in all, over every series (8 bytes each: 128 MB).
pub const SERIES_POINTS: usize = 16_000_000;

/// Series an entity has, about, for the budget (a link has the most).
const SERIES_PER_ENTITY: usize = 20;

/// Fewest samples kept, however large the system (half a minute at one a second): 10,000
/// components have about 584,000 series, so this floor alone holds 140 MB.
pub const SERIES_MIN: usize = 30;

/// What a series is about; the indices are the scenario-order indices of `Topology`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SeriesEntity {
    /// The whole system.
    System,
    /// A traffic source, by index.
    Source(u32),
    /// A component, by index.
    Component(u32),
    /// An instance, by global index.
    Instance(u32),
    /// A link, by index.
    Link(u32),
    /// A flow, by global flow index (end-to-end figures).
    Flow(u16),
    /// A priority class, `Priority as u8` (end-to-end figures).
    Priority(u8),
    /// A component's bulkhead: (component index, bulkhead index in scenario order).
    Bulkhead(u32, u16),
}

macro_rules! metrics {
    ($($(#[$doc:meta])* $variant:ident => $name:literal,)*) => {
        /// A metric of the CSV (`docs/METRICS.md` says what each one means and in which unit).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Metric {
            $($(#[$doc])* $variant,)*
        }

        impl Metric {
            /// Every metric, in declaration order.
            pub const ALL: &'static [Metric] = &[$(Metric::$variant,)*];

            /// The metric's name in the CSV.
            pub fn name(self) -> &'static str {
                match self {
                    $(Metric::$variant => $name,)*
                }
            }
        }
    };
}

metrics! {
    /// Logical requests created (count).
    Generated => "generated",
    /// Attempts sent (count).
    Attempts => "attempts",
    /// Retries sent (count).
    Retries => "retries",
    /// Logical requests completed (count).
    Completed => "completed",
    /// Dropped: logical requests (sources, system) or requests refused by a full queue
    /// (instances, components) (count).
    Dropped => "dropped",
    /// Logical requests rejected by a policy (count).
    Rejected => "rejected",
    /// Failed: logical requests (sources, system) or requests failed here (components) (count).
    Failed => "failed",
    /// Logical requests whose client gave up (count).
    TimedOut => "timed_out",
    /// Logical requests in progress (now).
    InSystem => "in_system",
    /// The rate schedule's value (real requests/s).
    OfferedRate => "offered_rate",
    /// Successful requests per second (rate).
    Goodput => "goodput",
    /// Share of requests that ended in error (ratio).
    ErrorRate => "error_rate",
    /// Exact mean latency (ms).
    LatencyMean => "latency_mean",
    /// Responses that reached a client after it gave up (count).
    LateResponses => "late_responses",
    /// Median latency of the interval (ms).
    LatencyP50 => "latency_p50",
    /// 95th percentile latency of the interval (ms).
    LatencyP95 => "latency_p95",
    /// 99th percentile latency of the interval (ms).
    LatencyP99 => "latency_p99",
    /// Services completed after the client's deadline (count).
    Wasted => "wasted",
    /// Aggregated health, 0-1 (now).
    Health => "health",
    /// Direct health queries made so far (now).
    HealthQueries => "health_queries",
    /// Health status messages a broadcast design pushed so far (now).
    HealthBroadcastMessages => "health_broadcast_messages",
    /// Requests that reached it (count).
    Arrivals => "arrivals",
    /// Local services completed (count).
    Served => "served",
    /// Requests queued (now).
    QueueLen => "queue_len",
    /// Requests in service or waiting downstream (now).
    InFlight => "in_flight",
    /// 1 while up, 0 while down (now).
    Up => "up",
    /// CPU utilization, 0-1 (now).
    UtilCpu => "util_cpu",
    /// Memory utilization, 0-1 (now).
    UtilMemory => "util_memory",
    /// Storage utilization, 0-1 (now).
    UtilStorage => "util_storage",
    /// Network utilization, 0-1 (now).
    UtilNetwork => "util_network",
    /// Dynamic health score, 0-100 (now).
    HealthScore => "health_score",
    /// Local services completed per second (rate).
    Throughput => "throughput",
    /// Departures with an error (count).
    Errors => "errors",
    /// Out-of-memory crashes (count).
    Crashes => "crashes",
    /// Cache misses answered with stale data (count).
    StaleServed => "stale_served",
    /// Configured queue capacity, all instances (real requests; -1 when unbounded).
    QueueCapacity => "queue_capacity",
    /// Instances up (now).
    InstancesUp => "instances_up",
    /// Time-average requests held over the interval.
    OccupancyMean => "occupancy_mean",
    /// Status band of the health score, `Status as u8` (now).
    Status => "status",
    /// Share of processing capacity left, 0-100 (now).
    AvailableCapacity => "available_capacity",
    /// Forecast queue length (now).
    QueueForecast => "queue_forecast",
    /// Requests sent forward (count).
    Sent => "sent",
    /// Requests delivered to the receiver (count).
    Delivered => "delivered",
    /// Responses delivered back to the sender (count).
    Responses => "responses",
    /// Requests and responses on the wire (now).
    InTransit => "in_transit",
    /// Offered rate over the last control cycle (real requests/s).
    Demand => "demand",
    /// Allowed rate (real requests/s; -1 when unlimited).
    RateLimit => "rate_limit",
    /// Rate the controller heads for (real requests/s; -1 when none).
    RateTarget => "rate_target",
    /// The receiver's recommendation (real requests/s; -1 when none).
    RateRecommended => "rate_recommended",
    /// Requests held at the sender by the rate limit (now).
    Held => "held",
    /// Requests refused at the sender so far (now).
    Refused => "refused",
    /// Health answers taken from the cache so far (now).
    HealthCacheHits => "health_cache_hits",
    /// Health queries that got no answer so far (now).
    HealthQueryFailures => "health_query_failures",
    /// Health queries not sent for want of a query slot so far (now).
    HealthQueriesLimited => "health_queries_limited",
    /// Health checks skipped by an open health-check breaker so far (now).
    HealthChecksSkipped => "health_checks_skipped",
    /// Circuit breaker state, `BreakerState as u8` (now).
    BreakerState => "breaker_state",
    /// Requests refused by the circuit breaker so far (now).
    BreakerRefused => "breaker_refused",
    /// Messages waiting on a broker's topic (now).
    TopicLen => "topic_len",
    /// Messages dropped because the topic was full (count).
    TopicDropped => "topic_dropped",
    /// Mean time in the component of CRITICAL requests that left it successfully (ms).
    LatencyMeanCritical => "latency_mean_critical",
    /// The same, HIGH.
    LatencyMeanHigh => "latency_mean_high",
    /// The same, MEDIUM.
    LatencyMeanMedium => "latency_mean_medium",
    /// The same, LOW.
    LatencyMeanLow => "latency_mean_low",
    /// CRITICAL departures with an error (count).
    ErrorsCritical => "errors_critical",
    /// The same, HIGH.
    ErrorsHigh => "errors_high",
    /// The same, MEDIUM.
    ErrorsMedium => "errors_medium",
    /// The same, LOW.
    ErrorsLow => "errors_low",
    /// Mean backoff of the retries scheduled in the interval, Retry-After included (ms).
    RetryDelayMean => "retry_delay_mean",
    /// Mean attempt number of the retries scheduled in the interval (2: first retries).
    RetryAttemptMean => "retry_attempt_mean",
    /// Failed attempts whose refusal named a Retry-After (count).
    RetryAfterHints => "retry_after_hints",
    /// Mean Retry-After those refusals named (ms).
    RetryAfterMean => "retry_after_mean",
    /// Retries the retry budget could pay for now (real).
    RetryBudgetBalance => "retry_budget_balance",
    /// Retries the budget refused (count).
    RetriesOverBudget => "retries_over_budget",
    /// The client throttle's rejection probability now, 0-1.
    ThrottleProbability => "throttle_probability",
    /// Attempts the client throttle rejected locally (count).
    Throttled => "throttled",
    /// The adaptive concurrency limit now (real requests).
    ConcurrencyLimit => "concurrency_limit",
    /// CoDel in its dropping state: 1, else 0 (instances); instances dropping (components).
    CodelDropping => "codel_dropping",
    /// CoDel's drop count of its dropping spell (now).
    CodelCount => "codel_count",
    /// Time to CoDel's next drop while dropping (ms); -1 when not dropping.
    CodelNextDrop => "codel_next_drop",
    /// A link window's most in flight now (the limit or credits granted; real).
    WindowLimit => "window_limit",
    /// A link window's requests in flight (the credits in use; real).
    WindowInFlight => "window_in_flight",
    /// Requests waiting at the sender for the window (real).
    WindowWaiting => "window_waiting",
    /// A bulkhead's workers in use (real).
    InUse => "in_use",
    /// A bulkhead's workers (real).
    Workers => "workers",
    /// A count-window breaker: share of its window's calls that failed, 0-1 (now).
    BreakerFailureRate => "breaker_failure_rate",
    /// The same, slow calls.
    BreakerSlowRate => "breaker_slow_rate",
    /// Time-average requests waiting in the queue over the interval.
    QueueMean => "queue_mean",
    /// Time-average workers busy (serving or waiting on a call) over the interval.
    BusyMean => "busy_mean",
    /// Admitted arrivals that found no idle worker and waited (count).
    Waited => "waited",
    /// Queueing theory: the arrival rate the prediction takes (traffic equations; real/s).
    TheoryLambda => "theory_lambda",
    /// Queueing theory: predicted utilisation per server.
    TheoryRho => "theory_rho",
    /// Queueing theory: predicted probability that an admitted arrival waits.
    TheoryPWait => "theory_p_wait",
    /// Queueing theory: predicted mean number waiting (real).
    TheoryLq => "theory_lq",
    /// Queueing theory: predicted mean number in the component (real).
    TheoryL => "theory_l",
    /// Queueing theory: predicted mean time in the component (ms).
    TheoryWMs => "theory_w_ms",
    /// Queueing theory: predicted share of arrivals dropped by a full queue.
    TheoryPDrop => "theory_p_drop",
}

impl Metric {
    /// The metric counting logical requests that ended with `o`.
    pub fn outcome(o: Outcome) -> Metric {
        match o {
            Outcome::Completed => Metric::Completed,
            Outcome::Dropped => Metric::Dropped,
            Outcome::Rejected => Metric::Rejected,
            Outcome::Failed => Metric::Failed,
            Outcome::TimedOut => Metric::TimedOut,
        }
    }

    /// A component's mean latency of one priority class.
    pub fn class_latency(p: crate::sim::flow::request::Priority) -> Metric {
        use crate::sim::flow::request::Priority as P;
        match p {
            P::Critical => Metric::LatencyMeanCritical,
            P::High => Metric::LatencyMeanHigh,
            P::Medium => Metric::LatencyMeanMedium,
            P::Low => Metric::LatencyMeanLow,
        }
    }

    /// A component's errors of one priority class.
    pub fn class_errors(p: crate::sim::flow::request::Priority) -> Metric {
        use crate::sim::flow::request::Priority as P;
        match p {
            P::Critical => Metric::ErrorsCritical,
            P::High => Metric::ErrorsHigh,
            P::Medium => Metric::ErrorsMedium,
            P::Low => Metric::ErrorsLow,
        }
    }

    /// The utilization metric of an engine.
    pub fn util(kind: EngineKind) -> Metric {
        match kind {
            EngineKind::Cpu => Metric::UtilCpu,
            EngineKind::Memory => Metric::UtilMemory,
            EngineKind::Storage => Metric::UtilStorage,
            EngineKind::Network => Metric::UtilNetwork,
        }
    }

    /// The latency percentiles, with their quantiles, in CSV order.
    pub const LATENCY_PERCENTILES: [(f64, Metric); 3] = [
        (0.50, Metric::LatencyP50),
        (0.95, Metric::LatencyP95),
        (0.99, Metric::LatencyP99),
    ];
}

/// Marks "no value in this sample" in a row: a NaN that no arithmetic produces (a computed NaN
/// is the canonical quiet NaN), so every value a sample holds, NaN included, is kept as it is.
const ABSENT: u64 = 0x7ff8_dead_0000_0001;

fn absent() -> f64 {
    f64::from_bits(ABSENT)
}

/// Every sampled metric's recent history: (time in seconds, value) per (entity, metric), the
/// same values as the CSV rows. Filled by the metrics plugin at each sample.
///
/// Held as a table: a column per (entity, metric), a row per sample, 8 bytes per value and
/// nothing per series beyond its column number. The newest `capacity` samples are kept. A
/// timeline snapshot shares every row and the column index (`Arc`), so copying the store costs
/// a pointer per sample.
#[derive(Resource, Debug, Clone)]
pub struct Series {
    /// The column of each (entity, metric).
    columns: std::sync::Arc<BTreeMap<(SeriesEntity, Metric), u32>>,
    /// The (entity, metric) of each column, in the order they first came.
    keys: std::sync::Arc<Vec<(SeriesEntity, Metric)>>,
    /// The newest samples, oldest first: time in seconds, and a value per column (`ABSENT`
    /// where the series had none; a row is shorter than `keys` if columns came after it).
    rows: std::collections::VecDeque<(f64, std::sync::Arc<[f64]>)>,
    samples: u64,
    /// Samples kept.
    capacity: usize,
}

impl Default for Series {
    fn default() -> Self {
        Self {
            columns: Default::default(),
            keys: Default::default(),
            rows: Default::default(),
            samples: 0,
            capacity: SERIES_CAPACITY,
        }
    }
}

impl Series {
    /// An empty store for a system of `entities` sources, components, instances and links:
    /// it keeps `SERIES_CAPACITY` samples, or fewer when that would pass `SERIES_POINTS`
    /// values in all (at least `SERIES_MIN`). The count is made again from the series the
    /// first samples actually hold.
    pub fn for_entities(entities: usize) -> Self {
        Self {
            capacity: Self::capacity_for(entities.max(1) * SERIES_PER_ENTITY),
            ..Self::default()
        }
    }

    fn capacity_for(series: usize) -> usize {
        (SERIES_POINTS / series.max(1)).clamp(SERIES_MIN, SERIES_CAPACITY)
    }

    /// Samples kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Appends one sample: every (entity, metric, value) at `t_s` seconds.
    pub fn push_sample(
        &mut self,
        t_s: f64,
        values: impl IntoIterator<Item = (SeriesEntity, Metric, f64)>,
    ) {
        let mut row = vec![absent(); self.keys.len()];
        let before = self.keys.len();
        for (i, (e, m, v)) in values.into_iter().enumerate() {
            // Samples name their series in the same order: the i-th value is column i.
            let col = match self.keys.get(i) {
                Some(k) if *k == (e, m) => i,
                _ => self.column(e, m),
            };
            if col >= row.len() {
                row.resize(col + 1, absent());
            }
            row[col] = v;
        }
        if self.keys.len() != before {
            self.capacity = Self::capacity_for(self.keys.len());
        }
        self.rows.push_back((t_s, row.into()));
        while self.rows.len() > self.capacity {
            self.rows.pop_front();
        }
        self.samples += 1;
    }

    /// The column of (entity, metric), made if it is new.
    fn column(&mut self, e: SeriesEntity, m: Metric) -> usize {
        if let Some(c) = self.columns.get(&(e, m)) {
            return *c as usize;
        }
        let c = self.keys.len();
        std::sync::Arc::make_mut(&mut self.keys).push((e, m));
        std::sync::Arc::make_mut(&mut self.columns).insert((e, m), c as u32);
        c
    }

    /// (time in seconds, value) of one series, oldest first; empty if it was never sampled.
    pub fn get(
        &self,
        entity: SeriesEntity,
        metric: Metric,
    ) -> impl DoubleEndedIterator<Item = (f64, f64)> + '_ {
        let col = self
            .columns
            .get(&(entity, metric))
            .map_or(usize::MAX, |c| *c as usize);
        self.rows.iter().filter_map(move |(t, row)| {
            let v = *row.get(col)?;
            (v.to_bits() != ABSENT).then_some((*t, v))
        })
    }

    /// Samples held in one series.
    pub fn len(&self, entity: SeriesEntity, metric: Metric) -> usize {
        self.get(entity, metric).count()
    }

    /// The newest value of one series.
    pub fn last(&self, entity: SeriesEntity, metric: Metric) -> Option<(f64, f64)> {
        self.get(entity, metric).next_back()
    }

    /// Every (entity, metric) with a series, in order.
    pub fn keys(&self) -> impl Iterator<Item = (SeriesEntity, Metric)> + '_ {
        self.columns.keys().copied()
    }

    /// Samples pushed so far (including those dropped).
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Forgets everything (a new scenario).
    pub fn clear(&mut self) {
        *self = Self {
            capacity: self.capacity,
            ..Self::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_keeps_its_own_values_gaps_and_nans_and_a_late_one_starts_late() {
        let mut s = Series::default();
        let (sys, link) = (SeriesEntity::System, SeriesEntity::Link(3));
        s.push_sample(1.0, [(sys, Metric::Goodput, 5.0)]);
        s.push_sample(
            2.0,
            [(link, Metric::Sent, 7.0), (sys, Metric::Goodput, f64::NAN)],
        );
        s.push_sample(3.0, [(link, Metric::Sent, 8.0)]);
        let goodput: Vec<_> = s.get(sys, Metric::Goodput).collect();
        assert_eq!(
            goodput.len(),
            2,
            "a sample without the series adds nothing to it"
        );
        assert_eq!(goodput[0], (1.0, 5.0));
        assert!(
            goodput[1].0 == 2.0 && goodput[1].1.is_nan(),
            "a NaN is a value"
        );
        assert_eq!(
            s.get(link, Metric::Sent).collect::<Vec<_>>(),
            [(2.0, 7.0), (3.0, 8.0)]
        );
        assert_eq!(s.last(sys, Metric::Goodput).map(|x| x.0), Some(2.0));
        assert_eq!(s.len(link, Metric::Sent), 2);
        assert_eq!(s.get(link, Metric::Attempts).count(), 0);
        assert_eq!(
            s.keys().collect::<Vec<_>>(),
            [(sys, Metric::Goodput), (link, Metric::Sent)]
        );
    }

    #[test]
    fn a_large_system_keeps_fewer_samples_within_the_budget() {
        let mut s = Series::default();
        let n = SERIES_POINTS / 100;
        for k in 0..103 {
            s.push_sample(
                k as f64,
                (0..n as u32).map(|i| (SeriesEntity::Instance(i), Metric::Retries, k as f64)),
            );
            if k == 0 {
                assert_eq!(s.capacity(), 100);
            }
        }
        let held: Vec<f64> = s
            .get(SeriesEntity::Instance(7), Metric::Retries)
            .map(|x| x.1)
            .collect();
        assert_eq!(held.len(), 100);
        assert_eq!(held[0], 3.0, "the oldest three samples were dropped");
        assert_eq!(
            s.last(SeriesEntity::Instance(0), Metric::Retries),
            Some((102.0, 102.0))
        );
        assert_eq!(Series::capacity_for(10 * SERIES_POINTS), SERIES_MIN);
    }

    #[test]
    fn series_are_bounded_and_keyed() {
        let mut s = Series::default();
        for k in 0..(SERIES_CAPACITY + 5) {
            s.push_sample(
                k as f64,
                [
                    (SeriesEntity::System, Metric::Goodput, k as f64 * 2.0),
                    (SeriesEntity::Link(1), Metric::Sent, 1.0),
                ],
            );
        }
        assert_eq!(s.samples(), SERIES_CAPACITY as u64 + 5);
        assert_eq!(
            s.len(SeriesEntity::System, Metric::Goodput),
            SERIES_CAPACITY
        );
        let first = s.get(SeriesEntity::System, Metric::Goodput).next();
        assert_eq!(first, Some((5.0, 10.0)));
        assert_eq!(s.get(SeriesEntity::Link(0), Metric::Sent).count(), 0);
        assert_eq!(s.keys().count(), 2);
    }

    #[test]
    fn metric_names_are_unique_and_match_outcomes_and_engines() {
        let mut names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        names.sort_unstable();
        let n = names.len();
        names.dedup();
        assert_eq!(names.len(), n);
        for o in Outcome::ALL {
            assert_eq!(Metric::outcome(o).name(), o.name());
        }
        for k in EngineKind::ALL {
            assert_eq!(Metric::util(k).name(), format!("util_{}", k.name()));
        }
    }
}
