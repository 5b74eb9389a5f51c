//! The schedule's vocabulary and its loops: the states every room shares, seeded streams
//! and durations, the cadences, the runner's idle and stretch loops, loading and spawning a
//! scenario into entities with its index tables, the memory guard and the conservation check.

pub mod cadence;
pub mod dist;
pub mod guard;
pub mod idle;
pub mod load;
pub mod spawn;
pub mod states;
pub mod stretch;
pub mod topology;
pub mod verify;
