//! The model on a live hypervisor: libvirtd + QEMU with the tiny guest.
//! Every change made with virsh must reach the model within one second,
//! which only events (not a poll tick) achieve.

mod common;

use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{virsh, TinyGuest};
use virt_manager::model::{Connection, ConnectionState, ModelEvent};
use virt_manager::plugin_host::PluginRegistry;
use virt_manager_plugin_api::DomainState;

const EVENT_DEADLINE: Duration = Duration::from_secs(1);

struct Live {
    conn: Connection,
    rx: mpsc::Receiver<ModelEvent>,
}

impl Live {
    fn open() -> Self {
        common::ensure_libvirtd();
        let plugins = Arc::new(PluginRegistry::discover_in(&[common::plugin_dir()]));
        let (tx, rx) = mpsc::channel();
        let tx = std::sync::Mutex::new(tx);
        let conn = Connection::open(1, vec!["qemu:///system".into()], plugins, move |ev| {
            let _ = tx.lock().unwrap().send(ev);
        });
        let live = Live { conn, rx };
        live.wait("active", Duration::from_secs(15), |e| {
            matches!(
                e,
                ModelEvent::State {
                    state: ConnectionState::Active,
                    ..
                }
            )
        });
        live
    }

    /// Waits for a matching event; returns how long it took.
    fn wait(&self, what: &str, timeout: Duration, pred: impl Fn(&ModelEvent) -> bool) -> Duration {
        let start = Instant::now();
        loop {
            let left = timeout.checked_sub(start.elapsed()).unwrap_or_default();
            match self.rx.recv_timeout(left) {
                Ok(ev) if pred(&ev) => return start.elapsed(),
                Ok(ModelEvent::State {
                    state: ConnectionState::Failed(r),
                    ..
                }) => panic!("connection failed: {r}"),
                Ok(_) => {}
                Err(_) => panic!("no {what} event within {timeout:?}"),
            }
        }
    }

    fn state_of(&self, uuid: &str) -> Option<DomainState> {
        self.conn
            .domains()
            .into_iter()
            .find(|d| d.info.uuid == uuid)
            .map(|d| d.info.state)
    }
}

fn changed_to(uuid: &str, state: DomainState) -> impl Fn(&ModelEvent) -> bool + '_ {
    move |e| matches!(e, ModelEvent::DomainChanged { domain, .. } if domain.uuid == uuid && domain.state == state)
}

#[test]
fn guest_lifecycle_reaches_the_model_within_a_second() {
    let live = Live::open();

    let guest = TinyGuest::define("life");
    let uuid = guest.uuid();
    let took = live.wait("added", EVENT_DEADLINE, |e| {
        matches!(e, ModelEvent::DomainAdded { domain, .. } if domain.uuid == uuid && domain.state == DomainState::Shutoff)
    });
    eprintln!("defined -> added in {took:?}");

    virsh(&["start", &guest.name]);
    let took = live.wait(
        "running",
        EVENT_DEADLINE,
        changed_to(&uuid, DomainState::Running),
    );
    eprintln!("started -> running in {took:?}");
    assert_eq!(live.state_of(&uuid), Some(DomainState::Running));

    virsh(&["suspend", &guest.name]);
    live.wait(
        "paused",
        EVENT_DEADLINE,
        changed_to(&uuid, DomainState::Paused),
    );
    virsh(&["resume", &guest.name]);
    live.wait(
        "resumed",
        EVENT_DEADLINE,
        changed_to(&uuid, DomainState::Running),
    );

    virsh(&["destroy", &guest.name]);
    let took = live.wait(
        "shutoff",
        EVENT_DEADLINE,
        changed_to(&uuid, DomainState::Shutoff),
    );
    eprintln!("destroyed -> shutoff in {took:?}");

    virsh(&["undefine", &guest.name]);
    let took = live.wait(
        "removed",
        EVENT_DEADLINE,
        |e| matches!(e, ModelEvent::DomainRemoved { uuid: u, .. } if *u == uuid),
    );
    eprintln!("undefined -> removed in {took:?}");
    assert_eq!(live.state_of(&uuid), None, "it leaves the model");
    live.conn.close_and_wait();
}

#[test]
fn ctrl_alt_del_in_the_guest_arrives_as_a_reboot() {
    let live = Live::open();
    let guest = TinyGuest::define("reboot");
    let uuid = guest.uuid();
    virsh(&["start", &guest.name]);
    live.wait(
        "running",
        Duration::from_secs(5),
        changed_to(&uuid, DomainState::Running),
    );
    // SeaBIOS resets the machine on Ctrl+Alt+Del once its keyboard is up;
    // send until the reset shows (the first keys may arrive too early).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        virsh(&[
            "send-key",
            &guest.name,
            "KEY_LEFTCTRL",
            "KEY_LEFTALT",
            "KEY_DELETE",
        ]);
        let got = live
            .rx
            .recv_timeout(Duration::from_secs(2))
            .ok()
            .into_iter()
            .chain(live.rx.try_iter())
            .any(|e| matches!(e, ModelEvent::DomainRebooted { uuid: ref u, .. } if *u == uuid));
        if got {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no reboot event after Ctrl+Alt+Del"
        );
    }
    assert_eq!(
        live.state_of(&uuid),
        Some(DomainState::Running),
        "a reset keeps it running"
    );
    drop(guest);
    live.conn.close_and_wait();
}

#[test]
fn start_of_a_transient_guest_then_destroy_removes_it() {
    let live = Live::open();
    common::ensure_libvirtd();
    let name = format!("vmm-test-transient-{}", std::process::id());
    let path = std::env::temp_dir().join(format!("{name}.xml"));
    std::fs::write(&path, TinyGuest::xml(&name)).unwrap();
    virsh(&["create", path.to_str().unwrap()]);
    let uuid = virsh(&["domuuid", &name]).trim().to_owned();
    live.wait(
        "added",
        EVENT_DEADLINE,
        |e| matches!(e, ModelEvent::DomainAdded { domain, .. } if domain.uuid == uuid),
    );
    virsh(&["destroy", &name]);
    live.wait(
        "removed",
        EVENT_DEADLINE,
        |e| matches!(e, ModelEvent::DomainRemoved { uuid: u, .. } if *u == uuid),
    );
    let _ = std::fs::remove_file(path);
    live.conn.close_and_wait();
}
