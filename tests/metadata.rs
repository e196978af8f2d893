//! The desktop metadata validates with the freedesktop and GNOME tools,
//! and every file with translatable strings is listed for translators.

mod common;

use std::path::Path;
use std::process::Command;

fn run_ok(program: &str, package: &str, args: &[&str]) {
    common::require(program, package);
    let out = Command::new(program)
        .args(args)
        .current_dir(common::repo_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn desktop_file_validates() {
    run_ok(
        "desktop-file-validate",
        "desktop-file-utils",
        &["ui/org.virt_manager.VirtManager.desktop"],
    );
}

#[test]
fn metainfo_validates() {
    run_ok(
        "appstreamcli",
        "appstream",
        &[
            "validate",
            "--no-net",
            "ui/org.virt_manager.VirtManager.metainfo.xml",
        ],
    );
}

#[test]
fn schema_compiles_strictly() {
    run_ok(
        "glib-compile-schemas",
        "libglib2.0-bin",
        &["--strict", "--dry-run", "ui"],
    );
}

fn rust_files(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(
                path.strip_prefix(common::repo_dir())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
}

#[test]
fn potfiles_lists_every_file_with_translatable_strings() {
    let root = common::repo_dir();
    let listed: Vec<String> = std::fs::read_to_string(root.join("po/POTFILES"))
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    for f in &listed {
        assert!(
            root.join(f).is_file(),
            "po/POTFILES lists {f}, which does not exist"
        );
    }
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let marker = regex_lite_marker();
    for f in files {
        // i18n.rs defines the functions; it has no strings of its own.
        if f == "src/i18n.rs" {
            continue;
        }
        let text = std::fs::read_to_string(root.join(&f)).unwrap();
        if marker.iter().any(|m| text.contains(m)) {
            assert!(
                listed.contains(&f),
                "{f} has translatable strings but is not in po/POTFILES"
            );
        }
    }
}

fn regex_lite_marker() -> [&'static str; 5] {
    [
        "gettext(\"",
        "ngettext(\"",
        "gettext_f(\"",
        "pgettext(\"",
        "gettext_noop(\"",
    ]
}

/// The msgids of a PO or POT file (continuation lines joined; plurals by
/// their singular), without the header.
fn msgids(path: &Path) -> std::collections::BTreeSet<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut ids = std::collections::BTreeSet::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("msgid ") {
            current = Some(rest.trim_matches('"').to_owned());
        } else if let (Some(id), true) = (current.as_mut(), line.starts_with('"')) {
            id.push_str(line.trim_matches('"'));
        } else if let Some(id) = current.take() {
            if !id.is_empty() {
                ids.insert(id);
            }
        }
    }
    ids
}

#[test]
fn the_template_is_current_and_every_translation_complete() {
    common::require("xgettext", "gettext");
    let root = common::repo_dir();
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.pot");
    run_ok(
        "make",
        "make",
        &["-s", "pot", &format!("POT={}", fresh.display())],
    );
    let committed = msgids(&root.join("po/virt-manager.pot"));
    let current = msgids(&fresh);
    let missing: Vec<_> = current.difference(&committed).collect();
    let stale: Vec<_> = committed.difference(&current).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "po/virt-manager.pot is out of date (run `make pot`): new {missing:?}, gone {stale:?}"
    );

    let linguas = std::fs::read_to_string(root.join("po/LINGUAS")).unwrap();
    for lang in linguas
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let po = format!("po/{lang}.po");
        run_ok("msgcmp", "gettext", &[&po, "po/virt-manager.pot"]);
        let out = Command::new("msgfmt")
            .args(["--check", "--statistics", "-o", "/dev/null", &po])
            .current_dir(&root)
            .output()
            .unwrap();
        let stats = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "msgfmt --check {po}: {stats}");
        assert!(
            !stats.contains("fuzzy") && !stats.contains("untranslated"),
            "{po} is incomplete: {stats}"
        );
    }
}
