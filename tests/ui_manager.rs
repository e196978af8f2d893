//! The real application window under Xvfb, on a private D-Bus session bus,
//! read through its accessibility tree (AT-SPI, Debian's python3-pyatspi).

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{DbusSession, Service, Xvfb};
use serde_json::Value;

const DEMO_GUESTS: &[&str] = &[
    "fedora-workstation",
    "debian-server",
    "ubuntu-dev",
    "windows-11",
    "alpine-router",
    "opensuse-build",
    "freebsd-nas",
    "legacy-app",
];

/// The accessible tree of the app, as (role, name) pairs.
fn accessible_tree(bus: &DbusSession, x: &Xvfb) -> Vec<(String, String)> {
    common::require("/usr/bin/python3", "python3");
    let out = Command::new("/usr/bin/python3")
        .arg(common::repo_dir().join("tests/ui/atspi_dump.py"))
        .args(["virt-manager", "30"])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .env("DISPLAY", &x.display)
        .env("XDG_RUNTIME_DIR", &bus.runtime_dir)
        .output()
        .expect("python3-pyatspi");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "AT-SPI dump failed: {text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| {
            (
                v["role"].as_str().unwrap_or("").to_owned(),
                v["name"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_manager_window_shows_the_demo_hosts_guests() {
    let x = Xvfb::start(1024, 768);
    let home = tempfile::tempdir().unwrap();
    let bus = DbusSession::start_for(&x, &home.path().join("runtime"));
    // A bad plugin on the path must not stop the app.
    let bad = tempfile::tempdir().unwrap();
    std::fs::write(bad.path().join("libbroken.so"), "not a library").unwrap();
    let path = std::env::join_paths([bad.path(), &common::plugin_dir()]).unwrap();
    let log = common::artifacts_dir().join("ui_manager.log");
    let child = common::app_command(home.path())
        .env("VIRT_MANAGER_PLUGIN_PATH", path)
        .env("DISPLAY", &x.display)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .args(["--demo", "--debug"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let _app = Service {
        name: "virt-manager",
        child,
    };

    // Rows appear once the connection is up: poll the tree until all do.
    let tree = common::wait_for(Duration::from_secs(30), || {
        let tree = accessible_tree(&bus, &x);
        let names: Vec<&str> = tree.iter().map(|(_, n)| n.as_str()).collect();
        DEMO_GUESTS
            .iter()
            .all(|g| names.contains(g))
            .then_some(tree)
    })
    .unwrap_or_else(|| panic!("the demo guests never appeared; log: {}", log.display()));

    assert!(
        tree.iter()
            .any(|(r, n)| r == "frame" && n == "Virtual Machine Manager"),
        "{tree:?}"
    );
    assert!(tree
        .iter()
        .any(|(r, n)| r == "list" && n == "Virtual machines"));
    assert!(
        tree.iter().any(|(_, n)| n == "Running"),
        "state is shown as text"
    );
    assert!(tree.iter().any(|(_, n)| n == "Shut off"));

    let shot = common::artifacts_dir().join("manager-demo.png");
    x.screenshot(&shot);
    assert!(
        std::fs::metadata(&shot).unwrap().len() > 10_000,
        "a real picture"
    );

    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(
        log_text.contains("libbroken.so") && log_text.contains("not a loadable library"),
        "{log_text}"
    );
}

#[test]
fn a_connection_error_is_shown_in_the_window() {
    let x = Xvfb::start(1024, 768);
    let home = tempfile::tempdir().unwrap();
    let bus = DbusSession::start_for(&x, &home.path().join("runtime"));
    let child = common::app_command(home.path())
        .env("DISPLAY", &x.display)
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .args(["--connect", "test:///no/such/host.xml"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _app = Service {
        name: "virt-manager",
        child,
    };
    let tree = common::wait_for(Duration::from_secs(30), || {
        let tree = accessible_tree(&bus, &x);
        tree.iter()
            .any(|(_, n)| n.contains("/no/such/host.xml") && n.contains("parse"))
            .then_some(tree)
    })
    .expect("libvirt's reason in the window");
    assert!(tree
        .iter()
        .any(|(r, n)| r == "push button" && n.contains("Try Again")));
    x.screenshot(&common::artifacts_dir().join("manager-connection-failed.png"));
}
