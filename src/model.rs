//! Connections and guests as plain Rust (the seed's connection.py and
//! domain.py): no GTK here, so all of it is tested without a display.
//!
//! A [`Connection`] runs on a worker thread of its own, opens its backend
//! connection through a plugin, keeps the set of guests current from the
//! backend's events, samples statistics for all guests in one call per
//! tick, and reports every change as a [`ModelEvent`] through a callback
//! supplied by its owner (the engine forwards them to windows). Requests
//! that block (lifecycle actions, configuration) run on threads of their
//! own through [`Connection::request`].

mod connection;
mod domain;
pub mod stats;

pub use connection::{
    release_free_memory, Connection, ConnectionId, ConnectionOptions, ConnectionState, ModelEvent,
    StatsConfig,
};
pub use domain::Domain;
pub use stats::{HostSample, Sample, SampleHistory};
