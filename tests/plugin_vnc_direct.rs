//! vnc-direct, the second real backend, through the plugin host against
//! real VNC servers (TigerVNC's Xvnc): servers added, probed, watched,
//! opened as consoles and removed; and `virt-manager vnc-direct` on the
//! command line, which goes through the plugin too.

mod common;

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use common::{require, wait_for, Service};
use virt_manager::plugin_host::PluginRegistry;
use virt_manager_plugin_api::*;

/// An Xvnc server on a free loopback port, stopped on drop.
struct Xvnc {
    port: u16,
    _service: Service,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Xvnc {
    /// `password`: VNC authentication with this password, else none.
    fn start(password: Option<&str>, dir: &Path) -> Self {
        require("Xvnc", "tigervnc-standalone-server");
        let port = free_port();
        let mut cmd = Command::new("Xvnc");
        cmd.args(["-displayfd", "1", "-geometry", "320x240", "-depth", "24"])
            .args(["-interface", "127.0.0.1", "-nolisten", "tcp"])
            .args(["-rfbport", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match password {
            None => {
                cmd.args(["-SecurityTypes", "None"]);
            }
            Some(pw) => {
                require("vncpasswd", "tigervnc-tools");
                let file = dir.join(format!("passwd-{port}"));
                let mut p = Command::new("vncpasswd")
                    .arg("-f")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .spawn()
                    .expect("vncpasswd (tigervnc-tools)");
                p.stdin.take().unwrap().write_all(pw.as_bytes()).unwrap();
                std::fs::write(&file, p.wait_with_output().unwrap().stdout).unwrap();
                cmd.args(["-SecurityTypes", "VncAuth", "-PasswordFile"])
                    .arg(&file);
            }
        }
        let child = cmd.spawn().expect("Xvnc");
        let service = Service {
            name: "Xvnc",
            child,
        };
        let up = wait_for(Duration::from_secs(10), || {
            TcpStream::connect(("127.0.0.1", port)).ok()
        });
        assert!(up.is_some(), "Xvnc did not listen on {port}");
        Xvnc {
            port,
            _service: service,
        }
    }
}

/// A TCP server that is not VNC: it greets like SSH.
fn not_vnc_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let _ = s.write_all(b"SSH-2.0-OpenSSH_9.2\r\n");
        }
    });
    port
}

fn registry() -> PluginRegistry {
    PluginRegistry::discover_in(&[common::plugin_dir()])
}

fn spec(name: &str, port: u16) -> serde_json::Value {
    serde_json::json!({"name": name, "host": "127.0.0.1", "port": port})
}

/// Waits for the first event that `pick` accepts.
fn expect_event(
    rx: &mpsc::Receiver<BackendEvent>,
    what: &str,
    pick: impl Fn(&BackendEvent) -> bool,
) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(ev) if pick(&ev) => return,
            Ok(_) => continue,
            Err(_) => break,
        }
    }
    panic!("no event: {what}");
}

#[test]
fn vnc_servers_are_guests_with_live_states_and_consoles() {
    let tmp = tempfile::tempdir().unwrap();
    let list = tmp.path().join("servers/vnc-direct.json");
    let uri = format!("vnc-direct://{}?interval_ms=200", list.display());
    let reg = registry();
    let backend = reg
        .backend_for_uri("vnc-direct:///")
        .expect("vnc-direct loaded (cargo build --workspace)");
    let info = backend.info();
    assert!(
        info.has(capability::CONSOLE)
            && info.has(capability::DEFINE)
            && info.has(capability::DELETE)
    );
    assert!(!info.has(capability::LIFECYCLE));
    assert_eq!(info.connect_presets[0].label, "VNC servers");
    assert_eq!(info.connect_presets[0].uri, "vnc-direct:///");

    let open = Xvnc::start(None, tmp.path());
    let locked = Xvnc::start(Some("s3cret"), tmp.path());
    let other = not_vnc_server();
    let conn = backend.open(&uri).unwrap();
    assert!(conn.list_domains().unwrap().is_empty());

    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    conn.subscribe(move |ev| {
        let _ = tx.lock().unwrap().send(ev);
    })
    .unwrap();

    let a = conn.define_domain(&spec("open-xvnc", open.port)).unwrap();
    assert_eq!(a.state, DomainState::Running);
    let b = conn
        .define_domain(&spec("locked-xvnc", locked.port))
        .unwrap();
    let c = conn.define_domain(&spec("not-vnc", other)).unwrap();
    assert_eq!(c.state, DomainState::Shutoff, "SSH is not VNC");
    expect_event(
        &rx,
        "added",
        |e| matches!(e, BackendEvent::DomainAdded { domain } if domain.uuid == b.uuid),
    );

    for (bad, why) in [
        (
            serde_json::json!({"name": "p", "host": "h", "port": 1, "password": "x"}),
            "no passwords",
        ),
        (spec("open-xvnc", 1), "already a server"),
        (
            serde_json::json!({"name": "q", "host": "h"}),
            "missing field",
        ),
    ] {
        let err = conn.define_domain(&bad).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidArgument, "{err}");
        assert!(err.message.contains(why), "{err}");
    }

    let listed = conn.list_domains().unwrap();
    let states: Vec<(&str, DomainState)> =
        listed.iter().map(|d| (d.name.as_str(), d.state)).collect();
    assert_eq!(
        states,
        [
            ("open-xvnc", DomainState::Running),
            ("locked-xvnc", DomainState::Running),
            ("not-vnc", DomainState::Shutoff)
        ]
    );

    let (endpoint, fd) = conn.open_console(&a.uuid).unwrap();
    assert!(fd.is_none());
    assert_eq!(endpoint.protocol, "vnc");
    assert_eq!(endpoint.host.as_deref(), Some("127.0.0.1"));
    assert_eq!(endpoint.port, Some(open.port));
    assert!(!endpoint.needs_password);
    let (endpoint, _) = conn.open_console(&b.uuid).unwrap();
    assert!(endpoint.needs_password, "VncAuth asks for a password");
    assert_eq!(endpoint.password, None, "plugins never hold passwords");
    let config = conn.domain_config(&b.uuid).unwrap();
    let native: serde_json::Value =
        serde_json::from_str(config.native.as_deref().unwrap()).unwrap();
    assert_eq!(native["port"], locked.port);

    // The server goes away: the watcher reports it shut off.
    drop(open);
    expect_event(&rx, "open-xvnc shut off", |e| {
        matches!(e, BackendEvent::DomainChanged { domain }
            if domain.uuid == a.uuid && domain.state == DomainState::Shutoff)
    });

    // Another connection (another process, say) adds a server: seen too.
    let second = backend.open(&uri).unwrap();
    let d = second
        .define_domain(&spec("added-elsewhere", other))
        .unwrap();
    expect_event(
        &rx,
        "added elsewhere",
        |e| matches!(e, BackendEvent::DomainAdded { domain } if domain.uuid == d.uuid),
    );

    conn.domain_action(
        &c.uuid,
        &DomainAction::Delete {
            delete_storage: false,
        },
    )
    .unwrap();
    expect_event(
        &rx,
        "removed",
        |e| matches!(e, BackendEvent::DomainRemoved { uuid } if *uuid == c.uuid),
    );
    let err = conn
        .domain_action(
            &c.uuid,
            &DomainAction::Delete {
                delete_storage: false,
            },
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
    let err = conn
        .domain_action(&a.uuid, &DomainAction::Start)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotSupported);

    let names: Vec<String> = second
        .list_domains()
        .unwrap()
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(names, ["open-xvnc", "locked-xvnc", "added-elsewhere"]);
    let text = std::fs::read_to_string(&list).unwrap();
    assert!(
        !text.contains("s3cret") && !text.contains("password"),
        "{text}"
    );

    // Closing stops the watcher and releases the host's sink.
    let (probe_tx, probe_rx) = mpsc::channel::<()>();
    let token = Arc::new(probe_tx);
    let held = token.clone();
    second
        .subscribe(move |_| {
            let _ = held.send(());
        })
        .unwrap();
    drop(second);
    assert_eq!(Arc::strong_count(&token), 1, "sink released on close");
    drop(probe_rx);
}

/// The CLI with no keyring on the session bus: passwords cannot be kept,
/// which is said, and everything else works.
#[test]
fn the_cli_adds_lists_and_removes_servers_through_the_plugin() {
    let home = tempfile::tempdir().unwrap();
    let vnc = Xvnc::start(None, home.path());
    let cli = |args: &[&str], stdin: Option<&str>| {
        let mut cmd = common::app_command(home.path());
        cmd.env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}/no-bus", home.path().display()),
        )
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        drop(input);
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let address = format!("127.0.0.1:{}", vnc.port);
    let (ok, out, err) = cli(
        &["vnc-direct", "add", "desk", &address, "--password-stdin"],
        Some("pw\n"),
    );
    assert!(ok, "{out}{err}");
    assert!(out.contains("desk"), "{out}");
    assert!(err.contains("asked for it when connecting"), "{err}");
    let (ok, _, err) = cli(&["vnc-direct", "add", "desk", "127.0.0.1:1"], None);
    assert!(!ok && err.contains("already a server named"), "{err}");
    let (ok, _, err) = cli(&["vnc-direct", "add", "bad", "no-port"], None);
    assert!(!ok && err.contains("HOST:PORT"), "{err}");
    // Nothing listens there: a port that was free a moment ago.
    let v6 = format!("[::1]:{}", free_port());
    let (ok, out, err) = cli(&["vnc-direct", "add", "v6", &v6], None);
    assert!(ok, "{out}{err}");

    let (ok, out, err) = cli(&["vnc-direct", "list", "--json"], None);
    assert!(ok, "{err}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["name"], "desk");
    assert_eq!(rows[0]["host"], "127.0.0.1");
    assert_eq!(rows[0]["port"], vnc.port);
    assert_eq!(rows[0]["state"], "running");
    assert_eq!(rows[1]["host"], "::1");
    assert_eq!(rows[1]["state"], "shutoff");
    let (ok, out, _) = cli(&["vnc-direct", "list"], None);
    assert!(
        ok && out.contains(&format!("desk  running  127.0.0.1:{}", vnc.port)),
        "{out}"
    );
    assert!(out.contains(&v6), "{out}");

    // The manager's own listing sees the servers as guests.
    let (ok, out, err) = cli(&["list", "--connect", "vnc-direct:///"], None);
    assert!(
        ok && out.contains("desk") && out.contains("running"),
        "{out}{err}"
    );

    let file = home.path().join("config/virt-manager/vnc-direct.json");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("desk") && !text.contains("pw"), "{text}");

    let (ok, _, err) = cli(&["vnc-direct", "remove", "desk"], None);
    assert!(ok, "{err}");
    let (ok, _, err) = cli(&["vnc-direct", "remove", "desk"], None);
    assert!(!ok && err.contains("no VNC server named"), "{err}");
    let (_, out, _) = cli(&["vnc-direct", "list", "--json"], None);
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(rows.len(), 1);
}
