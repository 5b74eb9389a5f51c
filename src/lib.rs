//! flowlab: watch backpressure and flow control happen. A scenario describes a distributed
//! system; the simulation runs it as Bevy ECS systems on a fixed tick, deterministically per seed.

#![deny(missing_docs)]

#[cfg(feature = "desktop")]
pub mod app;
pub mod cli;
pub mod compare;
pub mod desktop_cli;
pub mod desktop_lesson;
pub mod files;
pub mod lesson;
pub mod picture;
pub mod runner;
pub mod scenario;
pub mod sim;
pub mod summary;
pub mod testing;
