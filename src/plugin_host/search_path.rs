//! Where plugins are looked for, first match wins (docs/plugins.md):
//!
//! 1. `$VIRT_MANAGER_PLUGIN_PATH`, a colon-separated list;
//! 2. `$XDG_DATA_HOME/virt-manager/plugins` (default `~/.local/share/...`);
//! 3. the installed `<prefix>/lib/virt-manager/plugins`, found relative to
//!    the executable (`<prefix>/bin/virt-manager`), then the configured
//!    prefix;
//! 4. the directory of the running executable, so that `cargo run` and
//!    `target/release/virt-manager` find the plugins built beside them.
//!
//! The working directory is never searched.

use std::path::{Path, PathBuf};

use crate::config;

/// The directories to search, in order, without duplicates.
pub fn plugin_dirs() -> Vec<PathBuf> {
    let exe = std::env::current_exe().ok();
    plugin_dirs_for(
        std::env::var_os("VIRT_MANAGER_PLUGIN_PATH").as_deref(),
        data_home().as_deref(),
        exe.as_deref(),
    )
}

fn data_home() -> Option<PathBuf> {
    match std::env::var_os("XDG_DATA_HOME") {
        Some(d) if !d.is_empty() => Some(PathBuf::from(d)),
        _ => std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")),
    }
}

/// The search path for given environment values (testable without
/// touching the process environment).
pub fn plugin_dirs_for(
    env_path: Option<&std::ffi::OsStr>,
    data_home: Option<&Path>,
    exe: Option<&Path>,
) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(list) = env_path {
        dirs.extend(std::env::split_paths(list).filter(|p| p.is_absolute()));
    }
    if let Some(home) = data_home {
        dirs.push(home.join("virt-manager/plugins"));
    }
    let exe_dir = exe.and_then(Path::parent);
    if let Some(prefix) = exe_dir.and_then(Path::parent) {
        dirs.push(prefix.join("lib/virt-manager/plugins"));
    }
    dirs.push(PathBuf::from(config::PLUGINDIR));
    if let Some(dir) = exe_dir {
        dirs.push(dir.to_path_buf());
    }
    let mut unique = Vec::with_capacity(dirs.len());
    for d in dirs {
        if !unique.contains(&d) {
            unique.push(d);
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn order_and_relative_entries() {
        let dirs = plugin_dirs_for(
            Some(OsStr::new("/a:relative:/b")),
            Some(Path::new("/home/u/.local/share")),
            Some(Path::new("/opt/vmm/bin/virt-manager")),
        );
        assert_eq!(dirs[0], PathBuf::from("/a"));
        assert_eq!(dirs[1], PathBuf::from("/b"));
        assert_eq!(
            dirs[2],
            PathBuf::from("/home/u/.local/share/virt-manager/plugins")
        );
        assert_eq!(dirs[3], PathBuf::from("/opt/vmm/lib/virt-manager/plugins"));
        assert_eq!(dirs.last().unwrap(), &PathBuf::from("/opt/vmm/bin"));
        assert!(
            !dirs.iter().any(|d| d.is_relative()),
            "the working directory is never searched"
        );
    }
}
