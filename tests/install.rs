//! `make install-files` into a temporary DESTDIR with PREFIX=/usr, as a
//! distribution packages it; the installed tree validates, and the
//! installed binary, run from there under Xvfb in German, finds its
//! plugins, its GSettings schema and its translations in that tree.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{repo_dir, require, RunningApp};

const APP_ID: &str = "org.virt_manager.VirtManager";

/// `make -s TARGET PREFIX=/usr DESTDIR=dest`, with the build under test
/// (debug in `make test`) rather than a release.
fn make(target: &str, dest: &Path) {
    require("make", "make");
    require("msgfmt", "gettext");
    let out = Command::new("make")
        .current_dir(repo_dir())
        .args(["-s", target, "PREFIX=/usr"])
        .arg(format!("DESTDIR={}", dest.display()))
        .arg(format!("BUILDDIR={}", common::plugin_dir().display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "make {target} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn check(program: &str, package: &str, args: &[&str]) {
    require(program, package);
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn languages() -> Vec<String> {
    std::fs::read_to_string(repo_dir().join("po/LINGUAS"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(String::from)
        .collect()
}

#[test]
fn the_installed_tree_validates_and_runs_in_german() {
    let dest = tempfile::tempdir().unwrap();
    make("install-files", dest.path());
    let usr = dest.path().join("usr");
    let share = usr.join("share");

    let mut expected: Vec<PathBuf> = vec![
        usr.join("bin/virt-manager"),
        share.join(format!("applications/{APP_ID}.desktop")),
        share.join(format!("metainfo/{APP_ID}.metainfo.xml")),
        share.join(format!("glib-2.0/schemas/{APP_ID}.gschema.xml")),
        share.join(format!("icons/hicolor/scalable/apps/{APP_ID}.svg")),
        share.join(format!("icons/hicolor/symbolic/apps/{APP_ID}-symbolic.svg")),
        share.join(format!(
            "gnome-shell/search-providers/{APP_ID}.search-provider.ini"
        )),
        share.join(format!("dbus-1/services/{APP_ID}.service")),
        share.join(format!("dbus-1/services/{APP_ID}1.service")),
    ];
    for plugin in [
        "libvirt_manager_libvirt.so",
        "libvirt_manager_rfb.so",
        "libvirt_manager_vnc_direct.so",
    ] {
        expected.push(usr.join("lib/virt-manager/plugins").join(plugin));
    }
    let langs = languages();
    assert!(langs.contains(&"de".to_string()), "po/LINGUAS lists de");
    for lang in &langs {
        expected.push(share.join(format!("locale/{lang}/LC_MESSAGES/{APP_ID}.mo")));
    }
    for path in &expected {
        assert!(path.is_file(), "not installed: {}", path.display());
    }

    // D-Bus activation starts the installed path, not the DESTDIR one.
    for name in [APP_ID.to_string(), format!("{APP_ID}1")] {
        let service =
            std::fs::read_to_string(share.join(format!("dbus-1/services/{name}.service"))).unwrap();
        assert!(service.contains(&format!("Name={name}\n")), "{service}");
        assert!(service.contains("Exec=/usr/bin/virt-manager "), "{service}");
    }

    // The merged desktop file and metainfo carry the translations, and
    // still validate.
    let desktop = share.join(format!("applications/{APP_ID}.desktop"));
    let metainfo = share.join(format!("metainfo/{APP_ID}.metainfo.xml"));
    check(
        "desktop-file-validate",
        "desktop-file-utils",
        &[desktop.to_str().unwrap()],
    );
    check(
        "appstreamcli",
        "appstream",
        &["validate", "--no-net", metainfo.to_str().unwrap()],
    );
    let desktop_text = std::fs::read_to_string(&desktop).unwrap();
    assert!(desktop_text.contains("Name[de]="), "{desktop_text}");
    let metainfo_text = std::fs::read_to_string(&metainfo).unwrap();
    assert!(
        metainfo_text.contains("xml:lang=\"de\""),
        "no German in the metainfo"
    );

    // What a package's trigger does after installing a schema.
    let schemas = share.join("glib-2.0/schemas");
    check(
        "glib-compile-schemas",
        "libglib2.0-bin",
        &["--strict", schemas.to_str().unwrap()],
    );

    // The installed binary, in German, with nothing pointing it anywhere.
    require("localedef", "locales");
    let installed = usr.join("bin/virt-manager");
    let app = RunningApp::start_binary("install_de", Some(&installed), &["--demo"], |cmd| {
        cmd.env("LANG", "de_DE.UTF-8")
            .env("LC_ALL", "de_DE.UTF-8")
            .env("XDG_DATA_DIRS", "/usr/share");
    });
    // The manager's connection row, through AT-SPI, in German.
    assert!(
        app.atspi("label", "Verbunden · 8 Gäste", "exists", 20),
        "the German UI did not show; log: {}",
        app.log.display()
    );
    assert!(
        app.atspi("push button", "Suchen", "exists", 5)
            || app.atspi("toggle button", "Suchen", "exists", 5),
        "the German search button; log: {}",
        app.log.display()
    );
    app.x
        .screenshot(&common::artifacts_dir().join("install-de.png"));

    let log = std::fs::read_to_string(&app.log).unwrap();
    let plugin_dir = usr.join("lib/virt-manager/plugins");
    for plugin in ["libvirt", "rfb-decoders", "vnc-direct"] {
        let line = log
            .lines()
            .find(|l| l.contains(&format!("loaded plugin {plugin} ")))
            .unwrap_or_else(|| panic!("plugin {plugin} not loaded; log: {}", app.log.display()));
        assert!(
            line.contains(&plugin_dir.display().to_string()),
            "{plugin} came from elsewhere: {line}"
        );
    }
    assert!(
        log.contains(&format!("settings: schema from {}", schemas.display())),
        "the schema did not come from the installed tree; log: {}",
        app.log.display()
    );
    drop(app);

    // `make uninstall` takes back every file it installed.
    make("uninstall", dest.path());
    for path in &expected {
        assert!(!path.exists(), "left behind: {}", path.display());
    }
}
