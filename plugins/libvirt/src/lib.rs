//! The libvirt backend of Virtual Machine Manager, as a plugin.
//!
//! Built as a `cdylib`, loaded by the application through
//! `virt-manager-plugin-api`; the application itself never links libvirt.
//! The plugin boundary needs no `unsafe` here: the export macro does it.
//! The FFI this crate does write covers what the `virt` crate lacks
//! (events.rs, runtime.rs).

mod connection;
mod convert;
pub mod events;
pub mod runtime;

use virt_manager_plugin_api::{Backend, BackendInfo, PluginError};

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
            ..Default::default()
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
