//! Misbehaving plugins never take the application down. The plugin is the
//! stand-alone crate tests/plugins/misbehave, built once and copied into a
//! private directory; `VMM_MISBEHAVE` picks its misbehaviour.
//!
//! Each case runs in a child process (this test binary again, running one
//! `#[ignore]`d child test with `VMM_MISBEHAVE` set), so cases cannot
//! disturb each other through the environment, and a boundary that failed
//! to contain a panic would show as a crashed child, not a crashed run.

#[path = "plugins/support.rs"]
mod support;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use support::{install_misbehave, loaded, plugin_dir, Canvas};
use virt_manager::plugin_host::{BackendConnection, PluginRegistry};
use virt_manager_plugin_api::abi::{PixelFormat, Rect};
use virt_manager_plugin_api::*;

/// Set for the child: the directory holding the plugin.
const CHILD_DIR: &str = "VMM_TEST_PLUGIN_DIR";
const ENCODING: i32 = 0x564D_4D10;
const STORM_EVENTS: usize = 16 * 500;

const BACKEND_CALLS: [&str; 19] = [
    "open",
    "close",
    "list_domains",
    "subscribe",
    "connection_info",
    "domain_stats",
    "host_stats",
    "domain_action",
    "domain_config",
    "apply_domain_config",
    "define_domain",
    "open_console",
    "send_keys",
    "screenshot",
    "list_networks",
    "network_action",
    "list_storage_pools",
    "storage_pool_action",
    // Covered separately: a panic here fails the load.
    "info",
];

/// Runs the child test `name` with `VMM_MISBEHAVE=mode`.
fn in_child(name: &str, mode: &str, dir: &Path) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            name,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("VMM_MISBEHAVE", mode)
        .env(CHILD_DIR, dir)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{name} with VMM_MISBEHAVE={mode} failed ({}):\n{text}",
        out.status
    );
    assert!(
        text.contains("1 passed"),
        "{name} did not run in the child:\n{text}"
    );
}

/// The plugin directory a child test was given, or None when run by hand.
fn child_dir() -> Option<PathBuf> {
    let dir = std::env::var_os(CHILD_DIR).map(PathBuf::from);
    if dir.is_none() {
        eprintln!("skipped: run by its parent test");
    }
    dir
}

fn mode() -> String {
    std::env::var("VMM_MISBEHAVE").unwrap_or_default()
}

/// Makes one backend call by its vtable name.
fn call(conn: &BackendConnection, name: &str) -> Result<(), PluginError> {
    let uuid = "6d1f4a3e-0c52-4c7b-8f0e-3a9b2c1d0e5f";
    match name {
        "list_domains" => conn.list_domains().map(drop),
        "subscribe" => conn.subscribe(|_| {}),
        "connection_info" => conn.connection_info().map(drop),
        "domain_stats" => conn.domain_stats(&StatsRequest::default()).map(drop),
        "host_stats" => conn.host_stats().map(drop),
        "domain_action" => conn.domain_action(uuid, &DomainAction::Reboot),
        "domain_config" => conn.domain_config(uuid).map(drop),
        "apply_domain_config" => conn
            .apply_domain_config(uuid, &ConfigChanges::default())
            .map(drop),
        "define_domain" => conn.define_domain(&serde_json::json!({"x": 1})).map(drop),
        "open_console" => conn.open_console(uuid).map(drop),
        "send_keys" => conn.send_keys(uuid, &KeySequence::default()),
        "screenshot" => conn.screenshot(uuid).map(drop),
        "list_networks" => conn.list_networks().map(drop),
        "network_action" => conn.network_action("default", &NetworkAction::Start),
        "list_storage_pools" => conn.list_storage_pools().map(drop),
        "storage_pool_action" => conn.storage_pool_action("default", &StoragePoolAction::Refresh),
        other => panic!("no call {other}"),
    }
}

fn assert_panicked(result: Result<(), PluginError>, call: &str) {
    let err = result.expect_err("the panic became an error");
    assert_eq!(err.code, ErrorCode::Panicked, "{call}: {err}");
    assert_eq!(
        err.message,
        format!("plugin panicked: misbehave: panic in {call}")
    );
}

#[test]
fn a_panic_in_any_backend_call_becomes_an_error() {
    let dir = plugin_dir();
    install_misbehave(dir.path(), "libmisbehave.so");
    for call in BACKEND_CALLS.iter().filter(|c| **c != "info") {
        in_child("backend_child", &format!("panic:{call}"), dir.path());
    }
}

#[test]
#[ignore = "run by a_panic_in_any_backend_call_becomes_an_error"]
fn backend_child() {
    let Some(dir) = child_dir() else { return };
    let reg = PluginRegistry::discover_in(std::slice::from_ref(&dir));
    let plugin = loaded(&reg, &dir.join("libmisbehave.so"));
    let backend = plugin.backend.clone().unwrap();
    let panicking = mode().strip_prefix("panic:").unwrap().to_owned();
    match panicking.as_str() {
        "open" => {
            let err = backend.open("misbehave:///").err().expect("open panicked");
            assert_eq!(err.code, ErrorCode::Panicked);
            assert!(err.message.contains("panic in open"), "{err}");
            // The decoders of the same library still work.
            assert!(reg.decoder_for(ENCODING).is_some());
        }
        "close" => {
            let conn = backend.open("misbehave:///").unwrap();
            drop(conn);
            let again = backend.open("misbehave:///").unwrap();
            assert_eq!(again.list_domains().unwrap().len(), 1);
        }
        "subscribe" => {
            let conn = backend.open("misbehave:///").unwrap();
            let token = Arc::new(());
            let held = token.clone();
            let result = conn.subscribe(move |_| {
                let _ = &held;
            });
            assert_panicked(result, "subscribe");
            assert_eq!(
                Arc::strong_count(&token),
                1,
                "the sink was released despite the panic"
            );
            assert_eq!(conn.list_domains().unwrap().len(), 1);
        }
        other => {
            let conn = backend.open("misbehave:///").unwrap();
            assert_panicked(call(&conn, other), other);
            // The plugin goes on working, every other call included.
            for name in BACKEND_CALLS[2..18].iter().filter(|c| **c != other) {
                call(&conn, name).unwrap_or_else(|e| panic!("{name} after a panic: {e}"));
            }
        }
    }
}

#[test]
fn a_panic_in_any_decoder_call_becomes_an_error() {
    let dir = plugin_dir();
    install_misbehave(dir.path(), "libmisbehave.so");
    for call in ["create", "decode", "destroy"] {
        in_child("decoder_child", &format!("panic:{call}"), dir.path());
    }
}

#[test]
fn a_decoder_that_claims_more_bytes_than_it_was_given_is_an_error() {
    let dir = plugin_dir();
    install_misbehave(dir.path(), "libmisbehave.so");
    in_child("decoder_child", "overclaim", dir.path());
}

#[test]
fn a_rust_decoder_cannot_write_past_its_rectangle() {
    let dir = plugin_dir();
    install_misbehave(dir.path(), "libmisbehave.so");
    in_child("decoder_child", "write_outside", dir.path());
}

#[test]
#[ignore = "run by the decoder tests above"]
fn decoder_child() {
    let Some(dir) = child_dir() else { return };
    let reg = PluginRegistry::discover_in(&[dir]);
    let decoders = reg.decoder_for(ENCODING).expect("decoders loaded");
    let rect = Rect {
        x: 2,
        y: 3,
        width: 4,
        height: 2,
        encoding: ENCODING,
    };
    let pixel = 0x0012_3456u32;
    let mut canvas = Canvas::new(10, 8, 0x0077_7777);
    match mode().as_str() {
        "panic:create" => {
            let err = decoders
                .create(ENCODING, &PixelFormat::HOST)
                .err()
                .expect("create panicked");
            assert_eq!(err.code, ErrorCode::Panicked);
            assert!(err.message.contains("panic in create"), "{err}");
        }
        "panic:decode" => {
            let mut d = decoders.create(ENCODING, &PixelFormat::HOST).unwrap();
            let err = d
                .decode(&rect, &pixel.to_ne_bytes(), &mut canvas.view())
                .unwrap_err();
            assert_eq!(err.code, ErrorCode::Panicked);
            assert_eq!(err.message, "plugin panicked: misbehave: panic in decode");
            drop(d);
        }
        "panic:destroy" => {
            let mut d = decoders.create(ENCODING, &PixelFormat::HOST).unwrap();
            d.decode(&rect, &pixel.to_ne_bytes(), &mut canvas.view())
                .unwrap();
            drop(d);
            // Still alive, and the library still makes decoders.
            let mut d = decoders.create(ENCODING, &PixelFormat::HOST).unwrap();
            assert_eq!(
                d.decode(&rect, &pixel.to_ne_bytes(), &mut canvas.view())
                    .unwrap(),
                Decoded::Done(4)
            );
        }
        "overclaim" => {
            let mut d = decoders.create(ENCODING, &PixelFormat::HOST).unwrap();
            let err = d
                .decode(&rect, &pixel.to_ne_bytes(), &mut canvas.view())
                .unwrap_err();
            assert!(
                err.message.contains("claims 104 bytes consumed of 4 given"),
                "{err}"
            );
        }
        "write_outside" => {
            let mut d = decoders.create(ENCODING, &PixelFormat::HOST).unwrap();
            let err = d
                .decode(&rect, &pixel.to_ne_bytes(), &mut canvas.view())
                .unwrap_err();
            assert_eq!(err.code, ErrorCode::InvalidArgument, "{err}");
            assert!(err.message.contains("outside its rectangle"), "{err}");
            for y in 0..canvas.height {
                for x in 0..canvas.width {
                    let inside = (2..6).contains(&x) && (3..5).contains(&y);
                    let want = if inside { pixel } else { 0x0077_7777 };
                    assert_eq!(canvas.at(x, y), want, "({x},{y})");
                }
            }
        }
        other => panic!("unknown mode {other}"),
    }
}

#[test]
fn events_from_many_plugin_threads_at_once_all_arrive() {
    let dir = plugin_dir();
    install_misbehave(dir.path(), "libmisbehave.so");
    in_child("storm_child", "event_storm", dir.path());
}

#[test]
#[ignore = "run by events_from_many_plugin_threads_at_once_all_arrive"]
fn storm_child() {
    let Some(dir) = child_dir() else { return };
    let reg = PluginRegistry::discover_in(&[dir]);
    let conn = reg
        .backend_for_uri("misbehave:///")
        .unwrap()
        .open("misbehave:///")
        .unwrap();
    let names = Arc::new(Mutex::new(HashSet::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let (n, c) = (names.clone(), count.clone());
    // The plugin emits from 16 threads and returns after the last emit.
    conn.subscribe(move |ev| {
        c.fetch_add(1, Ordering::SeqCst);
        if let BackendEvent::DomainChanged { domain } = ev {
            n.lock().unwrap().insert(domain.name);
        }
    })
    .unwrap();
    assert_eq!(count.load(Ordering::SeqCst), STORM_EVENTS);
    let names = names.lock().unwrap();
    assert_eq!(names.len(), STORM_EVENTS, "every event arrived intact");
    for t in 0..16 {
        for i in 0..500 {
            assert!(names.contains(&format!("storm-{t}-{i}")));
        }
    }
    assert_eq!(
        Arc::strong_count(&count),
        1,
        "the plugin released the sink after its last emit"
    );
}
