//! One libvirt connection as the plugin boundary sees it.
//!
//! Events: libvirt's callbacks only queue the UUID of the guest they are
//! about; a worker thread of this connection then looks the guest up and
//! emits added / changed / removed to the host. Looking guests up in the
//! callback itself would block libvirt's event loop on RPCs. Where event
//! registration fails (a driver without events), the same worker polls the
//! guest list every few seconds and emits the differences, as the original
//! virt-manager did for every driver.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::{Receiver, Sender};
use virt::connect::Connect;
use virt::domain::Domain;
use virt_manager_plugin_api::{
    ApplyResult, BackendConnection, BackendEvent, ConfigChanges, ConnectionInfo, ConsoleEndpoint,
    DomainAction, DomainConfig, DomainInfo, DomainStats, EventSink, HostStats, KeySequence,
    NetworkAction, NetworkInfo, PluginError, StatsRequest, StoragePoolAction, StoragePoolInfo,
};

use crate::convert::{domain_info, plugin_error};
use crate::events::{CloseRegistration, DomainEvent, DomainEventRegistration};
use crate::stats::StatsSupport;
use crate::{config, console, host, lifecycle, networks, stats, storage};

/// How often guests are listed when the driver has no events.
const POLL_INTERVAL: Duration = Duration::from_secs(3);

enum Work {
    Domain(String),
    Reboot(String),
    Closed(String),
    Stop,
}

struct Shared {
    conn: Connect,
    /// The guests the host has been told about, by UUID.
    known: Mutex<HashMap<String, DomainInfo>>,
    sink: Mutex<Option<EventSink>>,
}

impl Shared {
    fn emit(&self, event: BackendEvent) {
        if let Some(sink) = self.sink.lock().unwrap().as_ref() {
            sink.emit(&event);
        }
    }

    /// Looks a guest up again and emits what changed about it.
    fn refresh(&self, uuid: &str) {
        let fresh = match Domain::lookup_by_uuid_string(&self.conn, uuid) {
            Ok(dom) => match domain_info(&dom) {
                Ok(info) => Some(info),
                Err(e) if e.code == virt_manager_plugin_api::ErrorCode::NotFound => None,
                Err(e) => {
                    log::debug!("refreshing {uuid}: {e}");
                    return;
                }
            },
            Err(_) => None,
        };
        let mut known = self.known.lock().unwrap();
        let event = match fresh {
            Some(info) => match known.insert(uuid.to_owned(), info.clone()) {
                None => BackendEvent::DomainAdded { domain: info },
                Some(old) if old != info => BackendEvent::DomainChanged { domain: info },
                Some(_) => return,
            },
            None => match known.remove(uuid) {
                Some(_) => BackendEvent::DomainRemoved {
                    uuid: uuid.to_owned(),
                },
                None => return,
            },
        };
        drop(known);
        self.emit(event);
    }

    fn list(&self) -> Result<Vec<DomainInfo>, PluginError> {
        let domains = self.conn.list_all_domains(0).map_err(plugin_error)?;
        let mut infos = Vec::with_capacity(domains.len());
        for dom in &domains {
            match domain_info(dom) {
                Ok(info) => infos.push(info),
                // Gone between listing and asking: skip it.
                Err(e) if e.code == virt_manager_plugin_api::ErrorCode::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(infos)
    }

    /// Lists guests and emits the differences from what the host knows.
    fn poll(&self) {
        let listed = match self.list() {
            Ok(l) => l,
            Err(e) => {
                log::debug!("polling guests: {e}");
                return;
            }
        };
        let mut events = Vec::new();
        {
            let mut known = self.known.lock().unwrap();
            let mut seen = HashMap::with_capacity(listed.len());
            for info in listed {
                match known.get(&info.uuid) {
                    None => events.push(BackendEvent::DomainAdded {
                        domain: info.clone(),
                    }),
                    Some(old) if *old != info => events.push(BackendEvent::DomainChanged {
                        domain: info.clone(),
                    }),
                    Some(_) => {}
                }
                seen.insert(info.uuid.clone(), info);
            }
            for uuid in known.keys() {
                if !seen.contains_key(uuid) {
                    events.push(BackendEvent::DomainRemoved { uuid: uuid.clone() });
                }
            }
            *known = seen;
        }
        for ev in events {
            self.emit(ev);
        }
    }
}

pub struct LibvirtConnection {
    shared: Arc<Shared>,
    /// Which statistics groups this driver has shown it returns.
    stats_support: StatsSupport,
    work_tx: Sender<Work>,
    worker: Option<JoinHandle<()>>,
    events: Option<DomainEventRegistration>,
    close_cb: Option<CloseRegistration>,
}

impl LibvirtConnection {
    pub fn open(uri: &str) -> Result<Self, PluginError> {
        crate::runtime::init();
        let conn = crate::auth::open(uri).map_err(plugin_error)?;
        // Remote connections: notice a dead daemon within ~15 s. Local
        // drivers do not support keepalive; that is not an error.
        if let Err(e) = conn.set_keep_alive(5, 3) {
            log::debug!("keepalive on {uri}: {}", e.message());
        }
        let shared = Arc::new(Shared {
            conn,
            known: Mutex::new(HashMap::new()),
            sink: Mutex::new(None),
        });
        let (work_tx, work_rx) = crossbeam_channel::unbounded();

        let tx = work_tx.clone();
        let events = match DomainEventRegistration::register(&shared.conn, move |ev| {
            let work = match ev {
                DomainEvent::Lifecycle { uuid, .. } => Work::Domain(uuid),
                DomainEvent::Reboot { uuid } => Work::Reboot(uuid),
            };
            let _ = tx.send(work);
        }) {
            Ok(reg) => Some(reg),
            Err(e) => {
                log::info!(
                    "{uri} has no domain events ({}); polling every {POLL_INTERVAL:?}",
                    e.message()
                );
                None
            }
        };
        let tx = work_tx.clone();
        let close_cb = CloseRegistration::register(&shared.conn, move |reason| {
            let _ = tx.send(Work::Closed(reason.describe()));
        })
        .map_err(|e| log::debug!("{uri}: no close callback: {}", e.message()))
        .ok();

        let poll = events.is_none();
        let worker_shared = shared.clone();
        let worker = std::thread::Builder::new()
            .name("libvirt-conn".into())
            .spawn(move || worker(worker_shared, work_rx, poll))
            .map_err(|e| PluginError::failed(format!("cannot start a worker thread: {e}")))?;

        Ok(LibvirtConnection {
            shared,
            stats_support: StatsSupport::default(),
            work_tx,
            worker: Some(worker),
            events,
            close_cb,
        })
    }
}

fn worker(shared: Arc<Shared>, rx: Receiver<Work>, poll: bool) {
    let ticker = if poll {
        crossbeam_channel::tick(POLL_INTERVAL)
    } else {
        crossbeam_channel::never()
    };
    loop {
        crossbeam_channel::select! {
            recv(rx) -> work => match work {
                Ok(Work::Domain(uuid)) => shared.refresh(&uuid),
                Ok(Work::Reboot(uuid)) => {
                    shared.emit(BackendEvent::DomainRebooted { uuid: uuid.clone() });
                    shared.refresh(&uuid);
                }
                Ok(Work::Closed(reason)) => shared.emit(BackendEvent::Disconnected { reason }),
                Ok(Work::Stop) | Err(_) => break,
            },
            recv(ticker) -> _ => shared.poll(),
        }
    }
}

impl BackendConnection for LibvirtConnection {
    fn list_domains(&self) -> Result<Vec<DomainInfo>, PluginError> {
        let infos = self.shared.list()?;
        let mut known = self.shared.known.lock().unwrap();
        *known = infos.iter().map(|i| (i.uuid.clone(), i.clone())).collect();
        Ok(infos)
    }

    fn subscribe(&self, sink: EventSink) -> Result<(), PluginError> {
        // The old sink, if any, is released when it drops here.
        let _old = self.shared.sink.lock().unwrap().replace(sink);
        Ok(())
    }

    fn connection_info(&self) -> Result<ConnectionInfo, PluginError> {
        host::connection_info(self.conn())
    }

    fn domain_stats(&self, request: &StatsRequest) -> Result<Vec<DomainStats>, PluginError> {
        stats::domain_stats(self.conn(), &self.stats_support, request)
    }

    fn host_stats(&self) -> Result<HostStats, PluginError> {
        host::host_stats(self.conn())
    }

    fn domain_action(&self, uuid: &str, action: &DomainAction) -> Result<(), PluginError> {
        lifecycle::domain_action(self.conn(), uuid, action)
    }

    fn domain_config(&self, uuid: &str) -> Result<DomainConfig, PluginError> {
        config::domain_config(self.conn(), uuid)
    }

    fn apply_domain_config(
        &self,
        uuid: &str,
        changes: &ConfigChanges,
    ) -> Result<ApplyResult, PluginError> {
        config::apply_domain_config(self.conn(), uuid, changes)
    }

    fn define_domain(&self, spec: &serde_json::Value) -> Result<DomainInfo, PluginError> {
        config::define_domain(self.conn(), spec)
    }

    fn open_console(&self, uuid: &str) -> Result<(ConsoleEndpoint, Option<OwnedFd>), PluginError> {
        console::open_console(self.conn(), uuid)
    }

    fn send_keys(&self, uuid: &str, keys: &KeySequence) -> Result<(), PluginError> {
        console::send_keys(self.conn(), uuid, keys)
    }

    fn screenshot(&self, uuid: &str) -> Result<Vec<u8>, PluginError> {
        console::screenshot(self.conn(), uuid)
    }

    fn list_networks(&self) -> Result<Vec<NetworkInfo>, PluginError> {
        networks::list_networks(self.conn())
    }

    fn network_action(&self, name: &str, action: &NetworkAction) -> Result<(), PluginError> {
        networks::network_action(self.conn(), name, action)
    }

    fn list_storage_pools(&self) -> Result<Vec<StoragePoolInfo>, PluginError> {
        storage::list_storage_pools(self.conn())
    }

    fn storage_pool_action(
        &self,
        name: &str,
        action: &StoragePoolAction,
    ) -> Result<(), PluginError> {
        storage::storage_pool_action(self.conn(), name, action)
    }
}

impl LibvirtConnection {
    /// The underlying libvirt connection, for Rust callers (tests, tools)
    /// that need a call the plugin API does not offer.
    pub fn libvirt(&self) -> &Connect {
        &self.shared.conn
    }

    /// The libvirt connection, for a call made on the calling (host
    /// worker) thread. libxml2 is quieted on that thread first: libvirt
    /// parses XML there.
    fn conn(&self) -> &Connect {
        crate::runtime::quiet_libxml2_on_this_thread();
        &self.shared.conn
    }
}

impl Drop for LibvirtConnection {
    fn drop(&mut self) {
        // No new callbacks, then no worker, then no sink: after this the
        // host's sink is released and never called again.
        self.events.take();
        self.close_cb.take();
        let _ = self.work_tx.send(Work::Stop);
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
        self.shared.sink.lock().unwrap().take();
        // The connection itself closes when `Shared` drops, right after.
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // `Connect` has no Drop of its own; registrations and domains hold
        // their own references, so this only drops ours.
        if let Err(e) = self.conn.close() {
            log::debug!("closing connection: {}", e.message());
        }
    }
}
