//! The engine (the seed's engine.py): the only place that knows every
//! window. Windows emit outputs, connections emit model events, the command
//! line and (later) D-Bus emit requests; all arrive here as [`EngineMsg`]
//! on the GTK main thread, and the engine decides what happens.
//!
//! Nothing here blocks: connections work on their own threads and report
//! back through the same channel.

use std::collections::BTreeMap;
use std::sync::Arc;

use relm4::adw;
use relm4::adw::prelude::*;
use relm4::gtk::gio;
use relm4::prelude::*;

use crate::model::{Connection, ConnectionId, ModelEvent};
use crate::plugin_host::{PluginRegistry, PluginStatus};
use crate::settings::Settings;
use crate::windows::about::{self, AboutInfo};
use crate::windows::manager::{ManagerInit, ManagerInput, ManagerOutput, ManagerWindow};

#[derive(Debug)]
pub enum EngineMsg {
    /// The plugin scan finished (it runs off the main thread at start).
    PluginsLoaded(Arc<PluginRegistry>),
    /// Open a connection to the first of these URIs that works.
    Open {
        candidates: Vec<String>,
    },
    ShowManager,
    ShowAbout,
    Model(ModelEvent),
    Manager(ManagerOutput),
}

pub struct Engine {
    sender: relm4::Sender<EngineMsg>,
    app: adw::Application,
    settings: Settings,
    plugins: Option<Arc<PluginRegistry>>,
    /// Open requests that arrived before the plugins were loaded.
    waiting: Vec<Vec<String>>,
    connections: BTreeMap<ConnectionId, (Vec<String>, Connection)>,
    next_id: ConnectionId,
    manager: Option<Controller<ManagerWindow>>,
    /// Keeps the application alive until its first window exists: requests
    /// reach the engine asynchronously, after GApplication would otherwise
    /// have seen no window and quit.
    startup_hold: Option<gio::ApplicationHoldGuard>,
}

impl Engine {
    pub fn new(
        app: adw::Application,
        sender: relm4::Sender<EngineMsg>,
        settings: Settings,
    ) -> Self {
        Engine {
            sender,
            settings,
            plugins: None,
            waiting: Vec::new(),
            connections: BTreeMap::new(),
            next_id: 1,
            manager: None,
            startup_hold: Some(app.hold()),
            app,
        }
    }

    pub fn update(&mut self, msg: EngineMsg) {
        match msg {
            EngineMsg::PluginsLoaded(registry) => {
                self.plugins = Some(registry);
                for candidates in std::mem::take(&mut self.waiting) {
                    self.open(candidates);
                }
            }
            EngineMsg::Open { candidates } => self.open(candidates),
            EngineMsg::ShowManager => self.show_manager(),
            EngineMsg::ShowAbout => self.show_about(),
            EngineMsg::Model(ev) => self.model_event(ev),
            EngineMsg::Manager(ManagerOutput::Reconnect(id)) => {
                if let Some((_, conn)) = self.connections.get(&id) {
                    conn.reconnect();
                }
            }
        }
    }

    fn open(&mut self, candidates: Vec<String>) {
        let Some(plugins) = self.plugins.clone() else {
            self.waiting.push(candidates);
            return;
        };
        if self.connections.values().any(|(c, _)| *c == candidates) {
            tracing::debug!("already connected to {candidates:?}");
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        let sender = self.sender.clone();
        let conn = Connection::open(id, candidates.clone(), plugins, move |ev| {
            sender.emit(EngineMsg::Model(ev));
        });
        self.connections.insert(id, (candidates, conn));
    }

    fn model_event(&mut self, ev: ModelEvent) {
        let Some(manager) = &self.manager else { return };
        let input = match ev {
            ModelEvent::State { id, uri, state } => {
                tracing::info!("connection {id} ({uri}): {}", state.as_str());
                ManagerInput::ConnectionState { id, uri, state }
            }
            ModelEvent::DomainsListed { id, domains } => {
                ManagerInput::DomainsListed { id, domains }
            }
            ModelEvent::DomainAdded { id, domain } => ManagerInput::DomainAdded { id, domain },
            ModelEvent::DomainChanged { id, domain } => ManagerInput::DomainChanged { id, domain },
            ModelEvent::DomainRemoved { id, uuid } => ManagerInput::DomainRemoved { id, uuid },
            ModelEvent::DomainRebooted { .. } => return,
        };
        manager.emit(input);
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
            let domains = conn.domains().into_iter().map(|d| d.info).collect();
            controller.emit(ManagerInput::DomainsListed { id: *id, domains });
        }
        self.manager = Some(controller);
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
            None => Vec::new(),
        };
        let parent = self.app.active_window();
        about::show(parent.as_ref(), &AboutInfo { plugins });
    }
}
