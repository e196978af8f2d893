//! Glue between the C ABI and the safe traits, used by [`crate::export_plugin!`].
//!
//! Every function here that the host can call catches panics: a panic
//! becomes an [`ErrorCode::Panicked`] error with the panic message, never an
//! unwind across `extern "C"` (which would abort the host).

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicPtr, Ordering};

use std::ffi::c_int;
use std::os::fd::IntoRawFd;

use crate::abi::{self, Bytes, ConnectionHandle, DecoderHandle, HostApi, Status, Writer};
use crate::backend::{Backend, BackendConnection, EventSink};
use crate::decoder::{Decoded, Decoder, DecoderLibrary, Target};
use crate::types::{ErrorCode, PluginError};

/// Writes bytes through a host writer.
pub fn write_bytes(w: Writer, bytes: &[u8]) {
    unsafe { (w.write)(w.ctx, bytes.as_ptr(), bytes.len()) }
}

fn write_json<T: serde::Serialize>(w: Writer, value: &T) -> Result<(), PluginError> {
    let json = serde_json::to_vec(value)
        .map_err(|e| PluginError::failed(format!("cannot serialize reply: {e}")))?;
    write_bytes(w, &json);
    Ok(())
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        format!("plugin panicked: {s}")
    } else if let Some(s) = payload.downcast_ref::<String>() {
        format!("plugin panicked: {s}")
    } else {
        "plugin panicked".to_owned()
    }
}

/// Runs `f`, turning its error or panic into a status and a message.
pub fn guard(err: Writer, f: impl FnOnce() -> Result<(), PluginError>) -> Status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => 0,
        Ok(Err(e)) => {
            write_bytes(err, e.message.as_bytes());
            e.code as Status
        }
        Err(payload) => {
            let msg = panic_message(payload.as_ref());
            log::error!("{msg}");
            write_bytes(err, msg.as_bytes());
            ErrorCode::Panicked as Status
        }
    }
}

fn utf8(bytes: Bytes, what: &str) -> Result<String, PluginError> {
    let slice = unsafe { bytes.as_slice() };
    std::str::from_utf8(slice)
        .map(str::to_owned)
        .map_err(|_| PluginError::new(ErrorCode::InvalidArgument, format!("{what} is not UTF-8")))
}

/// # Safety
/// `conn` must be a live handle made by [`backend_open`] for the same `B`.
unsafe fn connection<'a, B: Backend>(
    conn: ConnectionHandle,
) -> Result<&'a B::Connection, PluginError> {
    if conn.is_null() {
        return Err(PluginError::new(
            ErrorCode::InvalidArgument,
            "null connection handle",
        ));
    }
    Ok(unsafe { &*(conn as *const B::Connection) })
}

pub unsafe extern "C" fn backend_info<B: Backend>(out: Writer, err: Writer) -> Status {
    guard(err, || write_json(out, &B::info()))
}

pub unsafe extern "C" fn backend_open<B: Backend>(
    uri: Bytes,
    conn_out: *mut ConnectionHandle,
    err: Writer,
) -> Status {
    guard(err, || {
        if conn_out.is_null() {
            return Err(PluginError::new(
                ErrorCode::InvalidArgument,
                "null output pointer",
            ));
        }
        let uri = utf8(uri, "URI")?;
        let conn = B::open(&uri)?;
        unsafe { *conn_out = Box::into_raw(Box::new(conn)) as ConnectionHandle };
        Ok(())
    })
}

pub unsafe extern "C" fn backend_close<B: Backend>(conn: ConnectionHandle) {
    if conn.is_null() {
        return;
    }
    let result = catch_unwind(AssertUnwindSafe(|| {
        drop(unsafe { Box::from_raw(conn as *mut B::Connection) });
    }));
    if let Err(payload) = result {
        log::error!("while closing: {}", panic_message(payload.as_ref()));
    }
}

pub unsafe extern "C" fn backend_list_domains<B: Backend>(
    conn: ConnectionHandle,
    out: Writer,
    err: Writer,
) -> Status {
    guard(err, || {
        let conn = unsafe { connection::<B>(conn)? };
        write_json(out, &conn.list_domains()?)
    })
}

pub unsafe extern "C" fn backend_subscribe<B: Backend>(
    conn: ConnectionHandle,
    sink: abi::EventSink,
    err: Writer,
) -> Status {
    // Wrap first, so the sink is released even if the plugin panics.
    let sink = unsafe { EventSink::from_raw(sink) };
    guard(err, move || {
        let conn = unsafe { connection::<B>(conn)? };
        conn.subscribe(sink)
    })
}

fn json_arg<T: serde::de::DeserializeOwned>(bytes: Bytes, what: &str) -> Result<T, PluginError> {
    serde_json::from_slice(unsafe { bytes.as_slice() })
        .map_err(|e| PluginError::new(ErrorCode::InvalidArgument, format!("malformed {what}: {e}")))
}

/// Generates a 1.1 backend entry point: `$name(conn, [args...], out?, err)`.
macro_rules! conn_call {
    // conn, out, err -> json(conn.method())
    ($fn:ident, $method:ident) => {
        pub unsafe extern "C" fn $fn<B: Backend>(
            conn: ConnectionHandle,
            out: Writer,
            err: Writer,
        ) -> Status {
            guard(err, || {
                let conn = unsafe { connection::<B>(conn)? };
                write_json(out, &conn.$method()?)
            })
        }
    };
    // conn, uuid/name, out, err -> json(conn.method(&str))
    ($fn:ident, $method:ident, str_out, $what:literal) => {
        pub unsafe extern "C" fn $fn<B: Backend>(
            conn: ConnectionHandle,
            arg: Bytes,
            out: Writer,
            err: Writer,
        ) -> Status {
            guard(err, || {
                let conn = unsafe { connection::<B>(conn)? };
                let arg = utf8(arg, $what)?;
                write_json(out, &conn.$method(&arg)?)
            })
        }
    };
    // conn, uuid/name, json arg, err -> conn.method(&str, &T)
    ($fn:ident, $method:ident, str_json_unit, $what:literal, $arg:literal) => {
        pub unsafe extern "C" fn $fn<B: Backend>(
            conn: ConnectionHandle,
            name: Bytes,
            arg: Bytes,
            err: Writer,
        ) -> Status {
            guard(err, || {
                let conn = unsafe { connection::<B>(conn)? };
                let name = utf8(name, $what)?;
                conn.$method(&name, &json_arg(arg, $arg)?)
            })
        }
    };
}

conn_call!(backend_connection_info, connection_info);
conn_call!(backend_host_stats, host_stats);
conn_call!(backend_list_networks, list_networks);
conn_call!(backend_list_storage_pools, list_storage_pools);
conn_call!(backend_domain_config, domain_config, str_out, "UUID");
conn_call!(
    backend_domain_action,
    domain_action,
    str_json_unit,
    "UUID",
    "action"
);
conn_call!(
    backend_send_keys,
    send_keys,
    str_json_unit,
    "UUID",
    "key sequence"
);
conn_call!(
    backend_network_action,
    network_action,
    str_json_unit,
    "network name",
    "action"
);
conn_call!(
    backend_storage_pool_action,
    storage_pool_action,
    str_json_unit,
    "pool name",
    "action"
);

pub unsafe extern "C" fn backend_domain_stats<B: Backend>(
    conn: ConnectionHandle,
    request: Bytes,
    out: Writer,
    err: Writer,
) -> Status {
    guard(err, || {
        let conn = unsafe { connection::<B>(conn)? };
        write_json(
            out,
            &conn.domain_stats(&json_arg(request, "statistics request")?)?,
        )
    })
}

pub unsafe extern "C" fn backend_apply_domain_config<B: Backend>(
    conn: ConnectionHandle,
    uuid: Bytes,
    changes: Bytes,
    out: Writer,
    err: Writer,
) -> Status {
    guard(err, || {
        let conn = unsafe { connection::<B>(conn)? };
        let uuid = utf8(uuid, "UUID")?;
        write_json(
            out,
            &conn.apply_domain_config(&uuid, &json_arg(changes, "configuration changes")?)?,
        )
    })
}

pub unsafe extern "C" fn backend_define_domain<B: Backend>(
    conn: ConnectionHandle,
    spec: Bytes,
    out: Writer,
    err: Writer,
) -> Status {
    guard(err, || {
        let conn = unsafe { connection::<B>(conn)? };
        write_json(
            out,
            &conn.define_domain(&json_arg(spec, "guest definition")?)?,
        )
    })
}

pub unsafe extern "C" fn backend_open_console<B: Backend>(
    conn: ConnectionHandle,
    uuid: Bytes,
    fd: *mut c_int,
    out: Writer,
    err: Writer,
) -> Status {
    guard(err, || {
        if fd.is_null() {
            return Err(PluginError::new(
                ErrorCode::InvalidArgument,
                "null descriptor pointer",
            ));
        }
        unsafe { *fd = -1 };
        let conn = unsafe { connection::<B>(conn)? };
        let uuid = utf8(uuid, "UUID")?;
        let (endpoint, socket) = conn.open_console(&uuid)?;
        write_json(out, &endpoint)?;
        if let Some(socket) = socket {
            unsafe { *fd = socket.into_raw_fd() };
        }
        Ok(())
    })
}

pub unsafe extern "C" fn backend_screenshot<B: Backend>(
    conn: ConnectionHandle,
    uuid: Bytes,
    out: Writer,
    err: Writer,
) -> Status {
    guard(err, || {
        let conn = unsafe { connection::<B>(conn)? };
        let uuid = utf8(uuid, "UUID")?;
        write_bytes(out, &conn.screenshot(&uuid)?);
        Ok(())
    })
}

/// The vtable for backend type `B`.
pub const fn backend_vtable<B: Backend>() -> abi::BackendVtable {
    abi::BackendVtable {
        size: std::mem::size_of::<abi::BackendVtable>(),
        info: backend_info::<B>,
        open: backend_open::<B>,
        close: backend_close::<B>,
        list_domains: backend_list_domains::<B>,
        subscribe: backend_subscribe::<B>,
        connection_info: backend_connection_info::<B>,
        domain_stats: backend_domain_stats::<B>,
        host_stats: backend_host_stats::<B>,
        domain_action: backend_domain_action::<B>,
        domain_config: backend_domain_config::<B>,
        apply_domain_config: backend_apply_domain_config::<B>,
        define_domain: backend_define_domain::<B>,
        open_console: backend_open_console::<B>,
        send_keys: backend_send_keys::<B>,
        screenshot: backend_screenshot::<B>,
        list_networks: backend_list_networks::<B>,
        network_action: backend_network_action::<B>,
        list_storage_pools: backend_list_storage_pools::<B>,
        storage_pool_action: backend_storage_pool_action::<B>,
    }
}

// ---------------------------------------------------------------------
// Decoders
// ---------------------------------------------------------------------

pub unsafe extern "C" fn decoder_info<D: DecoderLibrary>(out: Writer, err: Writer) -> Status {
    guard(err, || {
        write_json(
            out,
            &crate::types::DecoderLibraryInfo {
                encodings: D::encodings(),
            },
        )
    })
}

pub unsafe extern "C" fn decoder_create<D: DecoderLibrary>(
    encoding: i32,
    format: *const abi::PixelFormat,
    instance: *mut DecoderHandle,
    err: Writer,
) -> Status {
    guard(err, || {
        if format.is_null() || instance.is_null() {
            return Err(PluginError::new(
                ErrorCode::InvalidArgument,
                "null argument",
            ));
        }
        let decoder: Box<dyn Decoder> = D::create(encoding, unsafe { &*format })?;
        // A thin pointer to the fat one.
        unsafe { *instance = Box::into_raw(Box::new(decoder)) as DecoderHandle };
        Ok(())
    })
}

pub unsafe extern "C" fn decoder_destroy<D: DecoderLibrary>(instance: DecoderHandle) {
    if instance.is_null() {
        return;
    }
    let result = catch_unwind(AssertUnwindSafe(|| {
        drop(unsafe { Box::from_raw(instance as *mut Box<dyn Decoder>) });
    }));
    if let Err(payload) = result {
        log::error!(
            "while destroying a decoder: {}",
            panic_message(payload.as_ref())
        );
    }
}

pub unsafe extern "C" fn decoder_decode<D: DecoderLibrary>(
    instance: DecoderHandle,
    rect: *const abi::Rect,
    data: Bytes,
    fb: *const abi::Framebuffer,
    result: *mut abi::DecodeResult,
    err: Writer,
) -> Status {
    guard(err, || {
        if instance.is_null() || rect.is_null() || fb.is_null() || result.is_null() {
            return Err(PluginError::new(
                ErrorCode::InvalidArgument,
                "null argument",
            ));
        }
        let decoder = unsafe { &mut *(instance as *mut Box<dyn Decoder>) };
        let rect = unsafe { *rect };
        let mut target = unsafe { Target::new(*fb, rect) }?;
        let data = unsafe { data.as_slice() };
        let (kind, count) = match decoder.decode(&rect, data, &mut target)? {
            Decoded::NeedMore(n) => (abi::DECODE_NEED_MORE, n),
            Decoded::Partial(n) => (abi::DECODE_PARTIAL, n),
            Decoded::Done(n) => (abi::DECODE_DONE, n),
        };
        unsafe { *result = abi::DecodeResult { kind, count } };
        Ok(())
    })
}

/// The vtable for decoder library `D`.
pub const fn decoder_vtable<D: DecoderLibrary>() -> abi::DecoderVtable {
    abi::DecoderVtable {
        size: std::mem::size_of::<abi::DecoderVtable>(),
        info: decoder_info::<D>,
        create: decoder_create::<D>,
        destroy: decoder_destroy::<D>,
        decode: decoder_decode::<D>,
    }
}

static HOST: AtomicPtr<HostApi> = AtomicPtr::new(std::ptr::null_mut());

struct HostLogger;

impl log::Log for HostLogger {
    fn enabled(&self, _: &log::Metadata) -> bool {
        !HOST.load(Ordering::Acquire).is_null()
    }

    fn log(&self, record: &log::Record) {
        let host = HOST.load(Ordering::Acquire);
        if host.is_null() {
            return;
        }
        let level = match record.level() {
            log::Level::Error => abi::LOG_ERROR,
            log::Level::Warn => abi::LOG_WARN,
            log::Level::Info => abi::LOG_INFO,
            log::Level::Debug => abi::LOG_DEBUG,
            log::Level::Trace => abi::LOG_TRACE,
        };
        let message = record.args().to_string();
        let target = record.target();
        unsafe {
            ((*host).log)(
                level,
                Bytes::from_slice(target.as_bytes()),
                Bytes::from_slice(message.as_bytes()),
            )
        }
    }

    fn flush(&self) {}
}

static LOGGER: HostLogger = HostLogger;

/// Records the host's API table and routes the `log` crate to it.
///
/// # Safety
/// `host` must be null or point to a host table valid for the process's life.
pub unsafe fn init_host(host: *const HostApi) {
    if host.is_null() {
        return;
    }
    let size = unsafe { (*host).size };
    if size < abi::HOST_API_MIN_SIZE {
        return;
    }
    HOST.store(host as *mut HostApi, Ordering::Release);
    // Fails only if the plugin installed its own logger: keep theirs.
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Debug);
    }
    quiet_caught_panics();
}

/// Panics inside a plugin are caught at the boundary and reported as
/// errors; the default hook would also print each one to stderr. Route
/// them to the host's log instead (keeping any hook a plugin set itself
/// for panics on its own threads).
fn quiet_caught_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let location = info
                .location()
                .map(|l| format!(" at {}:{}", l.file(), l.line()))
                .unwrap_or_default();
            if HOST.load(Ordering::Acquire).is_null() {
                previous(info);
            } else {
                log::debug!("{}{location}", panic_message(info.payload()));
            }
        }));
    });
}

/// Asks the user, through the host, to answer `questions` (blocking).
/// Fails with AuthFailed when they cancel, and NotSupported when the host
/// is older than ABI 1.1 or not a program with a user to ask.
pub fn ask_credentials(
    questions: &crate::types::CredentialQuestions,
) -> Result<Vec<String>, PluginError> {
    let host = HOST.load(Ordering::Acquire);
    if host.is_null() {
        return Err(PluginError::not_supported("no host to ask"));
    }
    // Read `size` first: an older host's table is shorter.
    let size = unsafe { (*host).size };
    let offset = std::mem::offset_of!(HostApi, ask_credentials);
    if !abi::has_field(size, offset, std::mem::size_of::<usize>()) {
        return Err(PluginError::not_supported(
            "the application cannot ask for credentials",
        ));
    }
    let ask = unsafe {
        host.cast::<u8>()
            .add(offset)
            .cast::<abi::AskCredentialsFn>()
            .read_unaligned()
    };
    let json = serde_json::to_vec(questions).unwrap_or_default();
    let mut out: Vec<u8> = Vec::new();
    unsafe extern "C" fn append(ctx: *mut std::ffi::c_void, ptr: *const u8, len: usize) {
        let buf = unsafe { &mut *(ctx as *mut Vec<u8>) };
        buf.extend_from_slice(unsafe { Bytes { ptr, len }.as_slice() });
    }
    let writer = Writer {
        ctx: &mut out as *mut Vec<u8> as *mut std::ffi::c_void,
        write: append,
    };
    let status = unsafe { ask(Bytes::from_slice(&json), writer) };
    match ErrorCode::from_status(status) {
        None => serde_json::from_slice(&out)
            .map_err(|e| PluginError::failed(format!("the host's answer is malformed: {e}"))),
        Some(code) => Err(PluginError::new(code, "no credentials were given")),
    }
}
