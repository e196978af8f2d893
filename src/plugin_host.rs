//! Finding, loading, checking and holding plugins.
//!
//! [`PluginRegistry::discover`] scans the search path once at start. Every
//! `lib*.so` found is tried; a file that fails is recorded with its reason
//! and skipped. The first file of a given name on the search path wins, and
//! for a URI scheme the first backend that claims it.

mod backend;
mod decoder;
mod ffi;
mod loader;
pub mod search_path;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use backend::{BackendConnection, BackendPlugin};
pub use decoder::{DecoderInstance, DecoderPlugin, FramebufferMut};
pub use ffi::set_credential_asker;
pub use loader::{LoadError, LoadedPlugin};

/// What became of one file on the search path.
#[derive(Debug)]
pub enum PluginStatus {
    Loaded(LoadedPlugin),
    Failed(String),
}

#[derive(Debug)]
pub struct PluginRecord {
    pub path: PathBuf,
    pub status: PluginStatus,
    /// Problems that did not stop the plugin, e.g. a URI scheme that an
    /// earlier plugin already claims.
    pub notes: Vec<String>,
}

#[derive(Debug, Default)]
pub struct PluginRegistry {
    records: Vec<PluginRecord>,
    /// URI scheme (without `+transport`) to backend.
    schemes: HashMap<String, Arc<BackendPlugin>>,
    /// RFB encoding number to decoder library.
    encodings: HashMap<i32, Arc<DecoderPlugin>>,
}

impl PluginRegistry {
    /// Loads every plugin on the default search path.
    pub fn discover() -> Self {
        Self::discover_in(&search_path::plugin_dirs())
    }

    /// Loads every plugin in `dirs`, in order.
    pub fn discover_in(dirs: &[PathBuf]) -> Self {
        let mut registry = PluginRegistry::default();
        let mut seen_files: HashMap<std::ffi::OsString, PathBuf> = HashMap::new();
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(dir) else {
                tracing::debug!("plugin directory {} is absent", dir.display());
                continue;
            };
            let mut files: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| is_library_name(p))
                .collect();
            files.sort();
            for path in files {
                let file_name = path.file_name().unwrap_or_default().to_owned();
                if let Some(first) = seen_files.get(&file_name) {
                    tracing::debug!("{} is shadowed by {}", path.display(), first.display());
                    continue;
                }
                seen_files.insert(file_name, path.clone());
                registry.add(path);
            }
        }
        registry
    }

    fn add(&mut self, path: PathBuf) {
        let mut notes = Vec::new();
        let status = match loader::load(&path) {
            Ok(plugin) => {
                tracing::info!(
                    "loaded plugin {} {} from {}",
                    plugin.name,
                    plugin.version,
                    path.display()
                );
                if let Some(backend) = &plugin.backend {
                    for scheme in &backend.info().uri_schemes {
                        match self.schemes.get(scheme) {
                            Some(first) => {
                                let note = format!(
                                    "URI scheme {scheme}: already provided by plugin {}",
                                    first.name()
                                );
                                tracing::warn!("{}: {note}", path.display());
                                notes.push(note);
                            }
                            None => {
                                self.schemes.insert(scheme.clone(), backend.clone());
                            }
                        }
                    }
                }
                if let Some(decoders) = &plugin.decoders {
                    for enc in decoders.encodings() {
                        match self.encodings.get(&enc.encoding) {
                            Some(first) => {
                                let note = format!(
                                    "encoding {} ({}): already provided by plugin {}",
                                    enc.encoding,
                                    enc.name,
                                    first.name()
                                );
                                tracing::warn!("{}: {note}", path.display());
                                notes.push(note);
                            }
                            None => {
                                self.encodings.insert(enc.encoding, decoders.clone());
                            }
                        }
                    }
                }
                PluginStatus::Loaded(plugin)
            }
            Err(e) => {
                tracing::warn!("skipping plugin {}: {e}", path.display());
                PluginStatus::Failed(e.to_string())
            }
        };
        self.records.push(PluginRecord {
            path,
            status,
            notes,
        });
    }

    pub fn records(&self) -> &[PluginRecord] {
        &self.records
    }

    /// The backend for a URI, by its scheme without transport
    /// (`qemu+ssh://h/system` goes to whoever handles `qemu`).
    pub fn backend_for_uri(&self, uri: &str) -> Option<Arc<BackendPlugin>> {
        let scheme = uri_scheme(uri)?;
        let base = scheme.split('+').next().unwrap_or(scheme);
        self.schemes.get(base).cloned()
    }

    /// The decoder library for an RFB encoding number.
    pub fn decoder_for(&self, encoding: i32) -> Option<Arc<DecoderPlugin>> {
        self.encodings.get(&encoding).cloned()
    }

    /// Every encoding a loaded decoder offers.
    pub fn decoder_encodings(&self) -> impl Iterator<Item = (i32, &Arc<DecoderPlugin>)> {
        self.encodings.iter().map(|(e, d)| (*e, d))
    }

    /// Every backend URI scheme with its plugin, for the connect dialog.
    pub fn schemes(&self) -> impl Iterator<Item = (&str, &Arc<BackendPlugin>)> {
        self.schemes.iter().map(|(s, b)| (s.as_str(), b))
    }
}

fn is_library_name(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with("lib") && name.ends_with(".so") && path.is_file()
}

/// The scheme of `uri`, if it has one (`scheme://...` or `scheme:...`).
pub fn uri_scheme(uri: &str) -> Option<&str> {
    let (scheme, _) = uri.split_once(':')?;
    let valid = !scheme.is_empty()
        && scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    valid.then_some(scheme)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert_eq!(uri_scheme("qemu+ssh://root@h/system"), Some("qemu+ssh"));
        assert_eq!(uri_scheme("test:///default"), Some("test"));
        assert_eq!(uri_scheme("/no/scheme"), None);
        assert_eq!(uri_scheme("9x://"), None);
    }
}
