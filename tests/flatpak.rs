//! The Flatpak manifest is complete and consistent: flatpak-builder reads
//! it, every downloaded source is pinned by a checksum, and
//! flatpak/cargo-sources.json vendors exactly the crates of Cargo.lock
//! (regenerate it with `make flatpak-sources` after changing Cargo.lock).
//! The GNOME runtime cannot be downloaded here, so nothing is built.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

const MANIFEST: &str = "flatpak/org.virt_manager.VirtManager.json";

/// (name, version) → checksum of every crates.io package in Cargo.lock.
fn locked_registry_crates() -> BTreeMap<(String, String), String> {
    let lock = std::fs::read_to_string(common::repo_dir().join("Cargo.lock")).unwrap();
    let mut crates = BTreeMap::new();
    for block in lock.split("[[package]]").skip(1) {
        let field = |key: &str| {
            block.lines().find_map(|l| {
                l.strip_prefix(&format!("{key} = "))
                    .map(|v| v.trim_matches('"').to_owned())
            })
        };
        let (Some(name), Some(version)) = (field("name"), field("version")) else {
            continue;
        };
        match field("source") {
            // Workspace members are built from the source tree.
            None => {}
            Some(source) if source.starts_with("registry+") => {
                let checksum = field("checksum")
                    .unwrap_or_else(|| panic!("{name} {version} has no checksum in Cargo.lock"));
                crates.insert((name, version), checksum);
            }
            Some(source) => panic!(
                "{name} {version} comes from {source}: the Flatpak build is offline and vendors crates.io only"
            ),
        }
    }
    crates
}

#[test]
fn cargo_sources_vendor_exactly_the_locked_crates() {
    let text =
        std::fs::read_to_string(common::repo_dir().join("flatpak/cargo-sources.json")).unwrap();
    let sources: Vec<Value> = serde_json::from_str(&text).unwrap();
    let mut vendored = BTreeMap::new();
    let mut has_config = false;
    for s in &sources {
        let dest = s["dest"].as_str().unwrap_or_default();
        if s["type"] == "inline" && dest == "cargo" {
            let contents = s["contents"].as_str().unwrap_or_default();
            has_config = contents.contains("replace-with = \"vendored-sources\"");
            continue;
        }
        let Some(dir) = dest.strip_prefix("cargo/vendor/") else {
            continue;
        };
        if s["type"] == "archive" {
            let url = s["url"].as_str().unwrap();
            let sha = s["sha256"].as_str().unwrap().to_owned();
            // ".../crates/NAME/NAME-VERSION.crate"
            let file = url.rsplit('/').next().unwrap().trim_end_matches(".crate");
            assert_eq!(file, dir, "{url} unpacks into {dest}");
            vendored.insert(dir.to_owned(), sha);
        }
    }
    assert!(
        has_config,
        "cargo-sources.json does not point cargo at the vendored sources"
    );

    let locked = locked_registry_crates();
    assert!(!locked.is_empty());
    let mut missing = Vec::new();
    let mut wrong = Vec::new();
    for ((name, version), checksum) in &locked {
        match vendored.remove(&format!("{name}-{version}")) {
            None => missing.push(format!("{name} {version}")),
            Some(sha) if &sha != checksum => wrong.push(format!("{name} {version}")),
            Some(_) => {}
        }
    }
    assert!(
        missing.is_empty() && wrong.is_empty() && vendored.is_empty(),
        "flatpak/cargo-sources.json is out of date with Cargo.lock (run `make flatpak-sources`): \
         missing {missing:?}, wrong checksum {wrong:?}, not in Cargo.lock {:?}",
        vendored.keys().collect::<Vec<_>>()
    );
}

#[test]
fn the_manifest_reads_and_pins_every_download() {
    common::require("flatpak-builder", "flatpak-builder");
    // flatpak-builder keeps its state in .flatpak-builder/ of the working
    // directory: a temporary one, not the source tree.
    let cwd = tempfile::tempdir().unwrap();
    let out = Command::new("flatpak-builder")
        .arg("--show-manifest")
        .arg(common::repo_dir().join(MANIFEST))
        .current_dir(cwd.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "flatpak-builder --show-manifest: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(manifest["id"], "org.virt_manager.VirtManager");
    assert_eq!(manifest["command"], "virt-manager");
    assert!(manifest["sdk-extensions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e == "org.freedesktop.Sdk.Extension.rust-stable"));

    let finish: Vec<&str> = manifest["finish-args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    for needed in [
        "--socket=wayland",
        "--socket=fallback-x11",
        "--share=network",
        "--own-name=org.virt_manager.VirtManager1",
    ] {
        assert!(finish.contains(&needed), "finish-args lack {needed}");
    }
    for broad in [
        "--filesystem=host",
        "--filesystem=home",
        "--socket=session-bus",
    ] {
        assert!(!finish.contains(&broad), "finish-args grant {broad}");
    }

    let modules = manifest["modules"].as_array().unwrap();
    let names: Vec<&str> = modules.iter().filter_map(|m| m["name"].as_str()).collect();
    for needed in ["libvirt", "openssh", "virt-manager"] {
        assert!(names.contains(&needed), "no {needed} module in {names:?}");
    }
    for module in modules {
        let name = module["name"].as_str().unwrap_or("?");
        for source in module["sources"].as_array().unwrap() {
            if let Some(url) = source["url"].as_str() {
                let sha = source["sha256"].as_str().unwrap_or_default();
                assert!(
                    sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
                    "{name}: {url} is not pinned by a sha256"
                );
            }
        }
    }
    let app = modules
        .iter()
        .find(|m| m["name"] == "virt-manager")
        .unwrap();
    // --show-manifest has read cargo-sources.json into the module.
    let vendored = app["sources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["type"] == "archive"
                && s["dest"]
                    .as_str()
                    .is_some_and(|d| d.starts_with("cargo/vendor/"))
        })
        .count();
    assert_eq!(
        vendored,
        locked_registry_crates().len(),
        "the app module does not vendor every crate through cargo-sources.json"
    );
    let commands = app["build-commands"].to_string();
    assert!(
        commands.contains("--offline"),
        "the cargo build is not offline"
    );
}
