//! Safe wrappers around a loaded backend's vtable.

use std::sync::Arc;

use virt_manager_plugin_api::abi::{self, BackendVtable, ConnectionHandle, Status, Writer};
use virt_manager_plugin_api::{BackendEvent, BackendInfo, DomainInfo, ErrorCode, PluginError};

use super::ffi::{event_sink, vec_writer};

/// Runs one plugin call with fresh output and error buffers.
fn call(f: impl FnOnce(Writer, Writer) -> Status) -> Result<Vec<u8>, PluginError> {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let status = f(vec_writer(&mut out), vec_writer(&mut err));
    match ErrorCode::from_status(status) {
        None => Ok(out),
        Some(code) => {
            let mut message = String::from_utf8_lossy(&err).into_owned();
            if message.is_empty() {
                message = format!("the plugin reported an error ({code:?}) without a message");
            }
            Err(PluginError::new(code, message))
        }
    }
}

/// A backend plugin, checked and ready.
pub struct BackendPlugin {
    name: String,
    vtable: &'static BackendVtable,
    info: BackendInfo,
}

impl std::fmt::Debug for BackendPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendPlugin")
            .field("name", &self.name)
            .field("info", &self.info)
            .finish()
    }
}

impl BackendPlugin {
    /// Checks the vtable and asks the backend what it is.
    ///
    /// # Safety
    /// `vtable` must point into a library that is never unloaded.
    pub(super) unsafe fn new(name: &str, vtable: *const BackendVtable) -> Result<Self, String> {
        let vtable = unsafe { &*vtable };
        if vtable.size < abi::BACKEND_VTABLE_MIN_SIZE {
            return Err(format!(
                "backend table is {} bytes, smaller than the {} of ABI 1.0",
                vtable.size,
                abi::BACKEND_VTABLE_MIN_SIZE
            ));
        }
        let bytes = call(|out, err| unsafe { (vtable.info)(out, err) })
            .map_err(|e| format!("backend info failed: {e}"))?;
        let info: BackendInfo = serde_json::from_slice(&bytes)
            .map_err(|e| format!("backend info is malformed: {e}"))?;
        Ok(BackendPlugin {
            name: name.to_owned(),
            vtable,
            info,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn info(&self) -> &BackendInfo {
        &self.info
    }

    /// Opens a connection. Blocks: call it off the GTK main thread.
    pub fn open(self: &Arc<Self>, uri: &str) -> Result<BackendConnection, PluginError> {
        let mut handle: ConnectionHandle = std::ptr::null_mut();
        call(|_out, err| unsafe {
            (self.vtable.open)(abi::Bytes::from_slice(uri.as_bytes()), &mut handle, err)
        })?;
        if handle.is_null() {
            return Err(PluginError::failed(format!(
                "plugin {} opened {uri} but returned no connection",
                self.name
            )));
        }
        Ok(BackendConnection {
            plugin: self.clone(),
            handle,
        })
    }
}

/// One open connection; closes when dropped.
pub struct BackendConnection {
    plugin: Arc<BackendPlugin>,
    handle: ConnectionHandle,
}

// Safety: the ABI requires backends to accept calls on a connection from
// any thread, concurrently (docs/plugins.md, "Threads").
unsafe impl Send for BackendConnection {}
unsafe impl Sync for BackendConnection {}

impl BackendConnection {
    pub fn plugin(&self) -> &Arc<BackendPlugin> {
        &self.plugin
    }

    pub fn list_domains(&self) -> Result<Vec<DomainInfo>, PluginError> {
        let vt = self.plugin.vtable;
        let bytes = call(|out, err| unsafe { (vt.list_domains)(self.handle, out, err) })?;
        serde_json::from_slice(&bytes).map_err(|e| {
            PluginError::failed(format!(
                "plugin {} sent a malformed guest list: {e}",
                self.plugin.name
            ))
        })
    }

    /// Delivers the connection's events to `callback`, from plugin threads.
    pub fn subscribe(
        &self,
        callback: impl Fn(BackendEvent) + Send + Sync + 'static,
    ) -> Result<(), PluginError> {
        let vt = self.plugin.vtable;
        let sink = event_sink(&self.plugin.name, Box::new(callback));
        call(|_out, err| unsafe { (vt.subscribe)(self.handle, sink, err) }).map(drop)
    }
}

impl Drop for BackendConnection {
    fn drop(&mut self) {
        unsafe { (self.plugin.vtable.close)(self.handle) }
    }
}
