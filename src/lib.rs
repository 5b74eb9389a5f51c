//! flowlab: watch backpressure and flow control happen. A scenario describes a distributed
//! system; the simulation runs it as Bevy ECS systems on a fixed tick, deterministically per seed.
//!
//! # A scenario becomes a world
//!
//! A file is read, parsed and validated ([`scenario::load`]), then loaded into a world
//! ([`sim::schedule::load::load_scenario`]): the load schedule
//! ([`sim::SimLoad`]) clears what lives between ticks, spawns the components,
//! instances and engines as entities beside the flow's core
//! ([`sim::flow::core::FlowCore`], every source, instance, link and latency buffer in dense
//! vectors), and each plugin puts its own state back to t = 0.
//!
//! # One tick, stage by stage
//!
//! [`sim::SimTick`] advances the simulation by one fixed tick; its phases are the chained
//! [`sim::SimSystems`], each filled by one room of [`sim`]:
//!
//! 1. [`Commands`](sim::SimSystems::Commands) ([`sim::door`]): the what-ifs, faults, loads and
//!    strategy swaps due in the tick are applied, each validated as a scenario file would be.
//! 2. [`Clock`](sim::SimSystems::Clock) ([`sim::schedule`]): the integer clock advances and the
//!    cadences decide whether this tick holds a health cycle or an engine update.
//! 3. [`Flow`](sim::SimSystems::Flow) ([`sim::flow`]): an exact discrete-event sweep of the
//!    tick over the core: sources emit, links deliver, instances queue and serve, responses
//!    travel back, each event found by index; the [`sim::strategies`] plug in here.
//! 4. [`Engines`](sim::SimSystems::Engines) ([`sim::flow::engines`]): each instance's engine
//!    entities take their utilization from its busy workers and memory.
//! 5. [`Health`](sim::SimSystems::Health) ([`sim::control::health`]): seed 000's health
//!    scores: the core writes each instance entity's queue component, then engines, instances,
//!    components and the system are scored and aggregated.
//! 6. [`RateControl`](sim::SimSystems::RateControl) ([`sim::control`]): senders query their
//!    receivers' health, adjust their rates and breakers, fall back and autoscale, writing back
//!    through the core's methods.
//! 7. [`Metrics`](sim::SimSystems::Metrics) ([`sim::read::metrics`]): finished requests into
//!    the latency histograms; samples and CSV rows when due.
//! 8. [`Record`](sim::SimSystems::Record) ([`sim::read`]): the tick's typed events into the
//!    journal and the decision log.
//! 9. [`Verify`](sim::SimSystems::Verify) ([`sim::schedule::verify`]): conservation, every
//!    request ended exactly once (tests and `--verify`).
//!
//! Ticks with nothing due are skipped and runs of plain ticks go through one system
//! ([`sim::SimFlowTick`]), with outputs byte-identical to running each tick in full.
//!
//! # Who reads and who writes
//!
//! Everything outside the simulation reads it through [`sim::read::view::SimView`] and changes
//! it only through the command door ([`sim::door::command::SimCommand`]): the headless
//! [`runner::Simulation`], the [`compare`] runs, the lessons ([`lesson`]), the pictures
//! ([`picture`]) and the desktop app.

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
