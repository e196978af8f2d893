//! Connections and guests as plain Rust (the seed's connection.py and
//! domain.py): no GTK here, so all of it is tested without a display.
//!
//! A [`Connection`] runs on a worker thread of its own, opens its backend
//! connection through a plugin, keeps the set of guests current from the
//! backend's events, and reports every change as a [`ModelEvent`] through a
//! callback supplied by its owner (the engine forwards them to windows).

mod connection;
mod domain;

pub use connection::{Connection, ConnectionId, ConnectionState, ModelEvent};
pub use domain::Domain;
