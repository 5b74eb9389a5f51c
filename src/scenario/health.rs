//! Parameters of seed 000's health model. Every number of the seed is a field here, with the
//! seed's value as its default (docs/SCENARIO_FORMAT.md, "health").

use serde::{Deserialize, Serialize};

/// How health is scored and aggregated.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct HealthSpec {
    /// Seconds between health updates: the seed's processing cycle (default 1).
    pub cycle_s: f64,
    /// Weights of the four scores (default 0.30, 0.25, 0.25, 0.20).
    pub weights: ScoreWeights,
    /// Lowest score of each status (default GREEN 80, YELLOW 60, RED 30; below: CRITICAL).
    pub bands: StatusBands,
    /// Latency score = 100 - (latency / baseline) x this (default 10).
    pub latency_points_per_multiple: f64,
    /// Error score = 100 - (error rate / baseline) x this (default 5).
    pub error_points_per_multiple: f64,
    /// Window of the current latency, s (default 10).
    pub latency_window_s: f64,
    /// Window of the current error rate, s (default 60).
    pub error_window_s: f64,
    /// Window over which trends (queue growth, latency and error trends) are measured, s
    /// (default 5; the seed gives rates per second without a window).
    pub trend_window_s: f64,
    /// Latency baseline, ms; when absent it is learned while the component is GREEN, starting
    /// from its mean service time.
    pub baseline_latency_ms: Option<f64>,
    /// Error-rate baseline (default 0.001 = 0.1%).
    pub baseline_error_rate: f64,
    /// Holt's linear forecast of each component's queue (seed 000's phase 4).
    pub forecast: ForecastSpec,
    /// Engine health by utilization: (below, health) bands in increasing order
    /// (default below 0.70: 1.0, 0.80: 0.8, 0.90: 0.5, 0.95: 0.3).
    pub engine_bands: Vec<(f64, f64)>,
    /// Engine health at or above the last band (default 0.2).
    pub engine_floor: f64,
    /// An instance counts as functional above this health (default 0.1).
    pub functional_above: f64,
    /// A component counts as critical below this health (default 0.3).
    pub critical_below: f64,
    /// System health loses this share per critical component (default 0.2), down to `penalty_floor`.
    /// A component is critical when its status is CRITICAL or its aggregated health is below
    /// `critical_below`.
    pub critical_penalty: f64,
    /// System health loses this share per RED component (default 0.1; not in the seed, which
    /// penalises only critical components: see docs/ENGINE.md, "System health").
    pub red_penalty: f64,
    /// Smallest critical-component penalty factor (default 0.5).
    pub penalty_floor: f64,
}

impl Default for HealthSpec {
    fn default() -> Self {
        Self {
            cycle_s: 1.0,
            weights: ScoreWeights::default(),
            bands: StatusBands::default(),
            latency_points_per_multiple: 10.0,
            error_points_per_multiple: 5.0,
            latency_window_s: 10.0,
            error_window_s: 60.0,
            trend_window_s: 5.0,
            baseline_latency_ms: None,
            baseline_error_rate: 0.001,
            forecast: ForecastSpec::default(),
            engine_bands: vec![(0.70, 1.0), (0.80, 0.8), (0.90, 0.5), (0.95, 0.3)],
            engine_floor: 0.2,
            functional_above: 0.1,
            critical_below: 0.3,
            critical_penalty: 0.2,
            red_penalty: 0.1,
            penalty_floor: 0.5,
        }
    }
}

/// Weights of the dynamic health score.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ScoreWeights {
    /// Queue score weight (default 0.30).
    pub queue: f64,
    /// Processing score weight (default 0.25).
    pub processing: f64,
    /// Latency score weight (default 0.25).
    pub latency: f64,
    /// Error score weight (default 0.20).
    pub error: f64,
}

impl Default for ScoreWeights {
    fn default() -> Self {
        Self {
            queue: 0.30,
            processing: 0.25,
            latency: 0.25,
            error: 0.20,
        }
    }
}

/// Lowest score of each status.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct StatusBands {
    /// GREEN from here (default 80).
    pub green: f64,
    /// YELLOW from here (default 60).
    pub yellow: f64,
    /// RED from here (default 30); below is CRITICAL.
    pub red: f64,
}

impl Default for StatusBands {
    fn default() -> Self {
        Self {
            green: 80.0,
            yellow: 60.0,
            red: 30.0,
        }
    }
}

/// Holt's linear method on each component's queue length, one observation per health cycle.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ForecastSpec {
    /// Level smoothing (default 0.5).
    pub alpha: f64,
    /// Trend smoothing (default 0.3).
    pub beta: f64,
    /// How far ahead to forecast, s (default 5; the seed says "a few seconds").
    pub horizon_s: f64,
    /// An observation this many mean absolute errors off its one-step forecast is an anomaly
    /// (default 4).
    pub anomaly_factor: f64,
    /// ...and off by at least this share of the queue's capacity (default 0.1; not a seed
    /// number: without it a queue of 60 where 0 was forecast is flagged).
    pub anomaly_min_share: f64,
}

impl Default for ForecastSpec {
    fn default() -> Self {
        Self {
            alpha: 0.5,
            beta: 0.3,
            horizon_s: 5.0,
            anomaly_factor: 4.0,
            anomaly_min_share: 0.1,
        }
    }
}
