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
///
/// - 1.0: descriptor with a backend; backend: info, open, close,
///   list_domains, subscribe.
/// - 1.1: descriptor gains `decoders`; backend gains statistics, lifecycle,
///   configuration, host information, networks, storage pools, consoles,
///   keys and screenshots.
pub const ABI_MINOR: u32 = 1;

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

/// `HostApi::ask_credentials`.
pub type AskCredentialsFn = unsafe extern "C" fn(questions: Bytes, out: Writer) -> Status;

/// What the host offers a plugin. Grows at the end like every vtable.
#[repr(C)]
#[derive(Debug)]
pub struct HostApi {
    pub size: usize,
    pub abi_major: u32,
    pub abi_minor: u32,
    /// Writes one log record into the host's log (thread-safe).
    pub log: unsafe extern "C" fn(level: u32, target: Bytes, message: Bytes),
    // ---- 1.1 ----
    /// Asks the user for credentials on behalf of a connection (SASL user
    /// names and passwords, say): `questions` is
    /// [`crate::CredentialQuestions`] JSON; writes a JSON array of
    /// answers, one string per prompt. Blocks the calling plugin thread
    /// until the user answers; returns AuthFailed when they cancel or no
    /// one can be asked (the command line).
    pub ask_credentials: unsafe extern "C" fn(questions: Bytes, out: Writer) -> Status,
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
    // ---- 1.1 ----
    /// Null when the library holds no framebuffer decoders.
    pub decoders: *const DecoderVtable,
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
    // ---- 1.1 ----
    /// Writes [`crate::ConnectionInfo`] JSON.
    pub connection_info:
        unsafe extern "C" fn(conn: ConnectionHandle, out: Writer, err: Writer) -> Status,
    /// Statistics of every guest in one call. `request` is
    /// [`crate::StatsRequest`] JSON; writes a JSON array of
    /// [`crate::DomainStats`].
    pub domain_stats: unsafe extern "C" fn(
        conn: ConnectionHandle,
        request: Bytes,
        out: Writer,
        err: Writer,
    ) -> Status,
    /// Writes [`crate::HostStats`] JSON.
    pub host_stats:
        unsafe extern "C" fn(conn: ConnectionHandle, out: Writer, err: Writer) -> Status,
    /// Runs a [`crate::DomainAction`] (JSON) on the guest with this UUID.
    pub domain_action: unsafe extern "C" fn(
        conn: ConnectionHandle,
        uuid: Bytes,
        action: Bytes,
        err: Writer,
    ) -> Status,
    /// Writes the guest's [`crate::DomainConfig`] JSON.
    pub domain_config: unsafe extern "C" fn(
        conn: ConnectionHandle,
        uuid: Bytes,
        out: Writer,
        err: Writer,
    ) -> Status,
    /// Applies [`crate::ConfigChanges`] (JSON) all or nothing; writes
    /// [`crate::ApplyResult`] JSON.
    pub apply_domain_config: unsafe extern "C" fn(
        conn: ConnectionHandle,
        uuid: Bytes,
        changes: Bytes,
        out: Writer,
        err: Writer,
    ) -> Status,
    /// Defines a new guest from a backend-specific JSON spec; writes the
    /// new guest's [`crate::DomainInfo`] JSON.
    pub define_domain: unsafe extern "C" fn(
        conn: ConnectionHandle,
        spec: Bytes,
        out: Writer,
        err: Writer,
    ) -> Status,
    /// Opens the guest's graphical console. Writes
    /// [`crate::ConsoleEndpoint`] JSON; when the backend connected a socket
    /// itself it stores the descriptor in `*fd` (the host then owns it),
    /// else leaves `*fd` at -1 and the endpoint names host and port.
    pub open_console: unsafe extern "C" fn(
        conn: ConnectionHandle,
        uuid: Bytes,
        fd: *mut c_int,
        out: Writer,
        err: Writer,
    ) -> Status,
    /// Sends a [`crate::KeySequence`] (JSON) to the guest.
    pub send_keys: unsafe extern "C" fn(
        conn: ConnectionHandle,
        uuid: Bytes,
        keys: Bytes,
        err: Writer,
    ) -> Status,
    /// Writes a picture of the guest's screen (PNG or binary PPM bytes).
    pub screenshot: unsafe extern "C" fn(
        conn: ConnectionHandle,
        uuid: Bytes,
        out: Writer,
        err: Writer,
    ) -> Status,
    /// Writes a JSON array of [`crate::NetworkInfo`].
    pub list_networks:
        unsafe extern "C" fn(conn: ConnectionHandle, out: Writer, err: Writer) -> Status,
    /// Runs a [`crate::NetworkAction`] (JSON) on the named network.
    pub network_action: unsafe extern "C" fn(
        conn: ConnectionHandle,
        name: Bytes,
        action: Bytes,
        err: Writer,
    ) -> Status,
    /// Writes a JSON array of [`crate::StoragePoolInfo`].
    pub list_storage_pools:
        unsafe extern "C" fn(conn: ConnectionHandle, out: Writer, err: Writer) -> Status,
    /// Runs a [`crate::StoragePoolAction`] (JSON) on the named pool.
    pub storage_pool_action: unsafe extern "C" fn(
        conn: ConnectionHandle,
        name: Bytes,
        action: Bytes,
        err: Writer,
    ) -> Status,
}

// Safety: vtables are immutable statics of function pointers.
unsafe impl Sync for BackendVtable {}
unsafe impl Send for BackendVtable {}

/// Size of the first (1.0) backend vtable: the size word and five calls.
/// Hosts accept nothing shorter.
pub const BACKEND_VTABLE_MIN_SIZE: usize = std::mem::offset_of!(BackendVtable, connection_info);
/// Size of the first (1.0) descriptor, which ended after `backend`.
pub const DESCRIPTOR_MIN_SIZE: usize = std::mem::offset_of!(PluginDescriptor, decoders);
/// Size of the first (1.0) host API table, which ended after `log`.
pub const HOST_API_MIN_SIZE: usize = std::mem::offset_of!(HostApi, ask_credentials);

/// True when a struct that reports `size` bytes contains the field that
/// starts at `offset` and is `field_size` bytes long: the check for
/// appended fields (`has_field(vt.size, offset_of!(T, f), size_of_val(&vt.f))`).
pub const fn has_field(size: usize, offset: usize, field_size: usize) -> bool {
    size >= offset + field_size
}

// ---------------------------------------------------------------------
// Framebuffer decoders (1.1)
// ---------------------------------------------------------------------

/// An RFB pixel format (RFC 6143, 7.4), as negotiated on the wire.
///
/// Hosts of ABI 1.x always ask the server for [`PixelFormat::HOST`] and
/// hand decoders that format; a decoder may refuse any other with
/// "not supported".
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PixelFormat {
    pub bits_per_pixel: u8,
    pub depth: u8,
    pub big_endian: u8,
    pub true_colour: u8,
    pub red_max: u16,
    pub green_max: u16,
    pub blue_max: u16,
    pub red_shift: u8,
    pub green_shift: u8,
    pub blue_shift: u8,
    pub _padding: [u8; 3],
}

impl PixelFormat {
    /// The framebuffer's own format: 32 bits per pixel, native-endian words
    /// `0x00RRGGBB` (on little-endian machines the bytes B, G, R, X), which
    /// cairo (RGB24) and GL (BGRA) take as is. The X byte is undefined.
    pub const HOST: PixelFormat = PixelFormat {
        bits_per_pixel: 32,
        depth: 24,
        big_endian: cfg!(target_endian = "big") as u8,
        true_colour: 1,
        red_max: 255,
        green_max: 255,
        blue_max: 255,
        red_shift: 16,
        green_shift: 8,
        blue_shift: 0,
        _padding: [0; 3],
    };
}

/// A rectangle of a FramebufferUpdate, with its encoding.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    pub x: u16,
    pub y: u16,
    pub width: u16,
    pub height: u16,
    pub encoding: i32,
}

/// The host's framebuffer: `height` rows of `width` 32-bit pixels in
/// [`PixelFormat::HOST`], rows `stride` bytes apart. `pixels` and `stride`
/// are 4-byte aligned. A decoder writes only inside its rectangle (which
/// the host has checked lies inside the framebuffer) and may read
/// anywhere (CopyRect).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Framebuffer {
    pub pixels: *mut u8,
    pub stride: usize,
    pub width: u32,
    pub height: u32,
}

/// The decoder needs at least `count` more bytes than it was given; the
/// host calls again with the rectangle's data from its start.
pub const DECODE_NEED_MORE: u32 = 1;
/// The decoder consumed `count` bytes and kept its place; the host calls
/// again with the data after them.
pub const DECODE_PARTIAL: u32 = 2;
/// The rectangle is complete after `count` bytes.
pub const DECODE_DONE: u32 = 3;

/// What one decode call achieved.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecodeResult {
    pub kind: u32,
    pub count: usize,
}

/// Opaque decoder instance owned by the plugin.
pub type DecoderHandle = *mut c_void;

/// The framebuffer decoders of a library. One instance per encoding per
/// console connection; an instance is used by one thread at a time but
/// may move between threads.
#[repr(C)]
#[derive(Debug)]
pub struct DecoderVtable {
    pub size: usize,
    /// Writes [`crate::DecoderLibraryInfo`] JSON: the encodings offered.
    pub info: unsafe extern "C" fn(out: Writer, err: Writer) -> Status,
    /// Creates a stateful decoder for one encoding and one connection.
    pub create: unsafe extern "C" fn(
        encoding: i32,
        format: *const PixelFormat,
        instance: *mut DecoderHandle,
        err: Writer,
    ) -> Status,
    /// Frees an instance.
    pub destroy: unsafe extern "C" fn(instance: DecoderHandle),
    /// Decodes (part of) one rectangle: `data` holds the bytes after the
    /// rectangle header that the host has; the decoder writes pixels into
    /// `fb` inside `rect` and reports in `result`.
    pub decode: unsafe extern "C" fn(
        instance: DecoderHandle,
        rect: *const Rect,
        data: Bytes,
        fb: *const Framebuffer,
        result: *mut DecodeResult,
        err: Writer,
    ) -> Status,
}

unsafe impl Sync for DecoderVtable {}
unsafe impl Send for DecoderVtable {}

/// Size of the first decoder vtable (1.1).
pub const DECODER_VTABLE_MIN_SIZE: usize = std::mem::size_of::<DecoderVtable>();
