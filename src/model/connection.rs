//! One hypervisor connection and its guests, kept current on a worker.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use virt_manager_plugin_api::{
    capability, BackendEvent, BackendInfo, ConnectionInfo, DomainInfo, ErrorCode, PluginError,
    StatsRequest,
};

use super::domain::Domain;
use super::stats::{History, HostSample, Sample, Sampler};
use crate::i18n::gettext_f;
use crate::plugin_host::{uri_scheme, BackendConnection, PluginRegistry};

/// How a connection behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionOptions {
    pub stats: StatsConfig,
    /// Connect at once (else wait, disconnected, for a reconnect).
    pub connect_now: bool,
    /// Reconnect by itself when the connection drops (autoconnect).
    pub auto_reconnect: bool,
}

impl Default for ConnectionOptions {
    fn default() -> Self {
        ConnectionOptions {
            stats: StatsConfig::default(),
            connect_now: true,
            auto_reconnect: false,
        }
    }
}

/// How and what to sample (from the preferences).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StatsConfig {
    pub interval: Duration,
    /// Samples kept per guest.
    pub history: usize,
    pub request: StatsRequest,
}

impl Default for StatsConfig {
    fn default() -> Self {
        StatsConfig {
            interval: Duration::from_secs(3),
            history: 120,
            request: StatsRequest {
                cpu: true,
                ..Default::default()
            },
        }
    }
}

impl StatsConfig {
    /// The shortest interval allowed: a bulk call per second is the most a
    /// busy host should pay for.
    pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
}

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
    /// What the backend offers and what the host is, once per connect.
    Capabilities {
        id: ConnectionId,
        backend: BackendInfo,
        host: Option<ConnectionInfo>,
    },
    /// One statistics tick: a sample for every guest that has one.
    Stats {
        id: ConnectionId,
        domains: Vec<(String, Sample)>,
        host: Option<HostSample>,
    },
}

type Notify = Arc<dyn Fn(ModelEvent) + Send + Sync>;

enum Command {
    Reconnect,
    /// Close the backend connection but keep the handle (it can reconnect).
    Disconnect,
    Close,
    SetStats(StatsConfig),
}

/// Internal: what the worker's inner loop saw.
enum Input {
    Command(Command),
    Backend(BackendEvent),
    Tick,
}

/// A connection handle. Dropping it closes the connection in the
/// background (closing can block on the network; the caller must not).
pub struct Connection {
    id: ConnectionId,
    cmd_tx: Sender<Command>,
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
}

/// What the worker publishes for the handle's readers.
struct Shared {
    domains: RwLock<BTreeMap<String, Domain>>,
    state: RwLock<(String, ConnectionState)>,
    /// The open backend connection, for requests on other threads.
    current: Mutex<Option<Arc<BackendConnection>>>,
    backend_info: RwLock<Option<BackendInfo>>,
    host_info: RwLock<Option<ConnectionInfo>>,
    host_history: RwLock<History<HostSample>>,
    stats: RwLock<StatsConfig>,
}

impl Connection {
    /// Starts connecting to the first of `candidates` that opens.
    pub fn open(
        id: ConnectionId,
        candidates: Vec<String>,
        plugins: Arc<PluginRegistry>,
        notify: impl Fn(ModelEvent) + Send + Sync + 'static,
    ) -> Connection {
        Self::open_with(
            id,
            candidates,
            plugins,
            ConnectionOptions::default(),
            notify,
        )
    }

    /// As [`Connection::open`], sampling statistics as `stats` says.
    pub fn open_with(
        id: ConnectionId,
        candidates: Vec<String>,
        plugins: Arc<PluginRegistry>,
        options: ConnectionOptions,
        notify: impl Fn(ModelEvent) + Send + Sync + 'static,
    ) -> Connection {
        assert!(!candidates.is_empty(), "a connection needs a URI");
        let stats = options.stats;
        let (cmd_tx, cmd_rx) = crossbeam_channel::unbounded();
        let shared = Arc::new(Shared {
            domains: RwLock::new(BTreeMap::new()),
            state: RwLock::new((candidates[0].clone(), ConnectionState::Connecting)),
            current: Mutex::new(None),
            backend_info: RwLock::new(None),
            host_info: RwLock::new(None),
            host_history: RwLock::new(History::new(stats.history)),
            stats: RwLock::new(stats),
        });
        let worker = Worker {
            id,
            candidates,
            plugins,
            notify: Arc::new(notify),
            shared: shared.clone(),
            cmd_rx,
            options,
        };
        let handle = std::thread::Builder::new()
            .name(format!("connection-{id}"))
            .spawn(move || worker.run())
            .expect("spawning a connection thread");
        Connection {
            id,
            cmd_tx,
            shared,
            worker: Some(handle),
        }
    }

    pub fn id(&self) -> ConnectionId {
        self.id
    }

    /// The URI in use and the current state.
    pub fn state(&self) -> (String, ConnectionState) {
        self.shared.state.read().unwrap().clone()
    }

    /// The guests as currently known, by UUID.
    pub fn domains(&self) -> Vec<Domain> {
        self.shared
            .domains
            .read()
            .unwrap()
            .values()
            .cloned()
            .collect()
    }

    /// One guest, by UUID.
    pub fn domain(&self, uuid: &str) -> Option<Domain> {
        self.shared.domains.read().unwrap().get(uuid).cloned()
    }

    /// A guest by UUID first, then by name (as virsh resolves names).
    pub fn find_domain(&self, uuid_or_name: &str) -> Option<Domain> {
        let domains = self.shared.domains.read().unwrap();
        domains
            .get(uuid_or_name)
            .or_else(|| domains.get(&uuid_or_name.to_ascii_lowercase()))
            .or_else(|| domains.values().find(|d| d.info.name == uuid_or_name))
            .cloned()
    }

    /// What the backend of the open connection offers.
    pub fn backend_info(&self) -> Option<BackendInfo> {
        self.shared.backend_info.read().unwrap().clone()
    }

    /// What the host is (hypervisor, CPUs, memory), if the backend says.
    pub fn host_info(&self) -> Option<ConnectionInfo> {
        self.shared.host_info.read().unwrap().clone()
    }

    pub fn host_history(&self) -> History<HostSample> {
        self.shared.host_history.read().unwrap().clone()
    }

    /// Changes what is sampled and how often, from the next tick on.
    pub fn set_stats(&self, config: StatsConfig) {
        let _ = self.cmd_tx.send(Command::SetStats(config));
    }

    /// Runs a blocking backend call on a thread of its own and hands the
    /// result to `done` there. Fails with `Disconnected` when the
    /// connection is not open.
    pub fn request<R: Send + 'static>(
        &self,
        call: impl FnOnce(&BackendConnection) -> Result<R, PluginError> + Send + 'static,
        done: impl FnOnce(Result<R, PluginError>) + Send + 'static,
    ) {
        let current = self.shared.current.lock().unwrap().clone();
        let spawned = std::thread::Builder::new()
            .name("backend-request".into())
            .spawn(move || {
                let result = match current {
                    Some(conn) => call(&conn),
                    None => Err(PluginError::new(
                        ErrorCode::Disconnected,
                        "the connection is not open",
                    )),
                };
                done(result);
            });
        if let Err(e) = spawned {
            tracing::error!("cannot start a request thread: {e}");
        }
    }

    /// Closes the backend connection; [`Connection::reconnect`] reopens it.
    pub fn disconnect(&self) {
        let _ = self.cmd_tx.send(Command::Disconnect);
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
    options: ConnectionOptions,
    id: ConnectionId,
    candidates: Vec<String>,
    plugins: Arc<PluginRegistry>,
    notify: Notify,
    shared: Arc<Shared>,
    cmd_rx: Receiver<Command>,
}

impl Worker {
    fn set_state(&self, uri: &str, state: ConnectionState) {
        *self.shared.state.write().unwrap() = (uri.to_owned(), state.clone());
        (self.notify)(ModelEvent::State {
            id: self.id,
            uri: uri.to_owned(),
            state,
        });
    }

    fn run(self) {
        if !self.options.connect_now {
            let uri = self.candidates[0].clone();
            self.set_state(&uri, ConnectionState::Disconnected("closed".into()));
            if !self.wait_for_reconnect(None) {
                return;
            }
        }
        let mut retry = AUTO_RECONNECT_FIRST;
        loop {
            let ended = match self.connect() {
                Ok((uri, conn, events)) => self.serve(&uri, conn, events),
                Err((uri, reason)) => {
                    self.set_state(&uri, ConnectionState::Failed(reason));
                    Ended::Idle
                }
            };
            let timeout = match ended {
                Ended::Closed => return,
                Ended::Served => {
                    retry = AUTO_RECONNECT_FIRST;
                    None
                }
                Ended::Idle => None,
                Ended::Dropped => self.options.auto_reconnect.then_some(retry),
            };
            // Failed or disconnected: wait for the user (or, for an
            // autoconnect connection that dropped, retry with backoff).
            if !self.wait_for_reconnect(timeout) {
                return;
            }
            retry = (retry * 2).min(AUTO_RECONNECT_MAX);
        }
    }

    /// Waits for a reconnect request (or `timeout`); false when closed.
    fn wait_for_reconnect(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let cmd = match deadline {
                Some(d) => match self.cmd_rx.recv_deadline(d) {
                    Ok(c) => c,
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => return true,
                    Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return false,
                },
                None => match self.cmd_rx.recv() {
                    Ok(c) => c,
                    Err(_) => return false,
                },
            };
            match cmd {
                Command::Reconnect => return true,
                Command::Disconnect => {}
                Command::SetStats(c) => self.apply_stats_config(c),
                Command::Close => return false,
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
                    Some(s) => {
                        gettext_f("No loaded plugin handles “{scheme}” URIs", &[("scheme", s)])
                    }
                    None => gettext_f(
                        "“{uri}” is not a URI (expected e.g. qemu:///system)",
                        &[("uri", uri)],
                    ),
                };
                last = Some((uri.clone(), reason));
                continue;
            };
            let started = Instant::now();
            match backend.open(uri) {
                Ok(conn) => {
                    tracing::debug!("{uri}: opened in {:.0?}", started.elapsed());
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

    fn apply_stats_config(&self, config: StatsConfig) {
        let config = StatsConfig {
            interval: config.interval.max(StatsConfig::MIN_INTERVAL),
            ..config
        };
        *self.shared.stats.write().unwrap() = config;
        self.shared
            .host_history
            .write()
            .unwrap()
            .set_capacity(config.history);
        for d in self.shared.domains.write().unwrap().values_mut() {
            d.history.set_capacity(config.history);
        }
    }

    fn history_len(&self) -> usize {
        self.shared.stats.read().unwrap().history
    }

    fn serve(&self, uri: &str, conn: BackendConnection, events: Receiver<BackendEvent>) -> Ended {
        let started = Instant::now();
        let conn = Arc::new(conn);
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
        let history = self.history_len();
        {
            let mut map = self.shared.domains.write().unwrap();
            map.clear();
            for d in &listed {
                map.insert(d.uuid.clone(), Domain::new(d.clone(), history));
            }
        }
        let backend = conn.plugin().info().clone();
        let host = if backend.has(capability::HOST_INFO) {
            conn.connection_info()
                .map_err(|e| tracing::info!("{uri}: no host information: {e}"))
                .ok()
        } else {
            None
        };
        *self.shared.backend_info.write().unwrap() = Some(backend.clone());
        *self.shared.host_info.write().unwrap() = host.clone();
        *self.shared.current.lock().unwrap() = Some(conn.clone());
        (self.notify)(ModelEvent::DomainsListed {
            id: self.id,
            domains: listed,
        });
        (self.notify)(ModelEvent::Capabilities {
            id: self.id,
            backend: backend.clone(),
            host: host.clone(),
        });
        self.set_state(uri, ConnectionState::Active);

        let sampling = backend.has(capability::STATISTICS);
        let host_cpus = host.as_ref().map_or(0, |h| h.cpus);
        let mut sampler = Sampler::default();
        let mut interval = self.shared.stats.read().unwrap().interval;
        let mut ticker = if sampling {
            crossbeam_channel::tick(interval)
        } else {
            crossbeam_channel::never()
        };
        if sampling {
            self.sample(&conn, &mut sampler, host_cpus);
        }
        tracing::debug!(
            "{uri}: {} guests listed and sampled in {:.0?}",
            self.shared.domains.read().unwrap().len(),
            started.elapsed()
        );
        // Opening a big host (the test driver parses its whole XML file)
        // leaves megabytes of freed parser memory in this thread's arena.
        release_free_memory();

        let mut ticks = 0u32;
        let ended = loop {
            let input = crossbeam_channel::select! {
                recv(self.cmd_rx) -> c => Input::Command(c.unwrap_or(Command::Close)),
                recv(events) -> e => match e {
                    Ok(e) => Input::Backend(e),
                    // The plugin released its sink: treat as a lost connection.
                    Err(_) => Input::Backend(BackendEvent::Disconnected {
                        reason: "the backend stopped sending events".into(),
                    }),
                },
                recv(ticker) -> _ => Input::Tick,
            };
            match input {
                Input::Command(Command::Close) => {
                    break (
                        ConnectionState::Disconnected("closed".into()),
                        Ended::Closed,
                    );
                }
                Input::Command(Command::Reconnect) => {}
                Input::Command(Command::Disconnect) => {
                    break (
                        ConnectionState::Disconnected("closed".into()),
                        Ended::Served,
                    );
                }
                Input::Command(Command::SetStats(c)) => {
                    self.apply_stats_config(c);
                    let new = self.shared.stats.read().unwrap().interval;
                    if sampling && new != interval {
                        interval = new;
                        ticker = crossbeam_channel::tick(interval);
                    }
                }
                Input::Backend(BackendEvent::Disconnected { reason }) => {
                    break (ConnectionState::Disconnected(reason), Ended::Dropped);
                }
                Input::Backend(ev) => self.apply(ev),
                Input::Tick => {
                    self.sample(&conn, &mut sampler, host_cpus);
                    ticks += 1;
                    if ticks == 2 {
                        // The first list has been handed over and dropped
                        // by now: return what it left free as well.
                        release_free_memory();
                    }
                }
            }
        };
        *self.shared.current.lock().unwrap() = None;
        drop(conn);
        self.shared.domains.write().unwrap().clear();
        self.set_state(uri, ended.0);
        ended.1
    }

    /// One statistics tick: one bulk call for all guests, one for the host.
    fn sample(&self, conn: &BackendConnection, sampler: &mut Sampler, host_cpus: u32) {
        let request = self.shared.stats.read().unwrap().request;
        let now = Instant::now();
        let stats = match conn.domain_stats(&request) {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!("statistics: {e}");
                return;
            }
        };
        let host = match conn.host_stats() {
            Ok(h) => Some(sampler.host_sample(&h)),
            Err(e) if e.code == ErrorCode::NotSupported => None,
            Err(e) => {
                tracing::debug!("host statistics: {e}");
                None
            }
        };
        let host_cpus = if host_cpus > 0 { host_cpus } else { 1 };
        let mut samples = Vec::with_capacity(stats.len());
        {
            let mut map = self.shared.domains.write().unwrap();
            for st in &stats {
                let listed_vcpus = map.get(&st.uuid).map(|d| d.info.vcpus);
                let sample = sampler.sample_with(st, listed_vcpus, now, host_cpus);
                if let Some(d) = map.get_mut(&st.uuid) {
                    d.history.push(sample);
                    samples.push((st.uuid.clone(), sample));
                }
            }
            sampler.retain(|uuid| map.contains_key(uuid));
        }
        if let Some(h) = host {
            self.shared.host_history.write().unwrap().push(h);
        }
        (self.notify)(ModelEvent::Stats {
            id: self.id,
            domains: samples,
            host,
        });
    }

    fn apply(&self, ev: BackendEvent) {
        let id = self.id;
        let event = match ev {
            BackendEvent::DomainAdded { domain } | BackendEvent::DomainChanged { domain } => {
                let history = self.history_len();
                let mut map = self.shared.domains.write().unwrap();
                match map.get_mut(&domain.uuid) {
                    Some(existing) => {
                        existing.info = domain.clone();
                        ModelEvent::DomainChanged { id, domain }
                    }
                    None => {
                        map.insert(domain.uuid.clone(), Domain::new(domain.clone(), history));
                        ModelEvent::DomainAdded { id, domain }
                    }
                }
            }
            BackendEvent::DomainRemoved { uuid } => {
                if self.shared.domains.write().unwrap().remove(&uuid).is_none() {
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
    /// Disconnected on request: waits for a reconnect.
    Served,
    /// Could not connect: waits for a reconnect.
    Idle,
    /// Lost while connected: waits for a reconnect, or retries by itself
    /// for an autoconnect connection.
    Dropped,
}

/// First and longest wait before an autoconnect connection retries.
const AUTO_RECONNECT_FIRST: Duration = Duration::from_secs(2);
const AUTO_RECONNECT_MAX: Duration = Duration::from_secs(60);

/// Hands the heap's free pages back to the system (glibc keeps them in its
/// arenas otherwise): called once a big load is done, so what the process
/// holds is what it uses.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks and trims the allocator's own arenas.
    unsafe {
        libc::malloc_trim(0);
    }
}
