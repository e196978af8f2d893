//! The stable plugin interface of Virtual Machine Manager.
//!
//! A plugin is a shared library (`crate-type = ["cdylib"]`) that the
//! application loads at start. This crate gives plugin authors:
//!
//! - [`Backend`] and [`BackendConnection`]: the safe traits a hypervisor
//!   backend implements;
//! - [`export_plugin!`]: the one macro that exports them through the C ABI,
//!   catching panics at every call;
//! - [`abi`]: the C ABI itself (what the host and C plugins see), and
//!   [`types`]: the JSON schemas of the data that crosses it.
//!
//! Log with the `log` crate's macros: the export macro routes them into the
//! application's log.
//!
//! ```ignore
//! struct MyBackend;
//! impl virt_manager_plugin_api::Backend for MyBackend { /* ... */ }
//! virt_manager_plugin_api::export_plugin! {
//!     name: "my-backend",
//!     version: "1.0.0",
//!     backend: MyBackend,
//! }
//! ```
//!
//! docs/plugins.md in the application's repository is the full guide.

pub mod abi;
pub mod backend;
pub mod types;

#[doc(hidden)]
pub mod export;

pub use backend::{Backend, BackendConnection, EventSink};
pub use types::{BackendEvent, BackendInfo, DomainInfo, DomainState, ErrorCode, PluginError};

/// Re-exported so that plugins log through the same `log` crate version.
pub use log;

/// Exports a plugin library's entry symbol.
///
/// `name` and `version` must be string literals (`env!("CARGO_PKG_VERSION")`
/// works). `backend` names a type implementing [`Backend`].
#[macro_export]
macro_rules! export_plugin {
    (name: $name:expr, version: $version:expr, backend: $backend:ty $(,)?) => {
        /// The plugin entry point (see `virt_manager_plugin_api::abi`).
        ///
        /// # Safety
        /// Called by the host with a valid (or null) host table.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn virt_manager_plugin_v1(
            host: *const $crate::abi::HostApi,
        ) -> *const $crate::abi::PluginDescriptor {
            static BACKEND: $crate::abi::BackendVtable =
                $crate::export::backend_vtable::<$backend>();
            static DESCRIPTOR: $crate::abi::PluginDescriptor = $crate::abi::PluginDescriptor {
                size: ::std::mem::size_of::<$crate::abi::PluginDescriptor>(),
                abi_major: $crate::abi::ABI_MAJOR,
                abi_minor: $crate::abi::ABI_MINOR,
                name: concat!($name, "\0").as_ptr() as *const ::std::ffi::c_char,
                version: concat!($version, "\0").as_ptr() as *const ::std::ffi::c_char,
                backend: &BACKEND,
            };
            unsafe { $crate::export::init_host(host) };
            &DESCRIPTOR
        }
    };
}
