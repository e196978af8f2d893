//! D-Bus latency benchmark (issue "D-Bus service"), run by `make bench`
//! through tools/bench-dbus.sh.
//!
//! The real application runs under Xvfb on a private session bus with a
//! libvirt test-driver host of BENCH_GUESTS guests (default 1500, written
//! by tools/bench/make_host.py). A zbus client then makes BENCH_CALLS
//! (default 10,000) `ListDomains` calls one after another, decoding every
//! reply as a caller would, and reports calls per second and latency
//! percentiles. Beside it, as the floor any D-Bus method has on this
//! machine, the same number of `org.freedesktop.DBus.Peer.Ping` calls to
//! the app (answered by zbus without reaching our code), and
//! `ListConnections` (our code, a tiny reply). The app's own CPU time per
//! call comes from /proc, which is steadier than wall time on a shared
//! machine.
//!
//! Environment: BENCH_GUESTS, BENCH_CALLS, BENCH_HOST_XML (a host file to
//! use instead of generating one), BENCH_OUT (a Markdown file to write the
//! table to).

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{repo_dir, wait_for, RunningApp};
use zbus::zvariant::OwnedValue;

const IFACE: &str = "org.virt_manager.VirtManager1";
const PATH: &str = "/org/virt_manager/VirtManager1";

type Dict = HashMap<String, OwnedValue>;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// User plus system CPU time of a process, from /proc/PID/stat.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("the app's /proc stat");
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields of the whole line.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    Duration::from_micros(ticks * 1_000_000 / hz)
}

struct Run {
    name: String,
    calls: usize,
    wall: Duration,
    lat: Vec<Duration>,
    app_cpu: Duration,
    reply_bytes: usize,
}

impl Run {
    fn per_s(&self) -> f64 {
        self.calls as f64 / self.wall.as_secs_f64()
    }
    fn pct(&self, p: f64) -> Duration {
        let i = ((self.lat.len() as f64 - 1.0) * p).round() as usize;
        self.lat[i]
    }
}

fn measure(name: &str, calls: usize, pid: u32, mut call: impl FnMut() -> usize) -> Run {
    // Warm up: caches, allocator, the bus daemon's match tables.
    for _ in 0..calls.min(200) {
        call();
    }
    let mut lat = Vec::with_capacity(calls);
    let cpu0 = cpu_time(pid);
    let start = Instant::now();
    let mut reply_bytes = 0;
    for _ in 0..calls {
        let t = Instant::now();
        reply_bytes = call();
        lat.push(t.elapsed());
    }
    let wall = start.elapsed();
    let app_cpu = cpu_time(pid).saturating_sub(cpu0);
    lat.sort();
    Run {
        name: name.to_string(),
        calls,
        wall,
        lat,
        app_cpu,
        reply_bytes,
    }
}

fn host_xml(guests: usize) -> String {
    if let Ok(path) = std::env::var("BENCH_HOST_XML") {
        return path;
    }
    let dir = repo_dir().join("target/bench");
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join(format!("dbus-host-{guests}.xml"));
    let ok = std::process::Command::new("/usr/bin/python3")
        .arg(repo_dir().join("tools/bench/make_host.py"))
        .args(["--guests", &guests.to_string()])
        .arg(&out)
        .status()
        .expect("python3");
    assert!(ok.success(), "make_host.py failed");
    out.display().to_string()
}

fn main() {
    // `cargo bench` passes --bench; there is nothing to filter here.
    let guests = env_usize("BENCH_GUESTS", 1500);
    let calls = env_usize("BENCH_CALLS", 10_000);
    let uri = format!("test://{}", host_xml(guests));

    let app = RunningApp::start_with("bench_dbus", &["--connect", &uri], |cmd| {
        // Measure the service, not debug logging.
        cmd.env("RUST_LOG", "warn");
    });
    let conn = zbus::blocking::connection::Builder::address(app.bus.address.as_str())
        .unwrap()
        .build()
        .unwrap();
    let proxy = zbus::blocking::Proxy::new(&conn, IFACE, PATH, IFACE).unwrap();
    let dbus = zbus::blocking::fdo::DBusProxy::new(&conn).unwrap();
    let pid = dbus
        .get_connection_unix_process_id(IFACE.try_into().unwrap())
        .expect("the app's pid");

    let loaded = wait_for(Duration::from_secs(120), || {
        let list: Vec<Dict> = proxy.call("ListDomains", &(&uri,)).ok()?;
        (list.len() == guests).then_some(())
    });
    assert!(
        loaded.is_some(),
        "the host never showed {guests} guests; log: {}",
        app.log.display()
    );
    // Let the first statistics ticks and the manager's first paint settle.
    std::thread::sleep(Duration::from_secs(3));

    let peer = zbus::blocking::Proxy::new(&conn, IFACE, PATH, "org.freedesktop.DBus.Peer").unwrap();
    let runs = [
        measure("Peer.Ping (bus floor)", calls, pid, || {
            let m = peer.call_method("Ping", &()).unwrap();
            m.body().len()
        }),
        measure("ListConnections", calls, pid, || {
            let m = proxy.call_method("ListConnections", &()).unwrap();
            let v: Vec<(String, String)> = m.body().deserialize().unwrap();
            assert_eq!(v.len(), 1);
            m.body().len()
        }),
        measure(
            &format!("ListDomains ({guests} guests)"),
            calls,
            pid,
            || {
                let m = proxy.call_method("ListDomains", &(&uri,)).unwrap();
                let v: Vec<Dict> = m.body().deserialize().unwrap();
                assert_eq!(v.len(), guests);
                m.body().len()
            },
        ),
    ];

    let mut table = String::new();
    table.push_str(&format!(
        "D-Bus calls to the running app, {calls} sequential calls each, host of {guests} test-driver guests\n\n"
    ));
    table.push_str("| call | calls/s | p50 | p99 | max | app CPU per call | reply |\n");
    table.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
    for r in &runs {
        table.push_str(&format!(
            "| {} | {:.0} | {:.2} ms | {:.2} ms | {:.2} ms | {:.1} µs | {} B |\n",
            r.name,
            r.per_s(),
            r.pct(0.5).as_secs_f64() * 1e3,
            r.pct(0.99).as_secs_f64() * 1e3,
            r.lat.last().unwrap().as_secs_f64() * 1e3,
            r.app_cpu.as_secs_f64() * 1e6 / r.calls as f64,
            r.reply_bytes,
        ));
    }
    let floor = runs[0].per_s();
    let list = runs[2].per_s();
    table.push_str(&format!(
        "\nListDomains of {guests} guests runs at {:.2}× the bare D-Bus round trip's rate ({:.0} vs {:.0} calls/s).\n",
        list / floor,
        list,
        floor
    ));
    print!("{table}");
    if let Ok(out) = std::env::var("BENCH_OUT") {
        std::fs::write(out, &table).unwrap();
    }
}
