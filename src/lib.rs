//! flowlab: watch backpressure and flow control happen. A scenario describes a distributed
//! system; the simulation runs it as Bevy ECS systems on a fixed tick, deterministically per seed.

pub mod cli;
pub mod picture;
pub mod runner;
pub mod scenario;
pub mod sim;
pub mod testing;
