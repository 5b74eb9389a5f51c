//! The read seam and what is recorded (`SimSystems::Metrics` and `Record`): [`view::SimView`],
//! typed events, the decision log, metrics with their latency histograms, the time series for
//! charts, figures per flow and priority class, strategies' inner state made visible, and
//! queueing theory's prediction beside what happened ([`theory`]).

pub mod classes;
pub mod decisions;
pub mod events;
pub mod latency;
pub mod metrics;
pub mod series;
pub mod theory;
pub mod view;
pub mod watch;
