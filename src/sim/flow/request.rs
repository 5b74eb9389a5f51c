//! Requests and responses: compact records that live in queues and on links, not ECS entities.
//! Times are integer nanoseconds of simulation time, exact within a tick.

/// Priority class of a request; lower value is served first under `Discipline::Priority`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Priority {
    /// Must get through (payments, logins).
    Critical = 0,
    /// Important.
    High = 1,
    /// Normal traffic.
    Medium = 2,
    /// Background, prefetch, analytics.
    Low = 3,
}

impl Priority {
    /// All classes, most important first.
    pub const ALL: [Priority; 4] = [
        Priority::Critical,
        Priority::High,
        Priority::Medium,
        Priority::Low,
    ];

    /// Upper-case name as in the seed.
    pub fn name(self) -> &'static str {
        match self {
            Priority::Critical => "CRITICAL",
            Priority::High => "HIGH",
            Priority::Medium => "MEDIUM",
            Priority::Low => "LOW",
        }
    }
}

/// How a logical request (or one attempt of it) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Outcome {
    /// Served to the end of its route within the client's timeout.
    Completed,
    /// A bounded queue was full.
    Dropped,
    /// Refused by a policy (503/429).
    Rejected,
    /// A crash, no live instance, or a failure downstream.
    Failed,
    /// The client gave up waiting.
    TimedOut,
}

impl Outcome {
    /// Every outcome, in report order.
    pub const ALL: [Outcome; 5] = [
        Outcome::Completed,
        Outcome::Dropped,
        Outcome::Rejected,
        Outcome::Failed,
        Outcome::TimedOut,
    ];

    /// Snake-case name used in metrics and summaries.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Dropped => "dropped",
            Outcome::Rejected => "rejected",
            Outcome::Failed => "failed",
            Outcome::TimedOut => "timed_out",
        }
    }
}

/// Where a response must go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ret {
    /// Nobody waits: the request crossed an asynchronous link; its end is reported to the source.
    Detached,
    /// The originating client waits (see the request's `slot` and `generation`).
    Client,
    /// A worker of an instance waits for this call.
    Worker {
        /// Global instance index.
        instance: u32,
        /// Worker index inside the instance.
        worker: u32,
        /// Incarnation of the instance when the call was made (a crash makes old calls orphans).
        incarnation: u32,
    },
}

/// Seed 000's flow-control headers and health context, carried by every request. The client
/// stamps its retry policy; each link between components stamps the rest as the request crosses
/// it, from what its sender knew at its last control cycle. Receivers and the inspector read
/// them; the numbers are compact so a request stays small.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlowHeaders {
    /// Max rate: the sender's allowed rate on the link it last crossed, real requests/s
    /// (infinite when unlimited).
    pub max_rate: f32,
    /// Retry policy: attempts the client allows in all, with exponential backoff (1: no retries).
    pub max_attempts: u8,
    /// Circuit breaker of that link: 0 CLOSED, 1 OPEN, 2 HALF-OPEN.
    pub breaker: u8,
    /// Sender health: its status band (0 GREEN .. 3 CRITICAL) at its last health cycle.
    pub sender_status: u8,
    /// Expected target health: the receiver's status band as the sender last heard it.
    pub target_status: u8,
    /// Flow-control reason, a `RateReason` code.
    pub reason: u8,
    /// Alternative routes the sender has for this hop (instances it could pick instead, plus
    /// an alternative component if the link names one).
    pub alternatives: u8,
    /// On a refusal: when to come back, ms (Retry-After; 0: none said).
    pub retry_after_ms: u16,
}

impl FlowHeaders {
    /// The flow-control reason's name.
    pub fn reason(&self) -> &'static str {
        crate::sim::schedule::states::RateReason::from_code(self.reason).name()
    }

    /// The retry policy's name, as in the seed ("exponential_backoff_3_times").
    pub fn retry_policy(&self) -> String {
        match self.max_attempts {
            0 | 1 => "no_retries".to_string(),
            n => format!("exponential_backoff_{}_times", n - 1),
        }
    }
}

impl Default for FlowHeaders {
    fn default() -> Self {
        Self {
            max_rate: f32::INFINITY,
            max_attempts: 1,
            breaker: 0,
            sender_status: 0,
            target_status: 0,
            reason: 0,
            alternatives: 0,
            retry_after_ms: 0,
        }
    }
}

/// One attempt of a logical request, travelling along its flow's path.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    /// Logical request id (unique per run).
    pub id: u64,
    /// When the logical request was created (ns); latency is measured from here.
    pub created: u64,
    /// The client's deadline for this attempt (ns); `u64::MAX` when it waits forever.
    pub deadline: u64,
    /// Time of the current event: arrival at the current hop, or departure when sent (ns).
    pub at: u64,
    /// Who waits for the response.
    pub ret: Ret,
    /// Link the request arrived on (its response goes back along it).
    pub via: u32,
    /// Client slot of the logical request at its source.
    pub slot: u32,
    /// Attempt generation of that slot; stale responses carry an old one.
    pub generation: u32,
    /// Global flow index.
    pub flow: u16,
    /// Index of the current hop in the flow's path.
    pub hop: u16,
    /// Priority class.
    pub priority: Priority,
    /// Attempt number, 1-based.
    pub attempt: u8,
    /// Which call of a fan-out this is (0 otherwise).
    pub branch: u8,
    /// Deliveries of this message that failed at a consumer (a broker redelivers it).
    pub redeliveries: u8,
    /// Flow-control headers and health context.
    pub headers: FlowHeaders,
}

#[cfg(test)]
impl Request {
    /// A first attempt of request `id` from a client, at `at`, for unit tests.
    pub(crate) fn sample(id: u64, at: u64, priority: Priority) -> Self {
        Self {
            id,
            created: 0,
            deadline: u64::MAX,
            at,
            ret: Ret::Client,
            via: 0,
            slot: 0,
            generation: 0,
            flow: 0,
            hop: 0,
            priority,
            attempt: 1,
            branch: 0,
            redeliveries: 0,
            headers: FlowHeaders::default(),
        }
    }
}

/// What a response says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// The route was served to its end.
    Ok,
    /// Handed off to an asynchronous link: the caller may stop waiting.
    Ack,
    /// Failed with this outcome.
    Err(Outcome),
}

/// A response travelling back to whoever waits.
#[derive(Debug, Clone, Copy)]
pub struct Response {
    /// Time the response is sent, then the time it arrives (ns).
    pub at: u64,
    /// The request it answers.
    pub req: Request,
    /// Result.
    pub status: Reply,
}

// A request stays within 80 bytes: it is copied through queues, links and the agenda.
const _: () = assert!(std::mem::size_of::<Request>() <= 80);
