//! What the engine offers to programs: the requests of the D-Bus service
//! and their answers. Each request is carried out by the same engine code
//! as the matching button ([`crate::engine::EngineMsg::Api`]); this module
//! only names them. No GTK here.

use crate::i18n::gettext_f;
use serde::Serialize;
use virt_manager_plugin_api::{
    ConfigChanges, DomainAction, NetworkAction, NetworkInfo, StoragePoolInfo,
};

/// A request from outside the windows.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiRequest {
    ListConnections,
    OpenConnection {
        uri: String,
    },
    CloseConnection {
        uri: String,
    },
    RemoveConnection {
        uri: String,
    },
    SetAutoconnect {
        uri: String,
        on: bool,
    },
    ListDomains {
        uri: String,
    },
    /// A lifecycle action; Delete asks the user first.
    Lifecycle {
        uri: String,
        guest: String,
        action: DomainAction,
    },
    SetDomainConfig {
        uri: String,
        guest: String,
        changes: ConfigChanges,
    },
    SendKeys {
        uri: String,
        guest: String,
        keys: Vec<u32>,
    },
    Screenshot {
        uri: String,
        guest: String,
    },
    ListNetworks {
        uri: String,
    },
    NetworkAction {
        uri: String,
        name: String,
        action: NetworkAction,
    },
    ListStoragePools {
        uri: String,
    },
    RefreshStoragePool {
        uri: String,
        name: String,
    },
    ShowManager,
    ShowConnect,
    ShowDetails {
        uri: String,
        guest: String,
    },
    ShowConsole {
        uri: String,
        guest: String,
    },
    ShowHostSummary {
        uri: String,
    },
    ShowPreferences,
    /// Shell search: guests whose names match every term.
    Search {
        terms: Vec<String>,
    },
    /// The manager, filtered by these terms.
    LaunchSearch {
        terms: Vec<String>,
    },
}

/// One guest as `ListDomains` and the search provider describe it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DomainSummary {
    pub uri: String,
    pub name: String,
    pub uuid: String,
    pub state: String,
    pub vcpus: u32,
    pub memory_kib: u64,
    /// Latest CPU use, or -1 when not sampled or not running.
    pub cpu_percent: f64,
    /// Memory in use, or 0 when not sampled.
    pub memory_used_kib: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ApiResponse {
    Done,
    Connections(Vec<(String, String)>),
    Domains(Vec<DomainSummary>),
    Png(Vec<u8>),
    Networks(Vec<NetworkInfo>),
    Pools(Vec<StoragePoolInfo>),
}

/// Why a request failed; each becomes a typed D-Bus error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    #[error("{}", gettext_f("no such connection: {uri}", &[("uri", .0)]))]
    NoSuchConnection(String),
    #[error("{}", gettext_f("no such guest: {guest}", &[("guest", .0)]))]
    NoSuchDomain(String),
    #[error("{}", gettext_f("invalid arguments: {reason}", &[("reason", .0)]))]
    InvalidArgs(String),
    #[error("{}", gettext_f("not supported: {reason}", &[("reason", .0)]))]
    NotSupported(String),
    #[error("{0}")]
    Failed(String),
    #[error("{}", gettext_f("cancelled: {reason}", &[("reason", .0)]))]
    Cancelled(String),
}

impl From<virt_manager_plugin_api::PluginError> for ApiError {
    fn from(e: virt_manager_plugin_api::PluginError) -> Self {
        use virt_manager_plugin_api::ErrorCode;
        match e.code {
            ErrorCode::NotSupported => ApiError::NotSupported(e.message),
            ErrorCode::InvalidArgument => ApiError::InvalidArgs(e.message),
            ErrorCode::NotFound => ApiError::NoSuchDomain(e.message),
            _ => ApiError::Failed(e.message),
        }
    }
}

/// Where the engine sends an answer (from the GTK thread to the service).
pub type ApiReply = relm4::tokio::sync::oneshot::Sender<Result<ApiResponse, ApiError>>;

/// A model change that programs may watch (D-Bus signals).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApiSignal {
    DomainAdded {
        uri: String,
        guest: String,
    },
    DomainRemoved {
        uri: String,
        guest: String,
    },
    DomainStateChanged {
        uri: String,
        guest: String,
        state: String,
    },
    ConnectionStateChanged {
        uri: String,
        state: String,
    },
}
