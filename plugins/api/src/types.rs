//! The control-plane data that crosses the plugin boundary as JSON.
//!
//! These types are the schema: a plugin in another language produces the
//! same JSON. Fields are only ever added (with a serde default), so old
//! readers ignore new fields and new readers fill in missing ones.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A guest's run state, as libvirt defines it. The serialized names are the
/// ones `virt-manager list --json` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DomainState {
    Nostate,
    Running,
    Blocked,
    Paused,
    Shutdown,
    Shutoff,
    Crashed,
    Pmsuspended,
}

impl DomainState {
    /// The stable machine-readable name (`list --json`, D-Bus).
    pub fn as_str(self) -> &'static str {
        match self {
            DomainState::Nostate => "nostate",
            DomainState::Running => "running",
            DomainState::Blocked => "blocked",
            DomainState::Paused => "paused",
            DomainState::Shutdown => "shutdown",
            DomainState::Shutoff => "shutoff",
            DomainState::Crashed => "crashed",
            DomainState::Pmsuspended => "pmsuspended",
        }
    }

    /// True while the guest has a running (or suspended) process.
    pub fn is_active(self) -> bool {
        !matches!(
            self,
            DomainState::Shutoff | DomainState::Nostate | DomainState::Crashed
        )
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "nostate" => DomainState::Nostate,
            "running" => DomainState::Running,
            "blocked" => DomainState::Blocked,
            "paused" => DomainState::Paused,
            "shutdown" => DomainState::Shutdown,
            "shutoff" => DomainState::Shutoff,
            "crashed" => DomainState::Crashed,
            "pmsuspended" => DomainState::Pmsuspended,
            _ => return None,
        })
    }
}

impl fmt::Display for DomainState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One guest as a backend lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainInfo {
    /// Canonical UUID string, lowercase with dashes.
    pub uuid: String,
    pub name: String,
    pub state: DomainState,
    pub vcpus: u32,
    /// Current memory allocation in KiB.
    pub memory_kib: u64,
}

/// What a backend tells the host about itself, once, at load time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendInfo {
    /// URI schemes this backend opens, without transport suffix: `qemu`
    /// covers `qemu+ssh://`, `qemu+tls://` and so on.
    pub uri_schemes: Vec<String>,
    /// Human-readable description, e.g. "libvirt 9.0.0".
    #[serde(default)]
    pub description: String,
}

/// Something that happened on a connection, pushed by the backend.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BackendEvent {
    /// A guest appeared (defined or created).
    DomainAdded { domain: DomainInfo },
    /// A guest is gone (undefined, or a transient guest stopped).
    DomainRemoved { uuid: String },
    /// A guest's state (or other listed attribute) changed.
    DomainChanged { domain: DomainInfo },
    /// The guest was reset from inside (Ctrl+Alt+Del, `reboot`): its state
    /// does not change, but its console content does.
    DomainRebooted { uuid: String },
    /// The connection to the hypervisor was lost.
    Disconnected { reason: String },
    /// An event kind this reader does not know (sent by a newer plugin).
    #[serde(other)]
    Unknown,
}

/// Error classes that cross the boundary as integers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ErrorCode {
    /// The operation failed; the message says why.
    Failed = 1,
    /// The backend does not offer this operation.
    NotSupported = 2,
    /// An argument was malformed.
    InvalidArgument = 3,
    /// The named guest, connection or object does not exist.
    NotFound = 4,
    /// Authentication failed or was refused.
    AuthFailed = 5,
    /// The plugin panicked; the message holds the panic payload.
    Panicked = 6,
    /// The connection is closed or broken.
    Disconnected = 7,
}

impl ErrorCode {
    /// Decodes a status; unknown non-zero codes read as `Failed` so that a
    /// newer plugin's new codes still make errors.
    pub fn from_status(status: i32) -> Option<Self> {
        Some(match status {
            0 => return None,
            2 => ErrorCode::NotSupported,
            3 => ErrorCode::InvalidArgument,
            4 => ErrorCode::NotFound,
            5 => ErrorCode::AuthFailed,
            6 => ErrorCode::Panicked,
            7 => ErrorCode::Disconnected,
            _ => ErrorCode::Failed,
        })
    }
}

/// An error as plugins produce it and the host receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginError {
    pub code: ErrorCode,
    pub message: String,
}

impl PluginError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        PluginError {
            code,
            message: message.into(),
        }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Failed, message)
    }

    pub fn not_supported(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotSupported, message)
    }
}

impl fmt::Display for PluginError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PluginError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_event_kinds_are_tolerated() {
        let ev: BackendEvent =
            serde_json::from_str(r#"{"type":"domain_migrated","uuid":"x","extra":1}"#).unwrap();
        assert_eq!(ev, BackendEvent::Unknown);
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let d: DomainInfo = serde_json::from_str(
            r#"{"uuid":"u","name":"n","state":"paused","vcpus":2,"memory_kib":1024,"future":true}"#,
        )
        .unwrap();
        assert_eq!(d.state, DomainState::Paused);
    }

    #[test]
    fn unknown_status_codes_are_failures() {
        assert_eq!(ErrorCode::from_status(0), None);
        assert_eq!(ErrorCode::from_status(99), Some(ErrorCode::Failed));
        assert_eq!(ErrorCode::from_status(4), Some(ErrorCode::NotFound));
    }
}
