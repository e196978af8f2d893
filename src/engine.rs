//! The engine (the seed's engine.py): the only place that knows every
//! window. Windows emit outputs, connections emit model events, the command
//! line (and D-Bus) emit requests; all arrive here as [`EngineMsg`] on the
//! GTK main thread, and the engine decides what happens.
//!
//! Nothing here blocks: connections work on their own threads, backend
//! requests run through [`Connection::request`], and results come back as
//! messages on the same channel.

mod api;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk::gio;
use relm4::prelude::*;
use virt_manager_plugin_api::{
    capability, ApplyResult, ConfigChanges, DomainAction, DomainConfig, NetworkInfo,
    StoragePoolInfo,
};

use crate::api::{ApiError, ApiReply, ApiRequest, ApiResponse, ApiSignal};
use crate::i18n::{gettext, gettext_f, gettext_noop};
use crate::model::{Connection, ConnectionId, ConnectionOptions, ConnectionState, ModelEvent};
use crate::plugin_host::{PluginRegistry, PluginStatus};
use crate::settings::Settings;
use crate::windows::about::{self, AboutInfo};
use crate::windows::confirm::{self, Confirm};
use crate::windows::connect::{ConnectDialog, ConnectInit, ConnectInput, ConnectOutput, Preset};
use crate::windows::console::{
    ConsoleInit, ConsoleInput, ConsoleOutput, ConsoleTarget, ConsoleWindow,
};
use crate::windows::details::{
    DetailsInit, DetailsInput, DetailsOutput, DetailsPage, DetailsWindow,
};
use crate::windows::host::{HostInit, HostInput, HostOutput, HostWindow};
use crate::windows::manager::{ManagerInit, ManagerInput, ManagerOutput, ManagerWindow};
use crate::windows::preferences::{self, PluginSummary};

#[derive(Debug)]
pub enum EngineMsg {
    /// The plugin scan finished (it runs off the main thread at start).
    PluginsLoaded(Arc<PluginRegistry>),
    /// The command line at start (or from another instance): open what it
    /// names, else the remembered connections, else the default.
    Startup {
        explicit: Option<Vec<String>>,
    },
    /// Open a connection to the first of these URIs that works.
    Open {
        candidates: Vec<String>,
    },
    ShowConnect,
    ShowManager,
    ShowAbout,
    ShowPreferences,
    ShowDetails {
        id: ConnectionId,
        uuid: String,
        page: DetailsPage,
    },
    ShowHostSummary(ConnectionId),
    /// A lifecycle action the user asked for (confirmed here if needed).
    Lifecycle {
        id: ConnectionId,
        uuid: String,
        name: String,
        action: DomainAction,
    },
    /// A lifecycle action the user has confirmed: run it.
    Confirmed {
        id: ConnectionId,
        uuid: String,
        name: String,
        action: DomainAction,
        reply: Option<ApiReply>,
    },
    Model(ModelEvent),
    Manager(ManagerOutput),
    Connect(ConnectOutput),
    Details(DetailsOutput),
    Host(HostOutput),
    Console(ConsoleOutput),
    /// Open a console on a VNC server (`virt-manager vnc://HOST:PORT`).
    OpenVncUrl {
        host: String,
        port: u16,
    },
    ConsoleEndpoint {
        target: ConsoleTarget,
        result: Result<
            (
                virt_manager_plugin_api::ConsoleEndpoint,
                Option<std::os::fd::OwnedFd>,
            ),
            String,
        >,
    },
    ConsoleToast {
        target: ConsoleTarget,
        text: String,
    },
    /// The statistics preferences changed.
    StatsSettingsChanged,
    // Results of backend requests.
    LifecycleDone {
        id: ConnectionId,
        uuid: String,
        name: String,
        action: DomainAction,
        result: Result<(), String>,
        reply: Option<ApiReply>,
    },
    /// A request from a program (the D-Bus service), answered on `reply`.
    Api(ApiRequest, ApiReply),
    /// A backend needs credentials (from a plugin thread, which waits).
    AskCredentials {
        questions: virt_manager_plugin_api::CredentialQuestions,
        reply: std::sync::mpsc::Sender<Option<Vec<String>>>,
    },
    /// ssh asks something through the askpass helper (it waits).
    AskPass {
        prompt: String,
        reply: std::sync::mpsc::Sender<Option<String>>,
    },
    /// A window the command line asks for (`--show-domain-console`...),
    /// shown as soon as its connection and guest are known.
    Show {
        uri: Option<String>,
        guest: Option<String>,
        what: ShowWhat,
    },
    /// The D-Bus service is up; model changes go to it as signals.
    ServiceReady(flume::Sender<ApiSignal>),
    /// A program changed a guest's configuration: refresh open windows.
    ConfigChangedElsewhere {
        id: ConnectionId,
        uuid: String,
    },
    ConfigLoaded {
        id: ConnectionId,
        uuid: String,
        result: Result<DomainConfig, String>,
    },
    ConfigApplied {
        id: ConnectionId,
        uuid: String,
        result: Result<ApplyResult, String>,
    },
    HostLists {
        id: ConnectionId,
        networks: Option<Result<Vec<NetworkInfo>, String>>,
        pools: Option<Result<Vec<StoragePoolInfo>, String>>,
    },
    HostActionDone {
        id: ConnectionId,
        result: Result<(), String>,
    },
}

/// What `--show-…` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShowWhat {
    Console,
    Details,
    Performance,
    HostSummary,
}

pub struct Engine {
    /// Command-line show requests waiting for their guest to appear.
    pending_shows: Vec<(Option<String>, Option<String>, ShowWhat)>,
    sender: relm4::Sender<EngineMsg>,
    app: adw::Application,
    settings: Settings,
    plugins: Option<Arc<PluginRegistry>>,
    /// Open requests that arrived before the plugins were loaded.
    waiting: Vec<Vec<String>>,
    connections: BTreeMap<ConnectionId, (Vec<String>, Connection)>,
    next_id: ConnectionId,
    manager: Option<Controller<ManagerWindow>>,
    details: HashMap<(ConnectionId, String), Controller<DetailsWindow>>,
    hosts: HashMap<ConnectionId, Controller<HostWindow>>,
    consoles: HashMap<ConsoleTarget, Controller<ConsoleWindow>>,
    /// vnc:// URLs given before the plugins were loaded.
    waiting_urls: Vec<(String, u16)>,
    connect_dialog: Option<Controller<ConnectDialog>>,
    /// The connection the connect dialog is waiting for, with its
    /// autoconnect choice.
    pending_connect: Option<(ConnectionId, String, bool)>,
    /// Startup requests that came before the plugins were loaded.
    waiting_startup: Vec<Option<Vec<String>>>,
    /// OpenConnection calls waiting for their connection to settle.
    pending_api_open: Vec<(ConnectionId, String, ApiReply)>,
    /// Where model changes go as D-Bus signals, once the service runs.
    signals: Option<flume::Sender<ApiSignal>>,
    /// Last known state of each guest, to signal only real changes.
    known_states: HashMap<(ConnectionId, String), virt_manager_plugin_api::DomainState>,
    /// Keeps the application alive until its first window exists: requests
    /// reach the engine asynchronously, after GApplication would otherwise
    /// have seen no window and quit.
    startup_hold: Option<gio::ApplicationHoldGuard>,
}

/// Past tense of an action, for confirmations ("“web” paused").
fn done_text(action: &DomainAction, name: &str) -> String {
    let msg = match action {
        DomainAction::Start => gettext_noop("“{guest}” started"),
        DomainAction::Shutdown => gettext_noop("“{guest}” is shutting down"),
        DomainAction::Reboot => gettext_noop("“{guest}” is rebooting"),
        DomainAction::ForceOff => gettext_noop("“{guest}” forced off"),
        DomainAction::Reset => gettext_noop("“{guest}” reset"),
        DomainAction::Pause => gettext_noop("“{guest}” paused"),
        DomainAction::Resume => gettext_noop("“{guest}” resumed"),
        DomainAction::Save => gettext_noop("“{guest}” saved"),
        DomainAction::Delete { .. } => gettext_noop("“{guest}” deleted"),
    };
    gettext_f(msg, &[("guest", name)])
}

fn failed_text(action: &DomainAction, name: &str, reason: &str) -> String {
    let msg = match action {
        DomainAction::Start => gettext_noop("Could not start “{guest}”: {reason}"),
        DomainAction::Shutdown => gettext_noop("Could not shut down “{guest}”: {reason}"),
        DomainAction::Reboot => gettext_noop("Could not reboot “{guest}”: {reason}"),
        DomainAction::ForceOff => gettext_noop("Could not force “{guest}” off: {reason}"),
        DomainAction::Reset => gettext_noop("Could not reset “{guest}”: {reason}"),
        DomainAction::Pause => gettext_noop("Could not pause “{guest}”: {reason}"),
        DomainAction::Resume => gettext_noop("Could not resume “{guest}”: {reason}"),
        DomainAction::Save => gettext_noop("Could not save “{guest}”: {reason}"),
        DomainAction::Delete { .. } => gettext_noop("Could not delete “{guest}”: {reason}"),
    };
    gettext_f(msg, &[("guest", name), ("reason", reason)])
}

impl Engine {
    /// `service`: started by D-Bus activation, so no window is due.
    pub fn new(
        app: adw::Application,
        sender: relm4::Sender<EngineMsg>,
        settings: Settings,
        service: bool,
    ) -> Self {
        // Backends' credential questions come here from plugin threads.
        let asker = sender.clone();
        crate::plugin_host::set_credential_asker(move |questions| {
            let (tx, rx) = std::sync::mpsc::channel();
            asker.emit(EngineMsg::AskCredentials {
                questions,
                reply: tx,
            });
            rx.recv().ok().flatten()
        });
        for key in [
            "stats-interval",
            "history-length",
            "stats-poll-cpu",
            "stats-poll-memory",
            "stats-poll-disk",
            "stats-poll-net",
        ] {
            let s = sender.clone();
            settings.connect_changed(key, move || s.emit(EngineMsg::StatsSettingsChanged));
        }
        Engine {
            sender,
            settings,
            plugins: None,
            waiting: Vec::new(),
            connections: BTreeMap::new(),
            next_id: 1,
            manager: None,
            details: HashMap::new(),
            hosts: HashMap::new(),
            consoles: HashMap::new(),
            waiting_urls: Vec::new(),
            connect_dialog: None,
            pending_connect: None,
            waiting_startup: Vec::new(),
            pending_api_open: Vec::new(),
            signals: None,
            known_states: HashMap::new(),
            startup_hold: (!service).then(|| app.hold()),
            pending_shows: Vec::new(),
            app,
        }
    }

    pub fn update(&mut self, msg: EngineMsg) {
        match msg {
            EngineMsg::PluginsLoaded(registry) => {
                self.plugins = Some(registry);
                for explicit in std::mem::take(&mut self.waiting_startup) {
                    self.startup(explicit);
                }
                for candidates in std::mem::take(&mut self.waiting) {
                    self.open(candidates);
                }
                for (host, port) in std::mem::take(&mut self.waiting_urls) {
                    self.show_vnc_url(host, port);
                }
            }
            EngineMsg::Startup { explicit } => self.startup(explicit),
            EngineMsg::Open { candidates } => {
                self.open(candidates);
            }
            EngineMsg::ShowConnect => self.show_connect(),
            EngineMsg::Connect(out) => self.connect_output(out),
            EngineMsg::ShowManager => self.show_manager(),
            EngineMsg::ShowAbout => self.show_about(),
            EngineMsg::ShowPreferences => self.show_preferences(),
            EngineMsg::ShowDetails { id, uuid, page } => self.show_details(id, &uuid, page),
            EngineMsg::ShowHostSummary(id) => self.show_host(id),
            EngineMsg::Lifecycle {
                id,
                uuid,
                name,
                action,
            } => self.lifecycle(id, uuid, name, action, true, None),
            EngineMsg::Confirmed {
                id,
                uuid,
                name,
                action,
                reply,
            } => self.run_lifecycle(id, uuid, name, action, reply),
            EngineMsg::Api(request, reply) => self.api(request, reply),
            EngineMsg::AskCredentials { questions, reply } => {
                self.show_manager_if_needed();
                let parent = self.app.active_window();
                crate::windows::credentials::ask_backend(
                    parent.as_ref(),
                    questions,
                    move |answers| {
                        let _ = reply.send(answers);
                    },
                );
            }
            EngineMsg::AskPass { prompt, reply } => {
                self.show_manager_if_needed();
                let parent = self.app.active_window();
                crate::windows::credentials::ask_ssh(parent.as_ref(), &prompt, move |answer| {
                    let _ = reply.send(answer);
                });
            }
            EngineMsg::ServiceReady(signals) => self.signals = Some(signals),
            EngineMsg::Show { uri, guest, what } => {
                self.pending_shows.push((uri, guest, what));
                self.try_pending_shows();
            }
            EngineMsg::ConfigChangedElsewhere { id, uuid } => {
                if self.details.contains_key(&(id, uuid.clone())) {
                    self.load_config(id, &uuid);
                }
            }
            EngineMsg::Model(ev) => self.model_event(ev),
            EngineMsg::Manager(out) => self.manager_output(out),
            EngineMsg::Details(out) => self.details_output(out),
            EngineMsg::Host(out) => self.host_output(out),
            EngineMsg::Console(out) => self.console_output(out),
            EngineMsg::OpenVncUrl { host, port } => self.show_vnc_url(host, port),
            EngineMsg::ConsoleEndpoint { target, result } => {
                if let Some(c) = self.consoles.get(&target) {
                    c.emit(ConsoleInput::Endpoint(result));
                }
            }
            EngineMsg::ConsoleToast { target, text } => {
                if let Some(c) = self.consoles.get(&target) {
                    c.emit(ConsoleInput::Toast(text));
                }
            }
            EngineMsg::StatsSettingsChanged => self.apply_stats_settings(),
            EngineMsg::LifecycleDone {
                id,
                uuid,
                name,
                action,
                result,
                reply,
            } => {
                if let Some(r) = reply {
                    let _ = r.send(
                        result
                            .clone()
                            .map(|()| ApiResponse::Done)
                            .map_err(ApiError::Failed),
                    );
                }
                let text = match &result {
                    Ok(()) => done_text(&action, &name),
                    Err(reason) => failed_text(&action, &name, reason),
                };
                if let Some(m) = &self.manager {
                    m.emit(if result.is_ok() {
                        ManagerInput::ShowInfo(text.clone())
                    } else {
                        ManagerInput::ShowError(text.clone())
                    });
                }
                if result.is_err() {
                    if let Some(d) = self.details.get(&(id, uuid)) {
                        d.emit(DetailsInput::ShowError(text));
                    }
                }
            }
            EngineMsg::ConfigLoaded { id, uuid, result } => {
                if let Some(d) = self.details.get(&(id, uuid)) {
                    d.emit(DetailsInput::Config(result));
                }
            }
            EngineMsg::ConfigApplied { id, uuid, result } => {
                if let Some(d) = self.details.get(&(id, uuid)) {
                    d.emit(DetailsInput::Applied(result));
                }
            }
            EngineMsg::HostLists {
                id,
                networks,
                pools,
            } => {
                if let Some(h) = self.hosts.get(&id) {
                    if let Some(n) = networks {
                        h.emit(HostInput::Networks(n));
                    }
                    if let Some(p) = pools {
                        h.emit(HostInput::Pools(p));
                    }
                }
            }
            EngineMsg::HostActionDone { id, result } => {
                if let (Some(h), Err(message)) = (self.hosts.get(&id), result) {
                    h.emit(HostInput::ShowError(message));
                }
                self.load_host_lists(id);
            }
        }
    }

    fn startup(&mut self, explicit: Option<Vec<String>>) {
        if self.plugins.is_none() {
            self.waiting_startup.push(explicit);
            return;
        }
        let remembered = self.settings.strv("connections");
        let auto = self.settings.strv("autoconnect");
        for uri in &remembered {
            let on = auto.contains(uri);
            self.open_with(vec![uri.clone()], on, on);
        }
        match explicit {
            Some(candidates) => {
                self.open(candidates);
            }
            None if remembered.is_empty() => match crate::demo::candidate_uris(None, false) {
                Ok(candidates) => {
                    self.open(candidates);
                }
                Err(e) => tracing::error!("cannot prepare the demo host: {e}"),
            },
            None => {}
        }
    }

    /// Opens (or reconnects) a connection; returns its id.
    fn open(&mut self, candidates: Vec<String>) -> Option<ConnectionId> {
        self.open_with(candidates, true, false)
    }

    fn open_with(
        &mut self,
        candidates: Vec<String>,
        connect_now: bool,
        auto_reconnect: bool,
    ) -> Option<ConnectionId> {
        let Some(plugins) = self.plugins.clone() else {
            self.waiting.push(candidates);
            return None;
        };
        if let Some((id, (_, conn))) = self.connections.iter().find(|(_, (c, _))| *c == candidates)
        {
            tracing::debug!("already have a connection to {candidates:?}");
            if connect_now {
                conn.reconnect();
            }
            return Some(*id);
        }
        let id = self.next_id;
        self.next_id += 1;
        let sender = self.sender.clone();
        let options = ConnectionOptions {
            stats: self.settings.stats_config(),
            connect_now,
            auto_reconnect,
        };
        let conn = Connection::open_with(id, candidates.clone(), plugins, options, move |ev| {
            sender.emit(EngineMsg::Model(ev));
        });
        self.connections.insert(id, (candidates, conn));
        Some(id)
    }

    fn show_connect(&mut self) {
        if let Some(d) = &self.connect_dialog {
            d.widget().present();
            return;
        }
        let mut presets = Vec::new();
        if let Some(registry) = &self.plugins {
            let mut backends: Vec<_> = registry.schemes().map(|(_, b)| b.clone()).collect();
            backends.sort_by_key(|b| (b.name() != "libvirt", b.name().to_owned()));
            backends.dedup_by(|a, b| Arc::ptr_eq(a, b));
            for b in backends {
                for p in &b.info().connect_presets {
                    presets.push(Preset {
                        label: p.label.clone(),
                        uri: p.uri.clone(),
                        remote_ssh: p.remote_ssh,
                    });
                }
            }
        }
        let controller = ConnectDialog::builder()
            .launch(ConnectInit { presets })
            .forward(&self.sender, EngineMsg::Connect);
        if let Some(parent) = self.app.active_window() {
            controller.widget().set_transient_for(Some(&parent));
        }
        self.app.add_window(controller.widget());
        controller.widget().present();
        self.connect_dialog = Some(controller);
        self.startup_hold = None;
    }

    fn connect_output(&mut self, out: ConnectOutput) {
        match out {
            ConnectOutput::Connect { uri, autoconnect } => {
                let existing = self
                    .connections
                    .iter()
                    .find(|(_, (c, _))| *c == [uri.clone()])
                    .map(|(id, _)| *id);
                if let Some(id) = existing {
                    let conn = self.connection(id).expect("found above");
                    if conn.state().1 == ConnectionState::Active {
                        self.remember(&uri, autoconnect);
                        if let Some(d) = &self.connect_dialog {
                            d.emit(ConnectInput::Outcome(Ok(())));
                        }
                        return;
                    }
                    conn.reconnect();
                    self.pending_connect = Some((id, uri, autoconnect));
                    return;
                }
                if let Some(id) = self.open(vec![uri.clone()]) {
                    self.pending_connect = Some((id, uri, autoconnect));
                }
            }
            ConnectOutput::Closed => {
                self.connect_dialog = None;
                // Closing the dialog while connecting cancels the attempt.
                if let Some((id, uri, _)) = self.pending_connect.take() {
                    if !self.settings.strv("connections").contains(&uri) {
                        self.remove_connection(id);
                    }
                }
            }
        }
    }

    /// Adds a URI to the remembered connections (GSettings).
    fn remember(&self, uri: &str, autoconnect: bool) {
        let mut list = self.settings.strv("connections");
        if !list.iter().any(|u| u == uri) {
            list.push(uri.to_owned());
            self.settings.set_strv("connections", &list);
        }
        let mut auto = self.settings.strv("autoconnect");
        let has = auto.iter().any(|u| u == uri);
        if autoconnect && !has {
            auto.push(uri.to_owned());
        } else if !autoconnect && has {
            auto.retain(|u| u != uri);
        }
        self.settings.set_strv("autoconnect", &auto);
    }

    fn forget(&self, uri: &str) {
        for key in ["connections", "autoconnect"] {
            let mut list = self.settings.strv(key);
            list.retain(|u| u != uri);
            self.settings.set_strv(key, &list);
        }
    }

    /// Closes a connection, forgets it, and closes its windows.
    fn remove_connection(&mut self, id: ConnectionId) {
        if let Some((candidates, _)) = self.connections.remove(&id) {
            if let [uri] = candidates.as_slice() {
                self.forget(uri);
            }
        }
        self.details.retain(|(cid, _), _| *cid != id);
        self.hosts.remove(&id);
        if let Some(m) = &self.manager {
            m.emit(ManagerInput::ConnectionRemoved(id));
        }
    }

    fn connection(&self, id: ConnectionId) -> Option<&Connection> {
        self.connections.get(&id).map(|(_, c)| c)
    }

    fn apply_stats_settings(&mut self) {
        let config = self.settings.stats_config();
        for (_, conn) in self.connections.values() {
            conn.set_stats(config);
        }
        for d in self.details.values() {
            d.emit(DetailsInput::Polling(
                config.request.memory,
                config.request.disk,
                config.request.net,
            ));
            d.emit(DetailsInput::HistoryLength(config.history));
        }
    }

    fn model_event(&mut self, ev: ModelEvent) {
        // A removed connection's worker may still report its last steps.
        let id = match &ev {
            ModelEvent::State { id, .. }
            | ModelEvent::DomainsListed { id, .. }
            | ModelEvent::DomainAdded { id, .. }
            | ModelEvent::DomainChanged { id, .. }
            | ModelEvent::DomainRemoved { id, .. }
            | ModelEvent::DomainRebooted { id, .. }
            | ModelEvent::Capabilities { id, .. }
            | ModelEvent::Stats { id, .. } => *id,
        };
        if !self.connections.contains_key(&id) {
            return;
        }
        self.api_model_event(&ev);
        if !self.pending_shows.is_empty()
            && matches!(
                ev,
                ModelEvent::DomainsListed { .. } | ModelEvent::State { .. }
            )
        {
            self.try_pending_shows();
        }
        if let ModelEvent::State { id, state, .. } = &ev {
            if let Some((pid, uri, auto)) = self.pending_connect.clone() {
                if pid == *id {
                    let outcome = match state {
                        ConnectionState::Active => Some(Ok(())),
                        ConnectionState::Failed(r) => Some(Err(r.clone())),
                        _ => None,
                    };
                    if let Some(outcome) = outcome {
                        self.pending_connect = None;
                        if outcome.is_ok() {
                            self.remember(&uri, auto);
                        } else if !self.settings.strv("connections").contains(&uri) {
                            self.remove_connection(pid);
                        }
                        if let Some(d) = &self.connect_dialog {
                            d.emit(ConnectInput::Outcome(outcome));
                        }
                    }
                }
            }
        }
        if !self.connections.contains_key(&id) {
            // The connect dialog's attempt failed and was dropped.
            return;
        }
        match &ev {
            ModelEvent::State { id, uri, state } => {
                tracing::info!("connection {id} ({uri}): {}", state.as_str())
            }
            ModelEvent::DomainChanged { id, domain } | ModelEvent::DomainAdded { id, domain } => {
                if let Some(d) = self.details.get(&(*id, domain.uuid.clone())) {
                    d.emit(DetailsInput::Info(domain.clone()));
                }
                let target = ConsoleTarget::Guest {
                    id: *id,
                    uuid: domain.uuid.clone(),
                };
                if let Some(c) = self.consoles.get(&target) {
                    c.emit(ConsoleInput::GuestState(domain.state));
                }
            }
            ModelEvent::Stats { id, domains, host } => {
                for (uuid, sample) in domains {
                    if let Some(d) = self.details.get(&(*id, uuid.clone())) {
                        d.emit(DetailsInput::Sample(*sample));
                    }
                }
                if let (Some(h), Some(sample)) = (self.hosts.get(id), host) {
                    h.emit(HostInput::Sample(*sample));
                }
            }
            ModelEvent::Capabilities { id, host, .. } => {
                if let Some(h) = self.hosts.get(id) {
                    h.emit(HostInput::Info(host.clone()));
                }
            }
            _ => {}
        }
        let Some(manager) = &self.manager else { return };
        let input = match ev {
            ModelEvent::State { id, uri, state } => {
                ManagerInput::ConnectionState { id, uri, state }
            }
            ModelEvent::DomainsListed { id, domains } => {
                ManagerInput::DomainsListed { id, domains }
            }
            ModelEvent::DomainAdded { id, domain } => ManagerInput::DomainAdded { id, domain },
            ModelEvent::DomainChanged { id, domain } => ManagerInput::DomainChanged { id, domain },
            ModelEvent::DomainRemoved { id, uuid } => ManagerInput::DomainRemoved { id, uuid },
            ModelEvent::Capabilities { id, backend, .. } => {
                ManagerInput::Capabilities { id, backend }
            }
            ModelEvent::Stats { id, domains, .. } => ManagerInput::Stats { id, domains },
            ModelEvent::DomainRebooted { .. } => return,
        };
        manager.emit(input);
    }

    fn manager_output(&mut self, out: ManagerOutput) {
        match out {
            ManagerOutput::Reconnect(id) => {
                if let Some(conn) = self.connection(id) {
                    conn.reconnect();
                }
            }
            ManagerOutput::Lifecycle {
                id,
                uuid,
                name,
                action,
            } => self.lifecycle(id, uuid, name, action, true, None),
            // The console window arrives with the RFB client; until then
            // a guest opens in its details.
            ManagerOutput::Open { id, uuid } => self.open_guest(id, &uuid),
            ManagerOutput::ShowDetails { id, uuid } => {
                self.show_details(id, &uuid, DetailsPage::Overview)
            }
            ManagerOutput::ShowHostSummary(id) => self.show_host(id),
            ManagerOutput::Connect(id) => {
                if let Some(conn) = self.connection(id) {
                    conn.reconnect();
                }
            }
            ManagerOutput::Disconnect(id) => {
                if let Some(conn) = self.connection(id) {
                    conn.disconnect();
                }
            }
            ManagerOutput::RemoveConnection(id) => self.remove_connection(id),
        }
    }

    fn details_output(&mut self, out: DetailsOutput) {
        match out {
            DetailsOutput::Lifecycle {
                id,
                uuid,
                name,
                action,
            } => self.lifecycle(id, uuid, name, action, true, None),
            DetailsOutput::Apply { id, uuid, changes } => self.apply_config(id, uuid, changes),
            DetailsOutput::Reload { id, uuid } => self.load_config(id, &uuid),
            DetailsOutput::OpenConsole { id, uuid } => {
                if let Err(e) = self.show_console(id, &uuid) {
                    if let Some(d) = self.details.get(&(id, uuid)) {
                        d.emit(DetailsInput::ShowError(e.to_string()));
                    }
                }
            }
            DetailsOutput::Closed { id, uuid } => {
                self.details.remove(&(id, uuid));
            }
        }
    }

    fn host_output(&mut self, out: HostOutput) {
        match out {
            HostOutput::NetworkAction { id, name, action } => {
                let Some(conn) = self.connection(id) else {
                    return;
                };
                let s = self.sender.clone();
                conn.request(
                    move |c| c.network_action(&name, &action),
                    move |r| {
                        s.emit(EngineMsg::HostActionDone {
                            id,
                            result: r.map_err(|e| e.message),
                        })
                    },
                );
            }
            HostOutput::PoolAction { id, name, action } => {
                let Some(conn) = self.connection(id) else {
                    return;
                };
                let s = self.sender.clone();
                conn.request(
                    move |c| c.storage_pool_action(&name, &action),
                    move |r| {
                        s.emit(EngineMsg::HostActionDone {
                            id,
                            result: r.map_err(|e| e.message),
                        })
                    },
                );
            }
            HostOutput::Refresh { id } => self.load_host_lists(id),
            HostOutput::Closed { id } => {
                self.hosts.remove(&id);
            }
        }
    }

    /// Confirms where the preferences say so, then runs the action off the
    /// main thread.
    /// Confirms where asked and the preferences say so, then runs the
    /// action off the main thread; `reply` hears how it ended.
    fn lifecycle(
        &mut self,
        id: ConnectionId,
        uuid: String,
        name: String,
        action: DomainAction,
        ask: bool,
        reply: Option<ApiReply>,
    ) {
        let confirm = match action {
            DomainAction::ForceOff => Some(Confirm::ForceOff),
            DomainAction::Pause => Some(Confirm::Pause),
            DomainAction::Delete { .. } => Some(Confirm::Delete),
            _ => None,
        };
        match confirm {
            Some(kind) if ask && self.settings.boolean(kind.settings_key(), true) => {
                self.show_manager_if_needed();
                let parent = self.app.active_window();
                let sender = self.sender.clone();
                let guest = name.clone();
                confirm::ask(parent.as_ref(), kind, &guest, move |answer| match answer {
                    Some(delete_storage) => {
                        let action = match action {
                            DomainAction::Delete {
                                delete_storage: asked,
                            } => DomainAction::Delete {
                                delete_storage: delete_storage || asked,
                            },
                            other => other,
                        };
                        sender.emit(EngineMsg::Confirmed {
                            id,
                            uuid,
                            name,
                            action,
                            reply,
                        });
                    }
                    None => {
                        if let Some(r) = reply {
                            let _ = r.send(Err(ApiError::Cancelled(gettext("the user declined"))));
                        }
                    }
                });
            }
            _ => self.run_lifecycle(id, uuid, name, action, reply),
        }
    }

    fn run_lifecycle(
        &mut self,
        id: ConnectionId,
        uuid: String,
        name: String,
        action: DomainAction,
        reply: Option<ApiReply>,
    ) {
        let Some(conn) = self.connection(id) else {
            if let Some(r) = reply {
                let _ = r.send(Err(ApiError::NoSuchConnection(id.to_string())));
            }
            return;
        };
        let s = self.sender.clone();
        let (u, a) = (uuid.clone(), action.clone());
        conn.request(
            move |c| c.domain_action(&u, &a),
            move |result| {
                s.emit(EngineMsg::LifecycleDone {
                    id,
                    uuid,
                    name,
                    action,
                    result: result.map_err(|e| e.message),
                    reply,
                })
            },
        );
    }

    /// Shows what the command line asked for, once it can be found;
    /// gives up (with a message) when every connection has settled
    /// without it.
    fn try_pending_shows(&mut self) {
        let pending = std::mem::take(&mut self.pending_shows);
        for (uri, guest, what) in pending {
            let conns: Vec<ConnectionId> = self
                .connections
                .iter()
                .filter(|(_, (cands, c))| {
                    uri.as_ref()
                        .is_none_or(|u| cands.contains(u) || c.state().0 == *u)
                })
                .map(|(id, _)| *id)
                .collect();
            let settled = conns.iter().all(|id| {
                self.connection(*id)
                    .is_some_and(|c| c.state().1 != ConnectionState::Connecting)
            });
            let found = match &guest {
                None => conns
                    .iter()
                    .find(|id| {
                        self.connection(**id)
                            .is_some_and(|c| c.state().1 == ConnectionState::Active)
                    })
                    .map(|id| (*id, None)),
                Some(g) => conns.iter().find_map(|id| {
                    self.connection(*id)
                        .and_then(|c| c.find_domain(g))
                        .map(|d| (*id, Some(d)))
                }),
            };
            match (found, what) {
                (Some((id, _)), ShowWhat::HostSummary) => self.show_host(id),
                (Some((id, Some(d))), ShowWhat::Details) => {
                    self.show_details(id, &d.info.uuid, DetailsPage::Hardware)
                }
                (Some((id, Some(d))), ShowWhat::Performance) => {
                    self.show_details(id, &d.info.uuid, DetailsPage::Performance)
                }
                (Some((id, Some(d))), ShowWhat::Console) => {
                    if self.show_console(id, &d.info.uuid).is_err() {
                        self.show_details(id, &d.info.uuid, DetailsPage::Overview);
                    }
                }
                (None, _)
                    if !settled
                        || self.plugins.is_none()
                        || conns.is_empty() && self.connections.is_empty() =>
                {
                    self.pending_shows.push((uri, guest, what));
                }
                _ => {
                    let text = match &guest {
                        Some(g) => gettext_f("No guest named “{guest}” was found", &[("guest", g)]),
                        None => gettext("No connection is open"),
                    };
                    self.show_manager();
                    if let Some(m) = &self.manager {
                        m.emit(ManagerInput::ShowError(text));
                    }
                }
            }
        }
    }

    /// Opens a guest's console window.
    fn show_console(&mut self, id: ConnectionId, uuid: &str) -> Result<(), ApiError> {
        let target = ConsoleTarget::Guest {
            id,
            uuid: uuid.to_owned(),
        };
        if let Some(c) = self.consoles.get(&target) {
            c.widget().present();
            return Ok(());
        }
        let conn = self
            .connection(id)
            .ok_or_else(|| ApiError::NoSuchConnection(id.to_string()))?;
        let domain = conn
            .domain(uuid)
            .ok_or_else(|| ApiError::NoSuchDomain(uuid.to_owned()))?;
        if !conn
            .backend_info()
            .is_some_and(|b| b.has(capability::CONSOLE))
        {
            return Err(ApiError::NotSupported(gettext(
                "this connection's backend offers no consoles",
            )));
        }
        let Some(plugins) = self.plugins.clone() else {
            return Err(ApiError::Failed(gettext("the plugins are still loading")));
        };
        let init = ConsoleInit {
            target: target.clone(),
            title: domain.info.name.clone(),
            plugins,
            settings: self.settings.clone(),
            state: Some(domain.info.state),
        };
        self.open_console_window(target, init);
        Ok(())
    }

    /// A console on a VNC server named by URL (`virt-manager vnc://…`).
    fn show_vnc_url(&mut self, host: String, port: u16) {
        let target = ConsoleTarget::Server {
            host: host.clone(),
            port,
        };
        if let Some(c) = self.consoles.get(&target) {
            c.widget().present();
            return;
        }
        let Some(plugins) = self.plugins.clone() else {
            self.waiting_urls.push((host, port));
            return;
        };
        let title = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let init = ConsoleInit {
            target: target.clone(),
            title,
            plugins,
            settings: self.settings.clone(),
            state: None,
        };
        self.open_console_window(target, init);
    }

    fn open_console_window(&mut self, target: ConsoleTarget, init: ConsoleInit) {
        let controller = ConsoleWindow::builder()
            .launch(init)
            .forward(&self.sender, EngineMsg::Console);
        self.app.add_window(controller.widget());
        controller.widget().present();
        self.consoles.insert(target, controller);
        self.startup_hold = None;
    }

    fn console_output(&mut self, out: ConsoleOutput) {
        match out {
            ConsoleOutput::NeedEndpoint { target } => {
                let ConsoleTarget::Guest { id, uuid } = target.clone() else {
                    return;
                };
                let Some(conn) = self.connection(id) else {
                    return;
                };
                let s = self.sender.clone();
                conn.request(
                    move |c| c.open_console(&uuid),
                    move |r| {
                        s.emit(EngineMsg::ConsoleEndpoint {
                            target,
                            result: r.map_err(|e| e.message),
                        })
                    },
                );
            }
            ConsoleOutput::Start { id, uuid } => {
                let name = self
                    .connection(id)
                    .and_then(|c| c.domain(&uuid))
                    .map(|d| d.info.name)
                    .unwrap_or_default();
                self.lifecycle(id, uuid, name, DomainAction::Start, false, None);
            }
            ConsoleOutput::SwitchToVnc { id, uuid } => {
                let changes = ConfigChanges {
                    graphics: Some("vnc".into()),
                    ..Default::default()
                };
                let Some(conn) = self.connection(id) else {
                    return;
                };
                let s = self.sender.clone();
                let u = uuid.clone();
                conn.request(
                    move |c| c.apply_domain_config(&u, &changes),
                    move |r| {
                        let text = match r {
                            Ok(_) => gettext("The guest uses VNC from its next boot"),
                            Err(e) => gettext_f(
                                "Could not switch to VNC: {reason}",
                                &[("reason", &e.message)],
                            ),
                        };
                        s.emit(EngineMsg::ConsoleToast {
                            target: ConsoleTarget::Guest { id, uuid },
                            text,
                        });
                    },
                );
            }
            ConsoleOutput::ShowDetails { id, uuid } => {
                self.show_details(id, &uuid, DetailsPage::Overview)
            }
            ConsoleOutput::Closed { target } => {
                self.consoles.remove(&target);
            }
        }
    }

    /// A guest's console if it has one to show, else its details.
    fn open_guest(&mut self, id: ConnectionId, uuid: &str) {
        let running = self
            .connection(id)
            .and_then(|c| c.domain(uuid))
            .is_some_and(|d| Self::console_possible(d.info.state));
        if !running || self.show_console(id, uuid).is_err() {
            self.show_details(id, uuid, DetailsPage::Overview);
        }
    }

    /// A dialog needs a window to sit on: D-Bus requests may come while
    /// none is open.
    fn show_manager_if_needed(&mut self) {
        if self.app.active_window().is_none() {
            self.show_manager();
        }
    }

    fn load_config(&self, id: ConnectionId, uuid: &str) {
        let Some(conn) = self.connection(id) else {
            return;
        };
        let s = self.sender.clone();
        let u = uuid.to_owned();
        let uuid = uuid.to_owned();
        conn.request(
            move |c| c.domain_config(&u),
            move |result| {
                s.emit(EngineMsg::ConfigLoaded {
                    id,
                    uuid,
                    result: result.map_err(|e| e.message),
                })
            },
        );
    }

    fn apply_config(&self, id: ConnectionId, uuid: String, changes: ConfigChanges) {
        let Some(conn) = self.connection(id) else {
            return;
        };
        let s = self.sender.clone();
        let u = uuid.clone();
        conn.request(
            move |c| c.apply_domain_config(&u, &changes),
            move |result| {
                s.emit(EngineMsg::ConfigApplied {
                    id,
                    uuid,
                    result: result.map_err(|e| e.message),
                })
            },
        );
    }

    fn load_host_lists(&self, id: ConnectionId) {
        let Some(conn) = self.connection(id) else {
            return;
        };
        let caps = conn.backend_info().unwrap_or_default();
        let (nets, pools) = (
            caps.has(capability::NETWORKS),
            caps.has(capability::STORAGE),
        );
        let s = self.sender.clone();
        conn.request(
            move |c| {
                let networks = nets.then(|| c.list_networks().map_err(|e| e.message));
                let pools = pools.then(|| c.list_storage_pools().map_err(|e| e.message));
                Ok((networks, pools))
            },
            move |r: Result<_, virt_manager_plugin_api::PluginError>| {
                if let Ok((networks, pools)) = r {
                    s.emit(EngineMsg::HostLists {
                        id,
                        networks,
                        pools,
                    });
                }
            },
        );
    }

    fn show_manager(&mut self) {
        if let Some(manager) = &self.manager {
            manager.widget().present();
            return;
        }
        let controller = ManagerWindow::builder()
            .launch(ManagerInit {
                settings: self.settings.clone(),
            })
            .forward(&self.sender, EngineMsg::Manager);
        self.app.add_window(controller.widget());
        controller.widget().present();
        // The window may have opened after the connections: replay them.
        for (id, (_, conn)) in &self.connections {
            let (uri, state) = conn.state();
            controller.emit(ManagerInput::ConnectionState {
                id: *id,
                uri,
                state,
            });
            if let Some(backend) = conn.backend_info() {
                controller.emit(ManagerInput::Capabilities { id: *id, backend });
            }
            let domains = conn.domains().into_iter().map(|d| d.info).collect();
            controller.emit(ManagerInput::DomainsListed { id: *id, domains });
        }
        self.manager = Some(controller);
        self.startup_hold = None;
    }

    fn show_details(&mut self, id: ConnectionId, uuid: &str, page: DetailsPage) {
        if let Some(d) = self.details.get(&(id, uuid.to_owned())) {
            d.emit(DetailsInput::ShowPage(page));
            d.widget().present();
            return;
        }
        let Some(conn) = self.connection(id) else {
            return;
        };
        let Some(domain) = conn.domain(uuid) else {
            return;
        };
        let config = self.settings.stats_config();
        let init = DetailsInit {
            id,
            info: domain.info.clone(),
            history: domain.history.iter().collect(),
            history_len: config.history,
            backend: conn.backend_info(),
            polling: (
                config.request.memory,
                config.request.disk,
                config.request.net,
            ),
            page,
        };
        let controller = DetailsWindow::builder()
            .launch(init)
            .forward(&self.sender, EngineMsg::Details);
        self.app.add_window(controller.widget());
        controller.widget().present();
        self.details.insert((id, uuid.to_owned()), controller);
        self.startup_hold = None;
        self.load_config(id, uuid);
    }

    fn show_host(&mut self, id: ConnectionId) {
        if let Some(h) = self.hosts.get(&id) {
            h.widget().present();
            return;
        }
        let Some(conn) = self.connection(id) else {
            return;
        };
        let init = HostInit {
            id,
            uri: conn.state().0,
            host: conn.host_info(),
            backend: conn.backend_info(),
            history: conn.host_history().iter().copied().collect(),
            history_len: self.settings.stats_config().history,
        };
        let controller = HostWindow::builder()
            .launch(init)
            .forward(&self.sender, EngineMsg::Host);
        self.app.add_window(controller.widget());
        controller.widget().present();
        self.hosts.insert(id, controller);
        self.startup_hold = None;
        self.load_host_lists(id);
    }

    fn show_preferences(&mut self) {
        let plugins = self
            .plugins
            .as_deref()
            .map(plugin_summaries)
            .unwrap_or_default();
        let parent = self.app.active_window();
        let window = preferences::show(parent.as_ref(), &self.settings, &plugins);
        self.app.add_window(&window);
        self.startup_hold = None;
    }

    fn show_about(&self) {
        let plugins = match &self.plugins {
            Some(registry) => registry
                .records()
                .iter()
                .map(|r| match &r.status {
                    PluginStatus::Loaded(p) => {
                        format!("{} {}: loaded ({})", p.name, p.version, r.path.display())
                    }
                    PluginStatus::Failed(reason) => {
                        format!("{}: failed: {reason}", r.path.display())
                    }
                })
                .collect(),
            None => vec![gettext("(still loading)")],
        };
        let parent = self.app.active_window();
        about::show(parent.as_ref(), &AboutInfo { plugins });
    }
}

/// What the Preferences window's Plugins page shows about each file.
fn plugin_summaries(registry: &PluginRegistry) -> Vec<PluginSummary> {
    registry
        .records()
        .iter()
        .map(|r| {
            let file = r.path.display().to_string();
            match &r.status {
                PluginStatus::Loaded(p) => {
                    let mut details = vec![
                        (gettext("File"), file),
                        (gettext("Version"), p.version.clone()),
                        (
                            gettext("Plugin Interface"),
                            format!("{}.{}", p.abi_major, p.abi_minor),
                        ),
                    ];
                    if let Some(b) = &p.backend {
                        details.push((gettext("Connects To"), b.info().uri_schemes.join(", ")));
                    }
                    if let Some(d) = &p.decoders {
                        let encodings: Vec<String> = d
                            .encodings()
                            .iter()
                            .map(|e| format!("{} ({})", e.name, e.encoding))
                            .collect();
                        details.push((gettext("Console Encodings"), encodings.join(", ")));
                    }
                    for note in &r.notes {
                        details.push((gettext("Note"), note.clone()));
                    }
                    let status = if r.notes.is_empty() {
                        gettext("Loaded")
                    } else {
                        gettext("Loaded, with warnings")
                    };
                    PluginSummary {
                        title: p.name.clone(),
                        status,
                        ok: true,
                        details,
                    }
                }
                PluginStatus::Failed(reason) => PluginSummary {
                    title: r
                        .path
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or(file.clone()),
                    status: gettext_f("Failed: {reason}", &[("reason", reason)]),
                    ok: false,
                    details: vec![(gettext("File"), file)],
                },
            }
        })
        .collect()
}
