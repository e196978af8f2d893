//! The libvirt backend of Virtual Machine Manager, as a plugin.
//!
//! Built as a `cdylib`, loaded by the application through
//! `virt-manager-plugin-api`; the application itself never links libvirt.
//! The plugin boundary needs no `unsafe` here: the export macro does it.
//! The FFI this crate does write covers what the `virt` crate lacks
//! (ffi/, events.rs, runtime.rs).
//!
//! Every libvirt call blocks: the host makes these calls on its worker
//! threads, never from libvirt's event callbacks. One module per area:
//! stats.rs (bulk statistics), host.rs, lifecycle.rs, config.rs (with
//! config/ for reading and editing XML), console.rs, networks.rs,
//! storage.rs; connection.rs delegates to them.

mod auth;
mod config;
mod connection;
mod console;
mod convert;
pub mod events;
mod ffi;
mod host;
mod lifecycle;
mod networks;
pub mod runtime;
mod stats;
mod storage;

use virt_manager_plugin_api::{capability, Backend, BackendInfo, ConnectPreset, PluginError};

pub use connection::LibvirtConnection;

/// libvirt's hypervisor drivers; transports (`+ssh`, `+tls`, ...) are
/// matched by the host on the part before `+`.
const URI_SCHEMES: &[&str] = &[
    "qemu",
    "test",
    "xen",
    "lxc",
    "ch",
    "bhyve",
    "vz",
    "vbox",
    "esx",
    "gsx",
    "vpx",
    "hyperv",
    "openvz",
    "vmwareplayer",
    "vmwarews",
    "vmwarefusion",
];

/// Everything ABI 1.1 offers. Some drivers lack some calls (the test
/// driver has no graphics socket, Xen no managed save): those calls
/// return libvirt's "not supported" error, which the host shows.
const CAPABILITIES: &[&str] = &[
    capability::STATISTICS,
    capability::LIFECYCLE,
    capability::MANAGED_SAVE,
    capability::DELETE,
    capability::DELETE_STORAGE,
    capability::CONFIGURATION,
    capability::DEFINE,
    capability::CONSOLE,
    capability::SEND_KEYS,
    capability::SCREENSHOT,
    capability::HOST_INFO,
    capability::NETWORKS,
    capability::STORAGE,
];

/// The connect dialog's choices: (label, URI, reachable over SSH).
const PRESETS: &[(&str, &str, bool)] = &[
    ("QEMU/KVM", "qemu:///system", true),
    ("QEMU/KVM user session", "qemu:///session", false),
    ("Xen", "xen:///system", true),
    ("Linux containers (LXC)", "lxc:///system", false),
    ("libvirt test driver", "test:///default", false),
];

pub struct LibvirtBackend;

impl Backend for LibvirtBackend {
    type Connection = LibvirtConnection;

    fn info() -> BackendInfo {
        let version = virt::connect::Connect::get_version()
            .map(|v| {
                format!(
                    "libvirt {}.{}.{}",
                    v / 1_000_000,
                    (v / 1000) % 1000,
                    v % 1000
                )
            })
            .unwrap_or_else(|_| "libvirt".to_owned());
        BackendInfo {
            uri_schemes: URI_SCHEMES.iter().map(|s| (*s).to_owned()).collect(),
            description: version,
            capabilities: CAPABILITIES.iter().map(|s| (*s).to_owned()).collect(),
            connect_presets: PRESETS
                .iter()
                .map(|(label, uri, remote_ssh)| ConnectPreset {
                    label: (*label).to_owned(),
                    uri: (*uri).to_owned(),
                    remote_ssh: *remote_ssh,
                })
                .collect(),
        }
    }

    fn open(uri: &str) -> Result<LibvirtConnection, PluginError> {
        LibvirtConnection::open(uri)
    }
}

virt_manager_plugin_api::export_plugin! {
    name: "libvirt",
    version: env!("CARGO_PKG_VERSION"),
    backend: LibvirtBackend,
}
