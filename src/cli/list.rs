//! `virt-manager list`: the guests of a connection, through the plugins.

use std::io::Write;

use serde::Serialize;
use virt_manager_plugin_api::DomainInfo;

use super::CliError;
use crate::plugin_host::{uri_scheme, BackendConnection, PluginRegistry};

/// Exactly the keys of `list --json` (a stable interface).
#[derive(Serialize)]
struct JsonDomain<'a> {
    name: &'a str,
    uuid: &'a str,
    state: &'static str,
    vcpus: u32,
    memory_kib: u64,
}

/// Opens the first of `candidates` that works.
pub fn open_first(
    plugins: &PluginRegistry,
    candidates: &[String],
) -> Result<(String, BackendConnection), CliError> {
    let mut last = None;
    for uri in candidates {
        let result = match plugins.backend_for_uri(uri) {
            None => Err(match uri_scheme(uri) {
                Some(s) => format!("no loaded plugin handles “{s}” URIs"),
                None => "not a URI (expected e.g. qemu:///system)".to_owned(),
            }),
            Some(backend) => backend.open(uri).map_err(|e| e.message),
        };
        match result {
            Ok(conn) => return Ok((uri.clone(), conn)),
            Err(reason) => {
                tracing::info!("cannot open {uri}: {reason}");
                last = Some(CliError::Connect {
                    uri: uri.clone(),
                    reason,
                });
            }
        }
    }
    Err(last.unwrap_or_else(|| CliError::Other("no URI to open".into())))
}

pub fn run_list(
    plugins: &PluginRegistry,
    candidates: &[String],
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let (uri, conn) = open_first(plugins, candidates)?;
    if candidates.len() > 1 && uri != candidates[0] {
        eprintln!("{} is not available; listing the demo host", candidates[0]);
    }
    let mut domains = conn.list_domains().map_err(|e| CliError::Connect {
        uri: uri.clone(),
        reason: e.message,
    })?;
    domains.sort_by(|a, b| a.name.cmp(&b.name));
    if json {
        write_json(&domains, out)?;
    } else {
        write_table(&domains, out)?;
    }
    Ok(())
}

fn write_json(domains: &[DomainInfo], out: &mut dyn Write) -> std::io::Result<()> {
    let rows: Vec<JsonDomain> = domains
        .iter()
        .map(|d| JsonDomain {
            name: &d.name,
            uuid: &d.uuid,
            state: d.state.as_str(),
            vcpus: d.vcpus,
            memory_kib: d.memory_kib,
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &rows)?;
    writeln!(out)
}

fn write_table(domains: &[DomainInfo], out: &mut dyn Write) -> std::io::Result<()> {
    let width = domains
        .iter()
        .map(|d| d.name.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    writeln!(
        out,
        "{:<width$}  {:<11}  {:>5}  {:>12}",
        "Name", "State", "vCPUs", "Memory (MiB)"
    )?;
    for d in domains {
        writeln!(
            out,
            "{:<width$}  {:<11}  {:>5}  {:>12}",
            d.name,
            d.state.as_str(),
            d.vcpus,
            d.memory_kib / 1024
        )?;
    }
    Ok(())
}
