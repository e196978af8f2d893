//! The public D-Bus API (`org.virt_manager.VirtManager1`) and the GNOME
//! Shell search provider, served with zbus on the session bus.
//!
//! Every method turns into an [`EngineMsg::Api`] request: the same engine
//! code the matching button runs; the method's reply waits for the
//! engine's answer. The service runs on zbus's own executor thread, never
//! on the GTK main thread. docs/dbus.md documents the API.

mod error;
mod search_provider;
mod service;

use relm4::tokio::sync::oneshot;

use crate::api::{ApiRequest, ApiResponse};
use crate::engine::EngineMsg;

pub use error::DbusError;
pub use search_provider::SearchProvider;
pub use service::Service;

pub const BUS_NAME: &str = "org.virt_manager.VirtManager1";
pub const OBJECT_PATH: &str = "/org/virt_manager/VirtManager1";
pub const SEARCH_PROVIDER_PATH: &str = "/org/virt_manager/VirtManager1/SearchProvider";

/// Sends one request to the engine and waits for its answer.
async fn call(
    engine: &relm4::Sender<EngineMsg>,
    request: ApiRequest,
) -> Result<ApiResponse, DbusError> {
    let (tx, rx) = oneshot::channel();
    engine.emit(EngineMsg::Api(request, tx));
    match rx.await {
        Ok(result) => result.map_err(DbusError::from),
        Err(_) => Err(DbusError::Failed("the application is shutting down".into())),
    }
}

/// Connects to the session bus, takes the API's name and serves both
/// objects; then forwards the engine's signals until the process ends.
/// Runs on a thread of its own.
pub fn serve(engine: relm4::Sender<EngineMsg>) {
    let conn = zbus::blocking::connection::Builder::session()
        .and_then(|b| b.name(BUS_NAME))
        .and_then(|b| b.serve_at(OBJECT_PATH, Service::new(engine.clone())))
        .and_then(|b| b.serve_at(SEARCH_PROVIDER_PATH, SearchProvider::new(engine.clone())))
        .and_then(|b| b.build());
    let conn = match conn {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("the D-Bus service is not available: {e}");
            return;
        }
    };
    tracing::info!("serving {BUS_NAME} on the session bus");
    let (tx, rx) = flume::unbounded();
    engine.emit(EngineMsg::ServiceReady(tx));
    service::forward_signals(&conn, rx);
}
