//! Typed D-Bus errors: `org.virt_manager.VirtManager1.Error.*`, each
//! carrying the backend's or the engine's message.

use crate::api::ApiError;

#[derive(Debug, zbus::DBusError)]
#[zbus(prefix = "org.virt_manager.VirtManager1.Error")]
pub enum DbusError {
    #[zbus(error)]
    ZBus(zbus::Error),
    NoSuchConnection(String),
    NoSuchDomain(String),
    InvalidArgs(String),
    NotSupported(String),
    Failed(String),
    Cancelled(String),
}

impl From<ApiError> for DbusError {
    fn from(e: ApiError) -> Self {
        match e {
            ApiError::NoSuchConnection(m) => DbusError::NoSuchConnection(m),
            ApiError::NoSuchDomain(m) => DbusError::NoSuchDomain(m),
            ApiError::InvalidArgs(m) => DbusError::InvalidArgs(m),
            ApiError::NotSupported(m) => DbusError::NotSupported(m),
            ApiError::Failed(m) => DbusError::Failed(m),
            ApiError::Cancelled(m) => DbusError::Cancelled(m),
        }
    }
}
