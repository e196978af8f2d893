//! The D-Bus API and the Shell search provider, on a private session bus,
//! with the real application running under Xvfb: zbus and `gdbus call`
//! drive the methods; AT-SPI shows the windows they open.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{wait_for, RunningApp};
use zbus::zvariant::OwnedValue;

const IFACE: &str = "org.virt_manager.VirtManager1";
const PATH: &str = "/org/virt_manager/VirtManager1";

fn client(app: &RunningApp) -> zbus::blocking::Connection {
    zbus::blocking::connection::Builder::address(app.bus.address.as_str())
        .unwrap()
        .build()
        .unwrap()
}

fn proxy(conn: &zbus::blocking::Connection) -> zbus::blocking::Proxy<'static> {
    let p = zbus::blocking::Proxy::new(conn, IFACE, PATH, IFACE).unwrap();
    p
}

fn error_name(e: &zbus::Error) -> String {
    match e {
        zbus::Error::MethodError(name, _, _) => name.to_string(),
        other => format!("{other}"),
    }
}

type Dict = HashMap<String, OwnedValue>;

fn ov(s: &str) -> OwnedValue {
    OwnedValue::try_from(zbus::zvariant::Value::from(s)).unwrap()
}

fn domains(p: &zbus::blocking::Proxy, uri: &str) -> Vec<Dict> {
    p.call("ListDomains", &(uri,)).unwrap()
}

fn state_of(p: &zbus::blocking::Proxy, uri: &str, name: &str) -> String {
    let list = domains(p, uri);
    let d = list
        .iter()
        .find(|d| String::try_from(d["name"].try_clone().unwrap()).unwrap() == name)
        .unwrap();
    String::try_from(d["state"].try_clone().unwrap()).unwrap()
}

/// Demo-host guests' state after an action settles.
fn wait_state(p: &zbus::blocking::Proxy, uri: &str, name: &str, want: &str) {
    let ok = wait_for(Duration::from_secs(10), || {
        (state_of(p, uri, name) == want).then_some(())
    });
    assert!(
        ok.is_some(),
        "{name} never became {want} (is {})",
        state_of(p, uri, name)
    );
}

#[test]
fn lifecycle_on_the_test_driver_with_signals_in_order() {
    let app = RunningApp::start("dbus_lifecycle", &["--demo"]);
    let conn = client(&app);
    let p = proxy(&conn);
    let uri = app.first_uri();
    assert!(uri.starts_with("test://"), "{uri}");

    let list = domains(&p, &uri);
    assert_eq!(list.len(), 8);
    let keys: std::collections::BTreeSet<&str> = list[0].keys().map(String::as_str).collect();
    assert_eq!(
        keys.into_iter().collect::<Vec<_>>(),
        [
            "cpu_percent",
            "memory_kib",
            "memory_used_kib",
            "name",
            "state",
            "uuid",
            "vcpus"
        ]
    );

    // Watch the state signals while acting.
    let signals = zbus::blocking::MessageIterator::for_match_rule(
        zbus::MatchRule::builder()
            .msg_type(zbus::message::Type::Signal)
            .interface(IFACE)
            .unwrap()
            .member("DomainStateChanged")
            .unwrap()
            .build(),
        &conn,
        Some(32),
    )
    .unwrap();

    let _: () = p.call("Pause", &(&uri, "debian-server")).unwrap();
    wait_state(&p, &uri, "debian-server", "paused");
    let _: () = p.call("Resume", &(&uri, "debian-server")).unwrap();
    wait_state(&p, &uri, "debian-server", "running");
    let _: () = p.call("Start", &(&uri, "windows-11")).unwrap();
    wait_state(&p, &uri, "windows-11", "running");
    // By UUID as well as by name.
    let _: () = p
        .call("ForceOff", &(&uri, "c7a5fdbd-edaf-9455-926a-d65c16db1804"))
        .unwrap();
    wait_state(&p, &uri, "windows-11", "shutoff");

    let mut seen = Vec::new();
    for msg in signals.take(4) {
        let msg = msg.unwrap();
        let (u, guest, state): (String, String, String) = msg.body().deserialize().unwrap();
        assert_eq!(u, uri);
        seen.push((guest, state));
    }
    assert_eq!(
        seen,
        [
            (
                "c7a5fdbd-edaf-9455-926a-d65c16db1802".into(),
                "paused".into()
            ),
            (
                "c7a5fdbd-edaf-9455-926a-d65c16db1802".into(),
                "running".into()
            ),
            (
                "c7a5fdbd-edaf-9455-926a-d65c16db1804".into(),
                "running".into()
            ),
            (
                "c7a5fdbd-edaf-9455-926a-d65c16db1804".into(),
                "shutoff".into()
            ),
        ]
    );
}

#[test]
fn wrong_arguments_and_unknown_guests_get_typed_errors() {
    let app = RunningApp::start("dbus_errors", &["--demo"]);
    let conn = client(&app);
    let p = proxy(&conn);
    let uri = app.first_uri();

    let e = p
        .call::<_, _, ()>("Pause", &(&uri, "no-such-guest"))
        .unwrap_err();
    assert_eq!(
        error_name(&e),
        "org.virt_manager.VirtManager1.Error.NoSuchDomain"
    );
    let e = p
        .call::<_, _, ()>("Pause", &("nosuch:///", "x"))
        .unwrap_err();
    assert_eq!(
        error_name(&e),
        "org.virt_manager.VirtManager1.Error.NoSuchConnection"
    );
    let e = p
        .call::<_, _, Vec<Dict>>("ListDomains", &("test:///not/open.xml",))
        .unwrap_err();
    assert_eq!(
        error_name(&e),
        "org.virt_manager.VirtManager1.Error.NoSuchConnection"
    );

    let bad: Dict = HashMap::from([("vcpus".to_owned(), ov("two"))]);
    let e = p
        .call::<_, _, ()>("SetDomainConfig", &(&uri, "debian-server", bad))
        .unwrap_err();
    assert_eq!(
        error_name(&e),
        "org.virt_manager.VirtManager1.Error.InvalidArgs"
    );
    let unknown: Dict = HashMap::from([("colour".to_owned(), ov("red"))]);
    let e = p
        .call::<_, _, ()>("SetDomainConfig", &(&uri, "debian-server", unknown))
        .unwrap_err();
    assert_eq!(
        error_name(&e),
        "org.virt_manager.VirtManager1.Error.InvalidArgs"
    );
    let e = p
        .call::<_, _, ()>("SendKeys", &(&uri, "debian-server", vec!["ctrl", "nokey"]))
        .unwrap_err();
    assert_eq!(
        error_name(&e),
        "org.virt_manager.VirtManager1.Error.InvalidArgs"
    );
    let e = p
        .call::<_, _, ()>("OpenConnection", &("not a uri",))
        .unwrap_err();
    assert_eq!(
        error_name(&e),
        "org.virt_manager.VirtManager1.Error.InvalidArgs"
    );
    let e = p
        .call::<_, _, ()>("OpenConnection", &("nosuchscheme:///x",))
        .unwrap_err();
    assert_eq!(
        error_name(&e),
        "org.virt_manager.VirtManager1.Error.NotSupported"
    );

    // Wrong D-Bus types never reach the engine: zbus refuses the
    // signature before the service sees the call.
    let e = p.call::<_, _, ()>("Pause", &(42u32, true)).unwrap_err();
    assert!(format!("{e}").contains("Signature mismatch"), "{e}");

    // Nothing changed.
    assert_eq!(state_of(&p, &uri, "debian-server"), "running");

    // A valid change applies.
    let good: Dict = HashMap::from([("title".to_owned(), ov("Web server"))]);
    let _: () = p
        .call("SetDomainConfig", &(&uri, "debian-server", good))
        .unwrap();
}

#[test]
fn gdbus_command_lines_work() {
    let app = RunningApp::start("dbus_gdbus", &["--demo"]);
    let uri = app.first_uri();
    let (ok, out) = app.gdbus(&["ListDomains", &uri]);
    assert!(ok && out.contains("fedora-workstation"), "{out}");
    let (ok, out) = app.gdbus(&["Pause", &uri, "alpine-router"]);
    assert!(ok, "{out}");
    let (ok, out) = app.gdbus(&["Resume", &uri, "alpine-router"]);
    assert!(ok, "{out}");
    let (ok, out) = app.gdbus(&[
        "SetDomainConfig",
        &uri,
        "alpine-router",
        "{'vcpus': <uint32 2>}",
    ]);
    assert!(ok, "{out}");
    let (ok, out) = app.gdbus(&["ListNetworks", &uri]);
    assert!(ok && out.contains("'default'"), "{out}");
    let (ok, out) = app.gdbus(&["ListStoragePools", &uri]);
    assert!(ok && out.contains("'default'"), "{out}");
    let (ok, out) = app.gdbus(&["RefreshStoragePool", &uri, "default"]);
    assert!(ok, "{out}");
    let (ok, out) = app.gdbus(&["Pause", &uri, "nosuch"]);
    assert!(
        !ok && out.contains("org.virt_manager.VirtManager1.Error.NoSuchDomain"),
        "{out}"
    );
    let (ok, out) = app.gdbus(&["ShowHostSummary", &uri]);
    assert!(ok, "{out}");
    assert!(
        app.atspi("frame", "* – Host Details", "exists", 20),
        "the host window opened"
    );
    let (ok, out) = app.gdbus(&["ShowPreferences"]);
    assert!(ok, "{out}");
    assert!(app.atspi("frame", "Preferences", "exists", 20));
}

#[test]
fn delete_asks_the_user_and_fails_with_cancelled_when_declined() {
    let app = RunningApp::start("dbus_delete", &["--demo"]);
    let conn = client(&app);
    let uri = app.first_uri();

    // Declined: the reply waits for the user, then says Cancelled.
    let waiter = {
        let uri = uri.clone();
        let conn = conn.clone();
        std::thread::spawn(move || {
            proxy(&conn).call::<_, _, ()>("Delete", &(&uri, "opensuse-build", false))
        })
    };
    assert!(
        app.atspi("push button", "Cancel*", "click", 30),
        "the confirmation appeared"
    );
    let e = waiter.join().unwrap().unwrap_err();
    assert_eq!(
        error_name(&e),
        "org.virt_manager.VirtManager1.Error.Cancelled"
    );
    let p = proxy(&conn);
    assert_eq!(
        state_of(&p, &uri, "opensuse-build"),
        "shutoff",
        "still there"
    );

    // Accepted: the guest is gone.
    let waiter = {
        let uri = uri.clone();
        let conn = conn.clone();
        std::thread::spawn(move || {
            proxy(&conn).call::<_, _, ()>("Delete", &(&uri, "opensuse-build", false))
        })
    };
    assert!(app.atspi("push button", "Delete*", "click", 30));
    waiter.join().unwrap().unwrap();
    let gone = wait_for(Duration::from_secs(10), || {
        (!domains(&p, &uri)
            .iter()
            .any(|d| String::try_from(d["name"].try_clone().unwrap()).unwrap() == "opensuse-build"))
        .then_some(())
    });
    assert!(gone.is_some());
}

#[test]
fn search_provider_finds_and_opens_guests() {
    let app = RunningApp::start("dbus_search", &["--demo"]);
    app.first_uri(); // the demo host's guests are listed
    let conn = client(&app);
    let sp = zbus::blocking::Proxy::new(
        &conn,
        IFACE,
        "/org/virt_manager/VirtManager1/SearchProvider",
        "org.gnome.Shell.SearchProvider2",
    )
    .unwrap();
    let ids: Vec<String> = sp.call("GetInitialResultSet", &(vec!["te"],)).unwrap();
    assert_eq!(ids.len(), 1, "only alpine-router has “te”: {ids:?}");
    assert!(ids[0].starts_with("c7a5fdbd-edaf-9455-926a-d65c16db1805 "));
    let ids: Vec<String> = sp.call("GetInitialResultSet", &(vec!["DEBIAN"],)).unwrap();
    assert_eq!(ids.len(), 1);
    let sub: Vec<String> = sp
        .call(
            "GetSubsearchResultSet",
            &(ids.clone(), vec!["debian", "serv"]),
        )
        .unwrap();
    assert_eq!(sub, ids);
    let metas: Vec<Dict> = sp.call("GetResultMetas", &(ids.clone(),)).unwrap();
    assert_eq!(
        String::try_from(metas[0]["name"].try_clone().unwrap()).unwrap(),
        "debian-server"
    );
    let desc = String::try_from(metas[0]["description"].try_clone().unwrap()).unwrap();
    assert!(desc.contains("Running"), "{desc}");
    let none: Vec<String> = sp.call("GetInitialResultSet", &(vec!["zzzz"],)).unwrap();
    assert!(none.is_empty());

    let _: () = sp
        .call("ActivateResult", &(&ids[0], vec!["debian"], 0u32))
        .unwrap();
    assert!(
        app.atspi("frame", "debian-server – *", "exists", 20),
        "a window for the guest opened"
    );

    // LaunchSearch: the manager, filtered by the terms.
    let _: () = sp.call("LaunchSearch", &(vec!["ubuntu"], 0u32)).unwrap();
    let filtered = wait_for(Duration::from_secs(20), || {
        let names: Vec<String> = app.tree().into_iter().map(|(_, n)| n).collect();
        (names.iter().any(|n| n == "ubuntu-dev")
            && !names.iter().any(|n| n == "fedora-workstation"))
        .then_some(())
    });
    assert!(
        filtered.is_some(),
        "the manager shows only the matching guest"
    );
}

#[test]
fn accents_and_case_do_not_matter_to_the_search() {
    let uri = common::test_uri("many.xml");
    let app = RunningApp::start("dbus_search_accents", &["--connect", &uri]);
    let conn = client(&app);
    let sp = zbus::blocking::Proxy::new(
        &conn,
        IFACE,
        "/org/virt_manager/VirtManager1/SearchProvider",
        "org.gnome.Shell.SearchProvider2",
    )
    .unwrap();
    let ids = wait_for(Duration::from_secs(20), || {
        let ids: Vec<String> = sp.call("GetInitialResultSet", &(vec!["ΕΛΛΗΝΙΚΑ"],)).ok()?;
        (!ids.is_empty()).then_some(ids)
    })
    .expect("found without accents, in capitals");
    assert_eq!(ids.len(), 20, "every Ελληνικά-NNN guest");
    let ids: Vec<String> = sp.call("GetInitialResultSet", &(vec!["unicode"],)).unwrap();
    assert!(
        ids.is_empty(),
        "ø is a letter of its own, not an o with an accent"
    );
    let ids: Vec<String> = sp.call("GetInitialResultSet", &(vec!["unic"],)).unwrap();
    assert_eq!(ids.len(), 20, "Ünïcødé-NNN by its unaccented start");
}

#[test]
fn a_second_instance_forwards_its_options() {
    let app = RunningApp::start("dbus_second_instance", &["--demo"]);
    let out = app
        .command(common::bin())
        .env("VIRT_MANAGER_PLUGIN_PATH", common::plugin_dir())
        .args(["--show-domain-performance", "fedora-workstation"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        app.atspi("frame", "fedora-workstation – Details", "exists", 20),
        "the running app opened it"
    );
    assert!(
        app.atspi("label", "CPU Usage", "exists", 10),
        "on the Performance page"
    );
    let out = app
        .command(common::bin())
        .args(["--show-domain-console", "legacy-app"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(app.atspi("frame", "legacy-app – *", "exists", 20));
}

#[test]
fn the_committed_introspection_matches_the_service() {
    let app = RunningApp::start("dbus_introspection", &["--demo"]);
    let conn = client(&app);
    let intro =
        zbus::blocking::Proxy::new(&conn, IFACE, PATH, "org.freedesktop.DBus.Introspectable")
            .unwrap();
    let live: String = intro.call("Introspect", &()).unwrap();
    let committed = std::fs::read_to_string(
        common::repo_dir().join("docs/dbus/org.virt_manager.VirtManager1.xml"),
    )
    .unwrap();
    let iface = |xml: &str| -> String {
        let start = xml
            .find("<interface name=\"org.virt_manager.VirtManager1\">")
            .expect("the interface");
        let end = start + xml[start..].find("</interface>").unwrap();
        xml[start..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    assert_eq!(
        iface(&live),
        iface(&committed),
        "docs/dbus/org.virt_manager.VirtManager1.xml is out of date: run tools/dbus-introspect.sh"
    );
}
