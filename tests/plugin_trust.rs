//! Plugins load only from trusted places: the search-path directories
//! (never the working directory, never relative entries), and only files
//! and directories that no other user could have replaced. Each refusal is
//! a warning in the log and a "failed" entry with its reason.

mod common;
#[path = "plugins/support.rs"]
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use support::{failure, loaded, plugin_dir};
use virt_manager::plugin_host::PluginRegistry;

const PLUGIN: &str = "libvirt_manager_vnc_direct.so";

/// A copy of the vnc-direct plugin in `dir`, mode 0755.
fn copy_plugin(dir: &Path) -> PathBuf {
    let dest = dir.join(PLUGIN);
    std::fs::copy(common::plugin_dir().join(PLUGIN), &dest).unwrap();
    std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755)).unwrap();
    dest
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

fn chown(path: &Path, uid: Option<u32>, gid: Option<u32>) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    let r = unsafe { libc::chown(c.as_ptr(), uid.unwrap_or(u32::MAX), gid.unwrap_or(u32::MAX)) };
    assert_eq!(r, 0, "chown {}", path.display());
}

#[test]
fn a_trusted_copy_loads() {
    let dir = plugin_dir();
    let lib = copy_plugin(dir.path());
    let reg = PluginRegistry::discover_in(&[dir.path().to_path_buf()]);
    assert_eq!(loaded(&reg, &lib).name, "vnc-direct");
}

#[test]
fn a_world_writable_directory_is_refused() {
    let dir = plugin_dir();
    let lib = copy_plugin(dir.path());
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let reg = PluginRegistry::discover_in(&[dir.path().to_path_buf()]);
    let reason = failure(&reg, &lib);
    assert!(reason.starts_with("refused:"), "{reason}");
    assert!(
        reason.contains(&format!(
            "{} is writable by every user",
            dir.path().display()
        )),
        "{reason}"
    );
    // /tmp-like directories (sticky bit) do not count as safe either.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    let reg = PluginRegistry::discover_in(&[dir.path().to_path_buf()]);
    assert!(failure(&reg, &lib).contains("writable by every user"));
    assert!(reg.backend_for_uri("vnc-direct:///").is_none());
}

#[test]
fn a_file_owned_by_another_user_is_refused() {
    if !is_root() {
        eprintln!("skipped: only root can give a file to another user");
        return;
    }
    let dir = plugin_dir();
    let lib = copy_plugin(dir.path());
    chown(&lib, Some(65534), None);
    let reg = PluginRegistry::discover_in(&[dir.path().to_path_buf()]);
    let reason = failure(&reg, &lib);
    assert!(
        reason.contains("belongs to another user (uid 65534)"),
        "{reason}"
    );
}

#[test]
fn a_directory_owned_by_another_user_is_refused() {
    if !is_root() {
        eprintln!("skipped: only root can give a directory to another user");
        return;
    }
    let dir = plugin_dir();
    let lib = copy_plugin(dir.path());
    chown(dir.path(), Some(65534), None);
    let reg = PluginRegistry::discover_in(&[dir.path().to_path_buf()]);
    let reason = failure(&reg, &lib);
    assert!(
        reason.contains(&format!("{} belongs to another user", dir.path().display())),
        "{reason}"
    );
}

#[test]
fn a_file_writable_by_a_shared_group_is_refused() {
    if !is_root() {
        eprintln!("skipped: needs root to change the file's group");
        return;
    }
    let dir = plugin_dir();
    let lib = copy_plugin(dir.path());
    // Group 100 ("users" on Debian) is nobody's private group here.
    chown(&lib, None, Some(100));
    std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o775)).unwrap();
    let reg = PluginRegistry::discover_in(&[dir.path().to_path_buf()]);
    let reason = failure(&reg, &lib);
    assert!(reason.contains("writable by its group"), "{reason}");
}

#[test]
fn the_working_directory_and_relative_entries_are_never_searched() {
    let cwd = plugin_dir();
    copy_plugin(cwd.path());
    std::fs::create_dir(cwd.path().join("plugins")).unwrap();
    std::fs::set_permissions(
        cwd.path().join("plugins"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    copy_plugin(&cwd.path().join("plugins"));
    let home = tempfile::tempdir().unwrap();
    let out = common::app_command(home.path())
        .current_dir(cwd.path())
        .env("VIRT_MANAGER_PLUGIN_PATH", ".:plugins::./plugins")
        .args(["plugins", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let cwd_path = cwd.path().canonicalize().unwrap();
    for row in &rows {
        let file = PathBuf::from(row["file"].as_str().unwrap());
        assert!(file.is_absolute(), "{row}");
        assert!(
            !file.starts_with(&cwd_path) && !file.starts_with(cwd.path()),
            "loaded from the working directory: {row}"
        );
    }
}

#[test]
fn a_refusal_is_a_warning_in_the_log_and_a_failure_in_the_listing() {
    let dir = plugin_dir();
    let lib = copy_plugin(dir.path());
    std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o666)).unwrap();
    let home = tempfile::tempdir().unwrap();
    let out = common::app_command(home.path())
        .env("VIRT_MANAGER_PLUGIN_PATH", dir.path())
        .arg("plugins")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("WARN") && stderr.contains("is writable by every user"),
        "{stderr}"
    );
    assert!(
        stdout.contains(&format!(
            "{PLUGIN}: failed: refused: {} is writable by every user",
            lib.display()
        )),
        "{stdout}"
    );
    // The copy beside the binary, later on the path, is shadowed by name.
    assert!(stdout.contains("shadowed"), "{stdout}");
}
