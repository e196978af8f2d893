//! The model (`Connection`) on libvirt's test driver, through the real
//! plugin: states, guest lists, failures and the default-URI fallback.

mod common;

use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use virt_manager::model::{Connection, ConnectionState, ModelEvent};
use virt_manager::plugin_host::PluginRegistry;

fn plugins() -> Arc<PluginRegistry> {
    Arc::new(PluginRegistry::discover_in(&[common::plugin_dir()]))
}

fn open(candidates: Vec<String>) -> (Connection, mpsc::Receiver<ModelEvent>) {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let conn = Connection::open(1, candidates, plugins(), move |ev| {
        let _ = tx.lock().unwrap().send(ev);
    });
    (conn, rx)
}

/// Collects events until one matches.
fn until(
    rx: &mpsc::Receiver<ModelEvent>,
    mut pred: impl FnMut(&ModelEvent) -> bool,
) -> Vec<ModelEvent> {
    let mut seen = Vec::new();
    loop {
        let ev = rx
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("timed out; saw {seen:#?}"));
        let done = pred(&ev);
        seen.push(ev);
        if done {
            return seen;
        }
    }
}

#[test]
fn connects_lists_and_becomes_active() {
    let uri = common::test_uri("few.xml");
    let (conn, rx) = open(vec![uri.clone()]);
    let events = until(&rx, |e| {
        matches!(
            e,
            ModelEvent::State {
                state: ConnectionState::Active,
                ..
            }
        )
    });
    assert!(matches!(
        &events[0],
        ModelEvent::State {
            state: ConnectionState::Connecting,
            ..
        }
    ));
    let listed = events
        .iter()
        .find_map(|e| match e {
            ModelEvent::DomainsListed { domains, .. } => Some(domains.clone()),
            _ => None,
        })
        .expect("a guest list before active");
    assert_eq!(listed.len(), 5);
    assert_eq!(conn.domains().len(), 5);
    assert_eq!(conn.state(), (uri, ConnectionState::Active));
    conn.close_and_wait();
}

#[test]
fn two_hundred_guests() {
    let (conn, rx) = open(vec![common::test_uri("many.xml")]);
    until(&rx, |e| {
        matches!(
            e,
            ModelEvent::State {
                state: ConnectionState::Active,
                ..
            }
        )
    });
    assert_eq!(conn.domains().len(), 200);
    conn.close_and_wait();
}

#[test]
fn a_bad_uri_fails_with_libvirts_reason() {
    let (conn, rx) = open(vec!["test:///no/such/file.xml".into()]);
    let events = until(&rx, |e| {
        matches!(
            e,
            ModelEvent::State {
                state: ConnectionState::Failed(_),
                ..
            }
        )
    });
    let ModelEvent::State {
        state: ConnectionState::Failed(reason),
        ..
    } = events.last().unwrap()
    else {
        unreachable!()
    };
    assert!(reason.contains("/no/such/file.xml"), "{reason}");
    conn.close_and_wait();
}

#[test]
fn falls_back_to_the_next_candidate() {
    let good = common::test_uri("few.xml");
    let (conn, rx) = open(vec!["test:///no/such/file.xml".into(), good.clone()]);
    let events = until(&rx, |e| {
        matches!(
            e,
            ModelEvent::State {
                state: ConnectionState::Active,
                ..
            }
        )
    });
    let ModelEvent::State { uri, .. } = events.last().unwrap() else {
        unreachable!()
    };
    assert_eq!(uri, &good);
    conn.close_and_wait();
}

#[test]
fn unknown_schemes_fail_without_a_plugin_call() {
    let (conn, rx) = open(vec!["nosuch://host/".into()]);
    let events = until(&rx, |e| {
        matches!(
            e,
            ModelEvent::State {
                state: ConnectionState::Failed(_),
                ..
            }
        )
    });
    let ModelEvent::State {
        state: ConnectionState::Failed(reason),
        ..
    } = events.last().unwrap()
    else {
        unreachable!()
    };
    assert!(reason.contains("nosuch"), "{reason}");
    conn.close_and_wait();
}

#[test]
fn reconnect_after_failure_tries_again() {
    let (conn, rx) = open(vec!["test:///no/such/file.xml".into()]);
    until(&rx, |e| {
        matches!(
            e,
            ModelEvent::State {
                state: ConnectionState::Failed(_),
                ..
            }
        )
    });
    conn.reconnect();
    let events = until(&rx, |e| {
        matches!(
            e,
            ModelEvent::State {
                state: ConnectionState::Failed(_),
                ..
            }
        )
    });
    assert!(events.iter().any(|e| matches!(
        e,
        ModelEvent::State {
            state: ConnectionState::Connecting,
            ..
        }
    )));
    conn.close_and_wait();
}
