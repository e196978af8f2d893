//! The application's windows, one Relm4 component each. A window never
//! imports another: it emits its `Output` and the engine decides what
//! happens (../engine.rs).

pub mod a11y;
pub mod about;
pub mod confirm;
pub mod connect;
pub mod console;
pub mod credentials;
pub mod details;
pub mod format;
pub mod host;
pub mod manager;
pub mod preferences;
pub mod widgets;

pub use crate::labels::{display_uri, state_icon_name, state_label};
