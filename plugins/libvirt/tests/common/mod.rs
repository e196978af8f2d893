//! Helpers for the plugin's integration tests: test-driver hosts from
//! tests/data, and the live libvirtd with a tiny QEMU guest (after the
//! application's tests/common, which this crate cannot use).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use virt_manager_libvirt::{LibvirtBackend, LibvirtConnection};
use virt_manager_plugin_api::{Backend, BackendConnection, DomainInfo};

pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// A private test-driver instance for a file under tests/data (each open
/// of a file URI gets its own, so tests do not see each other).
pub fn open_test_host(file: &str) -> LibvirtConnection {
    let uri = format!("test://{}", data_dir().join(file).display());
    LibvirtBackend::open(&uri).unwrap_or_else(|e| panic!("opening {uri}: {e}"))
}

/// The application's own test data (tests/data of the workspace).
pub fn open_repo_host(file: &str) -> LibvirtConnection {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data")
        .join(file);
    LibvirtBackend::open(&format!("test://{}", path.display())).unwrap()
}

pub fn by_name(conn: &LibvirtConnection, name: &str) -> DomainInfo {
    conn.list_domains()
        .unwrap()
        .into_iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("no guest {name}"))
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

// ---- the live hypervisor ----

pub const SYSTEM: &str = "qemu:///system";

fn virsh_ok(args: &[&str]) -> bool {
    Command::new("virsh")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Makes sure libvirtd and virtlogd run (left running for other tests).
pub fn ensure_libvirtd() {
    let found = Command::new("sh")
        .args(["-c", "command -v libvirtd && command -v virsh"])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "libvirtd is missing: install libvirt-daemon-system and qemu-system-x86"
    );
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "the live libvirt tests run as root"
    );
    if virsh_ok(&["-c", SYSTEM, "version"]) {
        return;
    }
    let _ = Command::new("virtlogd").arg("-d").status();
    let _ = Command::new("libvirtd").arg("-d").status();
    let up = wait_for(Duration::from_secs(20), || {
        virsh_ok(&["-c", SYSTEM, "version"]).then_some(())
    });
    assert!(up.is_some(), "libvirtd did not start");
}

/// virsh on qemu:///system; panics with its stderr on failure.
pub fn virsh(args: &[&str]) -> String {
    let out = Command::new("virsh")
        .arg("-c")
        .arg(SYSTEM)
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

/// `virsh domstate NAME`, trimmed ("running", "paused", "shut off").
pub fn domstate(name: &str) -> String {
    virsh(&["domstate", name]).trim().to_owned()
}

/// The tiny QEMU guest: no disk, boots to the SeaBIOS screen, VNC on
/// loopback; named uniquely per process and tag, destroyed and undefined
/// (with its managed save) on drop, even when the test fails.
pub struct TinyGuest {
    pub name: String,
}

impl TinyGuest {
    pub fn xml(name: &str, extra_devices: &str) -> String {
        format!(
            "<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
    {extra_devices}
  </devices>
</domain>"
        )
    }

    pub fn name_for(tag: &str) -> String {
        format!("vmm-plugin-{tag}-{}", std::process::id())
    }

    pub fn define(tag: &str) -> Self {
        Self::define_with(tag, "")
    }

    pub fn define_with(tag: &str, extra_devices: &str) -> Self {
        ensure_libvirtd();
        let name = Self::name_for(tag);
        let guest = TinyGuest { name };
        let path = std::env::temp_dir().join(format!("{}.xml", guest.name));
        std::fs::write(&path, Self::xml(&guest.name, extra_devices)).unwrap();
        virsh(&["define", path.to_str().unwrap()]);
        let _ = std::fs::remove_file(&path);
        guest
    }

    pub fn uuid(&self) -> String {
        virsh(&["domuuid", &self.name]).trim().to_owned()
    }

    pub fn dumpxml(&self) -> String {
        virsh(&["dumpxml", "--inactive", &self.name])
    }
}

impl Drop for TinyGuest {
    fn drop(&mut self) {
        for args in [
            vec!["destroy", self.name.as_str()],
            vec!["undefine", self.name.as_str(), "--managed-save"],
        ] {
            let _ = Command::new("virsh")
                .args(["-c", SYSTEM])
                .args(&args)
                .output();
        }
    }
}

/// A directory storage pool in a temporary directory, removed on drop.
pub struct TempPool {
    pub name: String,
    pub dir: PathBuf,
}

impl TempPool {
    pub fn create(tag: &str) -> Self {
        ensure_libvirtd();
        let name = format!("vmm-plugin-{tag}-{}", std::process::id());
        let dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&dir).unwrap();
        let pool = TempPool { name, dir };
        virsh(&[
            "pool-create-as",
            &pool.name,
            "dir",
            "--target",
            pool.dir.to_str().unwrap(),
        ]);
        pool
    }

    /// Creates a raw volume; returns its path.
    pub fn volume(&self, name: &str) -> PathBuf {
        virsh(&["vol-create-as", &self.name, name, "1M", "--format", "raw"]);
        self.dir.join(name)
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for TempPool {
    fn drop(&mut self) {
        let _ = Command::new("virsh")
            .args(["-c", SYSTEM, "pool-destroy", &self.name])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
