//! Every ABI 1.1 call of the plugin against libvirt's test driver, with
//! the hosts in tests/data (varied-host.xml: a guest with each kind of
//! device, guests in other states, networks and pools).

mod common;

use std::time::{Duration, Instant};

use common::{by_name, open_repo_host, open_test_host};
use virt_manager_libvirt::LibvirtBackend;
use virt_manager_plugin_api::{
    capability, Backend, BackendConnection, ConfigChanges, DomainAction, DomainState, ErrorCode,
    KeySequence, NetworkAction, StatsRequest, StoragePoolAction,
};

const ALL: StatsRequest = StatsRequest {
    cpu: true,
    memory: true,
    disk: true,
    net: true,
};

fn state_of(conn: &impl BackendConnection, name: &str) -> DomainState {
    conn.list_domains()
        .unwrap()
        .into_iter()
        .find(|d| d.name == name)
        .map(|d| d.state)
        .unwrap()
}

#[test]
fn info_declares_capabilities_and_presets() {
    let info = LibvirtBackend::info();
    for cap in [
        capability::STATISTICS,
        capability::LIFECYCLE,
        capability::MANAGED_SAVE,
        capability::DELETE_STORAGE,
        capability::CONFIGURATION,
        capability::CONSOLE,
        capability::SCREENSHOT,
        capability::NETWORKS,
        capability::STORAGE,
    ] {
        assert!(info.has(cap), "missing {cap}");
    }
    let uris: Vec<(&str, bool)> = info
        .connect_presets
        .iter()
        .map(|p| (p.uri.as_str(), p.remote_ssh))
        .collect();
    assert_eq!(
        uris,
        [
            ("qemu:///system", true),
            ("qemu:///session", false),
            ("xen:///system", true),
            ("lxc:///system", false),
            ("test:///default", false)
        ]
    );
}

#[test]
fn connection_info_and_host_stats() {
    let conn = open_test_host("varied-host.xml");
    let info = conn.connection_info().unwrap();
    eprintln!("{info:?}");
    assert!(info.hypervisor.starts_with("TEST"), "{}", info.hypervisor);
    assert!(info.library.starts_with("libvirt "), "{}", info.library);
    assert_eq!((info.cpus, info.cpu_mhz), (8, 2800));
    assert_eq!(info.memory_kib, 16 * 1024 * 1024);
    assert!(!info.hostname.is_empty());

    let host = conn.host_stats().unwrap();
    eprintln!("{host:?}");
    assert_eq!(host.cpus, 8);
    assert_eq!(host.memory_total_kib, 16 * 1024 * 1024);
    // No memory statistics in the test driver: total less what the
    // running and paused guests hold (1 GiB + 512 MiB + 256 MiB).
    let held = (1024 + 512 + 256) * 1024;
    assert_eq!(host.memory_free_kib, host.memory_total_kib - held);
    assert!(host.cpu_user_ns.is_some() && host.cpu_idle_ns.is_some());
}

#[test]
fn stats_are_present_and_plausible_for_running_guests() {
    let conn = open_test_host("varied-host.xml");
    let guests = conn.list_domains().unwrap();
    let t0 = Instant::now();
    let first = conn.domain_stats(&ALL).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let t1 = Instant::now();
    let second = conn.domain_stats(&ALL).unwrap();
    assert_eq!(
        first.len(),
        guests.len(),
        "one record per guest, inactive ones too"
    );

    for g in &guests {
        let a = first.iter().find(|s| s.uuid == g.uuid).unwrap();
        let b = second.iter().find(|s| s.uuid == g.uuid).unwrap();
        assert_eq!(a.state, Some(g.state), "{}", g.name);
        match g.state {
            DomainState::Running => {
                let (c0, c1) = (a.cpu_time_ns.unwrap(), b.cpu_time_ns.unwrap());
                let wall = (t1 - t0).as_nanos() as f64;
                let vcpus = b.vcpus.unwrap();
                let pct = (c1 - c0) as f64 / wall / f64::from(vcpus) * 100.0;
                eprintln!(
                    "{}: cpu {c0} -> {c1} ns, {pct:.1} % of {vcpus} vCPUs",
                    g.name
                );
                assert!(c1 > c0, "CPU time advances");
                // The test driver's CPU time is wall-clock time: 100 % of
                // one vCPU, so at most 100 % once normalised.
                assert!(pct > 0.0 && pct <= 101.0, "{pct}");
                assert!(b.memory_kib.unwrap() > 0);
                assert_eq!(b.memory_kib, Some(g.memory_kib));
            }
            DomainState::Paused => {
                // Synthetic CPU time is withheld for paused guests.
                assert_eq!(b.cpu_time_ns, None);
                assert!(b.memory_kib.unwrap() > 0);
            }
            _ => {
                assert_eq!(b.cpu_time_ns, None);
                assert_eq!(b.memory_kib, None);
            }
        }
    }
    // State alone when nothing else is asked for.
    let bare = conn.domain_stats(&StatsRequest::default()).unwrap();
    assert!(bare
        .iter()
        .all(|s| s.state.is_some() && s.cpu_time_ns.is_none()));
}

#[test]
fn stats_for_200_guests_take_one_call() {
    let conn = open_repo_host("many.xml");
    let req = StatsRequest {
        cpu: true,
        ..Default::default()
    };
    conn.domain_stats(&req).unwrap();
    let t = Instant::now();
    let n = 20;
    for _ in 0..n {
        assert_eq!(conn.domain_stats(&req).unwrap().len(), 200);
    }
    eprintln!(
        "200 guests: {:?} per sample (test driver, with per-guest fallback)",
        t.elapsed() / n
    );
}

#[test]
fn lifecycle_actions_change_states() {
    let conn = open_test_host("varied-host.xml");
    let uuid = by_name(&conn, "runner").uuid;
    let steps = [
        (DomainAction::Pause, DomainState::Paused),
        (DomainAction::Resume, DomainState::Running),
        (DomainAction::Reboot, DomainState::Running),
        (DomainAction::Reset, DomainState::Running),
        (DomainAction::Shutdown, DomainState::Shutoff),
        (DomainAction::Start, DomainState::Running),
        (DomainAction::ForceOff, DomainState::Shutoff),
        (DomainAction::Start, DomainState::Running),
        (DomainAction::Save, DomainState::Shutoff),
        (DomainAction::Start, DomainState::Running),
    ];
    for (action, want) in steps {
        conn.domain_action(&uuid, &action)
            .unwrap_or_else(|e| panic!("{action:?}: {e}"));
        assert_eq!(state_of(&conn, "runner"), want, "after {action:?}");
    }
    // libvirt's own message comes back.
    let err = conn.domain_action(&uuid, &DomainAction::Start).unwrap_err();
    assert!(err.message.contains("already running"), "{}", err.message);
    // The test driver hangs saving a paused guest: refused instead.
    let sleeper = by_name(&conn, "sleeper").uuid;
    let err = conn
        .domain_action(&sleeper, &DomainAction::Save)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotSupported);
    let err = conn
        .domain_action("00000000-0000-0000-0000-000000000000", &DomainAction::Start)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
}

#[test]
fn delete_with_storage_removes_writable_volumes_only() {
    let conn = open_test_host("varied-host.xml");
    let uuid = by_name(&conn, "varied").uuid;
    conn.domain_action(
        &uuid,
        &DomainAction::Delete {
            delete_storage: true,
        },
    )
    .unwrap();
    assert!(conn.list_domains().unwrap().iter().all(|d| d.uuid != uuid));
    let pool = virt::storage_pool::StoragePool::lookup_by_name(conn.libvirt(), "default").unwrap();
    let mut left = pool.list_volumes().unwrap();
    left.sort();
    // The qcow2 disk and the pool volume went; the shareable disk stayed
    // (and the CD-ROM image was never a volume here).
    assert_eq!(left, ["shared.img"]);

    // Plain delete of a stopped guest.
    let idle = by_name(&conn, "idle").uuid;
    conn.domain_action(
        &idle,
        &DomainAction::Delete {
            delete_storage: false,
        },
    )
    .unwrap();
    assert!(conn.list_domains().unwrap().iter().all(|d| d.uuid != idle));
}

#[test]
fn delete_with_storage_refuses_disks_outside_pools_before_changing_anything() {
    let conn = open_test_host("varied-host.xml");
    let xml = "<domain type='test'><name>loose</name><memory>65536</memory>\
        <os><type arch='x86_64'>hvm</type></os><devices>\
        <disk type='file' device='disk'><source file='/nowhere/loose.img'/><target dev='vda'/></disk>\
        </devices></domain>";
    let info = conn
        .define_domain(&serde_json::json!({ "xml": xml }))
        .unwrap();
    let err = conn
        .domain_action(
            &info.uuid,
            &DomainAction::Delete {
                delete_storage: true,
            },
        )
        .unwrap_err();
    assert!(
        err.message.contains("/nowhere/loose.img"),
        "{}",
        err.message
    );
    assert!(conn
        .list_domains()
        .unwrap()
        .iter()
        .any(|d| d.uuid == info.uuid));
}

#[test]
fn domain_config_shows_each_device_type() {
    let conn = open_test_host("varied-host.xml");
    let uuid = by_name(&conn, "varied").uuid;
    let c = conn.domain_config(&uuid).unwrap();
    assert_eq!(c.name, "varied");
    assert_eq!(c.title, "A guest with every device");
    assert!(c.persistent);
    assert!(!c.autostart);
    assert_eq!((c.vcpus, c.max_vcpus), (2, 4));
    assert_eq!(c.memory_kib, 1024 * 1024);
    // No <maxMemory>: the host's memory is the ceiling.
    assert_eq!(c.max_memory_kib, 16 * 1024 * 1024);
    assert_eq!(c.boot_order, ["cdrom", "hd"]);
    let kinds: std::collections::BTreeSet<&str> =
        c.devices.iter().map(|d| d.kind.as_str()).collect();
    for k in [
        "disk",
        "cdrom",
        "interface",
        "graphics",
        "video",
        "controller",
        "input",
        "sound",
        "serial",
        "console",
        "channel",
        "hostdev",
        "rng",
        "tpm",
        "watchdog",
        "memballoon",
        "redirdev",
        "filesystem",
        "panic",
        "audio",
    ] {
        assert!(kinds.contains(k), "no {k} in {kinds:?}");
    }
    for d in &c.devices {
        assert!(!d.title.is_empty(), "{d:?}");
        eprintln!("{:<12} {:<22} {:?}", d.kind, d.title, d.properties);
    }
    assert!(c.native.unwrap().contains("libosinfo:os"));
}

#[test]
fn apply_changes_and_read_them_back() {
    let conn = open_test_host("varied-host.xml");
    let uuid = by_name(&conn, "varied").uuid;
    let changes = ConfigChanges {
        vcpus: Some(3),
        memory_kib: Some(1536 * 1024),
        boot_order: Some(vec!["hd".into(), "network".into()]),
        autostart: Some(true),
        title: Some("Renamed".into()),
        description: Some("New description".into()),
        graphics: Some("vnc".into()),
    };
    let result = conn.apply_domain_config(&uuid, &changes).unwrap();
    // Running: the XML changes wait for the next boot.
    assert_eq!(result.applied_now, ["autostart", "title", "description"]);
    assert_eq!(
        result.next_boot,
        ["vcpus", "memory_kib", "boot_order", "graphics"]
    );

    let c = conn.domain_config(&uuid).unwrap();
    assert_eq!((c.vcpus, c.max_vcpus), (3, 4));
    assert_eq!(c.memory_kib, 1536 * 1024);
    assert_eq!(c.boot_order, ["hd", "network"]);
    assert!(c.autostart);
    assert_eq!(c.title, "Renamed");
    assert_eq!(c.description, "New description");
    let titles: Vec<&str> = c.devices.iter().map(|d| d.title.as_str()).collect();
    assert!(
        titles.contains(&"Display VNC") && !titles.contains(&"Display Spice"),
        "{titles:?}"
    );
    let native = c.native.unwrap();
    assert!(
        native.contains("<libosinfo:os id=\"http://fedoraproject.org/fedora/41\"/>"),
        "namespaced metadata survives: {native}"
    );
    // The running guest has its new title now.
    let live = virt::domain::Domain::lookup_by_uuid_string(conn.libvirt(), &uuid)
        .unwrap()
        .get_metadata(
            virt_sys::VIR_DOMAIN_METADATA_TITLE as i32,
            None,
            virt_sys::VIR_DOMAIN_AFFECT_LIVE,
        )
        .unwrap();
    assert_eq!(live, "Renamed");

    // A stopped guest: everything is in effect at once.
    let idle = by_name(&conn, "idle").uuid;
    let r = conn
        .apply_domain_config(
            &idle,
            &ConfigChanges {
                vcpus: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(r.applied_now, ["vcpus"]);
    assert_eq!(conn.domain_config(&idle).unwrap().vcpus, 2);
}

#[test]
fn refused_changes_leave_the_definition_unchanged() {
    let conn = open_test_host("varied-host.xml");
    let uuid = by_name(&conn, "varied").uuid;
    let before = conn.domain_config(&uuid).unwrap().native;
    let too_much = ConfigChanges {
        vcpus: Some(3),
        memory_kib: Some(64 * 1024 * 1024),
        ..Default::default()
    };
    let err = conn.apply_domain_config(&uuid, &too_much).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    assert!(
        err.message.contains("above this guest's maximum"),
        "{}",
        err.message
    );
    let bad_boot = ConfigChanges {
        boot_order: Some(vec!["floppy-disk".into()]),
        ..Default::default()
    };
    assert!(conn.apply_domain_config(&uuid, &bad_boot).is_err());
    assert_eq!(conn.domain_config(&uuid).unwrap().native, before);
}

#[test]
fn define_domain_from_xml() {
    let conn = open_test_host("varied-host.xml");
    let xml = "<domain type='test'><name>fresh</name><memory unit='MiB'>128</memory>\
        <vcpu>2</vcpu><os><type arch='x86_64'>hvm</type></os></domain>";
    let info = conn
        .define_domain(&serde_json::json!({ "xml": xml }))
        .unwrap();
    assert_eq!(
        (info.name.as_str(), info.state, info.vcpus),
        ("fresh", DomainState::Shutoff, 2)
    );
    assert_eq!(by_name(&conn, "fresh").uuid, info.uuid);
    let err = conn
        .define_domain(&serde_json::json!({ "yaml": 1 }))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument);
    let err = conn
        .define_domain(&serde_json::json!({ "xml": "<domain" }))
        .unwrap_err();
    assert!(!err.message.is_empty());
}

#[test]
fn console_endpoints_fall_back_to_host_and_port() {
    let conn = open_test_host("varied-host.xml");
    // No OpenGraphicsFD in the test driver: address, port and password.
    let (ep, fd) = conn.open_console(&by_name(&conn, "runner").uuid).unwrap();
    assert!(fd.is_none());
    assert_eq!(ep.protocol, "vnc");
    assert_eq!(
        ep.host.as_deref(),
        Some("127.0.0.1"),
        "0.0.0.0 on a local connection"
    );
    assert_eq!(ep.port, Some(5907));
    assert!(ep.needs_password);
    assert_eq!(ep.password.as_deref(), Some("s3cret"));

    let (ep, fd) = conn.open_console(&by_name(&conn, "varied").uuid).unwrap();
    assert!(fd.is_none());
    assert_eq!(ep.protocol, "spice");

    let (ep, _) = conn.open_console(&by_name(&conn, "sleeper").uuid).unwrap();
    assert_eq!(ep.protocol, "none");

    let err = conn.open_console(&by_name(&conn, "idle").uuid).unwrap_err();
    assert!(err.message.contains("not running"));
}

#[test]
fn keys_and_screenshots() {
    let conn = open_test_host("varied-host.xml");
    let uuid = by_name(&conn, "runner").uuid;
    let ctrl_alt_del = KeySequence {
        linux_keycodes: vec![29, 56, 111],
        hold_ms: 0,
    };
    conn.send_keys(&uuid, &ctrl_alt_del).unwrap();
    let too_many = KeySequence {
        linux_keycodes: vec![30; 17],
        hold_ms: 0,
    };
    assert_eq!(
        conn.send_keys(&uuid, &too_many).unwrap_err().code,
        ErrorCode::InvalidArgument
    );

    let png = conn.screenshot(&uuid).unwrap();
    assert!(
        png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{:?}",
        &png[..8.min(png.len())]
    );
    eprintln!("test driver screenshot: {} bytes", png.len());
}

#[test]
fn networks_list_and_act() {
    let conn = open_test_host("varied-host.xml");
    let nets = conn.list_networks().unwrap();
    let default = nets.iter().find(|n| n.name == "default").unwrap();
    assert!(default.active && default.persistent && !default.autostart);
    assert_eq!(default.forward_mode, "nat");
    assert_eq!(default.bridge.as_deref(), Some("virbr0"));
    assert_eq!(default.ipv4.as_deref(), Some("192.168.122.1/24"));
    assert_eq!(
        default.dhcp_range.as_deref(),
        Some("192.168.122.2 – 192.168.122.254")
    );
    let iso = nets.iter().find(|n| n.name == "isolated").unwrap();
    assert_eq!(
        (iso.forward_mode.as_str(), iso.ipv4.as_deref()),
        ("isolated", Some("10.0.5.1/24"))
    );

    let find = |name: &str| {
        conn.list_networks()
            .unwrap()
            .into_iter()
            .find(|n| n.name == name)
            .unwrap()
    };
    conn.network_action("default", &NetworkAction::Stop)
        .unwrap();
    assert!(!find("default").active);
    conn.network_action("default", &NetworkAction::Start)
        .unwrap();
    assert!(find("default").active);
    conn.network_action("default", &NetworkAction::SetAutostart { autostart: true })
        .unwrap();
    assert!(find("default").autostart);
    let err = conn
        .network_action("nope", &NetworkAction::Start)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotFound);
}

#[test]
fn storage_pools_list_and_act() {
    let conn = open_test_host("varied-host.xml");
    let find = |name: &str| {
        conn.list_storage_pools()
            .unwrap()
            .into_iter()
            .find(|p| p.name == name)
            .unwrap()
    };
    let p = find("default");
    eprintln!("{p:?}");
    assert_eq!((p.kind.as_str(), p.state.as_str()), ("dir", "running"));
    assert_eq!(p.path.as_deref(), Some("/var/lib/libvirt/images"));
    assert!(p.capacity_bytes > 0 && p.allocation_bytes <= p.capacity_bytes);
    assert_eq!(find("vg0").kind, "logical");

    conn.storage_pool_action("default", &StoragePoolAction::Refresh)
        .unwrap();
    conn.storage_pool_action("vg0", &StoragePoolAction::Stop)
        .unwrap();
    assert_eq!(find("vg0").state, "inactive");
    conn.storage_pool_action("vg0", &StoragePoolAction::Start)
        .unwrap();
    assert_eq!(find("vg0").state, "running");
    conn.storage_pool_action("vg0", &StoragePoolAction::SetAutostart { autostart: true })
        .unwrap();
    assert!(find("vg0").autostart);
}

#[test]
fn transient_guests_change_live_only_and_vanish_on_delete() {
    let conn = open_test_host("varied-host.xml");
    let xml = "<domain type='test'><name>passing</name><memory unit='MiB'>64</memory>\
        <os><type arch='x86_64'>hvm</type></os></domain>";
    let dom = virt::domain::Domain::create_xml(conn.libvirt(), xml, 0).unwrap();
    let uuid = dom.get_uuid_string().unwrap();
    assert!(!conn.domain_config(&uuid).unwrap().persistent);

    let r = conn
        .apply_domain_config(
            &uuid,
            &ConfigChanges {
                title: Some("Just visiting".into()),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(r.applied_now, ["title"]);
    assert_eq!(conn.domain_config(&uuid).unwrap().title, "Just visiting");
    let err = conn
        .apply_domain_config(
            &uuid,
            &ConfigChanges {
                vcpus: Some(2),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::NotSupported);
    assert!(err.message.contains("transient"), "{}", err.message);

    conn.domain_action(
        &uuid,
        &DomainAction::Delete {
            delete_storage: false,
        },
    )
    .unwrap();
    assert!(conn.list_domains().unwrap().iter().all(|d| d.uuid != uuid));
}
