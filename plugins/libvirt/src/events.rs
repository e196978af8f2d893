//! Safe wrappers for libvirt's domain event and connection-close callbacks.
//!
//! The `virt` crate (0.4.3) wraps neither `virConnectDomainEventRegisterAny`
//! nor `virConnectRegisterCloseCallback`. These are the only `unsafe` FFI
//! calls of the plugin besides the statistics wrapper.
//!
//! Callbacks run on libvirt's event loop thread (see `runtime.rs`), so the
//! handlers must be `Send + Sync` and should only hand the event on: they
//! must not block the loop. A handler's panic is caught here, because
//! unwinding into libvirt's C frames would abort the process.
//!
//! Ownership: each registration boxes an `Arc` of its handler and gives
//! libvirt the raw pointer as `opaque` with a free callback. libvirt calls
//! that free callback once no callback can run any more (possibly after
//! deregistration returns), so the handler lives exactly as long as needed.

use std::ffi::{c_int, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use virt::connect::Connect;
use virt::error::Error;
use virt_sys as sys;

/// A domain event, reduced to what the plugin needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DomainEvent {
    /// `VIR_DOMAIN_EVENT_ID_LIFECYCLE`: started, stopped, defined, ...
    /// `event` is a `virDomainEventType`, `detail` its detail code.
    Lifecycle {
        uuid: String,
        event: i32,
        detail: i32,
    },
    /// `VIR_DOMAIN_EVENT_ID_REBOOT`: the guest reset itself.
    Reboot { uuid: String },
}

/// `virDomainEventType` values used by callers.
pub mod lifecycle {
    pub const DEFINED: i32 = 0;
    pub const UNDEFINED: i32 = 1;
    pub const STARTED: i32 = 2;
    pub const SUSPENDED: i32 = 3;
    pub const RESUMED: i32 = 4;
    pub const STOPPED: i32 = 5;
    pub const SHUTDOWN: i32 = 6;
    pub const PMSUSPENDED: i32 = 7;
    pub const CRASHED: i32 = 8;
}

type Handler = dyn Fn(DomainEvent) + Send + Sync + 'static;

/// The lifecycle and reboot callbacks of one connection. Dropping it
/// deregisters both.
pub struct DomainEventRegistration {
    conn: Connect,
    callback_ids: Vec<c_int>,
}

impl DomainEventRegistration {
    /// Registers `handler` for lifecycle and reboot events of every guest
    /// on `conn`. Needs libvirt's event loop (see `runtime::init`).
    pub fn register(
        conn: &Connect,
        handler: impl Fn(DomainEvent) + Send + Sync + 'static,
    ) -> Result<Self, Error> {
        let handler: Arc<Handler> = Arc::new(handler);
        // Hold our own reference so the pointer outlives the caller's.
        let conn = conn.clone();
        let mut reg = DomainEventRegistration {
            conn,
            callback_ids: Vec::new(),
        };

        let lifecycle: unsafe extern "C" fn(
            sys::virConnectPtr,
            sys::virDomainPtr,
            c_int,
            c_int,
            *mut c_void,
        ) -> c_int = lifecycle_callback;
        let reboot: unsafe extern "C" fn(sys::virConnectPtr, sys::virDomainPtr, *mut c_void) =
            reboot_callback;

        // Safety: libvirt calls back with the signature matching the event
        // id; the generic type is only the declared parameter type.
        let callbacks: [(c_int, sys::virConnectDomainEventGenericCallback); 2] = unsafe {
            [
                (
                    sys::VIR_DOMAIN_EVENT_ID_LIFECYCLE as c_int,
                    Some(std::mem::transmute::<
                        unsafe extern "C" fn(
                            sys::virConnectPtr,
                            sys::virDomainPtr,
                            c_int,
                            c_int,
                            *mut c_void,
                        ) -> c_int,
                        unsafe extern "C" fn(sys::virConnectPtr, sys::virDomainPtr, *mut c_void),
                    >(lifecycle)),
                ),
                (sys::VIR_DOMAIN_EVENT_ID_REBOOT as c_int, Some(reboot)),
            ]
        };

        for (event_id, callback) in callbacks {
            let opaque = Box::into_raw(Box::new(handler.clone())) as *mut c_void;
            let id = unsafe {
                sys::virConnectDomainEventRegisterAny(
                    reg.conn.as_ptr(),
                    std::ptr::null_mut(),
                    event_id,
                    callback,
                    opaque,
                    Some(free_handler),
                )
            };
            if id < 0 {
                // libvirt did not take ownership of `opaque` on failure.
                unsafe { free_handler(opaque) };
                // `reg` drops here and removes what was registered.
                return Err(Error::last_error());
            }
            reg.callback_ids.push(id);
        }
        Ok(reg)
    }
}

impl Drop for DomainEventRegistration {
    fn drop(&mut self) {
        for id in self.callback_ids.drain(..) {
            let rc = unsafe { sys::virConnectDomainEventDeregisterAny(self.conn.as_ptr(), id) };
            if rc < 0 {
                log::debug!(
                    "deregistering domain event {id}: {}",
                    Error::last_error().message()
                );
            }
        }
        let _ = self.conn.close();
    }
}

unsafe extern "C" fn free_handler(opaque: *mut c_void) {
    if !opaque.is_null() {
        drop(unsafe { Box::from_raw(opaque as *mut Arc<Handler>) });
    }
}

/// The UUID of a domain handle. Local: no RPC.
fn domain_uuid(dom: sys::virDomainPtr) -> Option<String> {
    let mut buf = [0 as std::ffi::c_char; sys::VIR_UUID_STRING_BUFLEN as usize];
    let rc = unsafe { sys::virDomainGetUUIDString(dom, buf.as_mut_ptr()) };
    if rc < 0 {
        return None;
    }
    let s = unsafe { CStr::from_ptr(buf.as_ptr()) };
    Some(s.to_string_lossy().into_owned())
}

fn dispatch(opaque: *mut c_void, event: DomainEvent) {
    // Safety: `opaque` is the boxed Arc we registered; libvirt keeps it
    // alive until `free_handler`.
    let handler = unsafe { &*(opaque as *const Arc<Handler>) };
    if catch_unwind(AssertUnwindSafe(|| handler(event))).is_err() {
        log::error!("domain event handler panicked");
    }
}

unsafe extern "C" fn lifecycle_callback(
    _conn: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    event: c_int,
    detail: c_int,
    opaque: *mut c_void,
) -> c_int {
    if let Some(uuid) = domain_uuid(dom) {
        dispatch(
            opaque,
            DomainEvent::Lifecycle {
                uuid,
                event,
                detail,
            },
        );
    }
    0
}

unsafe extern "C" fn reboot_callback(
    _conn: sys::virConnectPtr,
    dom: sys::virDomainPtr,
    opaque: *mut c_void,
) {
    if let Some(uuid) = domain_uuid(dom) {
        dispatch(opaque, DomainEvent::Reboot { uuid });
    }
}

/// Why libvirt closed a connection (`virConnectCloseReason`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloseReason {
    Error,
    Eof,
    Keepalive,
    Client,
    Other(i32),
}

impl CloseReason {
    fn from_raw(reason: c_int) -> Self {
        match reason as u32 {
            sys::VIR_CONNECT_CLOSE_REASON_ERROR => CloseReason::Error,
            sys::VIR_CONNECT_CLOSE_REASON_EOF => CloseReason::Eof,
            sys::VIR_CONNECT_CLOSE_REASON_KEEPALIVE => CloseReason::Keepalive,
            sys::VIR_CONNECT_CLOSE_REASON_CLIENT => CloseReason::Client,
            _ => CloseReason::Other(reason),
        }
    }

    /// A sentence for the user.
    pub fn describe(self) -> String {
        match self {
            CloseReason::Error => "the connection failed with an error".into(),
            CloseReason::Eof => "the hypervisor closed the connection".into(),
            CloseReason::Keepalive => "the hypervisor stopped answering (keepalive timeout)".into(),
            CloseReason::Client => "the connection was closed".into(),
            CloseReason::Other(n) => format!("the connection closed (reason {n})"),
        }
    }
}

type CloseHandler = dyn Fn(CloseReason) + Send + Sync + 'static;

/// The close callback of one connection; dropping it unregisters it.
pub struct CloseRegistration {
    conn: Connect,
}

impl CloseRegistration {
    pub fn register(
        conn: &Connect,
        handler: impl Fn(CloseReason) + Send + Sync + 'static,
    ) -> Result<Self, Error> {
        let handler: Box<Arc<CloseHandler>> = Box::new(Arc::new(handler));
        let opaque = Box::into_raw(handler) as *mut c_void;
        let rc = unsafe {
            sys::virConnectRegisterCloseCallback(
                conn.as_ptr(),
                Some(close_callback),
                opaque,
                Some(free_close_handler),
            )
        };
        if rc < 0 {
            unsafe { free_close_handler(opaque) };
            return Err(Error::last_error());
        }
        Ok(CloseRegistration { conn: conn.clone() })
    }
}

impl Drop for CloseRegistration {
    fn drop(&mut self) {
        let rc = unsafe {
            sys::virConnectUnregisterCloseCallback(self.conn.as_ptr(), Some(close_callback))
        };
        if rc < 0 {
            log::debug!(
                "unregistering close callback: {}",
                Error::last_error().message()
            );
        }
        let _ = self.conn.close();
    }
}

unsafe extern "C" fn close_callback(_conn: sys::virConnectPtr, reason: c_int, opaque: *mut c_void) {
    let handler = unsafe { &*(opaque as *const Arc<CloseHandler>) };
    let reason = CloseReason::from_raw(reason);
    if catch_unwind(AssertUnwindSafe(|| handler(reason))).is_err() {
        log::error!("connection close handler panicked");
    }
}

unsafe extern "C" fn free_close_handler(opaque: *mut c_void) {
    if !opaque.is_null() {
        drop(unsafe { Box::from_raw(opaque as *mut Arc<CloseHandler>) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    fn test_conn() -> Connect {
        crate::runtime::init();
        // A file URI gives each connection a private driver instance, so
        // tests running in parallel do not see each other's changes.
        let uri = concat!(
            "test://",
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/few.xml"
        );
        Connect::open(Some(uri)).expect("test driver")
    }

    #[test]
    fn lifecycle_events_arrive_and_stop_after_drop() {
        let mut conn = test_conn();
        let (tx, rx) = mpsc::channel();
        let tx = std::sync::Mutex::new(tx);
        let reg = DomainEventRegistration::register(&conn, move |ev| {
            let _ = tx.lock().unwrap().send(ev);
        })
        .unwrap();

        let dom = virt::domain::Domain::lookup_by_name(&conn, "alpha").unwrap();
        let uuid = dom.get_uuid_string().unwrap();
        dom.suspend().unwrap();
        let ev = rx
            .recv_timeout(Duration::from_secs(5))
            .expect("suspend event");
        assert_eq!(
            ev,
            DomainEvent::Lifecycle {
                uuid: uuid.clone(),
                event: lifecycle::SUSPENDED,
                detail: 0
            }
        );

        drop(reg);
        dom.resume().unwrap();
        assert!(
            rx.recv_timeout(Duration::from_millis(500)).is_err(),
            "no events after drop"
        );
        drop(dom);
        conn.close().unwrap();
    }

    #[test]
    fn both_event_ids_register() {
        // The test driver never emits reboot events (it reboots through a
        // lifecycle round trip); tests/live_libvirt.rs sees a real one
        // from QEMU.
        let mut conn = test_conn();
        let reg = DomainEventRegistration::register(&conn, |_| {}).unwrap();
        assert_eq!(reg.callback_ids.len(), 2);
        drop(reg);
        conn.close().unwrap();
    }

    #[test]
    fn close_callback_registers_and_unregisters() {
        let mut conn = test_conn();
        let reg = CloseRegistration::register(&conn, |_| {});
        // The test driver is local and may not support close callbacks;
        // either outcome must be clean.
        drop(reg);
        conn.close().unwrap();
    }
}
