//! One hypervisor connection and its guests, kept current on a worker.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};
use virt_manager_plugin_api::{BackendEvent, DomainInfo};

use super::domain::Domain;
use crate::plugin_host::{uri_scheme, BackendConnection, PluginRegistry};

/// Identifies a connection for the life of the process (URIs can repeat).
pub type ConnectionId = u64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConnectionState {
    Connecting,
    Active,
    /// Was active, then lost or closed; the reason is for the user.
    Disconnected(String),
    /// Could not be opened; the backend's reason.
    Failed(String),
}

impl ConnectionState {
    /// The stable name used on D-Bus and in logs.
    pub fn as_str(&self) -> &'static str {
        match self {
            ConnectionState::Connecting => "connecting",
            ConnectionState::Active => "active",
            ConnectionState::Disconnected(_) => "disconnected",
            ConnectionState::Failed(_) => "failed",
        }
    }
}

/// What a connection reports to its owner, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelEvent {
    /// The state changed; `uri` is the URI in use (for the default
    /// connection, the candidate being tried).
    State {
        id: ConnectionId,
        uri: String,
        state: ConnectionState,
    },
    /// The complete guest list, replacing what was known (after connecting).
    DomainsListed {
        id: ConnectionId,
        domains: Vec<DomainInfo>,
    },
    DomainAdded {
        id: ConnectionId,
        domain: DomainInfo,
    },
    DomainChanged {
        id: ConnectionId,
        domain: DomainInfo,
    },
    DomainRemoved {
        id: ConnectionId,
        uuid: String,
    },
    DomainRebooted {
        id: ConnectionId,
        uuid: String,
    },
}

type Notify = Arc<dyn Fn(ModelEvent) + Send + Sync>;

enum Command {
    Reconnect,
    Close,
}

/// Internal: what the worker's inner loop saw.
enum Input {
    Command(Command),
    Backend(BackendEvent),
}

/// A connection handle. Dropping it closes the connection in the
/// background (closing can block on the network; the caller must not).
pub struct Connection {
    id: ConnectionId,
    cmd_tx: Sender<Command>,
    domains: Arc<RwLock<BTreeMap<String, Domain>>>,
    state: Arc<RwLock<(String, ConnectionState)>>,
    worker: Option<JoinHandle<()>>,
}

impl Connection {
    /// Starts connecting to the first of `candidates` that opens.
    pub fn open(
        id: ConnectionId,
        candidates: Vec<String>,
        plugins: Arc<PluginRegistry>,
        notify: impl Fn(ModelEvent) + Send + Sync + 'static,
    ) -> Connection {
        assert!(!candidates.is_empty(), "a connection needs a URI");
        let (cmd_tx, cmd_rx) = crossbeam_channel::unbounded();
        let domains = Arc::new(RwLock::new(BTreeMap::new()));
        let state = Arc::new(RwLock::new((
            candidates[0].clone(),
            ConnectionState::Connecting,
        )));
        let worker = Worker {
            id,
            candidates,
            plugins,
            notify: Arc::new(notify),
            domains: domains.clone(),
            state: state.clone(),
            cmd_rx,
        };
        let handle = std::thread::Builder::new()
            .name(format!("connection-{id}"))
            .spawn(move || worker.run())
            .expect("spawning a connection thread");
        Connection {
            id,
            cmd_tx,
            domains,
            state,
            worker: Some(handle),
        }
    }

    pub fn id(&self) -> ConnectionId {
        self.id
    }

    /// The URI in use and the current state.
    pub fn state(&self) -> (String, ConnectionState) {
        self.state.read().unwrap().clone()
    }

    /// The guests as currently known, by UUID.
    pub fn domains(&self) -> Vec<Domain> {
        self.domains.read().unwrap().values().cloned().collect()
    }

    /// Reconnects a failed or disconnected connection.
    pub fn reconnect(&self) {
        let _ = self.cmd_tx.send(Command::Reconnect);
    }

    /// Closes and waits for the worker (for tests and the CLI; the UI
    /// drops the handle instead).
    pub fn close_and_wait(mut self) {
        let _ = self.cmd_tx.send(Command::Close);
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let _ = self.cmd_tx.send(Command::Close);
    }
}

struct Worker {
    id: ConnectionId,
    candidates: Vec<String>,
    plugins: Arc<PluginRegistry>,
    notify: Notify,
    domains: Arc<RwLock<BTreeMap<String, Domain>>>,
    state: Arc<RwLock<(String, ConnectionState)>>,
    cmd_rx: Receiver<Command>,
}

impl Worker {
    fn set_state(&self, uri: &str, state: ConnectionState) {
        *self.state.write().unwrap() = (uri.to_owned(), state.clone());
        (self.notify)(ModelEvent::State {
            id: self.id,
            uri: uri.to_owned(),
            state,
        });
    }

    fn run(self) {
        loop {
            let ended = match self.connect() {
                Ok((uri, conn, events)) => self.serve(&uri, conn, events),
                Err((uri, reason)) => {
                    self.set_state(&uri, ConnectionState::Failed(reason));
                    Ended::Idle
                }
            };
            if matches!(ended, Ended::Closed) {
                return;
            }
            // Failed or disconnected: wait for the user (or autoconnect).
            match self.cmd_rx.recv() {
                Ok(Command::Reconnect) => continue,
                Ok(Command::Close) | Err(_) => return,
            }
        }
    }

    /// Opens the first candidate that works.
    #[allow(clippy::type_complexity)]
    fn connect(
        &self,
    ) -> Result<(String, BackendConnection, Receiver<BackendEvent>), (String, String)> {
        let mut last = None;
        for uri in &self.candidates {
            self.set_state(uri, ConnectionState::Connecting);
            let Some(backend) = self.plugins.backend_for_uri(uri) else {
                let reason = match uri_scheme(uri) {
                    Some(s) => format!("No loaded plugin handles “{s}” URIs"),
                    None => format!("“{uri}” is not a URI (expected e.g. qemu:///system)"),
                };
                last = Some((uri.clone(), reason));
                continue;
            };
            match backend.open(uri) {
                Ok(conn) => {
                    let (tx, rx) = crossbeam_channel::unbounded();
                    if let Err(e) = conn.subscribe(move |ev| {
                        let _ = tx.send(ev);
                    }) {
                        tracing::warn!("{uri}: no live updates: {e}");
                    }
                    return Ok((uri.clone(), conn, rx));
                }
                Err(e) => {
                    tracing::info!("cannot open {uri}: {e}");
                    last = Some((uri.clone(), e.message));
                }
            }
        }
        Err(last.expect("at least one candidate"))
    }

    fn serve(&self, uri: &str, conn: BackendConnection, events: Receiver<BackendEvent>) -> Ended {
        // Subscribed before listing: an event racing the list is applied
        // after it, and every event is an upsert or a removal, so nothing
        // is lost or doubled.
        let listed = match conn.list_domains() {
            Ok(l) => l,
            Err(e) => {
                self.set_state(uri, ConnectionState::Failed(e.message));
                return Ended::Idle;
            }
        };
        {
            let mut map = self.domains.write().unwrap();
            map.clear();
            for d in &listed {
                map.insert(d.uuid.clone(), Domain::new(d.clone()));
            }
        }
        (self.notify)(ModelEvent::DomainsListed {
            id: self.id,
            domains: listed,
        });
        self.set_state(uri, ConnectionState::Active);

        loop {
            let input = crossbeam_channel::select! {
                recv(self.cmd_rx) -> c => Input::Command(c.unwrap_or(Command::Close)),
                recv(events) -> e => match e {
                    Ok(e) => Input::Backend(e),
                    // The plugin released its sink: treat as a lost connection.
                    Err(_) => Input::Backend(BackendEvent::Disconnected {
                        reason: "the backend stopped sending events".into(),
                    }),
                },
            };
            match input {
                Input::Command(Command::Close) => {
                    drop(conn);
                    self.domains.write().unwrap().clear();
                    self.set_state(uri, ConnectionState::Disconnected("closed".into()));
                    return Ended::Closed;
                }
                Input::Command(Command::Reconnect) => {}
                Input::Backend(BackendEvent::Disconnected { reason }) => {
                    drop(conn);
                    self.domains.write().unwrap().clear();
                    self.set_state(uri, ConnectionState::Disconnected(reason));
                    return Ended::Idle;
                }
                Input::Backend(ev) => self.apply(ev),
            }
        }
    }

    fn apply(&self, ev: BackendEvent) {
        let id = self.id;
        let event = match ev {
            BackendEvent::DomainAdded { domain } | BackendEvent::DomainChanged { domain } => {
                let mut map = self.domains.write().unwrap();
                let existed = map
                    .insert(domain.uuid.clone(), Domain::new(domain.clone()))
                    .is_some();
                if existed {
                    ModelEvent::DomainChanged { id, domain }
                } else {
                    ModelEvent::DomainAdded { id, domain }
                }
            }
            BackendEvent::DomainRemoved { uuid } => {
                if self.domains.write().unwrap().remove(&uuid).is_none() {
                    return;
                }
                ModelEvent::DomainRemoved { id, uuid }
            }
            BackendEvent::DomainRebooted { uuid } => ModelEvent::DomainRebooted { id, uuid },
            BackendEvent::Disconnected { .. } | BackendEvent::Unknown => return,
        };
        (self.notify)(event);
    }
}

enum Ended {
    /// Closed on request: the worker ends.
    Closed,
    /// Failed or lost: the worker waits for a reconnect.
    Idle,
}
