//! Real VNC servers on X: TigerVNC's Xvnc (an X server that is a VNC
//! server) and x11vnc (serving an existing X display), each on a free
//! display and loopback port, stopped by pid when dropped; and the known
//! picture the pixel tests paint on the root window.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{free_port, inheritable_pipe, wait_for_port};
use crate::common::{artifacts_dir, require, Service};

/// A TigerVNC Xvnc server: display `display`, VNC on 127.0.0.1:`port`.
pub struct Xvnc {
    pub display: String,
    pub port: u16,
    pub log: PathBuf,
    _service: Service,
}

impl Xvnc {
    /// Starts Xvnc with `width` x `height` at depth 24 and these security
    /// options (e.g. `["-SecurityTypes", "None"]`).
    pub fn start(width: u32, height: u32, security: &[&str]) -> Xvnc {
        require("Xvnc", "tigervnc-standalone-server");
        let mut last_log = PathBuf::new();
        // A port picked free may be taken before Xvnc binds it: retry.
        for _ in 0..5 {
            let port = free_port();
            let log = artifacts_dir().join(format!("xvnc-{}-{port}.log", std::process::id()));
            let (mut r, w) = inheritable_pipe();
            let child = Command::new("Xvnc")
                .arg("-displayfd")
                .arg(w.to_string())
                .args(["-geometry", &format!("{width}x{height}"), "-depth", "24"])
                .args([
                    "-rfbport",
                    &port.to_string(),
                    "-localhost",
                    "-nolisten",
                    "tcp",
                ])
                .args(["-AlwaysShared", "-noreset"])
                .args(security)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .expect("Xvnc");
            unsafe { libc::close(w) };
            let service = Service {
                name: "Xvnc",
                child,
            };
            let mut line = String::new();
            BufReader::new(&mut r).read_line(&mut line).ok();
            let n = line.trim().to_owned();
            if !n.is_empty() && wait_for_port(port, Duration::from_secs(10)) {
                return Xvnc {
                    display: format!(":{n}"),
                    port,
                    log,
                    _service: service,
                };
            }
            last_log = log;
        }
        panic!(
            "Xvnc did not start; its log: {}",
            std::fs::read_to_string(&last_log).unwrap_or_default()
        );
    }

    /// Xvnc with no security at all.
    pub fn start_open(width: u32, height: u32) -> Xvnc {
        Self::start(width, height, &["-SecurityTypes", "None"])
    }

    pub fn url(&self) -> String {
        format!("vnc://127.0.0.1:{}", self.port)
    }

    /// Runs an X client on this display and waits for it.
    pub fn run(&self, program: &str, args: &[&str]) -> std::process::Output {
        Command::new(program)
            .args(args)
            .env("DISPLAY", &self.display)
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"))
    }

    /// Starts a long-running X client on this display.
    pub fn spawn(&self, name: &'static str, program: &str, args: &[&str]) -> Service {
        let child = Command::new(program)
            .args(args)
            .env("DISPLAY", &self.display)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e}"));
        Service { name, child }
    }

    /// The screen as X itself has it (`import -window root`): the truth
    /// captures are compared with.
    pub fn screenshot(&self, path: &Path) {
        let out = self.run("import", &["-window", "root", path.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "import failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Paints `picture` on the root window.
    pub fn show_on_root(&self, picture: &Path) {
        require("display", "imagemagick");
        // display exits 1 after setting the root background even when it
        // worked: callers check the screen instead.
        let out = self.run("display", &["-window", "root", picture.to_str().unwrap()]);
        assert!(
            out.stderr.is_empty(),
            "display failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// x11vnc serving an X display on 127.0.0.1:`port`, without drawing the
/// pointer into the picture.
pub struct X11vnc {
    pub port: u16,
    _service: Service,
}

impl X11vnc {
    pub fn start(display: &str) -> X11vnc {
        require("x11vnc", "x11vnc");
        for _ in 0..5 {
            let port = free_port();
            let log = artifacts_dir().join(format!("x11vnc-{}-{port}.log", std::process::id()));
            let child = Command::new("x11vnc")
                .args([
                    "-display",
                    display,
                    "-rfbport",
                    &port.to_string(),
                    "-localhost",
                ])
                .args(["-nocursor", "-shared", "-forever", "-nopw", "-norc"])
                .args([
                    "-noxdamage",
                    "-noxfixes",
                    "-noxrecord",
                    "-nowf",
                    "-noscr",
                    "-nosel",
                ])
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .expect("x11vnc");
            let service = Service {
                name: "x11vnc",
                child,
            };
            if wait_for_port(port, Duration::from_secs(15)) {
                return X11vnc {
                    port,
                    _service: service,
                };
            }
        }
        panic!("x11vnc did not start");
    }

    pub fn url(&self) -> String {
        format!("vnc://127.0.0.1:{}", self.port)
    }
}

/// Makes the known test picture with ImageMagick: gradients, solid
/// blocks, a coarse and a one-pixel checkerboard, a noisy patch and thin
/// lines, in 8-bit RGB.
pub fn make_test_picture(path: &Path, width: u32, height: u32) {
    require("convert", "imagemagick");
    let (w4, h4) = (width / 4, height / 4);
    let at = |x: u32, y: u32| format!("+{x}+{y}");
    let mut args: Vec<String> = vec![
        "-seed".into(),
        "7".into(),
        "-size".into(),
        format!("{width}x{height}"),
        "xc:black".into(),
    ];
    let mut layer = |spec: Vec<String>, x: u32, y: u32| {
        args.push("(".into());
        args.extend(spec);
        args.extend([
            ")".into(),
            "-geometry".into(),
            at(x, y),
            "-composite".into(),
        ]);
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    layer(
        s(&[
            "-size",
            &format!("{width}x{h4}"),
            "gradient:red-blue",
            "-rotate",
            "0",
        ]),
        0,
        0,
    );
    layer(s(&["-size", &format!("{w4}x{h4}"), "xc:#00ff00"]), 0, h4);
    layer(s(&["-size", &format!("{w4}x{h4}"), "xc:#ffd700"]), w4, h4);
    layer(
        s(&["-size", &format!("{w4}x{h4}"), "pattern:checkerboard"]),
        2 * w4,
        h4,
    );
    layer(
        s(&["-size", &format!("{w4}x{h4}"), "pattern:gray50"]),
        3 * w4,
        h4,
    );
    layer(
        s(&[
            "-size",
            &format!("{}x{h4}", 2 * w4),
            "xc:gray",
            "+noise",
            "Random",
        ]),
        0,
        2 * h4,
    );
    layer(
        s(&[
            "-size",
            &format!("{h4}x{}", 2 * w4),
            "gradient:yellow-navy",
            "-rotate",
            "90",
        ]),
        2 * w4,
        2 * h4,
    );
    layer(
        s(&[
            "-size",
            &format!("{width}x{h4}"),
            "pattern:hs_cross",
            "-fill",
            "#c03060",
            "-opaque",
            "black",
        ]),
        0,
        3 * h4,
    );
    args.extend(s(&["-depth", "8", "-type", "TrueColor"]));
    args.push(format!("PNG24:{}", path.display()));
    let out = Command::new("convert")
        .args(&args)
        .output()
        .expect("convert");
    assert!(
        out.status.success(),
        "convert {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
