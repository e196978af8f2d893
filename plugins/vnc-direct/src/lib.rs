//! vnc-direct: plain VNC servers as guests, with no hypervisor behind
//! them. A backend plugin for Virtual Machine Manager, and the proof that
//! the plugin interface serves more than libvirt.
//!
//! The user's servers (name, host, port) live in a JSON list under
//! `$XDG_CONFIG_HOME/virt-manager/`; `define_domain` with
//! `{"name", "host", "port"}` adds one and `DomainAction::Delete` removes
//! it. A server is "running" while its port greets a connection with an
//! RFB version, "shut off" otherwise; once the host subscribes, servers are
//! re-probed in the background and changes arrive as events. Its console
//! is the server itself. Passwords never reach this plugin: the host keeps
//! them in the keyring and asks the user.

mod connection;
pub mod probe;
pub mod store;
pub mod uri;

use virt_manager_plugin_api::{capability, Backend, BackendInfo, ConnectPreset, PluginError};

pub use connection::Connection;

pub struct VncDirect;

impl Backend for VncDirect {
    type Connection = Connection;

    fn info() -> BackendInfo {
        BackendInfo {
            uri_schemes: vec![uri::SCHEME.into()],
            description: "Plain VNC servers, without a hypervisor".into(),
            capabilities: [capability::CONSOLE, capability::DEFINE, capability::DELETE]
                .map(String::from)
                .to_vec(),
            connect_presets: vec![ConnectPreset {
                label: "VNC servers".into(),
                uri: format!("{}:///", uri::SCHEME),
                remote_ssh: false,
            }],
        }
    }

    fn open(uri: &str) -> Result<Connection, PluginError> {
        let target = uri::parse(uri).map_err(|m| {
            PluginError::new(virt_manager_plugin_api::ErrorCode::InvalidArgument, m)
        })?;
        Connection::open(store::Store::new(target.path), target.interval)
    }
}

virt_manager_plugin_api::export_plugin! {
    name: "vnc-direct",
    version: env!("CARGO_PKG_VERSION"),
    backend: VncDirect,
}
