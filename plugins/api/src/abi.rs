//! The C ABI between the application (the host) and a plugin library.
//!
//! Everything here is `#[repr(C)]` and mirrored by `include/virt_manager_plugin.h`.
//! The rules that keep it stable across releases (docs/plugins.md):
//!
//! - A library exports one symbol, [`ENTRY_SYMBOL`], of type [`EntryFn`]. Its
//!   name carries the ABI major version, so a library built for another major
//!   version is not even looked at by mistake; the descriptor repeats the
//!   major and minor version, and the host checks both.
//! - Every struct that crosses begins with its own size in bytes and only
//!   ever grows at its end. A reader treats fields past the size it was given
//!   as absent ("not supported"), so an older plugin keeps working with a
//!   newer host, and a newer plugin with an older host.
//! - Control-plane data (guest lists, events, configuration) crosses as
//!   UTF-8 JSON bytes whose schemas are the serde types in [`crate::types`];
//!   unknown fields are ignored on both sides.
//! - Output is never allocated by one side and freed by the other: the
//!   caller passes a [`Writer`], the callee writes its bytes through it.
//! - A call returns a [`Status`]: 0 for success, otherwise an
//!   [`crate::ErrorCode`] with its message written to the `err` writer.

use std::ffi::{c_char, c_int, c_void};

/// ABI major version: bumped only for incompatible changes.
pub const ABI_MAJOR: u32 = 1;
/// ABI minor version: bumped when fields are appended.
pub const ABI_MINOR: u32 = 0;

/// The one symbol every plugin library exports (NUL-terminated).
pub const ENTRY_SYMBOL: &[u8] = b"virt_manager_plugin_v1\0";

/// Return value of every fallible call: 0 is success, anything else an
/// [`crate::ErrorCode`] as an integer.
pub type Status = c_int;

/// `const VmmPluginDescriptor *virt_manager_plugin_v1(const VmmHostApi *host)`.
///
/// Called once, right after the library is loaded. The descriptor must stay
/// valid for the life of the process (plugins are never unloaded).
pub type EntryFn = unsafe extern "C" fn(host: *const HostApi) -> *const PluginDescriptor;

/// Borrowed bytes, valid for the duration of the call they are passed to.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Bytes {
    pub ptr: *const u8,
    pub len: usize,
}

impl Bytes {
    pub fn from_slice(s: &[u8]) -> Self {
        Bytes {
            ptr: s.as_ptr(),
            len: s.len(),
        }
    }

    /// # Safety
    /// `ptr` must be valid for `len` bytes (or `len` be 0) for `'a`.
    pub unsafe fn as_slice<'a>(self) -> &'a [u8] {
        if self.len == 0 || self.ptr.is_null() {
            &[]
        } else {
            unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
        }
    }
}

/// An output channel owned by the caller: the callee calls `write` zero or
/// more times; the bytes are appended. Valid only during the call.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Writer {
    pub ctx: *mut c_void,
    pub write: unsafe extern "C" fn(ctx: *mut c_void, ptr: *const u8, len: usize),
}

/// Where a backend sends guest events. Thread-safe: the plugin may call
/// `emit` from any thread, concurrently. The plugin calls `release` exactly
/// once when it will never call `emit` again (at the latest when the
/// connection is closed); the host frees `ctx` then.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct EventSink {
    pub ctx: *mut c_void,
    pub emit: unsafe extern "C" fn(ctx: *mut c_void, event_json: Bytes),
    pub release: unsafe extern "C" fn(ctx: *mut c_void),
}

/// Log levels for [`HostApi::log`], as in the `log` crate.
pub const LOG_ERROR: u32 = 1;
pub const LOG_WARN: u32 = 2;
pub const LOG_INFO: u32 = 3;
pub const LOG_DEBUG: u32 = 4;
pub const LOG_TRACE: u32 = 5;

/// What the host offers a plugin. Grows at the end like every vtable.
#[repr(C)]
#[derive(Debug)]
pub struct HostApi {
    pub size: usize,
    pub abi_major: u32,
    pub abi_minor: u32,
    /// Writes one log record into the host's log (thread-safe).
    pub log: unsafe extern "C" fn(level: u32, target: Bytes, message: Bytes),
}

/// What a plugin library is and provides.
#[repr(C)]
#[derive(Debug)]
pub struct PluginDescriptor {
    pub size: usize,
    pub abi_major: u32,
    pub abi_minor: u32,
    /// Short, stable name (NUL-terminated UTF-8), e.g. "libvirt".
    pub name: *const c_char,
    /// The plugin's own version (NUL-terminated UTF-8).
    pub version: *const c_char,
    /// Null when the library holds no backend.
    pub backend: *const BackendVtable,
}

// Safety: descriptors are immutable statics in the plugin.
unsafe impl Sync for PluginDescriptor {}
unsafe impl Send for PluginDescriptor {}

/// Opaque per-connection handle owned by the plugin.
pub type ConnectionHandle = *mut c_void;

/// A hypervisor backend. Every call may come from any host thread; calls on
/// one connection may run concurrently (the plugin must be thread-safe).
#[repr(C)]
#[derive(Debug)]
pub struct BackendVtable {
    pub size: usize,
    /// Writes [`crate::BackendInfo`] JSON to `out`.
    pub info: unsafe extern "C" fn(out: Writer, err: Writer) -> Status,
    /// Opens a connection; blocks as long as the hypervisor takes.
    pub open: unsafe extern "C" fn(uri: Bytes, conn: *mut ConnectionHandle, err: Writer) -> Status,
    /// Closes and frees a connection. Releases its event sink, if any,
    /// before returning. The handle is invalid afterwards.
    pub close: unsafe extern "C" fn(conn: ConnectionHandle),
    /// Writes a JSON array of [`crate::DomainInfo`] to `out`.
    pub list_domains:
        unsafe extern "C" fn(conn: ConnectionHandle, out: Writer, err: Writer) -> Status,
    /// Starts delivering [`crate::BackendEvent`]s to `sink`. At most one
    /// sink per connection; a second call replaces (and releases) the first.
    pub subscribe:
        unsafe extern "C" fn(conn: ConnectionHandle, sink: EventSink, err: Writer) -> Status,
}

// Safety: vtables are immutable statics of function pointers.
unsafe impl Sync for BackendVtable {}
unsafe impl Send for BackendVtable {}

/// Size of the first (1.0) backend vtable. Hosts accept nothing shorter.
pub const BACKEND_VTABLE_MIN_SIZE: usize = std::mem::size_of::<BackendVtable>();
/// Size of the first (1.0) descriptor.
pub const DESCRIPTOR_MIN_SIZE: usize = std::mem::size_of::<PluginDescriptor>();
/// Size of the first (1.0) host API table.
pub const HOST_API_MIN_SIZE: usize = std::mem::size_of::<HostApi>();

/// True when a struct that reports `size` bytes contains the field that
/// ends at `offset + size_of::<F>()`: the check for appended fields.
pub const fn has_field(size: usize, offset: usize, field_size: usize) -> bool {
    size >= offset + field_size
}
