//! The command door (`SimSystems::Commands`): the typed commands, the phase that applies
//! them at the start of a tick, and what they change: parameters, instances (down, back,
//! slow), a component's size and a strategy swapped while the run goes on.

pub mod command;
pub mod faults;
pub mod params;
pub mod phase;
pub mod resize;
pub mod swap;
