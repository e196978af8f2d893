//! Shared helpers for the VNC tests: running `capture`, comparing
//! pictures with ImageMagick, and (in submodules) the real servers the
//! tests use: TigerVNC's Xvnc, x11vnc, and a scripted hostile server.
//!
//! Include it beside tests/common: `mod common; mod vnc_support;`.

#![allow(dead_code)]

pub mod certs;
pub mod hostile;
pub mod live;
pub mod xservers;

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits until something accepts connections on the loopback `port`.
pub fn wait_for_port(port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A pipe whose write end a child inherits (for `-displayfd`); the read
/// end is close-on-exec.
pub fn inheritable_pipe() -> (std::fs::File, i32) {
    use std::os::fd::FromRawFd;
    let mut fds = [0i32; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    unsafe { libc::fcntl(fds[0], libc::F_SETFD, libc::FD_CLOEXEC) };
    (unsafe { std::fs::File::from_raw_fd(fds[0]) }, fds[1])
}

/// A scratch directory for one test, under target/ so failures can be
/// looked at.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = crate::common::artifacts_dir().join("vnc").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `cmd`, killing it (and failing the test) after `timeout`.
pub fn run_with_timeout(mut cmd: Command, timeout: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: out_thread.join().unwrap(),
        stderr: err_thread.join().unwrap(),
    }
}

/// Runs `virt-manager capture ARGS` with the built plugins.
pub fn capture(home: &Path, args: &[&str]) -> Output {
    let mut cmd = crate::common::app_command(home);
    cmd.arg("capture").args(args);
    run_with_timeout(cmd, Duration::from_secs(90))
}

/// Like [`capture`], but fails the test unless it succeeded; returns
/// its standard output.
pub fn capture_ok(home: &Path, args: &[&str]) -> String {
    let out = capture(home, args);
    assert!(
        out.status.success(),
        "capture {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Like [`capture`], but expects failure: exit status 1, one line on
/// standard error, no panic. Returns that line.
pub fn capture_err(home: &Path, args: &[&str]) -> String {
    let out = capture(home, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "capture {args:?} should fail: {stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "capture {args:?} panicked: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one error line, got: {stderr}");
    assert!(lines[0].starts_with("virt-manager: "), "{stderr}");
    eprintln!("capture {args:?}: {}", lines[0]);
    lines[0].to_owned()
}

/// The count of rectangles of `encoding` in capture's statistics line
/// ("... rectangles: hextile 12, raw 1").
pub fn rect_count(capture_stdout: &str, encoding: &str) -> u64 {
    let line = capture_stdout
        .lines()
        .find(|l| l.contains("rectangles:"))
        .unwrap_or("");
    let list = line.split("rectangles:").nth(1).unwrap_or("");
    list.split(',')
        .filter_map(|item| item.trim().rsplit_once(' '))
        .find(|(name, _)| *name == encoding)
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
}

fn compare_metric(metric: &str, a: &Path, b: &Path) -> String {
    crate::common::require("compare", "imagemagick");
    let out = Command::new("compare")
        .args(["-metric", metric])
        .arg(a)
        .arg(b)
        .arg("null:")
        .output()
        .expect("compare");
    // 0: same, 1: different, 2: error (e.g. sizes differ).
    assert!(
        out.status.code() != Some(2),
        "compare {} {} failed: {}",
        a.display(),
        b.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).trim().to_owned()
}

/// Pixels that differ between two pictures (ImageMagick `compare -metric AE`).
pub fn differing_pixels(a: &Path, b: &Path) -> u64 {
    let text = compare_metric("AE", a, b);
    text.split_whitespace()
        .next()
        .and_then(|n| n.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("compare printed {text:?}")) as u64
}

/// Peak signal-to-noise ratio in dB (infinite for identical pictures).
pub fn psnr(a: &Path, b: &Path) -> f64 {
    let text = compare_metric("PSNR", a, b);
    let first = text.split_whitespace().next().unwrap_or("");
    if first == "inf" {
        return f64::INFINITY;
    }
    first
        .parse()
        .unwrap_or_else(|_| panic!("compare printed {text:?}"))
}

/// Peak resident memory of a process so far, in KiB (VmHWM).
pub fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
