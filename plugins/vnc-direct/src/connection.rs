//! One open vnc-direct connection: the list, each server's probed state,
//! and, once the host subscribes, a watcher thread that re-reads the list
//! and re-probes every server, reporting what changed as events.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use virt_manager_plugin_api::log;
use virt_manager_plugin_api::{
    BackendConnection, BackendEvent, ConnectionInfo, ConsoleEndpoint, Device, DomainAction,
    DomainConfig, DomainInfo, DomainState, ErrorCode, EventSink, PluginError,
};

use crate::probe;
use crate::store::{Server, ServerSpec, Store, StoreError};

impl From<StoreError> for PluginError {
    fn from(e: StoreError) -> Self {
        let code = match e {
            StoreError::Invalid(_) | StoreError::Duplicate(_) => ErrorCode::InvalidArgument,
            StoreError::NotFound(_) => ErrorCode::NotFound,
            _ => ErrorCode::Failed,
        };
        PluginError::new(code, e.to_string())
    }
}

/// What the connection last knew: each server and whether it was up.
type Known = HashMap<String, (Server, DomainState)>;

struct Shared {
    store: Store,
    /// Serializes refreshes with this connection's own changes, so that a
    /// refresh that read the list before a change cannot undo it in
    /// `known` (and report a new server removed).
    changing: Mutex<()>,
    known: Mutex<Known>,
    sink: Mutex<Option<EventSink>>,
    /// Set to stop the watcher; the condvar wakes it early.
    stop: (Mutex<bool>, Condvar),
}

pub struct Connection {
    shared: Arc<Shared>,
    interval: Duration,
    watcher: Mutex<Option<JoinHandle<()>>>,
}

fn domain(server: &Server, state: DomainState) -> DomainInfo {
    DomainInfo {
        uuid: server.uuid.clone(),
        name: server.name.clone(),
        state,
        vcpus: 0,
        memory_kib: 0,
    }
}

/// Probes servers in parallel: one slow server must not delay the rest.
fn probe_all(servers: &[Server]) -> Vec<DomainState> {
    std::thread::scope(|s| {
        let probes: Vec<_> = servers
            .iter()
            .map(|srv| s.spawn(|| probe::is_up(&srv.host, srv.port)))
            .collect();
        probes
            .into_iter()
            .map(|p| match p.join() {
                Ok(true) => DomainState::Running,
                _ => DomainState::Shutoff,
            })
            .collect()
    })
}

impl Shared {
    fn emit(&self, event: BackendEvent) {
        if let Some(sink) = self.sink.lock().unwrap().as_ref() {
            sink.emit(&event);
        }
    }

    /// Re-reads the list and re-probes every server; reports changes.
    fn refresh(&self) -> Result<(), PluginError> {
        let _changing = self.changing.lock().unwrap();
        let servers = self.store.load()?;
        let states = probe_all(&servers);
        let mut events = Vec::new();
        {
            let mut known = self.known.lock().unwrap();
            let mut old = std::mem::take(&mut *known);
            for (server, state) in servers.into_iter().zip(states) {
                let changed = match old.remove(&server.uuid) {
                    None => Some(true),
                    Some(before) => (before != (server.clone(), state)).then_some(false),
                };
                let info = domain(&server, state);
                events.extend(changed.map(|added| match added {
                    true => BackendEvent::DomainAdded { domain: info },
                    false => BackendEvent::DomainChanged { domain: info },
                }));
                known.insert(server.uuid.clone(), (server, state));
            }
            events.extend(
                old.into_keys()
                    .map(|uuid| BackendEvent::DomainRemoved { uuid }),
            );
        }
        for ev in events {
            self.emit(ev);
        }
        Ok(())
    }

    fn watch(&self, interval: Duration) {
        let (stop, wake) = &self.stop;
        loop {
            let stopped = stop.lock().unwrap();
            let (stopped, _) = wake.wait_timeout_while(stopped, interval, |s| !*s).unwrap();
            if *stopped {
                return;
            }
            drop(stopped);
            if let Err(e) = self.refresh() {
                log::warn!("cannot refresh the VNC server list: {e}");
            }
        }
    }
}

impl Connection {
    pub fn open(store: Store, interval: Duration) -> Result<Self, PluginError> {
        // Fail early on an unreadable list, not at the first call.
        store.load()?;
        Ok(Connection {
            shared: Arc::new(Shared {
                store,
                changing: Mutex::new(()),
                known: Mutex::new(Known::new()),
                sink: Mutex::new(None),
                stop: (Mutex::new(false), Condvar::new()),
            }),
            interval,
            watcher: Mutex::new(None),
        })
    }

    fn server(&self, uuid: &str) -> Result<Server, PluginError> {
        self.shared
            .store
            .load()?
            .into_iter()
            .find(|s| s.uuid == uuid)
            .ok_or_else(|| PluginError::new(ErrorCode::NotFound, format!("no VNC server {uuid}")))
    }
}

impl BackendConnection for Connection {
    fn list_domains(&self) -> Result<Vec<DomainInfo>, PluginError> {
        let servers = self.shared.store.load()?;
        let unknown: Vec<Server> = {
            let known = self.shared.known.lock().unwrap();
            servers
                .iter()
                .filter(|s| !known.contains_key(&s.uuid))
                .cloned()
                .collect()
        };
        let probed = probe_all(&unknown);
        let mut known = self.shared.known.lock().unwrap();
        for (server, state) in unknown.into_iter().zip(probed) {
            known.insert(server.uuid.clone(), (server, state));
        }
        Ok(servers
            .iter()
            .map(|s| {
                let state = known.get(&s.uuid).map_or(DomainState::Shutoff, |k| k.1);
                domain(s, state)
            })
            .collect())
    }

    fn subscribe(&self, sink: EventSink) -> Result<(), PluginError> {
        // Replacing the sink drops (releases) the old one.
        *self.shared.sink.lock().unwrap() = Some(sink);
        let mut watcher = self.watcher.lock().unwrap();
        if watcher.is_none() {
            let shared = self.shared.clone();
            let interval = self.interval;
            let thread = std::thread::Builder::new()
                .name("vnc-direct-watch".into())
                .spawn(move || shared.watch(interval))
                .map_err(|e| PluginError::failed(format!("cannot start the watcher: {e}")))?;
            *watcher = Some(thread);
        }
        Ok(())
    }

    fn connection_info(&self) -> Result<ConnectionInfo, PluginError> {
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        Ok(ConnectionInfo {
            hostname: hostname.trim().to_owned(),
            hypervisor: "none (plain VNC servers)".into(),
            library: format!("vnc-direct {}", env!("CARGO_PKG_VERSION")),
            ..Default::default()
        })
    }

    fn define_domain(&self, spec: &serde_json::Value) -> Result<DomainInfo, PluginError> {
        if spec.get("password").is_some() {
            return Err(PluginError::new(
                ErrorCode::InvalidArgument,
                "vnc-direct takes no passwords: the application keeps them in its keyring",
            ));
        }
        let spec: ServerSpec = serde_json::from_value(spec.clone()).map_err(|e| {
            PluginError::new(
                ErrorCode::InvalidArgument,
                format!("a VNC server is {{\"name\", \"host\", \"port\"}}: {e}"),
            )
        })?;
        let _changing = self.shared.changing.lock().unwrap();
        let server = self.shared.store.add(spec)?;
        let state = probe_all(std::slice::from_ref(&server))[0];
        let info = domain(&server, state);
        self.shared
            .known
            .lock()
            .unwrap()
            .insert(server.uuid.clone(), (server, state));
        self.shared.emit(BackendEvent::DomainAdded {
            domain: info.clone(),
        });
        Ok(info)
    }

    fn domain_action(&self, uuid: &str, action: &DomainAction) -> Result<(), PluginError> {
        match action {
            DomainAction::Delete { .. } => {
                let _changing = self.shared.changing.lock().unwrap();
                self.shared.store.remove(uuid)?;
                self.shared.known.lock().unwrap().remove(uuid);
                self.shared.emit(BackendEvent::DomainRemoved {
                    uuid: uuid.to_owned(),
                });
                Ok(())
            }
            other => Err(PluginError::not_supported(format!(
                "a plain VNC server cannot be controlled ({other:?})"
            ))),
        }
    }

    fn domain_config(&self, uuid: &str) -> Result<DomainConfig, PluginError> {
        let s = self.server(uuid)?;
        Ok(DomainConfig {
            uuid: s.uuid.clone(),
            name: s.name.clone(),
            hypervisor: "vnc".into(),
            persistent: true,
            devices: vec![Device {
                kind: "graphics".into(),
                title: "VNC".into(),
                properties: vec![
                    ("Address".into(), s.host.clone()),
                    ("Port".into(), s.port.to_string()),
                ],
            }],
            native: Some(serde_json::to_string(&s).expect("a server serializes")),
            ..Default::default()
        })
    }

    fn open_console(&self, uuid: &str) -> Result<(ConsoleEndpoint, Option<OwnedFd>), PluginError> {
        let s = self.server(uuid)?;
        let endpoint = ConsoleEndpoint {
            protocol: "vnc".into(),
            needs_password: probe::needs_password(&s.host, s.port).unwrap_or(false),
            host: Some(s.host),
            port: Some(s.port),
            // Passwords belong to the host: never here.
            password: None,
        };
        Ok((endpoint, None))
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        *self.shared.stop.0.lock().unwrap() = true;
        self.shared.stop.1.notify_all();
        if let Some(thread) = self.watcher.get_mut().unwrap().take() {
            let _ = thread.join();
        }
        // The ABI: the sink is released before `close` returns.
        self.shared.sink.lock().unwrap().take();
    }
}
