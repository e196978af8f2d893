//! Shared by the tests/plugin_*.rs tests: building the test plugins (C
//! with `cc`, the misbehaving Rust crate with cargo) into private
//! directories, and reading what the registry made of them.
//!
//! Included with `#[path = "plugins/support.rs"] mod support;`.

#![allow(dead_code)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use virt_manager::plugin_host::{LoadedPlugin, PluginRecord, PluginRegistry, PluginStatus};

pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh directory the loader trusts (mode 0755, ours).
pub fn plugin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// Compiles tests/plugins/`source` with `cc -shared` against the C header
/// into `dir/lib<name>.so`; `defines` are `NAME=VALUE` or `NAME`.
pub fn build_c_plugin(source: &str, name: &str, defines: &[&str], dir: &Path) -> PathBuf {
    let out = dir.join(format!("lib{name}.so"));
    let mut cmd = Command::new("cc");
    cmd.args([
        "-shared", "-fPIC", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pthread", "-I",
    ])
    .arg(repo_dir().join("plugins/api/include"))
    .args(defines.iter().map(|d| format!("-D{d}")))
    .arg(repo_dir().join("tests/plugins").join(source))
    .arg("-o")
    .arg(&out);
    let result = cmd.output().expect("cc (install build-essential)");
    assert!(
        result.status.success(),
        "{cmd:?}:\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
    out
}

/// Builds the misbehaving Rust plugin crate once per test process and
/// returns the library. It is a stand-alone crate (excluded from the
/// workspace) with its own target directory, so this never waits for the
/// workspace's build lock.
pub fn misbehave_library() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let target = repo_dir().join("target/test-plugins");
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let out = Command::new(cargo)
                .args(["build", "--quiet", "--manifest-path"])
                .arg(repo_dir().join("tests/plugins/misbehave/Cargo.toml"))
                .arg("--target-dir")
                .arg(&target)
                // Ours, not an outer build's.
                .env_remove("CARGO_TARGET_DIR")
                .env_remove("CARGO_BUILD_TARGET_DIR")
                .output()
                .expect("cargo");
            assert!(
                out.status.success(),
                "building tests/plugins/misbehave failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            target.join("debug/libvmm_misbehave.so")
        })
        .clone()
}

/// Copies the misbehaving plugin into `dir` under `file_name`.
pub fn install_misbehave(dir: &Path, file_name: &str) -> PathBuf {
    let dest = dir.join(file_name);
    std::fs::copy(misbehave_library(), &dest).unwrap();
    std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755)).unwrap();
    dest
}

pub fn record<'a>(reg: &'a PluginRegistry, path: &Path) -> &'a PluginRecord {
    reg.records()
        .iter()
        .find(|r| r.path == path)
        .unwrap_or_else(|| panic!("{} was not tried", path.display()))
}

/// The plugin loaded from `path`, or a panic with why it did not load.
pub fn loaded<'a>(reg: &'a PluginRegistry, path: &Path) -> &'a LoadedPlugin {
    match &record(reg, path).status {
        PluginStatus::Loaded(p) => p,
        PluginStatus::Failed(reason) => panic!("{} failed: {reason}", path.display()),
    }
}

/// Why `path` failed to load, or a panic if it loaded.
pub fn failure(reg: &PluginRegistry, path: &Path) -> String {
    match &record(reg, path).status {
        PluginStatus::Failed(reason) => reason.clone(),
        PluginStatus::Loaded(p) => panic!("{} loaded as {}", path.display(), p.name),
    }
}

/// A framebuffer of `w`×`h` pixels, every one `fill`.
pub struct Canvas {
    pub pixels: Vec<u32>,
    pub width: u32,
    pub height: u32,
}

impl Canvas {
    pub fn new(width: u32, height: u32, fill: u32) -> Self {
        Canvas {
            pixels: vec![fill; (width * height) as usize],
            width,
            height,
        }
    }

    pub fn view(&mut self) -> virt_manager::plugin_host::FramebufferMut<'_> {
        virt_manager::plugin_host::FramebufferMut {
            pixels: &mut self.pixels,
            width: self.width,
            height: self.height,
            stride: self.width as usize,
        }
    }

    pub fn at(&self, x: u32, y: u32) -> u32 {
        self.pixels[(y * self.width + x) as usize]
    }
}
