//! Process-wide libvirt set-up, done once before the first connection.
//!
//! - An error callback, so that libvirt does not print every error to
//!   stderr behind the message we report ourselves; errors go to the log
//!   at debug level instead.
//! - libvirt's default event loop, run on a thread of its own: domain
//!   events, close callbacks and keepalive all need it. It must be
//!   registered before any connection is opened.
//! - libxml2's generic error handler silenced: libvirt parses XML (the test
//!   driver's host files, say) with libxml2, which prints I/O warnings to
//!   stderr itself, beside libvirt's own error that we do report.

use std::ffi::{c_void, CStr};
use std::sync::Once;

use virt_sys as sys;

static INIT: Once = Once::new();

/// Initialises libvirt for this process. Idempotent and thread-safe.
pub fn init() {
    quiet_libxml2_on_this_thread();
    INIT.call_once(|| {
        quiet_libxml2_for_new_threads();
        unsafe {
            sys::virInitialize();
            sys::virSetErrorFunc(std::ptr::null_mut(), Some(log_error));
        }
        if let Err(e) = virt::event::event_register_default_impl() {
            log::warn!(
                "libvirt event loop unavailable, guests will be polled: {}",
                e.message()
            );
            return;
        }
        let spawned = std::thread::Builder::new()
            .name("libvirt-events".into())
            .spawn(|| loop {
                if let Err(e) = virt::event::event_run_default_impl() {
                    log::error!("libvirt event loop: {}", e.message());
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
            });
        if let Err(e) = spawned {
            log::error!("cannot start the libvirt event thread: {e}");
        }
    });
}

unsafe extern "C" fn log_error(_data: *mut c_void, error: sys::virErrorPtr) {
    if error.is_null() {
        return;
    }
    let message = unsafe { (*error).message };
    if !message.is_null() {
        let text = unsafe { CStr::from_ptr(message) }.to_string_lossy();
        log::debug!("libvirt: {text}");
    }
}

/// libxml2's `xmlGenericErrorFunc` is variadic (`ctx, msg, ...`). Stable
/// Rust cannot define variadic functions; a function that takes the two
/// fixed arguments and never reads the rest is call-compatible on the
/// C ABIs of every platform libvirt runs on (the caller cleans up).
type XmlGenericErrorFunc = unsafe extern "C" fn(ctx: *mut c_void, msg: *const std::ffi::c_char);
type SetErrorFunc = unsafe extern "C" fn(ctx: *mut c_void, handler: Option<XmlGenericErrorFunc>);

unsafe extern "C" fn ignore_xml_error(_ctx: *mut c_void, _msg: *const std::ffi::c_char) {}

/// Looks a libxml2 function up in the copy libvirt already loaded; we do
/// not link libxml2 ourselves.
fn libxml2_fn(name: &CStr) -> Option<SetErrorFunc> {
    unsafe {
        let handle = libc::dlopen(c"libxml2.so.2".as_ptr(), libc::RTLD_NOW | libc::RTLD_NOLOAD);
        if handle.is_null() {
            return None;
        }
        let sym = libc::dlsym(handle, name.as_ptr());
        libc::dlclose(handle);
        (!sym.is_null()).then(|| std::mem::transmute::<*mut c_void, SetErrorFunc>(sym))
    }
}

/// libxml2's handler is per thread: set it on the calling thread (every
/// backend call that may parse XML starts here).
pub fn quiet_libxml2_on_this_thread() {
    thread_local!(static DONE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    if DONE.with(|d| d.replace(true)) {
        return;
    }
    if let Some(set) = libxml2_fn(c"xmlSetGenericErrorFunc") {
        unsafe { set(std::ptr::null_mut(), Some(ignore_xml_error)) };
    }
}

fn quiet_libxml2_for_new_threads() {
    if let Some(set) = libxml2_fn(c"xmlThrDefSetGenericErrorFunc") {
        unsafe { set(std::ptr::null_mut(), Some(ignore_xml_error)) };
    }
}
