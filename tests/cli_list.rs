//! `virt-manager list` through the real plugin on libvirt's test driver,
//! checked against `virsh` on the same files.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use serde_json::Value;

/// virsh's state words, as `list --json` spells them.
fn virsh_state(word: &str) -> &'static str {
    match word {
        "running" => "running",
        "idle" => "blocked",
        "paused" => "paused",
        "in shutdown" => "shutdown",
        "shut off" => "shutoff",
        "crashed" => "crashed",
        "pmsuspended" => "pmsuspended",
        "no state" => "nostate",
        other => panic!("unexpected virsh state {other:?}"),
    }
}

/// uuid -> (name, state) according to virsh, in one virsh process.
fn virsh_guests(uri: &str) -> BTreeMap<String, (String, String)> {
    let out = Command::new("virsh")
        .args(["-c", uri, "list", "--all", "--uuid"])
        .output()
        .expect("virsh");
    assert!(out.status.success());
    let uuids: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if uuids.is_empty() {
        return BTreeMap::new();
    }
    // One virsh process answers every question (`;` separates commands).
    let script: String = uuids
        .iter()
        .map(|u| format!("domname {u}; domstate {u}; "))
        .collect();
    let out = Command::new("virsh")
        .args(["-q", "-c", uri, &script])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(
        lines.len(),
        uuids.len() * 2,
        "virsh answered every question"
    );
    uuids
        .iter()
        .zip(lines.chunks(2))
        .map(|(u, pair)| {
            (
                u.clone(),
                (pair[0].to_owned(), virsh_state(pair[1].trim()).to_owned()),
            )
        })
        .collect()
}

fn list_json(uri: &str) -> Vec<Value> {
    let home = tempfile::tempdir().unwrap();
    let out = common::app_command(home.path())
        .args(["list", "--json", "--connect", uri])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "list failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_slice(&out.stdout).expect("JSON output") {
        Value::Array(a) => a,
        other => panic!("not an array: {other}"),
    }
}

fn check_against_virsh(file: &str, expected_count: usize) {
    let uri = common::test_uri(file);
    let ours = list_json(&uri);
    let theirs = virsh_guests(&uri);
    assert_eq!(ours.len(), expected_count);
    assert_eq!(theirs.len(), expected_count);
    for guest in &ours {
        let obj = guest.as_object().unwrap();
        let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(
            sorted,
            ["memory_kib", "name", "state", "uuid", "vcpus"],
            "exactly these keys"
        );
        let uuid = obj["uuid"].as_str().unwrap();
        let (name, state) = theirs
            .get(uuid)
            .unwrap_or_else(|| panic!("virsh does not know {uuid}"));
        assert_eq!(obj["name"].as_str().unwrap(), name, "name of {uuid}");
        assert_eq!(obj["state"].as_str().unwrap(), state, "state of {name}");
        assert!(obj["vcpus"].as_u64().unwrap() >= 1);
        assert!(obj["memory_kib"].as_u64().unwrap() > 0);
    }
}

#[test]
fn empty_host_matches_virsh() {
    check_against_virsh("empty.xml", 0);
}

#[test]
fn few_guests_match_virsh() {
    check_against_virsh("few.xml", 5);
}

#[test]
fn two_hundred_odd_names_match_virsh() {
    check_against_virsh("many.xml", 200);
    let names: Vec<String> = list_json(&common::test_uri("many.xml"))
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        names.iter().any(|n| n == "x&y<z>-002"),
        "XML-special names survive"
    );
    assert!(
        names.iter().any(|n| n == "日本語-004"),
        "non-ASCII names survive"
    );
}

#[test]
fn demo_host_lists_its_guests() {
    let home = tempfile::tempdir().unwrap();
    let out = common::app_command(home.path())
        .args(["list", "--demo", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let guests: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(guests.len() >= 5, "a handful of guests");
    let states: std::collections::BTreeSet<&str> = guests
        .iter()
        .map(|g| g["state"].as_str().unwrap())
        .collect();
    assert!(
        states.contains("running") && states.contains("shutoff") && states.contains("paused"),
        "{states:?}"
    );
}

#[test]
fn text_output_has_a_row_per_guest() {
    let home = tempfile::tempdir().unwrap();
    let out = common::app_command(home.path())
        .args(["list", "--connect", &common::test_uri("few.xml")])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 6, "{text}");
    assert!(text
        .lines()
        .any(|l| l.starts_with("gamma") && l.contains("shutoff")));
}

#[test]
fn bad_uris_fail_cleanly_with_the_reason() {
    let home = tempfile::tempdir().unwrap();
    for (uri, needle) in [
        ("test:///nonexistent/host.xml", "nonexistent"),
        ("nosuchscheme:///x", "nosuchscheme"),
        ("not a uri", "not a URI"),
    ] {
        let out = common::app_command(home.path())
            .args(["list", "--connect", uri])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{uri}: {stderr}");
        assert!(stderr.contains(needle), "{uri}: reason in {stderr:?}");
        assert!(!stderr.contains("panicked"), "{uri}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr:?}");
    }
}
