//! Virtual Machine Manager: the application library. The binary
//! (main.rs) parses the command line and calls into here; tests use the
//! non-GTK layers directly.
//!
//! Layers, bottom up (../docs/architecture.md): `plugin_host` loads
//! backends; `model` keeps connections and guests (no GTK); `engine` wires
//! windows, connections and requests; `windows` are the Relm4 components.

pub mod api;
pub mod application;
pub mod askpass;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod dbus;
pub mod demo;
pub mod engine;
pub mod i18n;
pub mod image;
pub mod keys;
pub mod labels;
pub mod logging;
pub mod model;
pub mod paths;
pub mod plugin_host;
pub mod settings;
pub mod uri;
pub mod vnc;
pub mod windows;
