//! The plugin on a live hypervisor: libvirtd + QEMU (software emulation)
//! with the tiny SeaBIOS guest. Each change is confirmed with virsh.
//! Guests and pools are named per process and removed on drop, so these
//! tests run beside other test binaries that use the same libvirtd.

mod common;

use std::io::Read;
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{domstate, virsh, TempPool, TinyGuest};
use virt_manager_libvirt::events::{DomainEvent, DomainEventRegistration};
use virt_manager_libvirt::{LibvirtBackend, LibvirtConnection};
use virt_manager_plugin_api::{
    Backend, BackendConnection, ConfigChanges, DomainAction, ErrorCode, KeySequence, StatsRequest,
};

fn open() -> LibvirtConnection {
    common::ensure_libvirtd();
    LibvirtBackend::open(common::SYSTEM).expect("qemu:///system")
}

fn act(conn: &LibvirtConnection, uuid: &str, action: DomainAction) -> Duration {
    let t = Instant::now();
    conn.domain_action(uuid, &action)
        .unwrap_or_else(|e| panic!("{action:?}: {e}"));
    t.elapsed()
}

const CPU: StatsRequest = StatsRequest {
    cpu: true,
    memory: true,
    disk: true,
    net: true,
};

#[test]
fn lifecycle_with_cpu_statistics() {
    let conn = open();
    let guest = TinyGuest::define("life");
    let uuid = guest.uuid();

    let took = act(&conn, &uuid, DomainAction::Start);
    assert_eq!(domstate(&guest.name), "running");
    eprintln!("start: {took:?}");

    let sample = |conn: &LibvirtConnection| {
        conn.domain_stats(&CPU)
            .unwrap()
            .into_iter()
            .find(|s| s.uuid == uuid)
            .expect("our guest in the bulk statistics")
    };
    let a = sample(&conn);
    std::thread::sleep(Duration::from_millis(1000));
    let t = Instant::now();
    let b = sample(&conn);
    eprintln!("one bulk statistics call: {:?}; {b:?}", t.elapsed());
    let cpu = b.cpu_time_ns.expect("cpu.time");
    assert!(cpu > 0, "CPU time above zero");
    assert!(cpu >= a.cpu_time_ns.unwrap());
    // The vCPU group is not asked for (the host has the count from the
    // guest list), so the bulk call need not report it.
    assert!(matches!(b.vcpus, None | Some(1)), "{:?}", b.vcpus);
    assert_eq!(b.memory_max_kib, Some(65536));
    assert!(b.memory_kib.unwrap() > 0);
    // The tiny guest has no disk and no NIC: the sums are zero.
    assert_eq!(b.disk_read_bytes, Some(0));

    act(&conn, &uuid, DomainAction::Pause);
    assert_eq!(domstate(&guest.name), "paused");
    act(&conn, &uuid, DomainAction::Resume);
    assert_eq!(domstate(&guest.name), "running");
    act(&conn, &uuid, DomainAction::Reset);
    assert_eq!(domstate(&guest.name), "running");
    act(&conn, &uuid, DomainAction::ForceOff);
    assert_eq!(domstate(&guest.name), "shut off");

    // libvirt's own words come back.
    let err = conn
        .domain_action(&uuid, &DomainAction::Resume)
        .unwrap_err();
    assert!(err.message.contains("not running"), "{}", err.message);
}

#[test]
fn host_information() {
    let conn = open();
    let info = conn.connection_info().unwrap();
    eprintln!("{info:?}");
    assert!(info.hypervisor.starts_with("QEMU "), "{}", info.hypervisor);
    assert!(info.cpus > 0 && info.memory_kib > 0);
    let a = conn.host_stats().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let b = conn.host_stats().unwrap();
    eprintln!("{b:?}");
    assert!(b.memory_free_kib > 0 && b.memory_free_kib < b.memory_total_kib);
    // The kernel's total, also where NUMA node info counts less.
    assert_eq!(info.memory_kib, b.memory_total_kib);
    assert!(b.cpu_idle_ns.unwrap() >= a.cpu_idle_ns.unwrap());
    let busy =
        |s: &virt_manager_plugin_api::HostStats| s.cpu_user_ns.unwrap() + s.cpu_kernel_ns.unwrap();
    assert!(busy(&b) >= busy(&a));
}

#[test]
fn vcpus_change_and_refused_changes_leave_the_xml() {
    let conn = open();
    let guest = TinyGuest::define("config");
    let uuid = guest.uuid();

    let r = conn
        .apply_domain_config(
            &uuid,
            &ConfigChanges {
                vcpus: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(r.applied_now, ["vcpus"]);
    let xml = guest.dumpxml();
    assert!(xml.contains("<vcpu placement='static'>2</vcpu>"), "{xml}");
    assert_eq!(conn.domain_config(&uuid).unwrap().vcpus, 2);

    // Above the maximum (the host's memory): refused before redefining.
    let before = guest.dumpxml();
    let huge = ConfigChanges {
        vcpus: Some(1),
        memory_kib: Some(1 << 40),
        ..Default::default()
    };
    let err = conn.apply_domain_config(&uuid, &huge).unwrap_err();
    eprintln!("refused: {}", err.message);
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert!(err.message.contains("maximum"));
    assert_eq!(guest.dumpxml(), before);

    // libvirt refuses this one itself, with its own message.
    let too_many = ConfigChanges {
        vcpus: Some(100_000),
        ..Default::default()
    };
    let err = conn.apply_domain_config(&uuid, &too_many).unwrap_err();
    eprintln!("libvirt refused: {}", err.message);
    assert_eq!(guest.dumpxml(), before);

    // Memory within the maximum, on a running guest: next boot.
    act(&conn, &uuid, DomainAction::Start);
    let r = conn
        .apply_domain_config(
            &uuid,
            &ConfigChanges {
                memory_kib: Some(96 * 1024),
                title: Some("Tiny guest".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(r.next_boot, ["memory_kib"]);
    assert_eq!(r.applied_now, ["title"]);
    assert!(guest
        .dumpxml()
        .contains("<memory unit='KiB'>98304</memory>"));
    assert_eq!(
        virsh(&["desc", "--title", "--live", &guest.name]).trim(),
        "Tiny guest"
    );
    assert_eq!(
        virsh(&["desc", "--title", "--config", &guest.name]).trim(),
        "Tiny guest"
    );
}

#[test]
fn managed_save_then_start_restores() {
    let conn = open();
    let guest = TinyGuest::define("save");
    let uuid = guest.uuid();
    act(&conn, &uuid, DomainAction::Start);
    assert_eq!(domstate(&guest.name), "running");
    let took = act(&conn, &uuid, DomainAction::Save);
    assert_eq!(domstate(&guest.name), "shut off");
    assert!(virsh(&["dominfo", &guest.name]).contains("Managed save:   yes"));
    eprintln!("managed save: {took:?}");
    let took = act(&conn, &uuid, DomainAction::Start);
    let reason = virsh(&["domstate", "--reason", &guest.name]);
    eprintln!("restore: {took:?}, {}", reason.trim());
    assert!(reason.contains("running (restored)"), "{reason}");
    assert!(virsh(&["dominfo", &guest.name]).contains("Managed save:   no"));
}

#[test]
fn delete_with_storage_removes_the_volume() {
    let conn = open();
    let pool = TempPool::create("delete");
    let disk = pool.volume("disk.img");
    let cdrom = pool.volume("media.iso");
    assert!(disk.exists());
    let guest = TinyGuest::define_with(
        "delete",
        &format!(
            "<disk type='file' device='disk'><driver name='qemu' type='raw'/>\
             <source file='{}'/><target dev='vda' bus='virtio'/></disk>\
             <disk type='file' device='cdrom'><driver name='qemu' type='raw'/>\
             <source file='{}'/><target dev='hdc' bus='ide'/><readonly/></disk>",
            disk.display(),
            cdrom.display()
        ),
    );
    let uuid = guest.uuid();
    act(&conn, &uuid, DomainAction::Start);
    act(
        &conn,
        &uuid,
        DomainAction::Delete {
            delete_storage: true,
        },
    );
    assert!(!disk.exists(), "the disk volume is gone");
    assert!(cdrom.exists(), "the read-only CD-ROM image stays");
    let vols = virsh(&["vol-list", &pool.name]);
    assert!(
        !vols.contains("disk.img") && vols.contains("media.iso"),
        "{vols}"
    );
    let out = std::process::Command::new("virsh")
        .args(["-c", common::SYSTEM, "dominfo", &guest.name])
        .output()
        .unwrap();
    assert!(!out.status.success(), "the guest is undefined");
}

#[test]
fn console_fd_speaks_rfb_and_keys_reset_the_guest() {
    let conn = open();
    let guest = TinyGuest::define("console");
    let uuid = guest.uuid();

    // Reboot events through the plugin's own event wrapper.
    virt_manager_libvirt::runtime::init();
    let mut events_conn = virt::connect::Connect::open(Some(common::SYSTEM)).unwrap();
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let want = uuid.clone();
    let reg = DomainEventRegistration::register(&events_conn, move |ev| {
        if matches!(&ev, DomainEvent::Reboot { uuid } if *uuid == want) {
            let _ = tx.lock().unwrap().send(());
        }
    })
    .unwrap();

    act(&conn, &uuid, DomainAction::Start);
    let (endpoint, fd) = conn.open_console(&uuid).unwrap();
    assert_eq!(endpoint.protocol, "vnc");
    assert!(!endpoint.needs_password);
    let mut sock = UnixStream::from(fd.expect("a connected socket"));
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut greeting = [0u8; 12];
    sock.read_exact(&mut greeting).unwrap();
    assert_eq!(&greeting, b"RFB 003.008\n");
    drop(sock);

    let shot = conn.screenshot(&uuid).unwrap();
    eprintln!(
        "screenshot: {} bytes, starts {:?}",
        shot.len(),
        String::from_utf8_lossy(&shot[..2])
    );
    assert!(
        shot.starts_with(b"P6\n") || shot.starts_with(b"\x89PNG"),
        "PPM or PNG"
    );

    // SeaBIOS resets on Ctrl+Alt+Del once its keyboard is up: send until
    // the reset shows.
    let keys = KeySequence {
        linux_keycodes: vec![29, 56, 111],
        hold_ms: 0,
    };
    let start = Instant::now();
    let mut sent = 0;
    loop {
        conn.send_keys(&uuid, &keys).unwrap();
        sent += 1;
        if rx.recv_timeout(Duration::from_secs(1)).is_ok() {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(40), "no reboot event");
    }
    eprintln!("reboot event after {:?} ({sent} sends)", start.elapsed());
    assert_eq!(domstate(&guest.name), "running");
    drop(reg);
    events_conn.close().unwrap();
}
