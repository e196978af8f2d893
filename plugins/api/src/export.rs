//! Glue between the C ABI and the safe traits, used by [`crate::export_plugin!`].
//!
//! Every function here that the host can call catches panics: a panic
//! becomes an [`ErrorCode::Panicked`] error with the panic message, never an
//! unwind across `extern "C"` (which would abort the host).

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicPtr, Ordering};

use crate::abi::{self, Bytes, ConnectionHandle, HostApi, Status, Writer};
use crate::backend::{Backend, BackendConnection, EventSink};
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

/// The vtable for backend type `B`.
pub const fn backend_vtable<B: Backend>() -> abi::BackendVtable {
    abi::BackendVtable {
        size: std::mem::size_of::<abi::BackendVtable>(),
        info: backend_info::<B>,
        open: backend_open::<B>,
        close: backend_close::<B>,
        list_domains: backend_list_domains::<B>,
        subscribe: backend_subscribe::<B>,
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
}
