//! Passwords in a real Secret Service: gnome-keyring-daemon on a private
//! D-Bus session bus, unlocked with an empty password. Covers the host's
//! credentials module (src/credentials.rs) directly and through
//! `virt-manager vnc-direct add --password-stdin` / `remove`, and the
//! "no keyring" case.
//!
//! One test function on purpose: it points this process's
//! DBUS_SESSION_BUS_ADDRESS at its buses, which is only sound while no
//! other test thread runs.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{require, wait_for, DbusSession, Service};
use virt_manager::credentials::{self, CredentialError, Keyring, Target};

/// gnome-keyring-daemon with only its Secret Service, its keyrings under
/// `home`, started (and registered on the bus) before any client could
/// make the bus activate another one.
fn start_keyring(bus: &DbusSession, home: &Path) -> Service {
    require("gnome-keyring-daemon", "gnome-keyring");
    let runtime = home.join("runtime");
    std::fs::create_dir_all(&runtime).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    let mut child = Command::new("gnome-keyring-daemon")
        .args(["--foreground", "--unlock", "--components=secrets"])
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("gnome-keyring-daemon");
    // An empty line: the (empty) password of the login keyring it creates.
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"\n").unwrap();
    drop(stdin);
    let service = Service {
        name: "gnome-keyring-daemon",
        child,
    };
    // NameHasOwner never activates anything.
    let owned = wait_for(Duration::from_secs(10), || {
        let out = Command::new("dbus-send")
            .arg(format!("--bus={}", bus.address))
            .args([
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
            ])
            .args([
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .contains("boolean true")
            .then_some(())
    });
    assert!(owned.is_some(), "gnome-keyring-daemon did not register");
    service
}

fn server(port: u16) -> Target {
    Target::Server {
        host: "127.0.0.1".into(),
        port,
    }
}

#[test]
fn passwords_live_in_the_keyring_and_nowhere_else() {
    let home = tempfile::tempdir().unwrap();

    // No bus at all: "no keyring", cleanly.
    std::env::set_var(
        "DBUS_SESSION_BUS_ADDRESS",
        format!("unix:path={}/no-such-bus", home.path().display()),
    );
    match credentials::lookup_password(&server(5901)) {
        Err(CredentialError::NoKeyring(why)) => assert!(!why.is_empty()),
        other => panic!("expected no keyring, got {other:?}"),
    }

    let bus = DbusSession::start();
    let keyring_home = home.path().join("keyring");
    let daemon = start_keyring(&bus, &keyring_home);
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus.address);

    // The module itself.
    let keyring = Keyring::open().expect("the keyring opens");
    let guest = Target::Guest {
        uuid: "0B4E2C1A-5F3D-4C6E-9A7B-1D2E3F405162".into(),
    };
    assert_eq!(keyring.lookup(&server(5901)).unwrap(), None);
    keyring.store(&server(5901), "first").unwrap();
    keyring.store(&server(5901), "sécond päss").unwrap();
    keyring.store(&guest, "guest-pw").unwrap();
    assert_eq!(
        keyring.lookup(&server(5901)).unwrap().as_deref(),
        Some("sécond päss")
    );
    assert_eq!(keyring.lookup(&server(5902)).unwrap(), None);
    let lower = Target::Guest {
        uuid: "0b4e2c1a-5f3d-4c6e-9a7b-1d2e3f405162".into(),
    };
    assert_eq!(keyring.lookup(&lower).unwrap().as_deref(), Some("guest-pw"));
    keyring.delete(&server(5901)).unwrap();
    keyring.delete(&server(5901)).unwrap();
    assert_eq!(keyring.lookup(&server(5901)).unwrap(), None);
    assert_eq!(
        credentials::lookup_password(&guest).unwrap().as_deref(),
        Some("guest-pw")
    );
    drop(keyring);

    // The command line: the password goes to the keyring, the list file
    // has none; removing the server forgets it.
    let app_home = home.path().join("app");
    let cli = |args: &[&str], stdin: &str| {
        let mut child = common::app_command(&app_home)
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{args:?}: {text}");
        text
    };
    let text = cli(
        &[
            "vnc-direct",
            "add",
            "desk",
            "127.0.0.1:5907",
            "--password-stdin",
        ],
        "hunter2\n",
    );
    assert!(text.contains("saved in the keyring"), "{text}");
    assert_eq!(
        credentials::lookup_password(&server(5907))
            .unwrap()
            .as_deref(),
        Some("hunter2")
    );
    let list =
        std::fs::read_to_string(app_home.join("config/virt-manager/vnc-direct.json")).unwrap();
    assert!(list.contains("desk") && !list.contains("hunter2"), "{list}");
    cli(&["vnc-direct", "remove", "desk"], "");
    assert_eq!(credentials::lookup_password(&server(5907)).unwrap(), None);

    drop(daemon);
    drop(bus);
}
