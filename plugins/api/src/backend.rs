//! The safe side of a backend plugin: what a plugin author implements.

use crate::abi;
use crate::types::{BackendEvent, BackendInfo, DomainInfo, PluginError};

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
