//! Storage pools: listing with their use, start, stop, refresh, autostart.

use roxmltree::Document;
use virt::connect::Connect;
use virt::storage_pool::StoragePool;
use virt_manager_plugin_api::{PluginError, StoragePoolAction, StoragePoolInfo};
use virt_sys as sys;

use crate::config::parse::child;
use crate::convert::plugin_error;

pub fn list_storage_pools(conn: &Connect) -> Result<Vec<StoragePoolInfo>, PluginError> {
    let pools = conn.list_all_storage_pools(0).map_err(plugin_error)?;
    let mut out = Vec::with_capacity(pools.len());
    for pool in &pools {
        let xml = pool.get_xml_desc(0).map_err(plugin_error)?;
        let (kind, path) = parse_pool(&xml).map_err(PluginError::failed)?;
        let info = pool.get_info().map_err(plugin_error)?;
        out.push(StoragePoolInfo {
            name: pool.get_name().map_err(plugin_error)?,
            uuid: pool.get_uuid_string().map_err(plugin_error)?,
            state: state_name(info.state).to_owned(),
            autostart: pool.get_autostart().unwrap_or(false),
            persistent: pool.is_persistent().map_err(plugin_error)?,
            kind,
            path,
            capacity_bytes: info.capacity,
            allocation_bytes: info.allocation,
            available_bytes: info.available,
        });
    }
    Ok(out)
}

pub fn storage_pool_action(
    conn: &Connect,
    name: &str,
    action: &StoragePoolAction,
) -> Result<(), PluginError> {
    let pool = StoragePool::lookup_by_name(conn, name).map_err(plugin_error)?;
    match action {
        StoragePoolAction::Start => pool.create(0).map(drop),
        StoragePoolAction::Stop => pool.destroy(),
        StoragePoolAction::Refresh => pool.refresh(0).map(drop),
        StoragePoolAction::SetAutostart { autostart } => pool.set_autostart(*autostart).map(drop),
    }
    .map_err(plugin_error)
}

fn state_name(state: u32) -> &'static str {
    match state {
        sys::VIR_STORAGE_POOL_INACTIVE => "inactive",
        sys::VIR_STORAGE_POOL_BUILDING => "building",
        sys::VIR_STORAGE_POOL_RUNNING => "running",
        sys::VIR_STORAGE_POOL_DEGRADED => "degraded",
        sys::VIR_STORAGE_POOL_INACCESSIBLE => "inaccessible",
        _ => "unknown",
    }
}

/// The pool's type and target path from its XML.
fn parse_pool(xml: &str) -> Result<(String, Option<String>), String> {
    let doc = Document::parse(xml).map_err(|e| format!("unreadable pool XML: {e}"))?;
    let root = doc.root_element();
    let kind = root.attribute("type").unwrap_or("").to_owned();
    let path = child(root, "target")
        .and_then(|t| child(t, "path"))
        .and_then(|p| p.text())
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty());
    Ok((kind, path))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_type_and_path() {
        let xml = "<pool type='dir'><name>p</name><target><path>/var/lib/x</path></target></pool>";
        assert_eq!(
            parse_pool(xml).unwrap(),
            ("dir".into(), Some("/var/lib/x".into()))
        );
        let xml = "<pool type='rbd'><name>p</name><source/></pool>";
        assert_eq!(parse_pool(xml).unwrap(), ("rbd".into(), None));
        assert_eq!(state_name(sys::VIR_STORAGE_POOL_RUNNING), "running");
    }
}
