//! The flow phase (`SimSystems::Flow` and `Engines`): the agenda of pending events, the
//! topological sweep, and what it moves requests through: sources and clients, links,
//! instances with their engines, the wire of each link, and the routing of each request to
//! its next hop; and the prefetching of the state of the events to come.

pub mod agenda;
pub mod client;
pub mod core;
pub mod engines;
pub mod instance;
pub mod link;
pub mod prefetch;
pub mod request;
pub mod routing;
pub mod source;
pub mod sweep;
pub mod wire;
