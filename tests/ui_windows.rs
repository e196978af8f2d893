//! The connect dialog, the preferences, the About window and keyboard-only
//! use, on the real application under Xvfb, driven through its GActions
//! (org.gtk.Actions on the bus), AT-SPI and the X keyboard (xdotool).

mod common;

use std::process::Command;
use std::time::Duration;

use common::{wait_for, RunningApp};

/// Activates an application GAction through org.gtk.Actions.
fn activate(app: &RunningApp, action: &str) {
    let out = app
        .command("gdbus")
        .args([
            "call",
            "--session",
            "--dest",
            "org.virt_manager.VirtManager",
        ])
        .args([
            "--object-path",
            "/org/virt_manager/VirtManager",
            "--method",
            "org.gtk.Actions.Activate",
        ])
        .args([action, "[]", "{}"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn names(app: &RunningApp) -> Vec<String> {
    app.tree().into_iter().map(|(_, n)| n).collect()
}

fn xdotool(app: &RunningApp, args: &[&str]) {
    common::require("xdotool", "xdotool");
    let ok = app
        .command("xdotool")
        .args(args)
        .status()
        .unwrap()
        .success();
    assert!(ok, "xdotool {args:?}");
}

#[test]
fn the_connect_dialog_adds_a_connection_and_shows_failures() {
    let app = RunningApp::start("ui_connect", &["--demo"]);
    app.first_uri();

    activate(&app, "new-connection");
    assert!(app.atspi("frame", "Add Connection", "exists", 20));
    let uri = common::test_uri("few.xml");
    assert!(app.atspi("text", "URI", &format!("set-text={uri}"), 10));
    assert!(app.atspi("push button", "Connect|Connect Connect", "click", 10));
    let active = wait_for(Duration::from_secs(20), || {
        let (_, text) = app.gdbus(&["ListConnections"]);
        (text.contains("few.xml") && text.matches("'active'").count() == 2).then_some(())
    });
    assert!(active.is_some(), "the new connection is up");
    // The list only makes rows it shows: fold the demo host's group so
    // the new one's guests are on screen.
    assert!(app.click_at("push button", "Expand|Collapse"));
    let added = wait_for(Duration::from_secs(20), || {
        let n = names(&app);
        (n.iter().any(|n| n == "alpha") && n.iter().any(|n| n == "gamma")).then_some(())
    });
    assert!(added.is_some(), "the new connection's guests appear");
    assert!(
        !app.atspi("frame", "Add Connection", "exists", 2),
        "the dialog closed"
    );
    app.x
        .screenshot(&common::artifacts_dir().join("manager-two-connections.png"));

    // A URI that fails: the reason in the dialog, the text kept.
    activate(&app, "new-connection");
    assert!(app.atspi("frame", "Add Connection", "exists", 20));
    assert!(app.atspi("text", "URI", "set-text=test:///no/such/host.xml", 10));
    assert!(app.atspi("push button", "Connect|Connect Connect", "click", 10));
    let shown = wait_for(Duration::from_secs(20), || {
        names(&app)
            .iter()
            .find(|n| n.starts_with("Could not connect") && n.contains("/no/such/host.xml"))
            .cloned()
    });
    assert!(shown.is_some(), "libvirt's reason is in the dialog");
    let out = app
        .command("/usr/bin/python3")
        .arg(common::repo_dir().join("tests/ui/atspi_do.py"))
        .args(["virt-manager", "text", "URI", "get-text", "5"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "test:///no/such/host.xml",
        "what was typed stays"
    );
    app.x
        .screenshot(&common::artifacts_dir().join("connect-failed.png"));

    // Remembered: the working one is in GSettings, the failed one is not.
    let keyfile =
        std::fs::read_to_string(app.home.path().join("config/glib-2.0/settings/keyfile")).unwrap();
    assert!(keyfile.contains("few.xml"), "{keyfile}");
    assert!(!keyfile.contains("no/such"), "{keyfile}");
}

#[test]
fn preferences_persist_across_restarts() {
    let home;
    {
        let app = RunningApp::start("ui_prefs", &["--demo"]);
        activate(&app, "preferences");
        assert!(app.atspi("frame", "Preferences", "exists", 20));
        assert!(app.atspi("spin button", "Update Interval", "set-value=7", 10));
        let saved = wait_for(Duration::from_secs(10), || {
            let k =
                std::fs::read_to_string(app.home.path().join("config/glib-2.0/settings/keyfile"))
                    .ok()?;
            k.contains("stats-interval=7").then_some(())
        });
        assert!(saved.is_some(), "written to GSettings at once");
        app.x
            .screenshot(&common::artifacts_dir().join("preferences.png"));
        home = app.home.path().to_path_buf();
        // Keep the home: the app is stopped when `app` drops.
        std::mem::forget(app.home);
    }
    // A new run with the same settings shows the value.
    let app = RunningApp::start_with("ui_prefs_again", &["--demo"], |cmd| {
        cmd.env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join("config"));
    });
    activate(&app, "preferences");
    let out = app
        .command("/usr/bin/python3")
        .env("HOME", &home)
        .arg(common::repo_dir().join("tests/ui/atspi_do.py"))
        .args([
            "virt-manager",
            "spin button",
            "Update Interval",
            "get-value",
            "20",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "7.0");
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn the_about_window_opens_and_lists_plugins() {
    let app = RunningApp::start("ui_about", &["--demo"]);
    activate(&app, "about");
    let tree = wait_for(Duration::from_secs(20), || {
        let t = app.tree();
        t.iter()
            .any(|(_, n)| n == "Virtual Machine Manager" || n.contains("About"))
            .then_some(t)
    })
    .expect("the About window");
    assert!(tree.iter().any(|(r, _)| r == "dialog" || r == "frame"));
    app.x.screenshot(&common::artifacts_dir().join("about.png"));
}

#[test]
fn keyboard_only_search_then_enter_opens_the_console() {
    let app = RunningApp::start("ui_keyboard", &["--demo"]);
    app.first_uri();
    assert!(app.atspi("frame", "Virtual Machine Manager", "exists", 20));
    // No window manager under Xvfb: the keyboard follows the pointer.
    xdotool(&app, &["mousemove", "200", "200"]);
    xdotool(&app, &["key", "--delay", "100", "ctrl+f"]);
    xdotool(&app, &["type", "--delay", "50", "debian"]);
    let filtered = wait_for(Duration::from_secs(10), || {
        let n = names(&app);
        (n.iter().any(|n| n == "debian-server") && !n.iter().any(|n| n == "windows-11"))
            .then_some(())
    });
    assert!(
        filtered.is_some(),
        "Ctrl+F focused the search and the list is filtered"
    );
    xdotool(&app, &["key", "Return"]);
    assert!(
        app.atspi("frame", "debian-server – Console", "exists", 20),
        "Enter opened its console"
    );
    app.x
        .screenshot(&common::artifacts_dir().join("keyboard-console.png"));
}

#[test]
fn every_header_button_has_a_name() {
    let app = RunningApp::start("ui_names", &["--demo"]);
    app.first_uri();
    let tree = app.tree();
    let unnamed: Vec<&(String, String)> = tree
        .iter()
        .filter(|(r, n)| {
            (r == "push button" || r == "toggle button") && (n.is_empty() || n.starts_with("Gtk"))
        })
        .collect();
    assert!(
        unnamed.is_empty(),
        "buttons without an accessible name: {unnamed:?}"
    );
    assert!(
        tree.iter()
            .any(|(r, n)| r == "entry" && n.contains("Search")),
        "the search field's name says Search"
    );
    let _ = Command::new("true").status();
}
