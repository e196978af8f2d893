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
pub mod decoder;
pub mod types;

#[doc(hidden)]
pub mod export;

pub use backend::{Backend, BackendConnection, EventSink};
pub use decoder::{Decoded, Decoder, DecoderLibrary, OutOfBounds, Target};
pub use export::ask_credentials;
pub use types::*;

/// Re-exported so that plugins log through the same `log` crate version.
pub use log;
/// Re-exported for [`BackendConnection::define_domain`]'s JSON spec.
pub use serde_json;

/// Exports a plugin library's entry symbol.
///
/// `name` and `version` must be string literals (`env!("CARGO_PKG_VERSION")`
/// works). `backend` names a type implementing [`Backend`], `decoders` one
/// implementing [`DecoderLibrary`]; give either or both.
#[macro_export]
macro_rules! export_plugin {
    (name: $name:expr, version: $version:expr, backend: $backend:ty $(,)?) => {
        $crate::__export_plugin!(
            $name,
            $version,
            &$crate::__BackendVtableFor::<$backend>::VTABLE,
            ::std::ptr::null()
        );
    };
    (name: $name:expr, version: $version:expr, decoders: $decoders:ty $(,)?) => {
        $crate::__export_plugin!(
            $name,
            $version,
            ::std::ptr::null(),
            &$crate::__DecoderVtableFor::<$decoders>::VTABLE
        );
    };
    (name: $name:expr, version: $version:expr, backend: $backend:ty, decoders: $decoders:ty $(,)?) => {
        $crate::__export_plugin!(
            $name,
            $version,
            &$crate::__BackendVtableFor::<$backend>::VTABLE,
            &$crate::__DecoderVtableFor::<$decoders>::VTABLE
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __export_plugin {
    ($name:expr, $version:expr, $backend:expr, $decoders:expr) => {
        /// The plugin entry point (see `virt_manager_plugin_api::abi`).
        ///
        /// # Safety
        /// Called by the host with a valid (or null) host table.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn virt_manager_plugin_v1(
            host: *const $crate::abi::HostApi,
        ) -> *const $crate::abi::PluginDescriptor {
            static DESCRIPTOR: $crate::abi::PluginDescriptor = $crate::abi::PluginDescriptor {
                size: ::std::mem::size_of::<$crate::abi::PluginDescriptor>(),
                abi_major: $crate::abi::ABI_MAJOR,
                abi_minor: $crate::abi::ABI_MINOR,
                name: concat!($name, "\0").as_ptr() as *const ::std::ffi::c_char,
                version: concat!($version, "\0").as_ptr() as *const ::std::ffi::c_char,
                backend: $backend,
                decoders: $decoders,
            };
            unsafe { $crate::export::init_host(host) };
            &DESCRIPTOR
        }
    };
}

/// Holds a backend's vtable as an associated constant, so that the macro
/// can take a `'static` reference to it.
#[doc(hidden)]
pub struct __BackendVtableFor<B>(std::marker::PhantomData<B>);

impl<B: Backend> __BackendVtableFor<B> {
    pub const VTABLE: abi::BackendVtable = export::backend_vtable::<B>();
}

#[doc(hidden)]
pub struct __DecoderVtableFor<D>(std::marker::PhantomData<D>);

impl<D: DecoderLibrary> __DecoderVtableFor<D> {
    pub const VTABLE: abi::DecoderVtable = export::decoder_vtable::<D>();
}
