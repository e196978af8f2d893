//! Shared helpers for the integration tests: the built binary and plugins,
//! and the real services the tests run against (a private D-Bus session
//! bus, Xvfb, libvirtd). Every service a helper starts is stopped by its
//! pid when the helper drops.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The application binary under test (never /usr/bin/virt-manager, which
/// is Debian's virt-manager).
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_virt-manager"))
}

/// Where the workspace's plugins are built: beside the binary.
pub fn plugin_dir() -> PathBuf {
    bin().parent().unwrap().to_path_buf()
}

pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `test://` URI for an XML file under tests/data.
pub fn test_uri(file: &str) -> String {
    format!(
        "test://{}",
        repo_dir().join("tests/data").join(file).display()
    )
}

/// A directory for screenshots and logs that outlive the test.
pub fn artifacts_dir() -> PathBuf {
    let dir = repo_dir().join("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The app's command with the built plugins on its search path and a
/// private, empty configuration.
pub fn app_command(home: &Path) -> Command {
    let mut cmd = app_command_for(&bin(), home);
    cmd.env("VIRT_MANAGER_PLUGIN_PATH", plugin_dir());
    cmd
}

/// `binary` (an installed copy, say) with a private, empty configuration
/// and no plugin path of ours: it finds everything by itself.
pub fn app_command_for(binary: &Path, home: &Path) -> Command {
    let mut cmd = Command::new(binary);
    cmd.env_remove("VIRT_MANAGER_PLUGIN_PATH")
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_RUNTIME_DIR", home.join("runtime"))
        .env("GSETTINGS_BACKEND", "keyfile")
        .env("GSK_RENDERER", "cairo")
        .env("LANG", "C.UTF-8")
        .env_remove("RUST_LOG");
    std::fs::create_dir_all(home.join("runtime")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(home.join("runtime"), std::fs::Permissions::from_mode(0o700)).unwrap();
    cmd
}

/// Fails with the package to install when a program is missing.
pub fn require(program: &str, package: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {program}"))
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        found,
        "{program} is missing: install the Debian package {package} (make test installs it)"
    );
}

/// A child process killed (and reaped) on drop.
pub struct Service {
    pub name: &'static str,
    pub child: Child,
}

impl Drop for Service {
    fn drop(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A private D-Bus session bus.
pub struct DbusSession {
    pub address: String,
    /// The runtime directory its services use (empty: inherited).
    pub runtime_dir: String,
    _service: Service,
}

impl DbusSession {
    /// A bus for a test without a display.
    pub fn start() -> Self {
        Self::start_with_env(&[])
    }

    /// A bus for the app on display `x`, with its own runtime directory.
    /// Services the bus activates (the AT-SPI bus launcher) inherit this
    /// environment: without it, two tests' launchers would share one
    /// socket path and break each other.
    pub fn start_for(x: &Xvfb, runtime_dir: &Path) -> Self {
        std::fs::create_dir_all(runtime_dir).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(runtime_dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        Self::start_with_env(&[
            ("DISPLAY", x.display.as_str()),
            ("XDG_RUNTIME_DIR", runtime_dir.to_str().unwrap()),
        ])
    }

    fn start_with_env(env: &[(&str, &str)]) -> Self {
        require("dbus-daemon", "dbus");
        let mut child = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_owned();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        let runtime_dir = env
            .iter()
            .find(|(k, _)| *k == "XDG_RUNTIME_DIR")
            .map(|(_, v)| v.to_string())
            .unwrap_or_else(|| std::env::var("XDG_RUNTIME_DIR").unwrap_or_default());
        DbusSession {
            address,
            runtime_dir,
            _service: Service {
                name: "dbus-daemon",
                child,
            },
        }
    }
}

/// An Xvfb display.
pub struct Xvfb {
    pub display: String,
    _service: Service,
}

impl Xvfb {
    pub fn start(width: u32, height: u32) -> Self {
        require("Xvfb", "xvfb");
        let (mut r, w) = os_pipe();
        let child = Command::new("Xvfb")
            .arg("-displayfd")
            .arg(w.to_string())
            .args([
                "-screen",
                "0",
                &format!("{width}x{height}x24"),
                "-nolisten",
                "tcp",
                "-noreset",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb");
        unsafe { libc::close(w) };
        // Read one line, not to EOF: a concurrently spawned child may have
        // inherited the write end too.
        let mut buf = String::new();
        BufReader::new(&mut r).read_line(&mut buf).ok();
        let n = buf.trim();
        assert!(!n.is_empty(), "Xvfb printed no display number");
        Xvfb {
            display: format!(":{n}"),
            _service: Service {
                name: "Xvfb",
                child,
            },
        }
    }

    /// Saves a screenshot of the whole screen (ImageMagick's `import`).
    pub fn screenshot(&self, path: &Path) {
        let status = Command::new("import")
            .args(["-window", "root", "-display", &self.display])
            .arg(path)
            .status()
            .expect("import (package imagemagick)");
        assert!(status.success(), "screenshot failed");
    }
}

/// A pipe whose write end a child inherits (for `-displayfd`).
fn os_pipe() -> (std::fs::File, i32) {
    use std::os::fd::FromRawFd;
    let mut fds = [0i32; 2];
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // The read end must not leak into children.
    unsafe { libc::fcntl(fds[0], libc::F_SETFD, libc::FD_CLOEXEC) };
    (unsafe { std::fs::File::from_raw_fd(fds[0]) }, fds[1])
}

/// Polls `f` until it returns Some or the timeout passes.
pub fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub const LIBVIRT_SOCKET: &str = "/var/run/libvirt/libvirt-sock";

/// Makes sure libvirtd (and virtlogd, which QEMU guests log through) runs.
/// Started daemons are left running for the other tests; `make test`
/// starts them before and stops them after the whole run.
pub fn ensure_libvirtd() {
    require("libvirtd", "libvirt-daemon-system");
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "the live libvirt tests run as root"
    );
    if Path::new(LIBVIRT_SOCKET).exists() && virsh_ok(&["-c", "qemu:///system", "version"]) {
        return;
    }
    let _ = Command::new("virtlogd").arg("-d").status();
    let _ = Command::new("libvirtd").arg("-d").status();
    let up = wait_for(Duration::from_secs(20), || {
        virsh_ok(&["-c", "qemu:///system", "version"]).then_some(())
    });
    assert!(up.is_some(), "libvirtd did not start");
}

fn virsh_ok(args: &[&str]) -> bool {
    Command::new("virsh")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Runs virsh on qemu:///system and returns stdout, panicking on failure.
pub fn virsh(args: &[&str]) -> String {
    let out = Command::new("virsh")
        .arg("-c")
        .arg("qemu:///system")
        .args(args)
        .output()
        .expect("virsh");
    assert!(
        out.status.success(),
        "virsh {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The tiny QEMU guest: no disk, boots to the SeaBIOS screen, VNC on
/// loopback. Undefined (and destroyed) on drop.
pub struct TinyGuest {
    pub name: String,
}

impl TinyGuest {
    pub fn xml(name: &str) -> String {
        format!(
            "<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
  </devices>
</domain>"
        )
    }

    /// Defines a guest named `vmm-test-<tag>-<pid>`.
    pub fn define(tag: &str) -> Self {
        ensure_libvirtd();
        let name = format!("vmm-test-{tag}-{}", std::process::id());
        let path = std::env::temp_dir().join(format!("{name}.xml"));
        std::fs::write(&path, Self::xml(&name)).unwrap();
        virsh(&["define", path.to_str().unwrap()]);
        let _ = std::fs::remove_file(&path);
        TinyGuest { name }
    }

    pub fn uuid(&self) -> String {
        virsh(&["domuuid", &self.name]).trim().to_owned()
    }
}

impl Drop for TinyGuest {
    fn drop(&mut self) {
        let _ = Command::new("virsh")
            .args(["-c", "qemu:///system", "destroy", &self.name])
            .output();
        let _ = Command::new("virsh")
            .args([
                "-c",
                "qemu:///system",
                "undefine",
                &self.name,
                "--managed-save",
            ])
            .output();
    }
}

/// The real application running under Xvfb on a private session bus with
/// a private home; stopped (with its bus and display) on drop.
pub struct RunningApp {
    pub home: tempfile::TempDir,
    pub log: PathBuf,
    // Drop order: the app first, then its bus, then the display.
    _app: Service,
    pub bus: DbusSession,
    pub x: Xvfb,
}

impl RunningApp {
    /// Starts `virt-manager ARGS` and waits until its D-Bus API answers.
    pub fn start(name: &str, args: &[&str]) -> Self {
        Self::start_with(name, args, |_| {})
    }

    /// As [`RunningApp::start`], letting the caller adjust the command.
    pub fn start_with(name: &str, args: &[&str], adjust: impl FnOnce(&mut Command)) -> Self {
        Self::start_binary(name, None, args, adjust)
    }

    /// As [`RunningApp::start_with`], running `binary` (default: the
    /// built one, with the built plugins).
    pub fn start_binary(
        name: &str,
        binary: Option<&Path>,
        args: &[&str],
        adjust: impl FnOnce(&mut Command),
    ) -> Self {
        let x = Xvfb::start(1280, 800);
        let home = tempfile::tempdir().unwrap();
        let bus = DbusSession::start_for(&x, &home.path().join("runtime"));
        let log = artifacts_dir().join(format!("{name}.log"));
        let mut cmd = match binary {
            Some(b) => app_command_for(b, home.path()),
            None => app_command(home.path()),
        };
        cmd.env("DISPLAY", &x.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
            .arg("--debug")
            .args(args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        adjust(&mut cmd);
        let child = cmd.spawn().expect("the app");
        let app = RunningApp {
            home,
            log,
            _app: Service {
                name: "virt-manager",
                child,
            },
            bus,
            x,
        };
        let up = wait_for(Duration::from_secs(30), || {
            app.gdbus_ok(&["ListConnections"]).then_some(())
        });
        assert!(
            up.is_some(),
            "the D-Bus API never answered; log: {}",
            app.log.display()
        );
        app
    }

    /// A command with this app's display, bus and home.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("DISPLAY", &self.x.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus.address)
            .env("XDG_RUNTIME_DIR", &self.bus.runtime_dir)
            .env("HOME", self.home.path())
            .env("XDG_CONFIG_HOME", self.home.path().join("config"))
            .env("XDG_DATA_HOME", self.home.path().join("data"))
            .env("GSETTINGS_BACKEND", "keyfile");
        cmd
    }

    /// Runs `gdbus call` on the API; returns (success, stdout+stderr).
    pub fn gdbus(&self, method_and_args: &[&str]) -> (bool, String) {
        let method = format!("org.virt_manager.VirtManager1.{}", method_and_args[0]);
        let out = self
            .command("gdbus")
            .args([
                "call",
                "--session",
                "--timeout",
                "120",
                "--dest",
                "org.virt_manager.VirtManager1",
            ])
            .args([
                "--object-path",
                "/org/virt_manager/VirtManager1",
                "--method",
                &method,
            ])
            .args(&method_and_args[1..])
            .output()
            .expect("gdbus (package libglib2.0-bin)");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    pub fn gdbus_ok(&self, method_and_args: &[&str]) -> bool {
        self.gdbus(method_and_args).0
    }

    /// Acts on an accessible of the app (tests/ui/atspi_do.py).
    pub fn atspi(&self, role: &str, name: &str, action: &str, timeout_s: u32) -> bool {
        self.command("/usr/bin/python3")
            .arg(repo_dir().join("tests/ui/atspi_do.py"))
            .args(["virt-manager", role, name, action, &timeout_s.to_string()])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// Screen extents (x, y, width, height) of an accessible.
    pub fn extents(&self, role: &str, name: &str) -> Option<(i32, i32, i32, i32)> {
        let out = self
            .command("/usr/bin/python3")
            .arg(repo_dir().join("tests/ui/atspi_do.py"))
            .args(["virt-manager", role, name, "extents", "20"])
            .output()
            .ok()?;
        let v: Vec<i32> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect();
        (v.len() == 4).then(|| (v[0], v[1], v[2], v[3]))
    }

    /// Clicks an accessible with the X pointer (for widgets without an
    /// AT-SPI action).
    pub fn click_at(&self, role: &str, name: &str) -> bool {
        let out = self
            .command("/usr/bin/python3")
            .arg(repo_dir().join("tests/ui/atspi_do.py"))
            .args(["virt-manager", role, name, "center", "10"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let mut xy = text.split_whitespace();
        let (Some(x), Some(y)) = (xy.next(), xy.next()) else {
            return false;
        };
        self.command("xdotool")
            .args(["mousemove", x, y, "click", "1"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// The accessible tree as (role, name) pairs.
    pub fn tree(&self) -> Vec<(String, String)> {
        let out = self
            .command("/usr/bin/python3")
            .arg(repo_dir().join("tests/ui/atspi_dump.py"))
            .args(["virt-manager", "30"])
            .output()
            .expect("python3-pyatspi");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| {
                (
                    v["role"].as_str().unwrap_or("").to_owned(),
                    v["name"].as_str().unwrap_or("").to_owned(),
                )
            })
            .collect()
    }

    /// The URI of the first connection, as ListConnections reports it,
    /// once it is active (its guests listed).
    pub fn first_uri(&self) -> String {
        let found = wait_for(Duration::from_secs(30), || {
            let (_, text) = self.gdbus(&["ListConnections"]);
            text.contains("'active'")
                .then(|| text.split('\'').nth(1).unwrap_or_default().to_owned())
        });
        found.unwrap_or_else(|| panic!("no active connection; log: {}", self.log.display()))
    }
}
