//! Conversions from libvirt's types to the plugin API's.

use virt::connect::Connect;
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
        ErrorNumber::NoDomain
        | ErrorNumber::NoNetwork
        | ErrorNumber::NoStoragePool
        | ErrorNumber::NoStorageVolume => ErrorCode::NotFound,
        ErrorNumber::AuthFailed | ErrorNumber::AuthCancelled => ErrorCode::AuthFailed,
        ErrorNumber::NoSupport | ErrorNumber::OperationUnsupported => ErrorCode::NotSupported,
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

/// The guest with this UUID, or NotFound with libvirt's message.
pub fn lookup_domain(conn: &Connect, uuid: &str) -> Result<Domain, PluginError> {
    Domain::lookup_by_uuid_string(conn, uuid).map_err(plugin_error)
}

/// True when libvirt refused a call's flags or the call itself (an older
/// or simpler driver): the caller may retry in a plainer way.
pub fn is_unsupported(e: &Error) -> bool {
    matches!(
        e.code(),
        ErrorNumber::InvalidArg | ErrorNumber::NoSupport | ErrorNumber::ArgumentUnsupported
    )
}

/// libvirt's packed version number (major * 1,000,000 + minor * 1000 +
/// release) as "major.minor.release".
pub fn version_string(v: u32) -> String {
    format!("{}.{}.{}", v / 1_000_000, (v / 1000) % 1000, v % 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_unpack() {
        assert_eq!(version_string(9_000_000), "9.0.0");
        assert_eq!(version_string(7_002_022), "7.2.22");
    }
}
