//! Seed 000's control (`SimSystems::Health` and `RateControl`): the health model and its
//! direct queries, adaptive rate control, the per-cycle control of each link (rate control,
//! breakers, fallbacks) and autoscaling.

pub mod answers;
pub mod autoscale;
pub mod cycle;
pub mod health;
pub mod queries;
pub mod rate;
