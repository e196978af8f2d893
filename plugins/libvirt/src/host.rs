//! The host: who it is (`connection_info`) and how busy (`host_stats`).

use virt::connect::Connect;
use virt_manager_plugin_api::{ConnectionInfo, HostStats, PluginError};

use crate::convert::{plugin_error, version_string};
use crate::ffi::node_stats::{node_cpu_stats, node_memory_stats};

/// Hostname, hypervisor and library versions, CPUs and memory.
pub fn connection_info(conn: &Connect) -> Result<ConnectionInfo, PluginError> {
    let node = conn.get_node_info().map_err(plugin_error)?;
    let kind = conn.get_type().map_err(plugin_error)?;
    // Drivers without a version of their own (LXC, some remote) fail here.
    let hypervisor = match conn.get_hyp_version() {
        Ok(v) if v > 0 => format!("{kind} {}", version_string(v)),
        _ => kind,
    };
    let library = conn
        .get_lib_version()
        .map(|v| format!("libvirt {}", version_string(v)))
        .map_err(plugin_error)?;
    let hostname = conn.get_hostname().unwrap_or_default();
    // On Linux node info's "model" is the machine architecture; the CPU's
    // own model name is in the capabilities, where the driver knows it.
    let cpu_model = conn
        .get_capabilities()
        .ok()
        .and_then(|caps| host_cpu_model(&caps))
        .unwrap_or_else(|| node.model.clone());
    Ok(ConnectionInfo {
        hostname,
        hypervisor,
        library,
        arch: node.model,
        cpus: node.cpus,
        cpu_mhz: node.mhz,
        cpu_model,
        memory_kib: memory_total_kib(conn),
    })
}

/// The host's memory in KiB. Node info counts NUMA cells only, which on
/// some hosts is less than the kernel's total; memory statistics have the
/// kernel's view, where the driver offers them.
pub fn memory_total_kib(conn: &Connect) -> u64 {
    node_memory_stats(conn)
        .ok()
        .and_then(|f| f.iter().find(|(k, _)| k == "total").map(|(_, v)| *v))
        .filter(|t| *t > 0)
        .or_else(|| conn.get_node_info().ok().map(|n| n.memory))
        .unwrap_or(0)
}

/// `<capabilities><host><cpu><model>` text.
fn host_cpu_model(caps: &str) -> Option<String> {
    let doc = roxmltree::Document::parse(caps).ok()?;
    let model = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("host"))?
        .children()
        .find(|n| n.has_tag_name("cpu"))?
        .children()
        .find(|n| n.has_tag_name("model"))?
        .text()?
        .trim()
        .to_owned();
    (!model.is_empty()).then_some(model)
}

/// The host's CPU times and memory now.
pub fn host_stats(conn: &Connect) -> Result<HostStats, PluginError> {
    let node = conn.get_node_info().map_err(plugin_error)?;
    let mut stats = HostStats {
        cpus: node.cpus,
        memory_total_kib: node.memory,
        ..Default::default()
    };
    match node_cpu_stats(conn) {
        Ok(fields) => {
            let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
            stats.cpu_user_ns = get("user");
            stats.cpu_kernel_ns = get("kernel");
            stats.cpu_idle_ns = get("idle");
            stats.cpu_iowait_ns = get("iowait");
        }
        Err(e) => log::debug!("host CPU stats: {}", e.message()),
    }
    match node_memory_stats(conn) {
        Ok(fields) => {
            let get = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
            if let Some(total) = get("total") {
                stats.memory_total_kib = total;
            }
            // Buffers and page cache are reclaimable: count them as free,
            // as `free`'s "available" roughly does.
            stats.memory_free_kib = ["free", "buffers", "cached"]
                .iter()
                .filter_map(|k| get(k))
                .sum();
        }
        Err(e) => {
            // The test driver has none: free memory by the older call,
            // which needs NUMA cells in the host file; else an estimate.
            log::debug!("host memory stats: {}", e.message());
            stats.memory_free_kib = match conn.get_free_memory() {
                Ok(bytes) if bytes > 0 => bytes / 1024,
                _ => stats
                    .memory_total_kib
                    .saturating_sub(active_guest_memory_kib(conn)),
            };
        }
    }
    stats.memory_free_kib = stats.memory_free_kib.min(stats.memory_total_kib);
    Ok(stats)
}

/// The memory the running guests hold: what a host without memory
/// statistics (the test driver) has given away.
fn active_guest_memory_kib(conn: &Connect) -> u64 {
    let flags = virt_sys::VIR_CONNECT_LIST_DOMAINS_ACTIVE;
    conn.list_all_domains(flags)
        .map(|doms| {
            doms.iter()
                .filter_map(|d| d.get_info().ok())
                .map(|i| i.memory)
                .sum()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_model_comes_from_capabilities() {
        let caps = "<capabilities><host><uuid>x</uuid><cpu><arch>x86_64</arch>\
                    <model>Skylake-Client-IBRS</model></cpu></host></capabilities>";
        assert_eq!(host_cpu_model(caps).as_deref(), Some("Skylake-Client-IBRS"));
        assert_eq!(host_cpu_model("<capabilities/>"), None);
    }
}
