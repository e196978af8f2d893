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
    /// Every state, in declaration order.
    pub const ALL: [DomainState; 8] = [
        DomainState::Nostate,
        DomainState::Running,
        DomainState::Blocked,
        DomainState::Paused,
        DomainState::Shutdown,
        DomainState::Shutoff,
        DomainState::Crashed,
        DomainState::Pmsuspended,
    ];

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
    /// What the backend can do ([`capability`] names). The UI hides the
    /// rest. Absent (a 1.0 plugin): only listing guests and events.
    #[serde(default)]
    pub capabilities: Vec<String>,
    /// Connection choices for the connect dialog: (label, URI template).
    #[serde(default)]
    pub connect_presets: Vec<ConnectPreset>,
}

impl BackendInfo {
    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }
}

/// A ready-made connection a backend offers in the connect dialog.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectPreset {
    /// Shown to the user, e.g. "QEMU/KVM".
    pub label: String,
    /// The URI, e.g. `qemu:///system`.
    pub uri: String,
    /// Whether the same hypervisor can be reached over SSH by inserting
    /// `+ssh` and `user@host` (`qemu+ssh://user@host/system`).
    #[serde(default)]
    pub remote_ssh: bool,
}

/// Capability names for [`BackendInfo::capabilities`].
pub mod capability {
    /// `domain_stats` and `host_stats`.
    pub const STATISTICS: &str = "statistics";
    /// `domain_action`: start, shut down, reboot, force off, reset, pause, resume.
    pub const LIFECYCLE: &str = "lifecycle";
    /// `domain_action` Save (managed save, restored by Start).
    pub const MANAGED_SAVE: &str = "managed_save";
    /// `domain_action` Delete, and with `delete_storage`.
    pub const DELETE: &str = "delete";
    pub const DELETE_STORAGE: &str = "delete_storage";
    /// `domain_config` and `apply_domain_config`.
    pub const CONFIGURATION: &str = "configuration";
    /// `define_domain`.
    pub const DEFINE: &str = "define";
    /// `open_console`.
    pub const CONSOLE: &str = "console";
    pub const SEND_KEYS: &str = "send_keys";
    pub const SCREENSHOT: &str = "screenshot";
    /// `connection_info` with host CPU and memory.
    pub const HOST_INFO: &str = "host_info";
    pub const NETWORKS: &str = "networks";
    pub const STORAGE: &str = "storage";
}

/// What a connection says about its host (`connection_info`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectionInfo {
    pub hostname: String,
    /// e.g. "QEMU 7.2.0".
    pub hypervisor: String,
    /// e.g. "libvirt 9.0.0".
    pub library: String,
    pub arch: String,
    pub cpus: u32,
    pub cpu_mhz: u32,
    pub cpu_model: String,
    pub memory_kib: u64,
}

/// Which statistics groups to sample (`domain_stats`). Costly groups are
/// asked for only when the user wants them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatsRequest {
    pub cpu: bool,
    pub memory: bool,
    pub disk: bool,
    pub net: bool,
}

/// One guest's counters at one instant. Counters are cumulative; the host
/// derives rates. `None` means not sampled or not available.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DomainStats {
    pub uuid: String,
    pub state: Option<DomainState>,
    /// Total CPU time in nanoseconds.
    pub cpu_time_ns: Option<u64>,
    pub vcpus: Option<u32>,
    /// Current memory allocation (balloon) in KiB.
    pub memory_kib: Option<u64>,
    pub memory_max_kib: Option<u64>,
    /// Memory the guest really uses (RSS, or allocation minus unused).
    pub memory_used_kib: Option<u64>,
    pub disk_read_bytes: Option<u64>,
    pub disk_write_bytes: Option<u64>,
    pub net_rx_bytes: Option<u64>,
    pub net_tx_bytes: Option<u64>,
}

/// The host's counters at one instant (`host_stats`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HostStats {
    /// Cumulative CPU time of all host CPUs, in nanoseconds, by kind.
    pub cpu_user_ns: Option<u64>,
    pub cpu_kernel_ns: Option<u64>,
    pub cpu_idle_ns: Option<u64>,
    pub cpu_iowait_ns: Option<u64>,
    pub cpus: u32,
    pub memory_total_kib: u64,
    /// Free, including reclaimable caches.
    pub memory_free_kib: u64,
}

/// A lifecycle action (`domain_action`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum DomainAction {
    /// Boot, or restore a managed save.
    Start,
    /// ACPI power button.
    Shutdown,
    Reboot,
    /// Pull the plug.
    ForceOff,
    /// Press the reset button.
    Reset,
    Pause,
    Resume,
    /// Managed save: state to disk, restored by Start.
    Save,
    /// Undefine; with `delete_storage`, its disk images too.
    Delete {
        #[serde(default)]
        delete_storage: bool,
    },
}

/// A guest's configuration as the details window shows and edits it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DomainConfig {
    pub uuid: String,
    pub name: String,
    pub title: String,
    pub description: String,
    /// Hypervisor type, e.g. "kvm", "qemu", "test".
    pub hypervisor: String,
    pub os_type: String,
    pub arch: String,
    pub machine: String,
    /// vCPUs the guest boots with.
    pub vcpus: u32,
    /// The most vCPUs it may have (hotplug limit, or the hypervisor's).
    pub max_vcpus: u32,
    /// Memory it boots with (libvirt's `<currentMemory>`), in KiB.
    pub memory_kib: u64,
    /// The most memory [`ConfigChanges::memory_kib`] may set: libvirt's
    /// `<maxMemory>` when the guest has one, else the host's memory.
    pub max_memory_kib: u64,
    pub autostart: bool,
    pub persistent: bool,
    /// Boot devices in order: "hd", "cdrom", "network", "fd".
    pub boot_order: Vec<String>,
    pub devices: Vec<Device>,
    /// The backend's native description (libvirt's domain XML), if any.
    pub native: Option<String>,
}

/// One device of a guest, described for display.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Device {
    /// "disk", "cdrom", "interface", "graphics", "video", "controller",
    /// "input", "sound", "serial", "console", "channel", "hostdev", "rng",
    /// "tpm", "watchdog", "memballoon", or another name.
    pub kind: String,
    /// A short title, e.g. "VirtIO Disk 1" or "NIC :6d:01".
    pub title: String,
    /// Name/value pairs shown in the details page, in order.
    pub properties: Vec<(String, String)>,
}

/// Changes to apply to a guest, all or nothing (`apply_domain_config`).
/// Absent fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConfigChanges {
    pub vcpus: Option<u32>,
    /// Sets both the boot and the maximum allocation (libvirt's `<memory>`
    /// and `<currentMemory>`); above [`DomainConfig::max_memory_kib`] is
    /// refused.
    pub memory_kib: Option<u64>,
    pub boot_order: Option<Vec<String>>,
    pub autostart: Option<bool>,
    pub title: Option<String>,
    pub description: Option<String>,
    /// Switch the graphical console's protocol, e.g. to "vnc".
    pub graphics: Option<String>,
}

/// Which changes took effect at once and which at the next boot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApplyResult {
    /// Field names of [`ConfigChanges`] in effect now.
    pub applied_now: Vec<String>,
    /// Field names that take effect when the guest next boots.
    pub next_boot: Vec<String>,
}

/// How to reach a guest's graphical console (`open_console`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ConsoleEndpoint {
    /// "vnc", "spice", or "none" (the guest has no graphics).
    pub protocol: String,
    /// Set when the backend passed no connected socket.
    pub host: Option<String>,
    pub port: Option<u16>,
    /// The server asks for a password (the host asks the user or its
    /// keyring; plugins never see the user's secrets).
    pub needs_password: bool,
    /// A password the backend knows from the guest's own configuration.
    pub password: Option<String>,
}

/// Keys to press together and release (`send_keys`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeySequence {
    /// Linux input key codes (`KEY_LEFTCTRL` = 29, ...).
    pub linux_keycodes: Vec<u32>,
    /// How long to hold them, in milliseconds (0: the backend's default).
    pub hold_ms: u32,
}

/// A virtual network of the host.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct NetworkInfo {
    pub name: String,
    pub uuid: String,
    pub active: bool,
    pub autostart: bool,
    pub persistent: bool,
    pub bridge: Option<String>,
    /// "nat", "route", "bridge", "isolated", ...
    pub forward_mode: String,
    /// e.g. "192.168.122.1/24".
    pub ipv4: Option<String>,
    /// e.g. "192.168.122.2 – 192.168.122.254".
    pub dhcp_range: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum NetworkAction {
    Start,
    Stop,
    SetAutostart { autostart: bool },
}

/// A storage pool of the host.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct StoragePoolInfo {
    pub name: String,
    pub uuid: String,
    /// "running", "inactive", "building", "degraded", "inaccessible".
    pub state: String,
    pub autostart: bool,
    pub persistent: bool,
    /// "dir", "logical", "netfs", ...
    pub kind: String,
    pub path: Option<String>,
    pub capacity_bytes: u64,
    pub allocation_bytes: u64,
    pub available_bytes: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum StoragePoolAction {
    Start,
    Stop,
    Refresh,
    SetAutostart { autostart: bool },
}

/// Questions a backend needs the user to answer to open a connection
/// (`HostApi::ask_credentials`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CredentialQuestions {
    /// The connection asking.
    pub uri: String,
    pub prompts: Vec<CredentialPrompt>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CredentialPrompt {
    /// "username", "authname", "password", "passphrase", "echo" (shown
    /// while typed), "noecho" (hidden) or "realm".
    pub kind: String,
    /// The backend's own prompt, e.g. "Enter username for host".
    pub prompt: String,
    pub challenge: String,
    /// A suggested answer.
    pub default: String,
}

impl CredentialPrompt {
    /// Whether the answer must not be shown while typed.
    pub fn secret(&self) -> bool {
        matches!(self.kind.as_str(), "password" | "passphrase" | "noecho")
    }
}

/// The encodings a decoder library offers (`DecoderVtable::info`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DecoderLibraryInfo {
    pub encodings: Vec<EncodingInfo>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EncodingInfo {
    /// The RFB encoding number (e.g. 16 for ZRLE).
    pub encoding: i32,
    /// Its usual name (e.g. "ZRLE").
    pub name: String,
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
