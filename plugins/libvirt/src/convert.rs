//! Conversions from libvirt's types to the plugin API's.

use virt::domain::Domain;
use virt::error::{Error, ErrorNumber};
use virt_manager_plugin_api::{DomainInfo, DomainState, ErrorCode, PluginError};
use virt_sys as sys;

pub fn state_from_raw(state: sys::virDomainState) -> DomainState {
    match state {
        sys::VIR_DOMAIN_RUNNING => DomainState::Running,
        sys::VIR_DOMAIN_BLOCKED => DomainState::Blocked,
        sys::VIR_DOMAIN_PAUSED => DomainState::Paused,
        sys::VIR_DOMAIN_SHUTDOWN => DomainState::Shutdown,
        sys::VIR_DOMAIN_SHUTOFF => DomainState::Shutoff,
        sys::VIR_DOMAIN_CRASHED => DomainState::Crashed,
        sys::VIR_DOMAIN_PMSUSPENDED => DomainState::Pmsuspended,
        _ => DomainState::Nostate,
    }
}

/// Maps a libvirt error to the plugin error classes, keeping libvirt's
/// own message for the user.
pub fn plugin_error(e: Error) -> PluginError {
    let code = match e.code() {
        ErrorNumber::NoDomain => ErrorCode::NotFound,
        ErrorNumber::AuthFailed | ErrorNumber::AuthCancelled => ErrorCode::AuthFailed,
        ErrorNumber::NoSupport => ErrorCode::NotSupported,
        ErrorNumber::InvalidArg => ErrorCode::InvalidArgument,
        _ => ErrorCode::Failed,
    };
    PluginError::new(code, e.message().to_owned())
}

/// Name, UUID (local) and state, vCPUs, memory (one RPC).
pub fn domain_info(dom: &Domain) -> Result<DomainInfo, PluginError> {
    let uuid = dom.get_uuid_string().map_err(plugin_error)?;
    let name = dom.get_name().map_err(plugin_error)?;
    let info = dom.get_info().map_err(plugin_error)?;
    Ok(DomainInfo {
        uuid,
        name,
        state: state_from_raw(info.state),
        vcpus: info.nr_virt_cpu,
        memory_kib: info.memory,
    })
}
