//! Hostile servers: a scripted server on loopback sends what no honest
//! server would (truncated messages, rectangles outside the framebuffer,
//! impossible sizes, broken zlib, palette indices out of range, a JPEG
//! that does not decode, an endless stream of tiny updates). Each must
//! give one clear error line or stay bounded: no panic, no hang, no
//! memory growth. `capture` runs as the real binary with a timeout.

mod common;
mod vnc_support;

use std::io::Write;
use std::time::{Duration, Instant};

use vnc_support::hostile::{flood_tiny_updates, raw_rect, rect, update, zlib, ScriptedServer};
use vnc_support::{capture, capture_err, capture_ok, peak_rss_kib, scratch_dir};

const RAW: i32 = 0;
const ZLIB: i32 = 6;
const TIGHT: i32 = 7;
const ZRLE: i32 = 16;
const DESKTOP_SIZE: i32 = -223;
const CURSOR: i32 = -239;
const DESKTOP_NAME: i32 = -307;

/// Serves a 64x48 screen, sends `bytes` after the handshake, then closes.
fn serve(bytes: Vec<u8>) -> ScriptedServer {
    ScriptedServer::after_handshake(64, 48, move |s| {
        let _ = s.write_all(&bytes);
        std::thread::sleep(Duration::from_millis(200));
    })
}

/// A capture that must fail with `expected` in its one line.
fn expect_error(name: &str, server: &ScriptedServer, extra: &[&str], expected: &str) {
    let dir = scratch_dir(&format!("hostile-{name}"));
    let out = dir.join("out.png");
    let mut args = vec![server.url(), out.to_str().unwrap().to_owned()];
    if !extra.contains(&"--timeout") {
        args.extend(["--timeout".to_owned(), "10".to_owned()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let line = capture_err(&dir.join("home"), &args);
    assert!(
        line.contains(expected),
        "{name}: expected “{expected}” in: {line}"
    );
    assert!(!out.exists(), "{name}: a picture was written");
}

fn full_frame() -> Vec<u8> {
    update(&[raw_rect(0, 0, 64, 48, 0x00336699)])
}

#[test]
fn truncated_messages() {
    // A Raw rectangle that stops half way.
    let mut cut = update(&[rect(0, 0, 64, 48, RAW)]);
    cut.extend(vec![7u8; 1000]);
    expect_error(
        "truncated-raw",
        &serve(cut),
        &[],
        "closed the connection in the middle of a message",
    );
    // An update header without its rectangles.
    expect_error(
        "truncated-header",
        &serve(vec![0, 0, 0, 5, 0, 0]),
        &[],
        "in the middle of a message",
    );
    // A cut text message promising more than it sends.
    let mut text = vec![3, 0, 0, 0, 0, 0, 1, 0];
    text.extend(b"short");
    expect_error(
        "truncated-cut-text",
        &serve(text),
        &["--until-closed"],
        "in the middle of a message",
    );
    // Closing cleanly before any full frame is an error for a capture.
    expect_error(
        "no-frame",
        &serve(Vec::new()),
        &[],
        "closed the connection before sending a full frame",
    );
}

#[test]
fn rectangles_outside_the_framebuffer() {
    expect_error(
        "outside",
        &serve(update(&[raw_rect(60, 40, 10, 10, 0)])),
        &[],
        "a raw rectangle at 60,40 of 10x10 lies outside the 64x48 framebuffer",
    );
    // Outside after wrapping around 16 bits is still outside.
    expect_error(
        "wrapping",
        &serve(update(&[rect(65535, 0, 2, 1, RAW)])),
        &[],
        "lies outside",
    );
}

#[test]
fn impossible_sizes() {
    // A framebuffer larger than any screen.
    let server = ScriptedServer::start(|mut s| {
        use std::io::Read;
        let _ = s.write_all(b"RFB 003.008\n");
        let _ = s.read_exact(&mut [0u8; 12]);
        let _ = s.write_all(&[1, 1]);
        let _ = s.read_exact(&mut [0u8; 1]);
        let _ = s.write_all(&0u32.to_be_bytes());
        let _ = s.read_exact(&mut [0u8; 1]);
        let _ = s.write_all(&vnc_support::hostile::server_init(65535, 65535, b"huge"));
        std::thread::sleep(Duration::from_millis(200));
    });
    expect_error(
        "huge-init",
        &server,
        &[],
        "a 65535x65535 framebuffer is larger than 16384x16384",
    );
    expect_error(
        "huge-resize",
        &serve(update(&[rect(0, 0, 20000, 20000, DESKTOP_SIZE)])),
        &[],
        "a 20000x20000 framebuffer is larger",
    );
    let mut name = update(&[rect(0, 0, 0, 0, DESKTOP_NAME)]);
    name.extend(u32::MAX.to_be_bytes());
    expect_error(
        "huge-name",
        &serve(name),
        &[],
        "a desktop name of 4294967295 bytes",
    );
    expect_error(
        "huge-cursor",
        &serve(update(&[rect(0, 0, 5000, 5000, CURSOR)])),
        &[],
        "a 5000x5000 pointer image",
    );
    // A 2 GiB cut text is skipped without being kept, then the stream
    // ends: the skip must not have buffered it. The same in Extended
    // Clipboard form (a negative length).
    for (name, len) in [
        ("huge-cut-text", 0x7FFF_FFF0u32),
        ("huge-extended-cut-text", 0x8000_0000),
    ] {
        let mut text = vec![3, 0, 0, 0];
        text.extend(len.to_be_bytes());
        text.extend(vec![b'a'; 1 << 20]);
        expect_error(
            name,
            &serve(text),
            &["--until-closed"],
            "in the middle of a message",
        );
    }
}

#[test]
fn oversized_clipboard_is_skipped_and_the_session_goes_on() {
    // 32 MiB of cut text, and a zlib bomb in Extended Clipboard form (a
    // provide of 200 MiB that compresses to a few hundred KiB): both are
    // dropped, and the frame after them still arrives.
    let server = ScriptedServer::after_handshake(64, 48, |s| {
        let mut text = vec![3, 0, 0, 0];
        text.extend((32u32 << 20).to_be_bytes());
        let _ = s.write_all(&text);
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..32 {
            let _ = s.write_all(&chunk);
        }
        let mut inner = (200u32 << 20).to_be_bytes().to_vec();
        inner.extend(vec![b'y'; 200 << 20]);
        // Extended Clipboard: provide (bit 28) of text (bit 0).
        let mut payload = (1u32 << 28 | 1).to_be_bytes().to_vec();
        payload.extend(zlib(&inner));
        let mut m = vec![3, 0, 0, 0];
        m.extend((-(payload.len() as i32)).to_be_bytes());
        m.extend(payload);
        let _ = s.write_all(&m);
        let _ = s.write_all(&full_frame());
        std::thread::sleep(Duration::from_millis(500));
    });
    let dir = scratch_dir("hostile-clipboard");
    let out = dir.join("out.png");
    capture_ok(
        &dir.join("home"),
        &[&server.url(), out.to_str().unwrap(), "--timeout", "20"],
    );
}

#[test]
fn broken_compressed_data() {
    // Zlib: a length, then bytes that are not a zlib stream.
    let mut bad_zlib = update(&[rect(0, 0, 8, 8, ZLIB)]);
    bad_zlib.extend(12u32.to_be_bytes());
    bad_zlib.extend(b"not zlib at all");
    expect_error(
        "bad-zlib",
        &serve(bad_zlib),
        &["--encodings", "zlib"],
        "zlib decoding failed",
    );

    // ZRLE: a palette-RLE tile with two colours, and index 5.
    let mut tile = vec![130u8];
    tile.extend([0, 0, 255, 255, 0, 0]);
    tile.extend([5u8; 64]);
    let data = zlib(&tile);
    let mut bad_palette = update(&[rect(0, 0, 8, 8, ZRLE)]);
    bad_palette.extend((data.len() as u32).to_be_bytes());
    bad_palette.extend(data);
    expect_error(
        "bad-palette",
        &serve(bad_palette),
        &["--encodings", "zrle"],
        "zrle decoding failed",
    );

    // Tight JPEG with bytes that are no JPEG.
    let junk = b"definitely not a JPEG image";
    let mut bad_jpeg = update(&[rect(0, 0, 8, 8, TIGHT)]);
    bad_jpeg.push(0x90);
    bad_jpeg.push(junk.len() as u8);
    bad_jpeg.extend(junk);
    expect_error(
        "bad-jpeg",
        &serve(bad_jpeg),
        &["--encodings", "tight", "--quality", "5"],
        "tight decoding failed",
    );

    // ZRLE whose length field claims 4 GiB: refused or streamed, never
    // buffered whole; the server closes after a little.
    let mut huge = update(&[rect(0, 0, 8, 8, ZRLE)]);
    huge.extend(u32::MAX.to_be_bytes());
    huge.extend(vec![0u8; 4096]);
    let dir = scratch_dir("hostile-huge-zrle");
    let out = capture(
        &dir.join("home"),
        &[
            &serve(huge).url(),
            dir.join("o.png").to_str().unwrap(),
            "--encodings",
            "zrle",
            "--timeout",
            "10",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn unknown_messages_are_errors() {
    expect_error(
        "unknown-type",
        &serve(vec![77, 1, 2, 3]),
        &[],
        "unknown server message type 77",
    );
    expect_error(
        "unasked-pseudo",
        &serve(update(&[rect(0, 0, 0, 0, -999)])),
        &[],
        "a pseudo-rectangle (encoding -999) that was not asked for",
    );
    expect_error(
        "no-decoder",
        &serve(update(&[rect(0, 0, 4, 4, 21)])),
        &[],
        "the server sent encoding 21 rectangles, and no loaded decoder plugin handles them",
    );
}

/// Peak memory of a capture that runs `--until-closed` against a server
/// sending tiny updates for `seconds`; returns (updates decoded, KiB).
fn flood(seconds: u64) -> (u64, u64) {
    let server = ScriptedServer::after_handshake(64, 48, move |s| {
        let _ = s.write_all(&full_frame());
        flood_tiny_updates(s, 64, 48, Duration::from_secs(seconds));
    });
    let dir = scratch_dir(&format!("hostile-flood-{seconds}"));
    let mut cmd = common::app_command(&dir.join("home"));
    cmd.args([
        "capture",
        &server.url(),
        dir.join("o.png").to_str().unwrap(),
        "--until-closed",
    ])
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let pid = child.id();
    let mut peak = 0;
    let deadline = Instant::now() + Duration::from_secs(seconds + 60);
    while child.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "capture did not end after the server closed"
        );
        peak = peak.max(peak_rss_kib(pid).unwrap_or(0));
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    let updates = stdout
        .lines()
        .find_map(|l| {
            l.split(" updates,")
                .next()
                .and_then(|n| n.trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    (updates, peak)
}

#[test]
fn an_endless_stream_of_tiny_updates_is_bounded() {
    let (short_updates, short_peak) = flood(1);
    let (long_updates, long_peak) = flood(6);
    eprintln!("1 s: {short_updates} updates, peak {short_peak} KiB; 6 s: {long_updates} updates, peak {long_peak} KiB");
    assert!(
        long_updates > 2 * short_updates.max(1000),
        "the flood was too slow to mean anything"
    );
    // Several times the updates, about the same memory.
    assert!(
        long_peak < short_peak + 16 * 1024,
        "memory grew with the number of updates: {short_peak} KiB -> {long_peak} KiB"
    );
}

#[test]
fn a_server_that_never_finishes_a_frame_times_out() {
    let server = ScriptedServer::after_handshake(64, 48, |s| {
        // Only ever the same pixel, for longer than the client waits.
        let deadline = Instant::now() + Duration::from_secs(8);
        while Instant::now() < deadline {
            if s.write_all(&update(&[raw_rect(0, 0, 1, 1, 1)])).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    expect_error(
        "never-full",
        &server,
        &["--timeout", "2"],
        "timed out waiting for a full frame",
    );
}
