//! Guest configuration: reading it (`domain_config`), changing it all or
//! nothing (`apply_domain_config`) and defining new guests.
//!
//! Changes are made to the inactive XML (what the next boot uses, with
//! secrets, so that redefining keeps VNC passwords) and redefined in one
//! `virDomainDefineXML` call: libvirt validates the whole document, and a
//! refused document changes nothing. Autostart is not in the XML; if
//! setting it fails, the old definition is put back. A running guest also
//! gets its new title and description at once (`virDomainSetMetadata`),
//! and autostart is a host setting that applies at once; everything else
//! waits for its next boot.

pub mod edit;
pub mod parse;
mod splice;

use virt::connect::Connect;
use virt::domain::Domain;
use virt_manager_plugin_api::{
    ApplyResult, ConfigChanges, DomainConfig, DomainInfo, ErrorCode, PluginError,
};
use virt_sys as sys;

use crate::convert::{domain_info, lookup_domain, plugin_error};
use edit::{edit_domain_xml, Limits};

pub fn domain_config(conn: &Connect, uuid: &str) -> Result<DomainConfig, PluginError> {
    let dom = lookup_domain(conn, uuid)?;
    // The inactive definition is what the details page edits; for a
    // transient guest libvirt returns the live one.
    let xml = dom
        .get_xml_desc(sys::VIR_DOMAIN_XML_INACTIVE)
        .map_err(plugin_error)?;
    let mut config = parse::parse_domain(&xml).map_err(PluginError::failed)?;
    config.autostart = dom.get_autostart().unwrap_or(false);
    config.persistent = dom.is_persistent().map_err(plugin_error)?;
    if config.max_memory_kib == 0 {
        config.max_memory_kib = host_memory_kib(conn);
    }
    Ok(config)
}

fn host_memory_kib(conn: &Connect) -> u64 {
    crate::host::memory_total_kib(conn)
}

/// Which fields of `changes` are set, by name.
fn fields(changes: &ConfigChanges) -> Vec<&'static str> {
    let mut out = Vec::new();
    let c = changes;
    for (set, name) in [
        (c.vcpus.is_some(), "vcpus"),
        (c.memory_kib.is_some(), "memory_kib"),
        (c.boot_order.is_some(), "boot_order"),
        (c.autostart.is_some(), "autostart"),
        (c.title.is_some(), "title"),
        (c.description.is_some(), "description"),
        (c.graphics.is_some(), "graphics"),
    ] {
        if set {
            out.push(name);
        }
    }
    out
}

pub fn apply_domain_config(
    conn: &Connect,
    uuid: &str,
    changes: &ConfigChanges,
) -> Result<ApplyResult, PluginError> {
    let dom = lookup_domain(conn, uuid)?;
    let persistent = dom.is_persistent().map_err(plugin_error)?;
    let active = dom.is_active().map_err(plugin_error)?;
    if !persistent {
        return apply_transient(&dom, changes);
    }

    let flags = sys::VIR_DOMAIN_XML_INACTIVE | sys::VIR_DOMAIN_XML_SECURE;
    let old = dom.get_xml_desc(flags).map_err(plugin_error)?;
    let limits = Limits {
        host_memory_kib: host_memory_kib(conn),
    };
    // Refusals (memory above the maximum, bad boot devices) happen here,
    // before anything is redefined.
    let new = edit_domain_xml(&old, changes, &limits)?;
    let redefined = new != old;
    if redefined {
        Domain::define_xml(conn, &new).map_err(plugin_error)?;
    }

    if let Some(autostart) = changes.autostart {
        if dom.get_autostart().map_err(plugin_error)? != autostart {
            if let Err(e) = dom.set_autostart(autostart) {
                let err = plugin_error(e);
                if redefined {
                    if let Err(back) = Domain::define_xml(conn, &old) {
                        log::error!(
                            "restoring {uuid} after failed autostart: {}",
                            back.message()
                        );
                    }
                }
                return Err(err);
            }
        }
    }

    let mut result = ApplyResult::default();
    for field in fields(changes) {
        let now = !active
            || match field {
                "autostart" => true,
                "title" | "description" => set_live_metadata(&dom, field, changes),
                _ => false,
            };
        if now {
            result.applied_now.push(field.to_owned());
        } else {
            result.next_boot.push(field.to_owned());
        }
    }
    Ok(result)
}

/// Title or description on the running guest too; false if it failed
/// (the definition already has it, so it still shows at next boot).
fn set_live_metadata(dom: &Domain, field: &str, changes: &ConfigChanges) -> bool {
    match live_metadata(dom, field, changes) {
        Ok(()) => true,
        Err(e) => {
            log::info!("live {field}: {}", e.message());
            false
        }
    }
}

/// Sets the running guest's title or description (empty removes it),
/// trimmed as the definition is.
fn live_metadata(
    dom: &Domain,
    field: &str,
    changes: &ConfigChanges,
) -> Result<(), virt::error::Error> {
    let (kind, value) = match field {
        "title" => (
            sys::VIR_DOMAIN_METADATA_TITLE,
            changes.title.as_deref().map(str::trim),
        ),
        _ => (
            sys::VIR_DOMAIN_METADATA_DESCRIPTION,
            changes.description.as_deref(),
        ),
    };
    let value = value.filter(|v| !v.is_empty());
    dom.set_metadata(kind as i32, value, None, None, sys::VIR_DOMAIN_AFFECT_LIVE)
        .map(drop)
}

/// A transient guest has no definition to change: only what can be set
/// on the running guest is.
fn apply_transient(dom: &Domain, changes: &ConfigChanges) -> Result<ApplyResult, PluginError> {
    let not_live: Vec<&str> = fields(changes)
        .into_iter()
        .filter(|f| !matches!(*f, "title" | "description"))
        .collect();
    if !not_live.is_empty() {
        return Err(PluginError::new(
            ErrorCode::NotSupported,
            format!(
                "this guest is transient (it has no saved configuration): {} cannot be changed",
                not_live.join(", ")
            ),
        ));
    }
    let mut result = ApplyResult::default();
    for field in fields(changes) {
        live_metadata(dom, field, changes).map_err(plugin_error)?;
        result.applied_now.push(field.to_owned());
    }
    Ok(result)
}

/// Defines a guest from `{"xml": "<domain ...>"}`.
pub fn define_domain(conn: &Connect, spec: &serde_json::Value) -> Result<DomainInfo, PluginError> {
    let xml = spec.get("xml").and_then(|x| x.as_str()).ok_or_else(|| {
        PluginError::new(
            ErrorCode::InvalidArgument,
            "expected a JSON object with the domain XML under \"xml\"",
        )
    })?;
    let dom = Domain::define_xml(conn, xml).map_err(plugin_error)?;
    domain_info(&dom)
}
