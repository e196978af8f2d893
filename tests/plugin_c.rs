//! Plugins written in C against plugins/api/include/virt_manager_plugin.h,
//! compiled here with `cc -shared` and loaded through the registry: the
//! ABI is language-neutral in fact. Also the version rules: a 1.0 backend
//! (shorter descriptor and table) works with its newer calls "not
//! supported", a plugin of a future major version is refused, and when two
//! plugins claim the same URI scheme or encoding the first on the search
//! path wins and the other is reported.

mod common;
#[path = "plugins/support.rs"]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use support::{build_c_plugin, failure, loaded, plugin_dir, record, Canvas};
use virt_manager::plugin_host::PluginRegistry;
use virt_manager_plugin_api::abi::{PixelFormat, Rect};
use virt_manager_plugin_api::{BackendEvent, Decoded, DomainState, ErrorCode, StatsRequest};

const RRE: i32 = 2;

/// An RRE rectangle's payload and the pixels it should produce.
struct RreCase {
    bytes: Vec<u8>,
    rect: Rect,
    /// (x, y, w, h, pixel) relative to the rectangle; the first is the
    /// background, later ones paint over earlier ones.
    fills: Vec<(u16, u16, u16, u16, u32)>,
}

fn rre_case() -> RreCase {
    let rect = Rect {
        x: 5,
        y: 4,
        width: 16,
        height: 10,
        encoding: RRE,
    };
    let background = 0x0011_2233;
    let subrects = [
        (0, 0, 4, 3, 0x00ff_0000),
        (10, 2, 6, 8, 0x0000_ff00),
        (3, 1, 9, 5, 0x0000_00ff),
        (15, 9, 1, 1, 0x00ab_cdef),
    ];
    let mut bytes = (subrects.len() as u32).to_be_bytes().to_vec();
    // Pixels in the host's format: native-endian words.
    bytes.extend_from_slice(&u32::to_ne_bytes(background));
    let mut fills = vec![(0, 0, rect.width, rect.height, background)];
    for (x, y, w, h, pixel) in subrects {
        bytes.extend_from_slice(&u32::to_ne_bytes(pixel));
        for v in [x, y, w, h] {
            bytes.extend_from_slice(&u16::to_be_bytes(v));
        }
        fills.push((x, y, w, h, pixel));
    }
    RreCase { bytes, rect, fills }
}

/// The expected framebuffer: `outside` everywhere but the rectangle.
fn expected(case: &RreCase, width: u32, height: u32, outside: u32) -> Vec<u32> {
    let mut fb = vec![outside; (width * height) as usize];
    for &(x, y, w, h, pixel) in &case.fills {
        for yy in y..y + h {
            for xx in x..x + w {
                let (ax, ay) = (case.rect.x + xx, case.rect.y + yy);
                fb[(ay as u32 * width + ax as u32) as usize] = pixel;
            }
        }
    }
    fb
}

fn assert_pixels(canvas: &Canvas, want: &[u32]) {
    for y in 0..canvas.height {
        for x in 0..canvas.width {
            let want = want[(y * canvas.width + x) as usize];
            assert_eq!(
                canvas.at(x, y),
                want,
                "pixel ({x},{y}): {:#x} != {want:#x}",
                canvas.at(x, y)
            );
        }
    }
}

#[test]
fn a_decoder_written_in_c_decodes_rre_into_the_framebuffer() {
    let dir = plugin_dir();
    let lib = build_c_plugin("c_decoder/rre.c", "c_rre", &[], dir.path());
    let reg = PluginRegistry::discover_in(&[dir.path().to_path_buf()]);
    let plugin = loaded(&reg, &lib);
    assert_eq!(
        (plugin.name.as_str(), plugin.abi_major, plugin.abi_minor),
        ("c-rre", 1, 1)
    );
    assert!(plugin.backend.is_none());
    let decoders = reg.decoder_for(RRE).expect("the C library provides RRE");
    assert_eq!(decoders.encodings()[0].name, "RRE");

    let case = rre_case();
    let want = expected(&case, 32, 24, 0xaaaa_aaaa);

    // All bytes at once.
    let mut decoder = decoders.create(RRE, &PixelFormat::HOST).unwrap();
    let mut canvas = Canvas::new(32, 24, 0xaaaa_aaaa);
    let done = decoder
        .decode(&case.rect, &case.bytes, &mut canvas.view())
        .unwrap();
    assert_eq!(done, Decoded::Done(case.bytes.len()));
    assert_pixels(&canvas, &want);

    // As a socket delivers them: a few bytes at a time, the way the RFB
    // client drives a push parser (more on NeedMore, skip on Partial).
    for chunk in [1, 5, 7, 13] {
        let mut canvas = Canvas::new(32, 24, 0xaaaa_aaaa);
        let (mut start, mut have) = (0, chunk.min(case.bytes.len()));
        let mut partials = 0;
        loop {
            match decoder
                .decode(&case.rect, &case.bytes[start..have], &mut canvas.view())
                .unwrap()
            {
                Decoded::NeedMore(n) => {
                    assert!(have < case.bytes.len(), "asks for {n} bytes past the end");
                    have = (have + n.max(chunk)).min(case.bytes.len());
                }
                Decoded::Partial(k) => {
                    start += k;
                    partials += 1;
                }
                Decoded::Done(k) => {
                    start += k;
                    break;
                }
            }
        }
        assert_eq!(
            start,
            case.bytes.len(),
            "chunk {chunk}: every byte consumed once"
        );
        assert!(partials > 0, "chunk {chunk}: the decoder streamed");
        assert_pixels(&canvas, &want);
    }

    // Malformed input is an error, not a write outside the rectangle.
    let mut bad = 1u32.to_be_bytes().to_vec();
    bad.extend_from_slice(&[0; 4]);
    bad.extend_from_slice(&[0, 0, 0, 0, 0, 12, 0, 0, 0, 8, 0, 1]);
    let mut canvas = Canvas::new(32, 24, 7);
    let err = decoder
        .decode(&case.rect, &bad, &mut canvas.view())
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidArgument, "{err}");
    assert!(err.message.contains("outside its rectangle"), "{err}");

    // Formats other than the host's are refused at creation.
    let mut odd = PixelFormat::HOST;
    odd.bits_per_pixel = 16;
    let err = decoders.create(RRE, &odd).err().expect("16-bit refused");
    assert_eq!(err.code, ErrorCode::NotSupported);
}

#[test]
fn a_backend_built_for_abi_1_0_works_without_its_newer_calls() {
    let dir = plugin_dir();
    let lib = build_c_plugin("c_backend/backend_v1_0.c", "c_legacy", &[], dir.path());
    let reg = PluginRegistry::discover_in(&[dir.path().to_path_buf()]);
    let plugin = loaded(&reg, &lib);
    assert_eq!((plugin.abi_major, plugin.abi_minor), (1, 0));
    assert!(
        plugin.decoders.is_none(),
        "a 1.0 descriptor has no decoders field"
    );
    let backend = reg
        .backend_for_uri("c-legacy:///")
        .expect("scheme registered");
    assert!(backend.info().capabilities.is_empty());

    let conn = backend.open("c-legacy:///").unwrap();
    let mut guests = conn.list_domains().unwrap();
    guests.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<(&str, DomainState)> =
        guests.iter().map(|g| (g.name.as_str(), g.state)).collect();
    assert_eq!(
        names,
        [
            ("c-guest-one", DomainState::Running),
            ("c-guest-two", DomainState::Shutoff)
        ]
    );

    let events = Arc::new(AtomicUsize::new(0));
    let counter = events.clone();
    conn.subscribe(move |ev| {
        assert!(matches!(ev, BackendEvent::DomainChanged { .. }), "{ev:?}");
        counter.fetch_add(1, Ordering::SeqCst);
    })
    .unwrap();
    assert_eq!(
        events.load(Ordering::SeqCst),
        1,
        "the C plugin's event arrived"
    );

    let uuid = &guests[0].uuid;
    let results = [
        conn.connection_info().map(drop),
        conn.domain_stats(&StatsRequest::default()).map(drop),
        conn.host_stats().map(drop),
        conn.domain_action(uuid, &virt_manager_plugin_api::DomainAction::Start),
        conn.domain_config(uuid).map(drop),
        conn.apply_domain_config(uuid, &Default::default())
            .map(drop),
        conn.define_domain(&serde_json::json!({})).map(drop),
        conn.open_console(uuid).map(drop),
        conn.send_keys(uuid, &Default::default()),
        conn.screenshot(uuid).map(drop),
        conn.list_networks().map(drop),
        conn.network_action("n", &virt_manager_plugin_api::NetworkAction::Start),
        conn.list_storage_pools().map(drop),
        conn.storage_pool_action("p", &virt_manager_plugin_api::StoragePoolAction::Refresh),
    ];
    for (i, result) in results.into_iter().enumerate() {
        let err = result.expect_err("a 1.0 plugin has no 1.1 calls");
        assert_eq!(err.code, ErrorCode::NotSupported, "call {i}: {err}");
        assert!(err.message.contains("too old"), "call {i}: {err}");
    }
    assert_eq!(conn.list_domains().unwrap().len(), 2, "still working");
    drop(conn);
    // The plugin released its sink on close: the host's callback is gone.
    assert_eq!(Arc::strong_count(&events), 1);
}

#[test]
fn the_cli_lists_the_guests_of_a_c_backend() {
    let dir = plugin_dir();
    build_c_plugin("c_backend/backend_v1_0.c", "c_legacy", &[], dir.path());
    let home = tempfile::tempdir().unwrap();
    let path = std::env::join_paths([dir.path(), &common::plugin_dir()]).unwrap();
    let out = common::app_command(home.path())
        .env("VIRT_MANAGER_PLUGIN_PATH", path)
        .args(["list", "--connect", "c-legacy:///"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("c-guest-one") && stdout.contains("running"),
        "{stdout}"
    );
    assert!(
        stdout.contains("c-guest-two") && stdout.contains("shutoff"),
        "{stdout}"
    );
}

#[test]
fn a_plugin_of_a_future_major_version_is_refused() {
    let dir = plugin_dir();
    let v1 = build_c_plugin(
        "c_backend/future_major.c",
        "future_v1_symbol",
        &["V1_SYMBOL"],
        dir.path(),
    );
    let v2 = build_c_plugin("c_backend/future_major.c", "future_v2", &[], dir.path());
    let good = build_c_plugin("c_decoder/rre.c", "c_rre", &[], dir.path());
    let reg = PluginRegistry::discover_in(&[dir.path().to_path_buf()]);
    let reason = failure(&reg, &v1);
    assert!(
        reason.contains("ABI 2.0") && reason.contains("1.x"),
        "{reason}"
    );
    let reason = failure(&reg, &v2);
    assert!(reason.contains("virt_manager_plugin_v1"), "{reason}");
    loaded(&reg, &good);
    assert!(reg.decoder_for(RRE).is_some(), "the others still load");
}

#[test]
fn the_first_plugin_on_the_path_wins_a_scheme_or_an_encoding() {
    let first = plugin_dir();
    let second = plugin_dir();
    let a_dec = build_c_plugin(
        "c_decoder/rre.c",
        "rre_a",
        &["PLUGIN_NAME=\"rre-a\""],
        first.path(),
    );
    let b_dec = build_c_plugin(
        "c_decoder/rre.c",
        "rre_b",
        &["PLUGIN_NAME=\"rre-b\""],
        second.path(),
    );
    let a_back = build_c_plugin(
        "c_backend/backend_v1_0.c",
        "legacy_a",
        &["PLUGIN_NAME=\"legacy-a\""],
        first.path(),
    );
    let b_back = build_c_plugin(
        "c_backend/backend_v1_0.c",
        "legacy_b",
        &["PLUGIN_NAME=\"legacy-b\""],
        second.path(),
    );
    let reg =
        PluginRegistry::discover_in(&[first.path().to_path_buf(), second.path().to_path_buf()]);
    for lib in [&a_dec, &b_dec, &a_back, &b_back] {
        loaded(&reg, lib);
    }
    assert_eq!(reg.decoder_for(RRE).unwrap().name(), "rre-a");
    assert_eq!(
        reg.backend_for_uri("c-legacy:///").unwrap().name(),
        "legacy-a"
    );
    assert!(record(&reg, &a_dec).notes.is_empty() && record(&reg, &a_back).notes.is_empty());
    let notes = &record(&reg, &b_dec).notes;
    assert!(
        notes
            .iter()
            .any(|n| n.contains("encoding 2 (RRE)") && n.contains("rre-a")),
        "{notes:?}"
    );
    let notes = &record(&reg, &b_back).notes;
    assert!(
        notes
            .iter()
            .any(|n| n.contains("c-legacy") && n.contains("legacy-a")),
        "{notes:?}"
    );
}

/// The host's canary check exists in debug builds (the test profile).
#[cfg(debug_assertions)]
#[test]
fn a_c_decoder_writing_outside_its_rectangle_is_caught_by_canaries() {
    const SCRIBBLE: i32 = 0x564D_4D02;
    let dir = plugin_dir();
    build_c_plugin("c_decoder/scribble.c", "scribble", &[], dir.path());
    let reg = PluginRegistry::discover_in(&[dir.path().to_path_buf()]);
    let mut decoder = reg
        .decoder_for(SCRIBBLE)
        .unwrap()
        .create(SCRIBBLE, &PixelFormat::HOST)
        .unwrap();
    let rect = Rect {
        x: 3,
        y: 2,
        width: 4,
        height: 3,
        encoding: SCRIBBLE,
    };
    let mut canvas = Canvas::new(12, 10, 0x0055_5555);
    let err = decoder
        .decode(&rect, &0x00ff_ffffu32.to_ne_bytes(), &mut canvas.view())
        .unwrap_err();
    assert!(
        err.message
            .contains("wrote outside its rectangle (2 canary pixels"),
        "{err}"
    );
    for y in 0..canvas.height {
        for x in 0..canvas.width {
            let inside = (3..7).contains(&x) && (2..5).contains(&y);
            let want = if inside { 0x00ff_ffff } else { 0x0055_5555 };
            assert_eq!(canvas.at(x, y), want, "({x},{y})");
        }
    }
}

#[test]
fn tables_shorter_than_their_first_version_are_refused() {
    let dir = plugin_dir();
    let short_desc = build_c_plugin(
        "c_backend/backend_v1_0.c",
        "short_descriptor",
        &["DESCRIPTOR_SIZE=16"],
        dir.path(),
    );
    let short_backend = build_c_plugin(
        "c_backend/backend_v1_0.c",
        "short_backend",
        &["BACKEND_TABLE_SIZE=24", "PLUGIN_SCHEME=\"c-short\""],
        dir.path(),
    );
    let short_decoders = build_c_plugin(
        "c_decoder/rre.c",
        "short_decoders",
        &["DECODER_TABLE_SIZE=16"],
        dir.path(),
    );
    let reg = PluginRegistry::discover_in(&[dir.path().to_path_buf()]);
    let reason = failure(&reg, &short_desc);
    assert!(
        reason.contains("descriptor is 16 bytes, smaller than the 40 of ABI 1.0"),
        "{reason}"
    );
    let reason = failure(&reg, &short_backend);
    assert!(
        reason.contains("backend table is 24 bytes, smaller than the 48"),
        "{reason}"
    );
    let reason = failure(&reg, &short_decoders);
    assert!(reason.contains("decoder table is 16 bytes"), "{reason}");
    assert!(reg.backend_for_uri("c-short:///").is_none());
    assert!(reg.decoder_for(RRE).is_none());
}
