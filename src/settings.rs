//! The GSettings schema `org.virt_manager.VirtManager`, found wherever
//! this build's schema is, with defaults when it is missing.
//!
//! GSettings aborts the process on a missing schema or key, so every access
//! goes through here: no schema means a warning and the defaults, never a
//! crash.

use gio::prelude::*;

use crate::{config, paths};

#[derive(Clone)]
pub struct Settings {
    inner: Option<gio::Settings>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("schema_found", &self.inner.is_some())
            .finish()
    }
}

impl Settings {
    pub fn new() -> Self {
        let inner = lookup_schema()
            .map(|schema| gio::Settings::new_full(&schema, None::<&gio::SettingsBackend>, None));
        if inner.is_none() {
            tracing::warn!(
                "GSettings schema {} not found; using defaults, settings will not be saved",
                config::APP_ID
            );
        }
        Settings { inner }
    }

    /// Settings that are never read from or written anywhere.
    pub fn defaults_only() -> Self {
        Settings { inner: None }
    }

    fn with_key(&self, key: &str) -> Option<&gio::Settings> {
        let s = self.inner.as_ref()?;
        s.settings_schema()
            .filter(|schema| schema.has_key(key))
            .map(|_| s)
    }

    pub fn int(&self, key: &str, default: i32) -> i32 {
        self.with_key(key).map_or(default, |s| s.int(key))
    }

    pub fn set_int(&self, key: &str, value: i32) {
        if let Some(s) = self.with_key(key) {
            if let Err(e) = s.set_int(key, value) {
                tracing::warn!("saving setting {key}: {e}");
            }
        }
    }

    pub fn boolean(&self, key: &str, default: bool) -> bool {
        self.with_key(key).map_or(default, |s| s.boolean(key))
    }

    pub fn set_boolean(&self, key: &str, value: bool) {
        if let Some(s) = self.with_key(key) {
            if let Err(e) = s.set_boolean(key, value) {
                tracing::warn!("saving setting {key}: {e}");
            }
        }
    }

    /// The underlying object, for binding widgets to keys.
    pub fn gio(&self) -> Option<&gio::Settings> {
        self.inner.as_ref()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self::new()
    }
}

/// Uninstalled builds prefer their own compiled schema; installed ones the
/// schema beside them, then the system's ($XDG_DATA_DIRS).
fn lookup_schema() -> Option<gio::SettingsSchema> {
    let default = gio::SettingsSchemaSource::default();
    let mut dirs = Vec::new();
    if paths::is_uninstalled() {
        dirs.push(std::path::PathBuf::from(config::BUILD_SCHEMA_DIR));
    } else if let Some(d) = paths::exe_datadir() {
        dirs.push(d.join("glib-2.0/schemas"));
    }
    for dir in dirs {
        if !dir.join("gschemas.compiled").is_file() {
            continue;
        }
        match gio::SettingsSchemaSource::from_directory(&dir, default.as_ref(), false) {
            Ok(source) => {
                if let Some(schema) = source.lookup(config::APP_ID, true) {
                    return Some(schema);
                }
            }
            Err(e) => tracing::debug!("schema directory {}: {e}", dir.display()),
        }
    }
    default
        .and_then(|s| s.lookup(config::APP_ID, true))
        .or_else(|| {
            // Last resort for an installed binary run on its build machine.
            let dir = std::path::Path::new(config::BUILD_SCHEMA_DIR);
            gio::SettingsSchemaSource::from_directory(dir, None, false)
                .ok()
                .and_then(|s| s.lookup(config::APP_ID, false))
        })
}
