//! `virt-manager plugins`: every plugin file found, what it provides, and
//! whether it loaded (with the reason when it did not).

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::{Cli, CliError};
use crate::plugin_host::search_path;
use crate::plugin_host::{PluginRecord, PluginRegistry, PluginStatus};

#[derive(Debug, Clone, clap::Args)]
pub struct PluginsArgs {
    /// Print a JSON array: one object per file, with file, status
    /// (loaded, failed or shadowed), reason, name, version, abi, kind,
    /// uri_schemes, encodings and notes
    #[arg(long)]
    pub json: bool,
}

#[derive(Serialize)]
struct Encoding {
    encoding: i32,
    name: String,
}

/// One file on the search path (the `--json` schema, a stable interface).
#[derive(Serialize)]
struct Row {
    file: PathBuf,
    status: &'static str,
    reason: Option<String>,
    name: Option<String>,
    version: Option<String>,
    abi: Option<String>,
    kind: Vec<&'static str>,
    uri_schemes: Vec<String>,
    encodings: Vec<Encoding>,
    notes: Vec<String>,
}

impl Row {
    fn of(record: &PluginRecord) -> Row {
        let mut row = Row {
            file: record.path.clone(),
            status: "loaded",
            reason: None,
            name: None,
            version: None,
            abi: None,
            kind: Vec::new(),
            uri_schemes: Vec::new(),
            encodings: Vec::new(),
            notes: record.notes.clone(),
        };
        match &record.status {
            PluginStatus::Failed(reason) => {
                row.status = "failed";
                row.reason = Some(reason.clone());
            }
            PluginStatus::Loaded(p) => {
                row.name = Some(p.name.clone());
                row.version = Some(p.version.clone());
                row.abi = Some(format!("{}.{}", p.abi_major, p.abi_minor));
                if let Some(b) = &p.backend {
                    row.kind.push("backend");
                    row.uri_schemes = b.info().uri_schemes.clone();
                }
                if let Some(d) = &p.decoders {
                    row.kind.push("decoders");
                    row.encodings = d
                        .encodings()
                        .iter()
                        .map(|e| Encoding {
                            encoding: e.encoding,
                            name: e.name.clone(),
                        })
                        .collect();
                }
            }
        }
        row
    }

    fn shadowed(file: PathBuf, by: &Path) -> Row {
        Row {
            file,
            status: "shadowed",
            reason: Some(format!(
                "not loaded: {} comes first on the search path",
                by.display()
            )),
            name: None,
            version: None,
            abi: None,
            kind: Vec::new(),
            uri_schemes: Vec::new(),
            encodings: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// The plugin files of `dir` in the loader's order (it tries `lib*.so`).
fn library_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("lib") && name.ends_with(".so") && p.is_file()
        })
        .collect();
    files.sort();
    files
}

/// Every file in search order: the registry's records, and the files it
/// skipped because a file of the same name came earlier.
fn rows(dirs: &[PathBuf], registry: &PluginRegistry) -> Vec<Row> {
    let mut records: HashMap<&Path, &PluginRecord> = registry
        .records()
        .iter()
        .map(|r| (r.path.as_path(), r))
        .collect();
    let mut first_of_name: HashMap<std::ffi::OsString, PathBuf> = HashMap::new();
    let mut rows = Vec::new();
    for file in dirs.iter().flat_map(|d| library_files(d)) {
        let name = file.file_name().unwrap_or_default().to_owned();
        if let Some(record) = records.remove(file.as_path()) {
            first_of_name.entry(name).or_insert_with(|| file.clone());
            rows.push(Row::of(record));
        } else if let Some(first) = first_of_name.get(&name) {
            rows.push(Row::shadowed(file, first));
        }
    }
    // Whatever the scan above missed (a file that vanished meanwhile).
    let mut rest: Vec<&PluginRecord> = records.into_values().collect();
    rest.sort_by(|a, b| a.path.cmp(&b.path));
    rows.extend(rest.into_iter().map(Row::of));
    rows
}

fn write_text(rows: &[Row], dirs: &[PathBuf], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "Search path:")?;
    for d in dirs {
        writeln!(out, "  {}", d.display())?;
    }
    for row in rows {
        let file_name = row.file.file_name().unwrap_or_default().to_string_lossy();
        writeln!(out)?;
        match (&row.name, &row.reason) {
            (Some(name), _) => writeln!(
                out,
                "{name} {} ({}, ABI {}): {}",
                row.version.as_deref().unwrap_or(""),
                row.kind.join(", "),
                row.abi.as_deref().unwrap_or("?"),
                row.status
            )?,
            (None, Some(reason)) => writeln!(out, "{file_name}: {}: {reason}", row.status)?,
            (None, None) => writeln!(out, "{file_name}: {}", row.status)?,
        }
        writeln!(out, "  file: {}", row.file.display())?;
        if !row.uri_schemes.is_empty() {
            writeln!(out, "  URI schemes: {}", row.uri_schemes.join(", "))?;
        }
        if !row.encodings.is_empty() {
            let encodings: Vec<String> = row
                .encodings
                .iter()
                .map(|e| format!("{} {}", e.encoding, e.name))
                .collect();
            writeln!(out, "  encodings: {}", encodings.join(", "))?;
        }
        for note in &row.notes {
            writeln!(out, "  note: {note}")?;
        }
    }
    let count = |status| rows.iter().filter(|r| r.status == status).count();
    writeln!(out)?;
    writeln!(
        out,
        "{} loaded, {} failed, {} shadowed",
        count("loaded"),
        count("failed"),
        count("shadowed")
    )
}

pub fn run(_cli: &Cli, args: &PluginsArgs) -> Result<(), CliError> {
    let dirs = search_path::plugin_dirs();
    let registry = PluginRegistry::discover_in(&dirs);
    let rows = rows(&dirs, &registry);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &rows).map_err(std::io::Error::from)?;
        writeln!(out)?;
    } else {
        write_text(&rows, &dirs, &mut out)?;
    }
    Ok(())
}
