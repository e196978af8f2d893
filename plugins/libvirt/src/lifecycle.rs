//! Lifecycle actions: start, shut down, reboot, force off, reset, pause,
//! resume, managed save and delete. Errors carry libvirt's own message.

use virt::connect::Connect;
use virt::domain::Domain;
use virt::error::ErrorNumber;
use virt::storage_pool::StoragePool;
use virt::storage_vol::StorageVol;
use virt_manager_plugin_api::{DomainAction, ErrorCode, PluginError};
use virt_sys as sys;

use crate::config::parse::{deletable_disks, DiskSource};
use crate::convert::{is_unsupported, lookup_domain, plugin_error};

pub fn domain_action(conn: &Connect, uuid: &str, action: &DomainAction) -> Result<(), PluginError> {
    let dom = lookup_domain(conn, uuid)?;
    let done = match action {
        // Also restores a managed save image, if there is one.
        DomainAction::Start => dom.create().map(drop),
        // The hypervisor's default: the guest agent where configured,
        // else the ACPI power button.
        DomainAction::Shutdown => dom.shutdown().map(drop),
        DomainAction::Reboot => dom.reboot(0),
        DomainAction::ForceOff => dom.destroy(),
        DomainAction::Reset => dom.reset().map(drop),
        DomainAction::Pause => dom.suspend().map(drop),
        DomainAction::Resume => dom.resume().map(drop),
        DomainAction::Save => {
            refuse_test_driver_paused_save(conn, &dom)?;
            dom.managed_save(0).map(drop)
        }
        DomainAction::Delete { delete_storage } => return delete(conn, &dom, *delete_storage),
    };
    done.map_err(plugin_error)
}

/// libvirt 9.0's test driver never returns from a managed save of a
/// paused guest (the demo host has some): refuse instead of hanging a
/// host worker for good.
fn refuse_test_driver_paused_save(conn: &Connect, dom: &Domain) -> Result<(), PluginError> {
    let paused = dom
        .get_state()
        .is_ok_and(|(state, _)| state == sys::VIR_DOMAIN_PAUSED);
    if paused
        && conn
            .get_type()
            .is_ok_and(|t| t.eq_ignore_ascii_case("test"))
    {
        return Err(PluginError::not_supported(
            "the test driver cannot save a paused guest; resume it first",
        ));
    }
    Ok(())
}

/// Stops the guest if it runs, deletes its disk volumes if asked (first,
/// as virt-manager does, while the definition still says which they
/// are), then undefines it with its managed save, snapshot and
/// checkpoint metadata and NVRAM.
fn delete(conn: &Connect, dom: &Domain, delete_storage: bool) -> Result<(), PluginError> {
    // Resolve every volume before changing anything: a disk that is not
    // a libvirt volume stops the whole delete, not half of it.
    let volumes = if delete_storage {
        let xml = dom
            .get_xml_desc(sys::VIR_DOMAIN_XML_INACTIVE)
            .map_err(plugin_error)?;
        deletable_disks(&xml)
            .map_err(PluginError::failed)?
            .iter()
            .map(|disk| resolve_volume(conn, disk))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        Vec::new()
    };

    if dom.is_active().map_err(plugin_error)? {
        dom.destroy().map_err(plugin_error)?;
    }
    for (label, vol) in &volumes {
        vol.delete(0).map_err(|e| {
            PluginError::failed(format!("could not delete {label}: {}", e.message()))
        })?;
        log::info!("deleted volume {label}");
    }
    // A transient guest is gone once stopped.
    if dom.is_persistent().unwrap_or(false) {
        undefine(dom)?;
    }
    Ok(())
}

/// Undefines with everything libvirt keeps beside the definition; a
/// driver that refuses some of those flags gets fewer.
fn undefine(dom: &Domain) -> Result<(), PluginError> {
    let attempts = [
        sys::VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
            | sys::VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
            | sys::VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA
            | sys::VIR_DOMAIN_UNDEFINE_NVRAM,
        sys::VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | sys::VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA,
        sys::VIR_DOMAIN_UNDEFINE_MANAGED_SAVE,
    ];
    for flags in attempts {
        match dom.undefine_flags(flags) {
            Ok(()) => return Ok(()),
            Err(e) if is_unsupported(&e) => {
                log::debug!("undefine flags {flags:#x} refused: {}", e.message());
            }
            Err(e) => return Err(plugin_error(e)),
        }
    }
    dom.undefine().map_err(plugin_error)
}

/// The storage volume behind a disk, with a label for messages.
fn resolve_volume(conn: &Connect, disk: &DiskSource) -> Result<(String, StorageVol), PluginError> {
    match disk {
        DiskSource::Path(path) => {
            let lookup = || StorageVol::lookup_by_path(conn, path);
            let vol = lookup().or_else(|first| {
                // Files copied in behind libvirt's back appear after the
                // pool of their directory is refreshed.
                let dir = std::path::Path::new(path)
                    .parent()
                    .and_then(|d| d.to_str())
                    .unwrap_or("/");
                match StoragePool::lookup_by_target_path(conn, dir) {
                    Ok(pool) if pool.refresh(0).is_ok() => lookup(),
                    _ => Err(first),
                }
            });
            match vol {
                Ok(vol) => Ok((path.clone(), vol)),
                Err(e) if e.code() == ErrorNumber::NoStorageVolume => Err(PluginError::new(
                    ErrorCode::Failed,
                    format!(
                        "{path} is not a volume of any storage pool, so libvirt cannot delete it; \
                         delete the guest without its storage, or add its directory as a pool"
                    ),
                )),
                Err(e) => Err(plugin_error(e)),
            }
        }
        DiskSource::Volume { pool, volume } => {
            let p = StoragePool::lookup_by_name(conn, pool).map_err(plugin_error)?;
            let vol = StorageVol::lookup_by_name(&p, volume).map_err(plugin_error)?;
            Ok((format!("{pool}/{volume}"), vol))
        }
    }
}
