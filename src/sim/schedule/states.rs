//! The simulation's small vocabulary of states, shared by the model, its events and its view:
//! health bands, breaker states, urgency and reasons of rate changes. A leaf: it imports nothing
//! of the simulation, so every module may use it.

/// Status bands of the dynamic score (seed 000: GREEN, YELLOW, RED, CRITICAL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum HealthBand {
    /// Healthy (score >= 80).
    #[default]
    Green = 0,
    /// Stressed (60-79).
    Yellow = 1,
    /// Overloaded (30-59).
    Red = 2,
    /// Failing (below 30).
    Critical = 3,
}

impl HealthBand {
    /// Upper-case name as in the seed.
    pub fn name(self) -> &'static str {
        match self {
            HealthBand::Green => "GREEN",
            HealthBand::Yellow => "YELLOW",
            HealthBand::Red => "RED",
            HealthBand::Critical => "CRITICAL",
        }
    }
}

/// States of a circuit breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BreakerState {
    /// Everything passes.
    #[default]
    Closed = 0,
    /// Most MEDIUM and LOW requests are refused with 503.
    Open = 1,
    /// Half the requests pass, to test recovery.
    HalfOpen = 2,
}

impl BreakerState {
    /// Upper-case name as in the seed.
    pub fn name(self) -> &'static str {
        match self {
            BreakerState::Closed => "CLOSED",
            BreakerState::Open => "OPEN",
            BreakerState::HalfOpen => "HALF-OPEN",
        }
    }
}

/// How urgently a sender should follow a recommendation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Urgency {
    /// Follow within the per-cycle limits.
    #[default]
    Gradual,
    /// The receiver is CRITICAL: an emergency cut is allowed at once.
    Immediate,
}

impl Urgency {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Urgency::Gradual => "gradual",
            Urgency::Immediate => "immediate",
        }
    }
}

/// Why a link's allowed rate changed (seed 000, "Adaptive Rate Control").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum RateReason {
    /// No reason recorded (no limit).
    #[default]
    None = 0,
    /// The receiver's traffic is above its safe rate (it splits the safe rate among senders).
    ApproachingCapacity = 1,
    /// The receiver is RED.
    DownstreamOverload = 2,
    /// The receiver is CRITICAL: an emergency cut.
    QueueOverloadCritical = 3,
    /// No recommendation; the receiver is GREEN.
    DownstreamHealthy = 4,
    /// No recommendation; the receiver is YELLOW.
    DownstreamStressed = 5,
    /// No recommendation; the receiver is CRITICAL.
    DownstreamCritical = 6,
    /// Predictive backpressure: the forecast traffic exceeds the safe rate.
    ForecastOverload = 7,
}

impl RateReason {
    /// Every reason, by code.
    pub const ALL: [RateReason; 8] = [
        RateReason::None,
        RateReason::ApproachingCapacity,
        RateReason::DownstreamOverload,
        RateReason::QueueOverloadCritical,
        RateReason::DownstreamHealthy,
        RateReason::DownstreamStressed,
        RateReason::DownstreamCritical,
        RateReason::ForecastOverload,
    ];

    /// Snake-case name, as in the seed and the JSON Lines.
    pub fn name(self) -> &'static str {
        match self {
            RateReason::None => "none",
            RateReason::ApproachingCapacity => "approaching_capacity",
            RateReason::DownstreamOverload => "downstream_overload",
            RateReason::QueueOverloadCritical => "queue_overload_critical",
            RateReason::DownstreamHealthy => "downstream_healthy",
            RateReason::DownstreamStressed => "downstream_stressed",
            RateReason::DownstreamCritical => "downstream_critical",
            RateReason::ForecastOverload => "forecast_overload",
        }
    }

    /// The reason with this code (`None` for an unknown one).
    pub fn from_code(code: u8) -> Self {
        Self::ALL.get(code as usize).copied().unwrap_or_default()
    }

    /// Without a recommendation: the reason the receiver's status gives.
    pub fn of_status(status: HealthBand) -> Self {
        match status {
            HealthBand::Green => RateReason::DownstreamHealthy,
            HealthBand::Yellow => RateReason::DownstreamStressed,
            HealthBand::Red => RateReason::DownstreamOverload,
            HealthBand::Critical => RateReason::DownstreamCritical,
        }
    }
}

/// Which resource an engine models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EngineKind {
    /// Processor time.
    Cpu = 0,
    /// Memory held by queued and in-flight requests.
    Memory = 1,
    /// Storage operations.
    Storage = 2,
    /// Network bandwidth.
    Network = 3,
}

impl EngineKind {
    /// All engines, in report order.
    pub const ALL: [EngineKind; 4] = [
        EngineKind::Cpu,
        EngineKind::Memory,
        EngineKind::Storage,
        EngineKind::Network,
    ];

    /// Lower-case name used in metrics.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Cpu => "cpu",
            EngineKind::Memory => "memory",
            EngineKind::Storage => "storage",
            EngineKind::Network => "network",
        }
    }
}
