//! The safe side of a backend plugin: what a plugin author implements.

use std::os::fd::OwnedFd;

use crate::abi;
use crate::types::*;

/// A hypervisor backend. One type per plugin library; it has no instance:
/// per-connection state lives in [`Backend::Connection`], global state (an
/// event loop, say) in the plugin's own statics.
pub trait Backend: 'static {
    type Connection: BackendConnection;

    /// What this backend offers; called once at load time.
    fn info() -> BackendInfo;

    /// Opens a connection. Called on a host worker thread; may block.
    fn open(uri: &str) -> Result<Self::Connection, PluginError>;
}

/// One open connection. Dropping it closes it.
///
/// The host may call these from any of its threads, concurrently.
pub trait BackendConnection: Send + Sync + 'static {
    /// Every guest on the connection.
    fn list_domains(&self) -> Result<Vec<DomainInfo>, PluginError>;

    /// Starts sending events to `sink`, replacing any earlier sink. The
    /// connection must drop every sink it holds before its own drop returns.
    fn subscribe(&self, sink: EventSink) -> Result<(), PluginError>;

    // ---- ABI 1.1: each defaults to "not supported"; declare what you
    // implement in `BackendInfo::capabilities`.

    fn connection_info(&self) -> Result<ConnectionInfo, PluginError> {
        Err(not_supported("host information"))
    }

    /// Every guest's statistics in one call (never one call per guest).
    fn domain_stats(&self, _request: &StatsRequest) -> Result<Vec<DomainStats>, PluginError> {
        Err(not_supported("statistics"))
    }

    fn host_stats(&self) -> Result<HostStats, PluginError> {
        Err(not_supported("host statistics"))
    }

    fn domain_action(&self, _uuid: &str, _action: &DomainAction) -> Result<(), PluginError> {
        Err(not_supported("guest lifecycle actions"))
    }

    fn domain_config(&self, _uuid: &str) -> Result<DomainConfig, PluginError> {
        Err(not_supported("guest configuration"))
    }

    fn apply_domain_config(
        &self,
        _uuid: &str,
        _changes: &ConfigChanges,
    ) -> Result<ApplyResult, PluginError> {
        Err(not_supported("changing guest configuration"))
    }

    /// Defines a guest from a backend-specific JSON spec.
    fn define_domain(&self, _spec: &serde_json::Value) -> Result<DomainInfo, PluginError> {
        Err(not_supported("defining guests"))
    }

    /// The console endpoint, and a connected socket if the backend made one.
    fn open_console(&self, _uuid: &str) -> Result<(ConsoleEndpoint, Option<OwnedFd>), PluginError> {
        Err(not_supported("consoles"))
    }

    fn send_keys(&self, _uuid: &str, _keys: &KeySequence) -> Result<(), PluginError> {
        Err(not_supported("sending keys"))
    }

    /// PNG or binary PPM bytes of the guest's screen.
    fn screenshot(&self, _uuid: &str) -> Result<Vec<u8>, PluginError> {
        Err(not_supported("screenshots"))
    }

    fn list_networks(&self) -> Result<Vec<NetworkInfo>, PluginError> {
        Err(not_supported("virtual networks"))
    }

    fn network_action(&self, _name: &str, _action: &NetworkAction) -> Result<(), PluginError> {
        Err(not_supported("virtual networks"))
    }

    fn list_storage_pools(&self) -> Result<Vec<StoragePoolInfo>, PluginError> {
        Err(not_supported("storage pools"))
    }

    fn storage_pool_action(
        &self,
        _name: &str,
        _action: &StoragePoolAction,
    ) -> Result<(), PluginError> {
        Err(not_supported("storage pools"))
    }
}

fn not_supported(what: &str) -> PluginError {
    PluginError::not_supported(format!("this backend does not support {what}"))
}

/// The host's thread-safe event callback, as the plugin holds it.
/// Dropping it tells the host that no more events will come.
pub struct EventSink {
    raw: abi::EventSink,
}

// Safety: the ABI requires the host's `emit` to be thread-safe, and
// `release` is called once, from drop.
unsafe impl Send for EventSink {}
unsafe impl Sync for EventSink {}

impl EventSink {
    /// # Safety
    /// `raw` must come from the host through `subscribe`.
    pub unsafe fn from_raw(raw: abi::EventSink) -> Self {
        EventSink { raw }
    }

    /// Sends one event to the host.
    pub fn emit(&self, event: &BackendEvent) {
        // Serializing our own types cannot fail.
        let json = serde_json::to_vec(event).unwrap_or_default();
        unsafe { (self.raw.emit)(self.raw.ctx, abi::Bytes::from_slice(&json)) }
    }
}

impl Drop for EventSink {
    fn drop(&mut self) {
        unsafe { (self.raw.release)(self.raw.ctx) }
    }
}

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventSink").finish_non_exhaustive()
    }
}
