//! The plugin host on a search path with things that are not plugins: each
//! is skipped with its reason, and the app goes on with the real ones.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use virt_manager::plugin_host::{PluginRegistry, PluginStatus};

/// A directory holding an empty subdirectory's worth of nothing, a text
/// file named like a library, and a real shared library (built here with
/// cc) that lacks the entry symbol.
fn bad_plugin_dir() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let text = dir.path().join("libnotalibrary.so");
    std::fs::write(&text, "this is not an ELF file\n").unwrap();
    let src = dir.path().join("other.c");
    std::fs::write(&src, "int some_other_function(void) { return 42; }\n").unwrap();
    let lib = dir.path().join("libnoentry.so");
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(&src)
        .status()
        .expect("cc");
    assert!(status.success());
    (dir, text, lib)
}

fn status_of<'a>(reg: &'a PluginRegistry, path: &Path) -> &'a PluginStatus {
    &reg.records()
        .iter()
        .find(|r| r.path == path)
        .unwrap_or_else(|| panic!("{} not tried", path.display()))
        .status
}

#[test]
fn bad_files_are_skipped_with_reasons() {
    let empty = tempfile::tempdir().unwrap();
    let (dir, text, lib) = bad_plugin_dir();
    let reg = PluginRegistry::discover_in(&[
        empty.path().to_path_buf(),
        dir.path().to_path_buf(),
        PathBuf::from("/nonexistent/plugins"),
        common::plugin_dir(),
    ]);
    match status_of(&reg, &text) {
        PluginStatus::Failed(reason) => {
            assert!(reason.contains("not a loadable library"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    match status_of(&reg, &lib) {
        PluginStatus::Failed(reason) => {
            assert!(reason.contains("virt_manager_plugin_v1"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(
        reg.backend_for_uri("test:///default").is_some(),
        "the libvirt plugin still loads"
    );
    assert!(
        reg.backend_for_uri("qemu+ssh://h/system").is_some(),
        "transports map to their driver"
    );
}

#[test]
fn world_writable_plugins_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let src = common::plugin_dir().join("libvirt_manager_libvirt.so");
    let copy = dir.path().join("libvirt_manager_libvirt.so");
    std::fs::copy(&src, &copy).unwrap();
    std::fs::set_permissions(&copy, std::fs::Permissions::from_mode(0o777)).unwrap();
    let reg = PluginRegistry::discover_in(&[dir.path().to_path_buf()]);
    match status_of(&reg, &copy) {
        PluginStatus::Failed(reason) => {
            assert!(reason.contains("writable by every user"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(reg.backend_for_uri("test:///default").is_none());
}

#[test]
fn the_first_file_of_a_name_on_the_path_wins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let copy = dir.path().join("libvirt_manager_libvirt.so");
    std::fs::copy(
        common::plugin_dir().join("libvirt_manager_libvirt.so"),
        &copy,
    )
    .unwrap();
    let reg = PluginRegistry::discover_in(&[dir.path().to_path_buf(), common::plugin_dir()]);
    let loaded: Vec<&PathBuf> = reg
        .records()
        .iter()
        .filter(|r| r.path.file_name().unwrap() == "libvirt_manager_libvirt.so")
        .map(|r| &r.path)
        .collect();
    assert_eq!(loaded, [&copy], "one copy loaded, the first on the path");
}

#[test]
fn the_cli_still_lists_guests_and_logs_why_files_were_skipped() {
    let home = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let (dir, _text, _lib) = bad_plugin_dir();
    let path = std::env::join_paths([empty.path(), dir.path(), &common::plugin_dir()]).unwrap();
    let out = common::app_command(home.path())
        .env("VIRT_MANAGER_PLUGIN_PATH", path)
        .args([
            "--debug",
            "list",
            "--json",
            "--connect",
            &common::test_uri("few.xml"),
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let guests: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(guests.len(), 5);
    assert!(
        stderr.contains("libnotalibrary.so") && stderr.contains("not a loadable library"),
        "{stderr}"
    );
    assert!(
        stderr.contains("libnoentry.so") && stderr.contains("virt_manager_plugin_v1"),
        "{stderr}"
    );
}

#[test]
fn the_binary_does_not_link_libvirt() {
    let out = Command::new("ldd")
        .arg(common::bin())
        .output()
        .expect("ldd");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        !text.contains("libvirt"),
        "the application links libvirt:\n{text}"
    );
    // ...while the plugin does, which is the point.
    let out = Command::new("ldd")
        .arg(common::plugin_dir().join("libvirt_manager_libvirt.so"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("libvirt.so"));
}
