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

    pub fn string(&self, key: &str, default: &str) -> String {
        self.with_key(key)
            .map_or_else(|| default.to_owned(), |s| s.string(key).to_string())
    }

    pub fn set_string(&self, key: &str, value: &str) {
        if let Some(s) = self.with_key(key) {
            if let Err(e) = s.set_string(key, value) {
                tracing::warn!("saving setting {key}: {e}");
            }
        }
    }

    pub fn strv(&self, key: &str) -> Vec<String> {
        self.with_key(key).map_or_else(Vec::new, |s| {
            s.strv(key).iter().map(|g| g.to_string()).collect()
        })
    }

    pub fn set_strv(&self, key: &str, value: &[String]) {
        if let Some(s) = self.with_key(key) {
            let refs: Vec<&str> = value.iter().map(String::as_str).collect();
            if let Err(e) = s.set_strv(key, refs) {
                tracing::warn!("saving setting {key}: {e}");
            }
        }
    }

    /// Calls `f` whenever `key` changes (on the main thread).
    pub fn connect_changed(&self, key: &str, f: impl Fn() + 'static) {
        if let Some(s) = self.with_key(key) {
            s.connect_changed(Some(key), move |_, _| f());
        }
    }

    /// The statistics settings as the model takes them.
    pub fn stats_config(&self) -> crate::model::StatsConfig {
        crate::model::StatsConfig {
            interval: std::time::Duration::from_secs(
                self.int("stats-interval", 3).clamp(1, 60) as u64
            ),
            history: self.int("history-length", 120).clamp(10, 3600) as usize,
            request: virt_manager_plugin_api::StatsRequest {
                cpu: self.boolean("stats-poll-cpu", true),
                memory: self.boolean("stats-poll-memory", false),
                disk: self.boolean("stats-poll-disk", false),
                net: self.boolean("stats-poll-net", false),
            },
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

/// Uninstalled builds use their own compiled schema; installed ones the
/// schema beside them (`<prefix>/share/glib-2.0/schemas`), then the
/// system's ($XDG_DATA_DIRS, $GSETTINGS_SCHEMA_DIR).
fn lookup_schema() -> Option<gio::SettingsSchema> {
    let default = gio::SettingsSchemaSource::default();
    let dir = if paths::is_uninstalled() {
        Some(std::path::PathBuf::from(config::BUILD_SCHEMA_DIR))
    } else {
        paths::exe_datadir().map(|d| d.join("glib-2.0/schemas"))
    };
    if let Some(dir) = dir.filter(|d| d.join("gschemas.compiled").is_file()) {
        match gio::SettingsSchemaSource::from_directory(&dir, default.as_ref(), false) {
            Ok(source) => {
                if let Some(schema) = source.lookup(config::APP_ID, false) {
                    tracing::debug!("settings: schema from {}", dir.display());
                    return Some(schema);
                }
            }
            Err(e) => tracing::debug!("schema directory {}: {e}", dir.display()),
        }
    }
    let schema = default.and_then(|s| s.lookup(config::APP_ID, true));
    if schema.is_some() {
        tracing::debug!("settings: schema from the system's schema directories");
    }
    schema
}
