//! `virt-manager capture` against real X VNC servers, checked against the
//! X screen itself: a known picture is painted on the root window of
//! TigerVNC's Xvnc, `import -window root` is the truth, and a capture
//! with each encoding forced must match it pixel for pixel (lossless
//! encodings) or within a stated PSNR (JPEG). The same through x11vnc
//! serving that display, which speaks Zlib too. (Debian's libvncserver
//! has no TightPNG: that one is checked against QEMU, tests/vnc_qemu.rs.)

mod common;
mod vnc_support;

use std::path::{Path, PathBuf};

use vnc_support::xservers::{make_test_picture, X11vnc, Xvnc};
use vnc_support::{capture_ok, differing_pixels, psnr, rect_count, scratch_dir};

const WIDTH: u32 = 640;
const HEIGHT: u32 = 480;
/// Tight JPEG at quality 8 must stay at least this close (dB).
const MIN_JPEG_PSNR: f64 = 35.0;
/// ... and at quality 2.
const MIN_JPEG_PSNR_LOW: f64 = 22.0;

/// Xvnc showing the test picture, and the screenshot of it.
fn painted_xvnc(dir: &Path) -> (Xvnc, PathBuf) {
    let x = Xvnc::start_open(WIDTH, HEIGHT);
    let picture = dir.join("picture.png");
    make_test_picture(&picture, WIDTH, HEIGHT);
    x.show_on_root(&picture);
    let truth = dir.join("truth.png");
    x.screenshot(&truth);
    assert_eq!(
        differing_pixels(&picture, &truth),
        0,
        "the X screen does not show the test picture"
    );
    (x, truth)
}

/// Captures `url` once per encoding and compares each with `truth`;
/// returns the failures (none when all are pixel-exact and the server
/// really used the encoding).
fn check_lossless(
    dir: &Path,
    label: &str,
    url: &str,
    truth: &Path,
    encodings: &[&str],
) -> Vec<String> {
    let home = dir.join("home");
    let mut failures = Vec::new();
    for enc in encodings {
        let out = dir.join(format!("{label}-{enc}.png"));
        let stdout = capture_ok(&home, &[url, out.to_str().unwrap(), "--encodings", enc]);
        let used = rect_count(&stdout, enc);
        let diff = differing_pixels(truth, &out);
        eprintln!("{label} {enc}: {used} rectangles, {diff} pixels differ");
        if used == 0 {
            failures.push(format!(
                "{label} {enc}: the server sent no {enc} rectangle ({stdout})"
            ));
        }
        if diff != 0 {
            failures.push(format!(
                "{label} {enc}: {diff} pixels differ from the X screen"
            ));
        }
    }
    failures
}

#[test]
fn xvnc_lossless_encodings_are_pixel_exact() {
    let dir = scratch_dir("xvnc-lossless");
    let (x, truth) = painted_xvnc(&dir);
    // TigerVNC encodes Raw, RRE, Hextile, Tight and ZRLE (no Zlib or TightPNG).
    let failures = check_lossless(
        &dir,
        "xvnc",
        &x.url(),
        &truth,
        &["raw", "rre", "hextile", "tight", "zrle"],
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn x11vnc_lossless_encodings_are_pixel_exact() {
    let dir = scratch_dir("x11vnc-lossless");
    let (x, truth) = painted_xvnc(&dir);
    let server = X11vnc::start(&x.display);
    let failures = check_lossless(
        &dir,
        "x11vnc",
        &server.url(),
        &truth,
        &["raw", "rre", "hextile", "zlib", "tight", "zrle"],
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn tight_jpeg_stays_within_the_stated_psnr() {
    let dir = scratch_dir("tight-jpeg");
    let (x, truth) = painted_xvnc(&dir);
    let server = X11vnc::start(&x.display);
    let home = dir.join("home");
    let mut failures = Vec::new();
    for (label, url, quality, min_db) in [
        ("xvnc", x.url(), "8", MIN_JPEG_PSNR),
        ("x11vnc", server.url(), "8", MIN_JPEG_PSNR),
        ("xvnc", x.url(), "2", MIN_JPEG_PSNR_LOW),
    ] {
        let out = dir.join(format!("{label}-tight-q{quality}.png"));
        let stdout = capture_ok(
            &home,
            &[
                &url,
                out.to_str().unwrap(),
                "--encodings",
                "tight",
                "--quality",
                quality,
            ],
        );
        let used = rect_count(&stdout, "tight");
        let db = psnr(&truth, &out);
        let diff = differing_pixels(&truth, &out);
        eprintln!("{label} tight quality {quality}: {used} rectangles, PSNR {db:.2} dB, {diff} pixels differ");
        // Lossy somewhere (JPEG was used), and close enough everywhere.
        if used == 0 || diff == 0 || db < min_db {
            failures.push(format!(
                "{label} tight quality {quality}: PSNR {db:.2} dB, {diff} pixels differ"
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn without_quality_tight_stays_lossless_even_when_jpeg_is_possible() {
    let dir = scratch_dir("tight-lossless");
    let (x, truth) = painted_xvnc(&dir);
    let home = dir.join("home");
    let out = dir.join("tight.png");
    capture_ok(
        &home,
        &[
            &x.url(),
            out.to_str().unwrap(),
            "--encodings",
            "tight",
            "--compress",
            "9",
        ],
    );
    assert_eq!(differing_pixels(&truth, &out), 0);
}
