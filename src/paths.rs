//! Where this build's data lives: installed under a prefix, or in the
//! cargo build directory when run uninstalled (`cargo run`,
//! `target/release/virt-manager`).

use std::path::{Path, PathBuf};

use crate::config;

fn exe_dir() -> Option<PathBuf> {
    std::env::current_exe()
        .ok()?
        .parent()
        .map(Path::to_path_buf)
}

/// True when running from the cargo target directory this was built in.
pub fn is_uninstalled() -> bool {
    match exe_dir() {
        // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out.
        Some(dir) => Path::new(config::BUILD_SCHEMA_DIR).starts_with(&dir),
        None => false,
    }
}

/// `<prefix>/share` of the running executable (`<prefix>/bin/virt-manager`).
pub fn exe_datadir() -> Option<PathBuf> {
    Some(exe_dir()?.parent()?.join("share"))
}

/// The directory holding compiled translations.
pub fn locale_dir() -> PathBuf {
    if is_uninstalled() {
        return PathBuf::from(config::BUILD_LOCALE_DIR);
    }
    match exe_datadir().map(|d| d.join("locale")) {
        Some(d) if d.is_dir() => d,
        _ => PathBuf::from(config::LOCALEDIR),
    }
}

/// A directory for this user's runtime files (0700), created on demand.
pub fn runtime_dir() -> std::io::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    let base = match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d).join("virt-manager"),
        _ => std::env::temp_dir().join(format!("virt-manager-{}", unsafe { libc::geteuid() })),
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&base)?;
    Ok(base)
}
