//! `virt-manager plugins`: every file on the search path with what it is,
//! what it provides and whether it loaded, the bad ones with their reasons;
//! and the application keeps working beside them.

mod common;
#[path = "plugins/support.rs"]
mod support;

use std::path::Path;
use std::process::Command;

use support::{build_c_plugin, install_misbehave, plugin_dir};

/// A directory of bad plugins and one that collides with a real one.
fn bad_dir() -> tempfile::TempDir {
    let dir = plugin_dir();
    std::fs::write(dir.path().join("libnotalibrary.so"), "not ELF\n").unwrap();
    let src = dir.path().join("other.c");
    std::fs::write(&src, "int some_function(void) { return 42; }\n").unwrap();
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(dir.path().join("libnoentry.so"))
        .arg(&src)
        .status()
        .expect("cc");
    assert!(status.success());
    build_c_plugin(
        "c_backend/future_major.c",
        "future",
        &["V1_SYMBOL"],
        dir.path(),
    );
    // RRE again, first on the path: it wins, the real decoders get a note.
    build_c_plugin("c_decoder/rre.c", "c_rre", &[], dir.path());
    install_misbehave(dir.path(), "libmisbehave.so");
    dir
}

fn plugins(home: &Path, dir: &Path, misbehave: &str, json: bool) -> (String, String) {
    let path = std::env::join_paths([dir, &common::plugin_dir()]).unwrap();
    let mut cmd = common::app_command(home);
    cmd.env("VIRT_MANAGER_PLUGIN_PATH", path)
        .env("VMM_MISBEHAVE", misbehave)
        .arg("plugins");
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    (String::from_utf8_lossy(&out.stdout).into_owned(), stderr)
}

fn row<'a>(rows: &'a [serde_json::Value], file: &str) -> &'a serde_json::Value {
    rows.iter()
        .find(|r| r["file"].as_str().unwrap().ends_with(&format!("/{file}")))
        .unwrap_or_else(|| panic!("{file} not listed"))
}

#[test]
fn the_listing_shows_loaded_and_failed_plugins_with_reasons() {
    let home = tempfile::tempdir().unwrap();
    let dir = bad_dir();
    let (out, _) = plugins(home.path(), dir.path(), "panic:info", true);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();

    let libvirt = row(&rows, "libvirt_manager_libvirt.so");
    assert_eq!(libvirt["status"], "loaded");
    assert_eq!(libvirt["name"], "libvirt");
    assert_eq!(libvirt["abi"], "1.1");
    assert_eq!(libvirt["kind"], serde_json::json!(["backend"]));
    assert!(libvirt["uri_schemes"]
        .as_array()
        .unwrap()
        .contains(&"qemu".into()));

    let vnc = row(&rows, "libvirt_manager_vnc_direct.so");
    assert_eq!(vnc["status"], "loaded");
    assert_eq!(vnc["uri_schemes"], serde_json::json!(["vnc-direct"]));

    let c_rre = row(&rows, "libc_rre.so");
    assert_eq!(c_rre["status"], "loaded");
    assert_eq!(c_rre["kind"], serde_json::json!(["decoders"]));
    assert_eq!(
        c_rre["encodings"],
        serde_json::json!([{"encoding": 2, "name": "RRE"}])
    );
    if let Some(real) = rows.iter().find(|r| r["name"] == "rfb-decoders") {
        assert_eq!(real["status"], "loaded");
        let notes = real["notes"].as_array().unwrap();
        assert!(
            notes.iter().any(|n| n
                .as_str()
                .unwrap()
                .contains("encoding 2 (RRE): already provided by plugin c-rre")),
            "{notes:?}"
        );
    }

    let failed = |file: &str, why: &str| {
        let r = row(&rows, file);
        assert_eq!(r["status"], "failed", "{r}");
        let reason = r["reason"].as_str().unwrap();
        assert!(reason.contains(why), "{file}: {reason}");
    };
    failed("libnotalibrary.so", "not a loadable library");
    failed("libnoentry.so", "no `virt_manager_plugin_v1` symbol");
    failed("libfuture.so", "built for plugin ABI 2.0");
    failed(
        "libmisbehave.so",
        "backend info failed: plugin panicked: misbehave: panic in info",
    );

    // A panic in the decoders' info fails the load the same way.
    let (out, _) = plugins(home.path(), dir.path(), "panic:decoder_info", true);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let r = row(&rows, "libmisbehave.so");
    assert!(
        r["reason"]
            .as_str()
            .unwrap()
            .contains("decoder info failed: plugin panicked"),
        "{r}"
    );

    // Well-behaved, the misbehaving plugin provides both kinds.
    let (out, _) = plugins(home.path(), dir.path(), "", true);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let r = row(&rows, "libmisbehave.so");
    assert_eq!(r["kind"], serde_json::json!(["backend", "decoders"]));
}

#[test]
fn the_text_listing_reads_well() {
    let home = tempfile::tempdir().unwrap();
    let dir = bad_dir();
    let (out, _) = plugins(home.path(), dir.path(), "", false);
    assert!(out.starts_with("Search path:\n"), "{out}");
    assert!(
        out.contains("\nlibvirt 0.1.0 (backend, ABI 1.1): loaded\n"),
        "{out}"
    );
    assert!(
        out.contains("\nvnc-direct 0.1.0 (backend, ABI 1.1): loaded\n  file: "),
        "{out}"
    );
    assert!(out.contains("  URI schemes: vnc-direct\n"), "{out}");
    assert!(
        out.contains("\nc-rre 1.0.0 (decoders, ABI 1.1): loaded\n"),
        "{out}"
    );
    assert!(out.contains("  encodings: 2 RRE\n"), "{out}");
    assert!(
        out.contains("\nmisbehave 0.1.0 (backend, decoders, ABI 1.1): loaded\n"),
        "{out}"
    );
    assert!(
        out.contains("\nlibnotalibrary.so: failed: not a loadable library: "),
        "{out}"
    );
    assert!(
        out.contains("\nlibfuture.so: failed: incompatible: built for plugin ABI 2.0"),
        "{out}"
    );
    assert!(out.trim_end().ends_with("3 failed, 0 shadowed"), "{out}");
}

#[test]
fn the_application_keeps_working_beside_bad_plugins() {
    let home = tempfile::tempdir().unwrap();
    let dir = bad_dir();
    let path = std::env::join_paths([dir.path(), &common::plugin_dir()]).unwrap();
    for misbehave in ["panic:info", "panic:list_domains", "panic:decoder_info"] {
        let out = common::app_command(home.path())
            .env("VIRT_MANAGER_PLUGIN_PATH", &path)
            .env("VMM_MISBEHAVE", misbehave)
            .args(["list", "--json", "--connect", &common::test_uri("few.xml")])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let guests: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(guests.len(), 5);
    }
    // A panic while listing a plugin's own guests is an error message, not a crash.
    let out = common::app_command(home.path())
        .env("VIRT_MANAGER_PLUGIN_PATH", &path)
        .env("VMM_MISBEHAVE", "panic:list_domains")
        .args(["list", "--connect", "misbehave:///"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("plugin panicked: misbehave: panic in list_domains"),
        "{stderr}"
    );
}
