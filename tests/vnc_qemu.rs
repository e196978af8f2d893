//! `capture` of a live QEMU guest (libvirtd, the tiny guest that boots to
//! the SeaBIOS screen), compared with `virsh screenshot` of it: over
//! QEMU's VNC port with each encoding QEMU offers forced, and through the
//! backend's console endpoint (`--connect URI --domain NAME`, libvirt's
//! open-graphics-fd: a connected socket, no port).
//!
//! The text cursor blinks, so a capture counts only when the screenshots
//! just before and after it agree with each other and with it; it is
//! retried until they do.

mod common;
mod vnc_support;

use std::path::Path;

use common::{virsh, TinyGuest};
use vnc_support::{capture_ok, differing_pixels, rect_count, scratch_dir};

/// Captures `target` (None: the `extra` options name it) until a capture
/// agrees with the screenshots around it; returns capture's output.
/// Panics after `tries`.
fn capture_steady(
    dir: &Path,
    guest: &str,
    label: &str,
    target: Option<&str>,
    extra: &[&str],
    tries: usize,
) -> String {
    let home = dir.join("home");
    let out = dir.join(format!("{label}.png"));
    let before = dir.join(format!("{label}-before.ppm"));
    let after = dir.join(format!("{label}-after.ppm"));
    let mut args: Vec<&str> = target.into_iter().collect();
    args.push(out.to_str().unwrap());
    args.extend_from_slice(extra);
    let mut last = String::new();
    for _ in 0..tries {
        virsh(&["screenshot", guest, before.to_str().unwrap()]);
        let stdout = capture_ok(&home, &args);
        virsh(&["screenshot", guest, after.to_str().unwrap()]);
        let steady = differing_pixels(&before, &after) == 0;
        let diff = differing_pixels(&before, &out);
        if steady && diff == 0 {
            return stdout;
        }
        last = format!("steady screen: {steady}, {diff} pixels differ");
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    panic!("{label}: no capture matched the guest's screen after {tries} tries ({last})");
}

#[test]
fn qemu_console_is_pixel_exact_with_every_encoding() {
    let guest = TinyGuest::define("vnc");
    virsh(&["start", &guest.name]);
    let dir = scratch_dir("qemu");

    // "127.0.0.1:N" is display N, port 5900 + N.
    let display = virsh(&["vncdisplay", &guest.name]);
    let n: u16 = display
        .trim()
        .rsplit(':')
        .next()
        .and_then(|d| d.parse().ok())
        .expect("vncdisplay");
    let url = format!("vnc://127.0.0.1:{}", 5900 + n);

    // Wait for SeaBIOS to settle on its last screen.
    capture_steady(
        &dir,
        &guest.name,
        "settle",
        Some(&url),
        &["--encodings", "raw"],
        40,
    );

    let mut report = Vec::new();
    for enc in ["raw", "hextile", "zlib", "zrle", "tight", "tightpng"] {
        let stdout = capture_steady(
            &dir,
            &guest.name,
            enc,
            Some(&url),
            &["--encodings", enc],
            15,
        );
        let used = rect_count(&stdout, enc);
        report.push(format!("{enc}: {used} rectangles, pixel-exact"));
        assert!(used > 0, "QEMU sent no {enc} rectangle: {stdout}");
    }
    eprintln!("{}", report.join("\n"));

    // Through libvirt's console endpoint: no port, a socket from libvirtd.
    let stdout = capture_steady(
        &dir,
        &guest.name,
        "backend",
        None,
        &[
            "--connect",
            "qemu:///system",
            "--domain",
            &guest.name,
            "--encodings",
            "zrle",
        ],
        15,
    );
    assert!(
        stdout.contains(&format!("from “QEMU ({})”", guest.name)),
        "{stdout}"
    );
}
