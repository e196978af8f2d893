//! Safe wrappers around a loaded backend's vtable.

use std::sync::Arc;

use std::os::fd::{FromRawFd, OwnedFd};

use serde::de::DeserializeOwned;
use virt_manager_plugin_api::abi::{self, BackendVtable, Bytes, ConnectionHandle, Status, Writer};
use virt_manager_plugin_api::*;

use super::ffi::{event_sink, field, read_field, table_size, vec_writer};

/// Runs one plugin call with fresh output and error buffers.
pub(super) fn call(f: impl FnOnce(Writer, Writer) -> Status) -> Result<Vec<u8>, PluginError> {
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
    /// The plugin's table, possibly shorter than this version's struct:
    /// read only through `field!`.
    vtable: *const BackendVtable,
    size: usize,
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

// Safety: the table is an immutable static of the (never unloaded)
// plugin; calls through it follow the ABI's thread rules.
unsafe impl Send for BackendPlugin {}
unsafe impl Sync for BackendPlugin {}

impl BackendPlugin {
    /// Checks the vtable and asks the backend what it is.
    ///
    /// # Safety
    /// `vtable` must point into a library that is never unloaded.
    pub(super) unsafe fn new(name: &str, vtable: *const BackendVtable) -> Result<Self, String> {
        let size = unsafe { table_size(vtable) };
        if size < abi::BACKEND_VTABLE_MIN_SIZE {
            return Err(format!(
                "backend table is {} bytes, smaller than the {} of ABI 1.0",
                size,
                abi::BACKEND_VTABLE_MIN_SIZE
            ));
        }
        let info = field!(vtable, size, BackendVtable, info).expect("checked: a 1.0 table");
        let bytes = call(|out, err| unsafe { info(out, err) })
            .map_err(|e| format!("backend info failed: {e}"))?;
        let info: BackendInfo = serde_json::from_slice(&bytes)
            .map_err(|e| format!("backend info is malformed: {e}"))?;
        Ok(BackendPlugin {
            name: name.to_owned(),
            vtable,
            size,
            info,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn info(&self) -> &BackendInfo {
        &self.info
    }

    /// Every 1.0 entry, present in any table that passed `new`.
    fn v1_0<F: Copy>(&self, offset: usize, f: impl Fn(&BackendVtable) -> &F) -> F {
        unsafe { read_field(self.vtable, self.size, offset, f) }
            .expect("checked in new: a 1.0 table")
    }

    /// Opens a connection. Blocks: call it off the GTK main thread.
    pub fn open(self: &Arc<Self>, uri: &str) -> Result<BackendConnection, PluginError> {
        let mut handle: ConnectionHandle = std::ptr::null_mut();
        call(|_out, err| unsafe {
            let open = self.v1_0(std::mem::offset_of!(BackendVtable, open), |t| &t.open);
            open(abi::Bytes::from_slice(uri.as_bytes()), &mut handle, err)
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
        let list = self
            .plugin
            .v1_0(std::mem::offset_of!(BackendVtable, list_domains), |t| {
                &t.list_domains
            });
        let bytes = call(|out, err| unsafe { list(self.handle, out, err) })?;
        serde_json::from_slice(&bytes).map_err(|e| {
            PluginError::failed(format!(
                "plugin {} sent a malformed guest list: {e}",
                self.plugin.name
            ))
        })
    }

    fn not_supported(&self, what: &str) -> PluginError {
        PluginError::not_supported(format!(
            "plugin {} is too old for {what} (it was built for an earlier plugin interface)",
            self.plugin.name
        ))
    }

    fn parse<T: DeserializeOwned>(&self, bytes: &[u8], what: &str) -> Result<T, PluginError> {
        serde_json::from_slice(bytes).map_err(|e| {
            PluginError::failed(format!(
                "plugin {} sent malformed {what}: {e}",
                self.plugin.name
            ))
        })
    }

    fn to_json<T: serde::Serialize>(value: &T) -> Vec<u8> {
        // Serializing the API's own types cannot fail.
        serde_json::to_vec(value).unwrap_or_default()
    }

    /// Delivers the connection's events to `callback`, from plugin threads.
    pub fn subscribe(
        &self,
        callback: impl Fn(BackendEvent) + Send + Sync + 'static,
    ) -> Result<(), PluginError> {
        let subscribe = self
            .plugin
            .v1_0(std::mem::offset_of!(BackendVtable, subscribe), |t| {
                &t.subscribe
            });
        let sink = event_sink(&self.plugin.name, Box::new(callback));
        call(|_out, err| unsafe { subscribe(self.handle, sink, err) }).map(drop)
    }
}

/// The vtable entry `$field` if the plugin's table is long enough.
macro_rules! entry {
    ($self:ident, $field:ident, $what:literal) => {{
        match field!(
            $self.plugin.vtable,
            $self.plugin.size,
            BackendVtable,
            $field
        ) {
            Some(f) => f,
            None => return Err($self.not_supported($what)),
        }
    }};
}

impl BackendConnection {
    pub fn connection_info(&self) -> Result<ConnectionInfo, PluginError> {
        let f = entry!(self, connection_info, "host information");
        let bytes = call(|out, err| unsafe { f(self.handle, out, err) })?;
        self.parse(&bytes, "host information")
    }

    pub fn domain_stats(&self, request: &StatsRequest) -> Result<Vec<DomainStats>, PluginError> {
        let f = entry!(self, domain_stats, "statistics");
        let req = Self::to_json(request);
        let bytes = call(|out, err| unsafe { f(self.handle, Bytes::from_slice(&req), out, err) })?;
        self.parse(&bytes, "statistics")
    }

    pub fn host_stats(&self) -> Result<HostStats, PluginError> {
        let f = entry!(self, host_stats, "host statistics");
        let bytes = call(|out, err| unsafe { f(self.handle, out, err) })?;
        self.parse(&bytes, "host statistics")
    }

    pub fn domain_action(&self, uuid: &str, action: &DomainAction) -> Result<(), PluginError> {
        let f = entry!(self, domain_action, "guest lifecycle actions");
        let arg = Self::to_json(action);
        call(|_out, err| unsafe {
            f(
                self.handle,
                Bytes::from_slice(uuid.as_bytes()),
                Bytes::from_slice(&arg),
                err,
            )
        })
        .map(drop)
    }

    pub fn domain_config(&self, uuid: &str) -> Result<DomainConfig, PluginError> {
        let f = entry!(self, domain_config, "guest configuration");
        let bytes = call(|out, err| unsafe {
            f(self.handle, Bytes::from_slice(uuid.as_bytes()), out, err)
        })?;
        self.parse(&bytes, "guest configuration")
    }

    pub fn apply_domain_config(
        &self,
        uuid: &str,
        changes: &ConfigChanges,
    ) -> Result<ApplyResult, PluginError> {
        let f = entry!(self, apply_domain_config, "changing guest configuration");
        let arg = Self::to_json(changes);
        let bytes = call(|out, err| unsafe {
            f(
                self.handle,
                Bytes::from_slice(uuid.as_bytes()),
                Bytes::from_slice(&arg),
                out,
                err,
            )
        })?;
        self.parse(&bytes, "configuration result")
    }

    pub fn define_domain(&self, spec: &serde_json::Value) -> Result<DomainInfo, PluginError> {
        let f = entry!(self, define_domain, "defining guests");
        let arg = Self::to_json(spec);
        let bytes = call(|out, err| unsafe { f(self.handle, Bytes::from_slice(&arg), out, err) })?;
        self.parse(&bytes, "guest")
    }

    /// The console endpoint, and the socket the backend connected, if any.
    pub fn open_console(
        &self,
        uuid: &str,
    ) -> Result<(ConsoleEndpoint, Option<OwnedFd>), PluginError> {
        let f = entry!(self, open_console, "consoles");
        let mut fd: std::ffi::c_int = -1;
        let bytes = call(|out, err| unsafe {
            f(
                self.handle,
                Bytes::from_slice(uuid.as_bytes()),
                &mut fd,
                out,
                err,
            )
        });
        // Take ownership first, so the descriptor is closed on any error.
        let socket = (fd >= 0).then(|| unsafe { OwnedFd::from_raw_fd(fd) });
        let endpoint = self.parse(&bytes?, "console endpoint")?;
        Ok((endpoint, socket))
    }

    pub fn send_keys(&self, uuid: &str, keys: &KeySequence) -> Result<(), PluginError> {
        let f = entry!(self, send_keys, "sending keys");
        let arg = Self::to_json(keys);
        call(|_out, err| unsafe {
            f(
                self.handle,
                Bytes::from_slice(uuid.as_bytes()),
                Bytes::from_slice(&arg),
                err,
            )
        })
        .map(drop)
    }

    /// PNG or binary PPM bytes.
    pub fn screenshot(&self, uuid: &str) -> Result<Vec<u8>, PluginError> {
        let f = entry!(self, screenshot, "screenshots");
        call(|out, err| unsafe { f(self.handle, Bytes::from_slice(uuid.as_bytes()), out, err) })
    }

    pub fn list_networks(&self) -> Result<Vec<NetworkInfo>, PluginError> {
        let f = entry!(self, list_networks, "virtual networks");
        let bytes = call(|out, err| unsafe { f(self.handle, out, err) })?;
        self.parse(&bytes, "networks")
    }

    pub fn network_action(&self, name: &str, action: &NetworkAction) -> Result<(), PluginError> {
        let f = entry!(self, network_action, "virtual networks");
        let arg = Self::to_json(action);
        call(|_out, err| unsafe {
            f(
                self.handle,
                Bytes::from_slice(name.as_bytes()),
                Bytes::from_slice(&arg),
                err,
            )
        })
        .map(drop)
    }

    pub fn list_storage_pools(&self) -> Result<Vec<StoragePoolInfo>, PluginError> {
        let f = entry!(self, list_storage_pools, "storage pools");
        let bytes = call(|out, err| unsafe { f(self.handle, out, err) })?;
        self.parse(&bytes, "storage pools")
    }

    pub fn storage_pool_action(
        &self,
        name: &str,
        action: &StoragePoolAction,
    ) -> Result<(), PluginError> {
        let f = entry!(self, storage_pool_action, "storage pools");
        let arg = Self::to_json(action);
        call(|_out, err| unsafe {
            f(
                self.handle,
                Bytes::from_slice(name.as_bytes()),
                Bytes::from_slice(&arg),
                err,
            )
        })
        .map(drop)
    }
}

impl Drop for BackendConnection {
    fn drop(&mut self) {
        let close = self
            .plugin
            .v1_0(std::mem::offset_of!(BackendVtable, close), |t| &t.close);
        unsafe { close(self.handle) }
    }
}
