//! `org.virt_manager.VirtManager1` at `/org/virt_manager/VirtManager1`.
//!
//! Arguments are checked here (types, keys, key names) so that a wrong
//! call gets `InvalidArgs` and never reaches a backend. Guests are named
//! by UUID or name (UUID first, as virsh does).

use std::collections::HashMap;

use virt_manager_plugin_api::{
    ConfigChanges, DomainAction, NetworkAction, NetworkInfo, StoragePoolInfo,
};
use zbus::object_server::SignalEmitter;
use zbus::zvariant::{OwnedValue, Value};

use super::{call, DbusError};
use crate::api::{ApiRequest, ApiResponse, ApiSignal, DomainSummary};
use crate::engine::EngineMsg;

pub struct Service {
    engine: relm4::Sender<EngineMsg>,
}

impl Service {
    pub fn new(engine: relm4::Sender<EngineMsg>) -> Self {
        Service { engine }
    }

    async fn done(&self, request: ApiRequest) -> Result<(), DbusError> {
        call(&self.engine, request).await.map(drop)
    }

    async fn lifecycle(
        &self,
        uri: String,
        guest: String,
        action: DomainAction,
    ) -> Result<(), DbusError> {
        self.done(ApiRequest::Lifecycle { uri, guest, action })
            .await
    }
}

type Dict = HashMap<String, OwnedValue>;

fn ov<'a>(v: impl Into<Value<'a>>) -> OwnedValue {
    // Values built from plain types hold no file descriptors: cannot fail.
    OwnedValue::try_from(v.into()).expect("a plain value")
}

/// One guest as `ListDomains` returns it: an `a{sv}` serialized straight
/// from the fields. Building a map of variants per guest cost about 4 µs a
/// guest, most of a 1500-guest reply's time.
#[derive(zbus::zvariant::SerializeDict, zbus::zvariant::Type)]
#[zvariant(signature = "a{sv}", crate = "zbus::zvariant")]
struct DomainEntry {
    name: String,
    uuid: String,
    state: String,
    vcpus: u32,
    memory_kib: u64,
    cpu_percent: f64,
    memory_used_kib: u64,
}

impl From<DomainSummary> for DomainEntry {
    fn from(d: DomainSummary) -> Self {
        DomainEntry {
            name: d.name,
            uuid: d.uuid,
            state: d.state,
            vcpus: d.vcpus,
            memory_kib: d.memory_kib,
            cpu_percent: d.cpu_percent,
            memory_used_kib: d.memory_used_kib,
        }
    }
}

fn network_dict(n: &NetworkInfo) -> Dict {
    HashMap::from([
        ("name".to_owned(), ov(n.name.as_str())),
        ("uuid".to_owned(), ov(n.uuid.as_str())),
        ("active".to_owned(), ov(n.active)),
        ("autostart".to_owned(), ov(n.autostart)),
        ("persistent".to_owned(), ov(n.persistent)),
        (
            "bridge".to_owned(),
            ov(n.bridge.clone().unwrap_or_default()),
        ),
        ("forward_mode".to_owned(), ov(n.forward_mode.as_str())),
        ("ipv4".to_owned(), ov(n.ipv4.clone().unwrap_or_default())),
        (
            "dhcp_range".to_owned(),
            ov(n.dhcp_range.clone().unwrap_or_default()),
        ),
    ])
}

fn pool_dict(p: &StoragePoolInfo) -> Dict {
    HashMap::from([
        ("name".to_owned(), ov(p.name.as_str())),
        ("uuid".to_owned(), ov(p.uuid.as_str())),
        ("state".to_owned(), ov(p.state.as_str())),
        ("autostart".to_owned(), ov(p.autostart)),
        ("persistent".to_owned(), ov(p.persistent)),
        ("type".to_owned(), ov(p.kind.as_str())),
        ("path".to_owned(), ov(p.path.clone().unwrap_or_default())),
        ("capacity".to_owned(), ov(p.capacity_bytes)),
        ("allocation".to_owned(), ov(p.allocation_bytes)),
        ("available".to_owned(), ov(p.available_bytes)),
    ])
}

fn invalid(msg: impl Into<String>) -> DbusError {
    DbusError::InvalidArgs(msg.into())
}

/// The `changes` of SetDomainConfig, checked key by key.
pub fn parse_changes(changes: &Dict) -> Result<ConfigChanges, DbusError> {
    let mut out = ConfigChanges::default();
    if changes.is_empty() {
        return Err(invalid("no changes given"));
    }
    for (key, value) in changes {
        let v: &Value = value;
        let wrong = |t: &str| {
            invalid(format!(
                "{key} must be of type {t}, not {}",
                v.value_signature()
            ))
        };
        match key.as_str() {
            "vcpus" => {
                let n = u32::try_from(v).map_err(|_| wrong("u"))?;
                if n == 0 {
                    return Err(invalid("vcpus must be at least 1"));
                }
                out.vcpus = Some(n);
            }
            "memory_kib" => {
                let n = u64::try_from(v).map_err(|_| wrong("t"))?;
                if n < 1024 {
                    return Err(invalid("memory_kib must be at least 1024"));
                }
                out.memory_kib = Some(n);
            }
            "boot_order" => {
                let list = <Vec<String>>::try_from(v.try_clone().map_err(|_| wrong("as"))?).map_err(|_| wrong("as"))?;
                for dev in &list {
                    if !["hd", "cdrom", "network", "fd"].contains(&dev.as_str()) {
                        return Err(invalid(format!("unknown boot device {dev:?} (hd, cdrom, network, fd)")));
                    }
                }
                out.boot_order = Some(list);
            }
            "autostart" => out.autostart = Some(bool::try_from(v).map_err(|_| wrong("b"))?),
            "title" => out.title = Some(<&str>::try_from(v).map_err(|_| wrong("s"))?.to_owned()),
            "description" => out.description = Some(<&str>::try_from(v).map_err(|_| wrong("s"))?.to_owned()),
            other => {
                return Err(invalid(format!(
                    "unknown key {other:?} (vcpus, memory_kib, boot_order, autostart, title, description)"
                )))
            }
        }
    }
    Ok(out)
}

#[zbus::interface(name = "org.virt_manager.VirtManager1")]
impl Service {
    /// Every connection: (URI, state).
    async fn list_connections(&self) -> Result<Vec<(String, String)>, DbusError> {
        match call(&self.engine, ApiRequest::ListConnections).await? {
            ApiResponse::Connections(list) => Ok(list),
            _ => Err(DbusError::Failed("unexpected answer".into())),
        }
    }

    async fn open_connection(&self, uri: String) -> Result<(), DbusError> {
        self.done(ApiRequest::OpenConnection { uri }).await
    }

    async fn close_connection(&self, uri: String) -> Result<(), DbusError> {
        self.done(ApiRequest::CloseConnection { uri }).await
    }

    async fn remove_connection(&self, uri: String) -> Result<(), DbusError> {
        self.done(ApiRequest::RemoveConnection { uri }).await
    }

    async fn set_autoconnect(&self, uri: String, on: bool) -> Result<(), DbusError> {
        self.done(ApiRequest::SetAutoconnect { uri, on }).await
    }

    /// The guests of a connection, with the keys of `list --json` plus
    /// `cpu_percent` (-1 when not sampled) and `memory_used_kib`.
    async fn list_domains(&self, uri: String) -> Result<Vec<DomainEntry>, DbusError> {
        match call(&self.engine, ApiRequest::ListDomains { uri }).await? {
            ApiResponse::Domains(list) => Ok(list.into_iter().map(DomainEntry::from).collect()),
            _ => Err(DbusError::Failed("unexpected answer".into())),
        }
    }

    async fn set_domain_config(
        &self,
        uri: String,
        guest: String,
        changes: Dict,
    ) -> Result<(), DbusError> {
        let changes = parse_changes(&changes)?;
        self.done(ApiRequest::SetDomainConfig {
            uri,
            guest,
            changes,
        })
        .await
    }

    /// Presses the keys together, then releases them. Names: `ctrl`,
    /// `alt`, `del`, `f1`... or Linux names (`KEY_LEFTCTRL`).
    async fn send_keys(
        &self,
        uri: String,
        guest: String,
        keys: Vec<String>,
    ) -> Result<(), DbusError> {
        if keys.is_empty() || keys.len() > 16 {
            return Err(invalid("give between 1 and 16 keys"));
        }
        let codes = keys
            .iter()
            .map(|k| {
                crate::keys::linux_keycode(k).ok_or_else(|| invalid(format!("unknown key {k:?}")))
            })
            .collect::<Result<Vec<u32>, _>>()?;
        self.done(ApiRequest::SendKeys {
            uri,
            guest,
            keys: codes,
        })
        .await
    }

    /// A PNG of the guest's screen.
    async fn screenshot(&self, uri: String, guest: String) -> Result<Vec<u8>, DbusError> {
        match call(&self.engine, ApiRequest::Screenshot { uri, guest }).await? {
            ApiResponse::Png(png) => Ok(png),
            _ => Err(DbusError::Failed("unexpected answer".into())),
        }
    }

    async fn list_networks(&self, uri: String) -> Result<Vec<Dict>, DbusError> {
        match call(&self.engine, ApiRequest::ListNetworks { uri }).await? {
            ApiResponse::Networks(list) => Ok(list.iter().map(network_dict).collect()),
            _ => Err(DbusError::Failed("unexpected answer".into())),
        }
    }

    async fn start_network(&self, uri: String, name: String) -> Result<(), DbusError> {
        self.done(ApiRequest::NetworkAction {
            uri,
            name,
            action: NetworkAction::Start,
        })
        .await
    }

    async fn stop_network(&self, uri: String, name: String) -> Result<(), DbusError> {
        self.done(ApiRequest::NetworkAction {
            uri,
            name,
            action: NetworkAction::Stop,
        })
        .await
    }

    async fn set_network_autostart(
        &self,
        uri: String,
        name: String,
        on: bool,
    ) -> Result<(), DbusError> {
        self.done(ApiRequest::NetworkAction {
            uri,
            name,
            action: NetworkAction::SetAutostart { autostart: on },
        })
        .await
    }

    async fn list_storage_pools(&self, uri: String) -> Result<Vec<Dict>, DbusError> {
        match call(&self.engine, ApiRequest::ListStoragePools { uri }).await? {
            ApiResponse::Pools(list) => Ok(list.iter().map(pool_dict).collect()),
            _ => Err(DbusError::Failed("unexpected answer".into())),
        }
    }

    async fn refresh_storage_pool(&self, uri: String, name: String) -> Result<(), DbusError> {
        self.done(ApiRequest::RefreshStoragePool { uri, name })
            .await
    }

    /// Boots the guest, or restores its managed save.
    async fn start(&self, uri: String, guest: String) -> Result<(), DbusError> {
        self.lifecycle(uri, guest, DomainAction::Start).await
    }

    async fn shutdown(&self, uri: String, guest: String) -> Result<(), DbusError> {
        self.lifecycle(uri, guest, DomainAction::Shutdown).await
    }

    async fn reboot(&self, uri: String, guest: String) -> Result<(), DbusError> {
        self.lifecycle(uri, guest, DomainAction::Reboot).await
    }

    async fn force_off(&self, uri: String, guest: String) -> Result<(), DbusError> {
        self.lifecycle(uri, guest, DomainAction::ForceOff).await
    }

    async fn reset(&self, uri: String, guest: String) -> Result<(), DbusError> {
        self.lifecycle(uri, guest, DomainAction::Reset).await
    }

    async fn pause(&self, uri: String, guest: String) -> Result<(), DbusError> {
        self.lifecycle(uri, guest, DomainAction::Pause).await
    }

    async fn resume(&self, uri: String, guest: String) -> Result<(), DbusError> {
        self.lifecycle(uri, guest, DomainAction::Resume).await
    }

    async fn save(&self, uri: String, guest: String) -> Result<(), DbusError> {
        self.lifecycle(uri, guest, DomainAction::Save).await
    }

    /// Asks the user in the application first: the reply waits for the
    /// answer, and is `Cancelled` if they decline.
    async fn delete(
        &self,
        uri: String,
        guest: String,
        delete_storage: bool,
    ) -> Result<(), DbusError> {
        self.lifecycle(uri, guest, DomainAction::Delete { delete_storage })
            .await
    }

    async fn show_manager(&self) -> Result<(), DbusError> {
        self.done(ApiRequest::ShowManager).await
    }

    async fn show_connect(&self) -> Result<(), DbusError> {
        self.done(ApiRequest::ShowConnect).await
    }

    async fn show_details(&self, uri: String, guest: String) -> Result<(), DbusError> {
        self.done(ApiRequest::ShowDetails { uri, guest }).await
    }

    async fn show_console(&self, uri: String, guest: String) -> Result<(), DbusError> {
        self.done(ApiRequest::ShowConsole { uri, guest }).await
    }

    async fn show_host_summary(&self, uri: String) -> Result<(), DbusError> {
        self.done(ApiRequest::ShowHostSummary { uri }).await
    }

    async fn show_preferences(&self) -> Result<(), DbusError> {
        self.done(ApiRequest::ShowPreferences).await
    }

    #[zbus(signal)]
    async fn domain_added(emitter: &SignalEmitter<'_>, uri: &str, guest: &str) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn domain_removed(
        emitter: &SignalEmitter<'_>,
        uri: &str,
        guest: &str,
    ) -> zbus::Result<()>;

    /// `state` is one of the states of `list --json`.
    #[zbus(signal)]
    async fn domain_state_changed(
        emitter: &SignalEmitter<'_>,
        uri: &str,
        guest: &str,
        state: &str,
    ) -> zbus::Result<()>;

    /// `state`: connecting, active, disconnected or failed.
    #[zbus(signal)]
    async fn connection_state_changed(
        emitter: &SignalEmitter<'_>,
        uri: &str,
        state: &str,
    ) -> zbus::Result<()>;
}

/// Emits the engine's signals, in order, until the engine goes away.
pub fn forward_signals(conn: &zbus::blocking::Connection, signals: flume::Receiver<ApiSignal>) {
    let emitter = match SignalEmitter::new(conn.inner(), super::OBJECT_PATH) {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!("cannot emit D-Bus signals: {e}");
            return;
        }
    };
    while let Ok(signal) = signals.recv() {
        let result = zbus::block_on(async {
            match &signal {
                ApiSignal::DomainAdded { uri, guest } => {
                    Service::domain_added(&emitter, uri, guest).await
                }
                ApiSignal::DomainRemoved { uri, guest } => {
                    Service::domain_removed(&emitter, uri, guest).await
                }
                ApiSignal::DomainStateChanged { uri, guest, state } => {
                    Service::domain_state_changed(&emitter, uri, guest, state).await
                }
                ApiSignal::ConnectionStateChanged { uri, state } => {
                    Service::connection_state_changed(&emitter, uri, state).await
                }
            }
        });
        if let Err(e) = result {
            tracing::debug!("emitting {signal:?}: {e}");
        }
    }
}
