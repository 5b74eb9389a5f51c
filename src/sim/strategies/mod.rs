//! The policy seam: where strategies plug in without touching the flow phase.
//! - `queue`: what an instance's queue does with an arrival when no worker is free, and which
//!   waiting request a freed worker takes (today: tail drop, FIFO or by priority).
//! - `admission`: what a link's sender does with a request before it goes on the wire (today:
//!   seed 000's circuit breaker and rate limit, with holds and 503 refusals).
//! - `bulkhead`: compartments of an instance's workers by flow, each with a queue of its own.
//! - `control`: who runs the per-cycle control of a link (today: seed 000's rate control and
//!   breaker in `control`, or nothing).
//! - `redelivery`: what a broker does with a message that failed at its consumer (back to
//!   the topic after a delay tier, then the dead-letter queue).
//!
//! Built-in strategies are enum variants, so the hot loop stays monomorphic and deterministic;
//! `Custom` takes a boxed trait object, so a test or an experiment can plug in its own.

pub mod admission;
pub mod breaker;
pub mod bulkhead;
pub mod concurrency;
pub mod control;
pub mod discipline;
pub mod limit;
pub mod queue;
pub mod redelivery;
pub mod taildrop;
pub mod zoo;

pub use admission::{Admission, AdmissionPolicy};
pub use control::{LinkControl, LinkController};
pub use queue::{Offer, QueueDiscipline, QueuePolicy};
