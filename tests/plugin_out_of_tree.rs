//! docs/plugins.md, followed literally by an outside author: the code
//! blocks marked `file=PATH` are extracted from the document (so the guide
//! and this test cannot drift), written into new Cargo projects in a
//! temporary directory that depend on plugins/api by path, built with
//! `cargo build --release`, installed where the guide says, and loaded by
//! the application.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use virt_manager::plugin_host::PluginRegistry;
use virt_manager_plugin_api::abi::{PixelFormat, Rect};
use virt_manager_plugin_api::{BackendEvent, Decoded, DomainAction, DomainState};

/// The placeholder the guide uses for the repository's location.
const API_PLACEHOLDER: &str = "/path/to/virt-manager/plugins/api";
const ENCODING: i32 = 0x564D_4D01;

/// (path, contents) of every code block marked `file=PATH` in the guide.
fn guide_files() -> Vec<(String, String)> {
    let guide = std::fs::read_to_string(common::repo_dir().join("docs/plugins.md")).unwrap();
    let mut files = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in guide.lines() {
        match &mut current {
            Some((_, body)) if line.trim_end() != "```" => {
                body.push_str(line);
                body.push('\n');
            }
            Some(_) => files.push(current.take().unwrap()),
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    if let Some(path) = info
                        .split_whitespace()
                        .find_map(|w| w.strip_prefix("file="))
                    {
                        current = Some((path.to_owned(), String::new()));
                    }
                }
            }
        }
    }
    assert!(
        current.is_none(),
        "unterminated code block in docs/plugins.md"
    );
    files
}

/// Writes the guide's projects under `root`; returns their directories.
fn write_projects(root: &Path) -> Vec<PathBuf> {
    let api = common::repo_dir().join("plugins/api");
    let mut projects = Vec::new();
    for (path, body) in guide_files() {
        let dest = root.join(&path);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(&dest, body.replace(API_PLACEHOLDER, api.to_str().unwrap())).unwrap();
        if path.ends_with("Cargo.toml") {
            projects.push(dest.parent().unwrap().to_path_buf());
        }
    }
    projects.sort();
    projects
}

/// `cargo build --release` in `project`, as the guide says. The target
/// directory is the repository's, so that repeated runs reuse the built
/// dependencies; set explicitly, so that an outer CARGO_TARGET_DIR is not
/// inherited. The workspace's lock file pins the same dependency versions
/// the application was tested with, without a registry round trip.
fn build(project: &Path, target: &Path) {
    std::fs::copy(
        common::repo_dir().join("Cargo.lock"),
        project.join("Cargo.lock"),
    )
    .unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args(["build", "--release"])
        .current_dir(project)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "building {} failed:\n{}",
        project.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn install(lib: &Path, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let status = Command::new("install")
        .args(["-m", "755"])
        .arg(lib)
        .arg(dir)
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn the_plugins_of_the_guide_build_install_and_load() {
    let work = tempfile::tempdir().unwrap();
    let projects = write_projects(work.path());
    let names: Vec<_> = projects
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["example-backend", "example-decoders"],
        "the guide's projects"
    );
    let target = common::repo_dir().join("target/out-of-tree");
    for project in &projects {
        build(project, &target);
    }

    // The backend on VIRT_MANAGER_PLUGIN_PATH, the decoders where the
    // guide installs them ($XDG_DATA_HOME/virt-manager/plugins).
    let home = tempfile::tempdir().unwrap();
    let path_dir = work.path().join("plugin-path");
    let data_dir = home.path().join("data/virt-manager/plugins");
    install(&target.join("release/libexample_backend.so"), &path_dir);
    install(&target.join("release/libexample_decoders.so"), &data_dir);
    let search = std::env::join_paths([&path_dir, &common::plugin_dir()]).unwrap();
    let app = |args: &[&str]| {
        let out = common::app_command(home.path())
            .env("VIRT_MANAGER_PLUGIN_PATH", &search)
            .args(args)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{args:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    };

    // What the guide promises, word for word.
    let listing = app(&["plugins"]);
    assert!(
        listing.contains("\nexample 0.1.0 (backend, ABI 1.1): loaded\n"),
        "{listing}"
    );
    assert!(
        listing.contains("\nexample-decoders 0.1.0 (decoders, ABI 1.1): loaded\n"),
        "{listing}"
    );
    assert!(
        listing.contains("  encodings: 1447906561 x-example-runs\n"),
        "{listing}"
    );
    let guests = app(&["list", "--connect", "example:///"]);
    assert!(
        guests.contains("example-guest") && guests.contains("running"),
        "{guests}"
    );

    // And they work through the host as the application uses them.
    let reg = PluginRegistry::discover_in(&[path_dir.clone(), data_dir.clone()]);
    let conn = reg
        .backend_for_uri("example:///")
        .unwrap()
        .open("example:///")
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    conn.subscribe(move |ev| {
        let _ = tx.lock().unwrap().send(ev);
    })
    .unwrap();
    let uuid = conn.list_domains().unwrap()[0].uuid.clone();
    conn.domain_action(&uuid, &DomainAction::Pause).unwrap();
    match rx.recv_timeout(Duration::from_secs(5)).unwrap() {
        BackendEvent::DomainChanged { domain } => assert_eq!(domain.state, DomainState::Paused),
        other => panic!("{other:?}"),
    }

    let mut decoder = reg
        .decoder_for(ENCODING)
        .unwrap()
        .create(ENCODING, &PixelFormat::HOST)
        .unwrap();
    let rect = Rect {
        x: 1,
        y: 1,
        width: 3,
        height: 2,
        encoding: ENCODING,
    };
    // Runs of 4, then 2 pixels: a row and a bit, then the rest.
    let mut data = Vec::new();
    for (pixel, len) in [(0x00ff_0000u32, 4u16), (0x0000_ff00, 2)] {
        data.extend_from_slice(&pixel.to_ne_bytes());
        data.extend_from_slice(&len.to_be_bytes());
    }
    let mut pixels = vec![0u32; 5 * 4];
    let mut fb = virt_manager::plugin_host::FramebufferMut {
        pixels: &mut pixels,
        width: 5,
        height: 4,
        stride: 5,
    };
    assert_eq!(
        decoder.decode(&rect, &data[..3], &mut fb).unwrap(),
        Decoded::NeedMore(3)
    );
    assert_eq!(
        decoder.decode(&rect, &data[..8], &mut fb).unwrap(),
        Decoded::Partial(6)
    );
    assert_eq!(
        decoder.decode(&rect, &data[6..], &mut fb).unwrap(),
        Decoded::Done(6)
    );
    let (r, g) = (0x00ff_0000, 0x0000_ff00);
    #[rustfmt::skip]
    let want = [
        0, 0, 0, 0, 0,
        0, r, r, r, 0,
        0, r, g, g, 0,
        0, 0, 0, 0, 0,
    ];
    assert_eq!(pixels, want);
}
