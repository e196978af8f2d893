//! Small safe wrappers over libvirt calls that the `virt` crate (0.4.3)
//! lacks or gets wrong. Each module documents what it owns and frees; the
//! rest of the plugin is safe Rust. (events.rs and runtime.rs hold the
//! other FFI: callbacks and process set-up.)

pub mod domain_stats;
pub mod graphics;
pub mod node_stats;
