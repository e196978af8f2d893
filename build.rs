//! Build-time steps for the application package:
//! - the gresource bundle (CSS, icons, the demo host) from ui/;
//! - the GSettings schema, compiled into the build directory so that an
//!   uninstalled build finds it (src/settings.rs looks there last);
//! - translations (po/*.po) compiled into the build directory, likewise;
//! - installation directories from PREFIX and friends, for src/config.rs.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap());

    glib_build_tools::compile_resources(
        &["ui"],
        "ui/resources.gresource.xml",
        "resources.gresource",
    );
    for f in [
        "ui/style.css",
        "ui/demo-host.xml",
        "ui/icons",
        "ui/gtk",
        "ui/resources.gresource.xml",
    ] {
        println!("cargo:rerun-if-changed={f}");
    }

    let schema_dir = out.join("schemas");
    std::fs::create_dir_all(&schema_dir).unwrap();
    let schema = "ui/org.virt_manager.VirtManager.gschema.xml";
    std::fs::copy(
        schema,
        schema_dir.join("org.virt_manager.VirtManager.gschema.xml"),
    )
    .unwrap();
    println!("cargo:rerun-if-changed={schema}");
    run(
        Command::new("glib-compile-schemas")
            .arg("--strict")
            .arg(&schema_dir),
        "glib-compile-schemas (package libglib2.0-bin)",
    );

    let locale_dir = out.join("locale");
    compile_translations(Path::new("po"), &locale_dir);

    let prefix = env_or("PREFIX", "/usr/local");
    let plugindir = env_or("PLUGINDIR", &format!("{prefix}/lib/virt-manager/plugins"));
    let datadir = env_or("DATADIR", &format!("{prefix}/share"));
    let localedir = env_or("LOCALEDIR", &format!("{datadir}/locale"));
    println!("cargo:rustc-env=VIRT_MANAGER_PREFIX={prefix}");
    println!("cargo:rustc-env=VIRT_MANAGER_PLUGINDIR={plugindir}");
    println!("cargo:rustc-env=VIRT_MANAGER_DATADIR={datadir}");
    println!("cargo:rustc-env=VIRT_MANAGER_LOCALEDIR={localedir}");
    println!(
        "cargo:rustc-env=VIRT_MANAGER_BUILD_SCHEMA_DIR={}",
        schema_dir.display()
    );
    println!(
        "cargo:rustc-env=VIRT_MANAGER_BUILD_LOCALE_DIR={}",
        locale_dir.display()
    );
}

fn env_or(name: &str, default: &str) -> String {
    println!("cargo:rerun-if-env-changed={name}");
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

fn run(cmd: &mut Command, what: &str) {
    match cmd.status() {
        Ok(s) if s.success() => {}
        Ok(s) => panic!("{what} failed: {s}"),
        Err(e) => panic!("cannot run {what}: {e}"),
    }
}

/// po/LL.po -> OUT_DIR/locale/LL/LC_MESSAGES/<domain>.mo
fn compile_translations(po_dir: &Path, locale_dir: &Path) {
    println!("cargo:rerun-if-changed=po/LINGUAS");
    let Ok(linguas) = std::fs::read_to_string(po_dir.join("LINGUAS")) else {
        return;
    };
    for lang in linguas
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let po = po_dir.join(format!("{lang}.po"));
        println!("cargo:rerun-if-changed={}", po.display());
        let dir = locale_dir.join(lang).join("LC_MESSAGES");
        std::fs::create_dir_all(&dir).unwrap();
        run(
            Command::new("msgfmt")
                .arg("--check")
                .arg("-o")
                .arg(dir.join("org.virt_manager.VirtManager.mo"))
                .arg(&po),
            "msgfmt (package gettext)",
        );
    }
}
