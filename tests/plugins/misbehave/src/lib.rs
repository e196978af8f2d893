//! A plugin that misbehaves on request, for tests/plugin_bad.rs.
//!
//! `VMM_MISBEHAVE` (read at every call, so one build serves every case):
//!
//! - `panic:<call>`: panic in that call (`info`, `open`, `close`,
//!   `list_domains`, `subscribe`, any 1.1 backend call by its vtable name,
//!   or `decoder_info`, `create`, `destroy`, `decode`);
//! - `overclaim`: `decode` claims more bytes than it was given;
//! - `write_outside`: `decode` fills its rectangle, then writes past it
//!   through the safe view (and must get an error);
//! - `event_storm`: `subscribe` emits from 16 threads at once.
//!
//! Otherwise it is a small, correct backend (scheme `misbehave`, one guest)
//! and decoder (encoding 0x564D4D10: 4 bytes, a pixel that fills the
//! rectangle).

use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};

use virt_manager_plugin_api::abi::{PixelFormat, Rect};
use virt_manager_plugin_api::*;

pub const ENCODING: i32 = 0x564D_4D10;
pub const STORM_THREADS: usize = 16;
pub const STORM_EVENTS_PER_THREAD: usize = 500;

fn mode() -> String {
    std::env::var("VMM_MISBEHAVE").unwrap_or_default()
}

/// Panics when the test asked for a panic in `call`.
fn maybe_panic(call: &str) {
    if mode().strip_prefix("panic:") == Some(call) {
        panic!("misbehave: panic in {call}");
    }
}

fn guest() -> DomainInfo {
    DomainInfo {
        uuid: "6d1f4a3e-0c52-4c7b-8f0e-3a9b2c1d0e5f".into(),
        name: "misbehaving-guest".into(),
        state: DomainState::Running,
        vcpus: 1,
        memory_kib: 1024,
    }
}

pub struct Misbehave;

#[derive(Default)]
pub struct Connection {
    sink: Mutex<Option<Arc<EventSink>>>,
}

impl Backend for Misbehave {
    type Connection = Connection;

    fn info() -> BackendInfo {
        maybe_panic("info");
        BackendInfo {
            uri_schemes: vec!["misbehave".into()],
            description: "misbehaves on request".into(),
            capabilities: vec![],
            connect_presets: vec![],
        }
    }

    fn open(_uri: &str) -> Result<Connection, PluginError> {
        maybe_panic("open");
        Ok(Connection::default())
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        maybe_panic("close");
    }
}

/// Emits from many threads at once, then releases the sink after the last
/// emit, as the ABI asks.
fn storm(sink: EventSink) {
    let sink = Arc::new(sink);
    let threads: Vec<_> = (0..STORM_THREADS)
        .map(|t| {
            let sink = sink.clone();
            std::thread::spawn(move || {
                for i in 0..STORM_EVENTS_PER_THREAD {
                    let mut domain = guest();
                    domain.name = format!("storm-{t}-{i}");
                    sink.emit(&BackendEvent::DomainChanged { domain });
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

impl BackendConnection for Connection {
    fn list_domains(&self) -> Result<Vec<DomainInfo>, PluginError> {
        maybe_panic("list_domains");
        Ok(vec![guest()])
    }

    fn subscribe(&self, sink: EventSink) -> Result<(), PluginError> {
        maybe_panic("subscribe");
        if mode() == "event_storm" {
            storm(sink);
            return Ok(());
        }
        *self.sink.lock().unwrap() = Some(Arc::new(sink));
        Ok(())
    }

    fn connection_info(&self) -> Result<ConnectionInfo, PluginError> {
        maybe_panic("connection_info");
        Ok(ConnectionInfo::default())
    }

    fn domain_stats(&self, _request: &StatsRequest) -> Result<Vec<DomainStats>, PluginError> {
        maybe_panic("domain_stats");
        Ok(vec![])
    }

    fn host_stats(&self) -> Result<HostStats, PluginError> {
        maybe_panic("host_stats");
        Ok(HostStats::default())
    }

    fn domain_action(&self, _uuid: &str, _action: &DomainAction) -> Result<(), PluginError> {
        maybe_panic("domain_action");
        Ok(())
    }

    fn domain_config(&self, _uuid: &str) -> Result<DomainConfig, PluginError> {
        maybe_panic("domain_config");
        Ok(DomainConfig::default())
    }

    fn apply_domain_config(
        &self,
        _uuid: &str,
        _changes: &ConfigChanges,
    ) -> Result<ApplyResult, PluginError> {
        maybe_panic("apply_domain_config");
        Ok(ApplyResult::default())
    }

    fn define_domain(&self, _spec: &serde_json::Value) -> Result<DomainInfo, PluginError> {
        maybe_panic("define_domain");
        Ok(guest())
    }

    fn open_console(&self, _uuid: &str) -> Result<(ConsoleEndpoint, Option<OwnedFd>), PluginError> {
        maybe_panic("open_console");
        Ok((ConsoleEndpoint::default(), None))
    }

    fn send_keys(&self, _uuid: &str, _keys: &KeySequence) -> Result<(), PluginError> {
        maybe_panic("send_keys");
        Ok(())
    }

    fn screenshot(&self, _uuid: &str) -> Result<Vec<u8>, PluginError> {
        maybe_panic("screenshot");
        Ok(b"P6\n1 1\n255\n\0\0\0".to_vec())
    }

    fn list_networks(&self) -> Result<Vec<NetworkInfo>, PluginError> {
        maybe_panic("list_networks");
        Ok(vec![])
    }

    fn network_action(&self, _name: &str, _action: &NetworkAction) -> Result<(), PluginError> {
        maybe_panic("network_action");
        Ok(())
    }

    fn list_storage_pools(&self) -> Result<Vec<StoragePoolInfo>, PluginError> {
        maybe_panic("list_storage_pools");
        Ok(vec![])
    }

    fn storage_pool_action(
        &self,
        _name: &str,
        _action: &StoragePoolAction,
    ) -> Result<(), PluginError> {
        maybe_panic("storage_pool_action");
        Ok(())
    }
}

pub struct Decoders;

struct Fill;

impl DecoderLibrary for Decoders {
    fn encodings() -> Vec<EncodingInfo> {
        maybe_panic("decoder_info");
        vec![EncodingInfo {
            encoding: ENCODING,
            name: "x-misbehave".into(),
        }]
    }

    fn create(_encoding: i32, _format: &PixelFormat) -> Result<Box<dyn Decoder>, PluginError> {
        maybe_panic("create");
        Ok(Box::new(Fill))
    }
}

impl Drop for Fill {
    fn drop(&mut self) {
        maybe_panic("destroy");
    }
}

impl Decoder for Fill {
    fn decode(
        &mut self,
        _rect: &Rect,
        data: &[u8],
        target: &mut Target<'_>,
    ) -> Result<Decoded, PluginError> {
        maybe_panic("decode");
        let Some(pixel) = data.get(..4) else {
            return Ok(Decoded::NeedMore(4 - data.len()));
        };
        let pixel = u32::from_ne_bytes(pixel.try_into().unwrap());
        target.fill(0, 0, target.width(), target.height(), pixel)?;
        match mode().as_str() {
            "overclaim" => Ok(Decoded::Done(data.len() + 100)),
            "write_outside" => {
                // One pixel right of the rectangle, then one below it: both
                // must be refused by the bounds-checked view.
                let (w, h) = (target.width(), target.height());
                let right = target.put(w, 0, 0x00de_adbe);
                let below = target.fill(0, h, 1, 1, 0x00de_adbe);
                assert!(
                    right.is_err() && below.is_err(),
                    "the safe view let a write through"
                );
                right?;
                Ok(Decoded::Done(4))
            }
            _ => Ok(Decoded::Done(4)),
        }
    }
}

virt_manager_plugin_api::export_plugin! {
    name: "misbehave",
    version: env!("CARGO_PKG_VERSION"),
    backend: Misbehave,
    decoders: Decoders,
}
