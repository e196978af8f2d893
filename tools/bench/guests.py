#!/usr/bin/python3
"""The side-by-side guest-list benchmark of issue 5 (tools/bench-guests.sh).

Runs this project's binary and Debian's virt-manager 4.1, one at a time,
each under its own Xvfb, private D-Bus session bus (with its own AT-SPI
bus) and private HOME/XDG directories, on:

- a libvirt test-driver host of BENCH_GUESTS guests (tools/bench/make_host.py),
- a live libvirtd + QEMU host of BENCH_LIVE_GUESTS tiny guests,
  BENCH_LIVE_RUNNING of them running and the rest paused (root only),

and measures, from outside the applications:

- time from launch to the populated list: tools/bench/atspi_wait.py polls
  each application's accessibility tree every 100 ms (the list's row count);
- CPU per second once populated: utime+stime of the process and its
  children (/proc/PID/stat) over BENCH_WINDOW seconds, starting 5 s after
  the list is populated and no earlier than 10 s after launch;
- resident memory (VmRSS of the process and its children, /proc/PID/status)
  10 s after launch, at the end of the CPU window and, with BENCH_LONG=1,
  10 minutes after launch;
- on the live host, libvirtd's CPU over the same window, and over a window
  with no application connected (the baseline);
- on the test host, the in-process test driver's own share of that RSS,
  measured alone (a Python process opening the same URI through libvirt).

Writes one JSON file per run under target/bench/runs/ and the tables to
target/bench/guests.md. Subcommands: `all` (default), `test`, `live`,
`report` (tables from the JSON files), `live-cleanup` (destroy and undefine
every guest named vmm-bench-*).
"""
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BENCH = os.path.join(ROOT, "target", "bench")
RUNS = os.path.join(BENCH, "runs")
OURS = os.environ.get("VMM_BIN") or os.path.join(ROOT, "target", "release", "virt-manager")
THEIRS = "/usr/bin/virt-manager"
WAIT = os.path.join(ROOT, "tools", "bench", "atspi_wait.py")
EMPTY_XML = os.path.join(ROOT, "tests", "data", "empty.xml")
LIVE_PREFIX = "vmm-bench-"
LIBVIRTD_PID = "/var/run/libvirtd.pid"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


GUESTS = env_int("BENCH_GUESTS", 1500)
LIVE_GUESTS = env_int("BENCH_LIVE_GUESTS", 200)
LIVE_RUNNING = env_int("BENCH_LIVE_RUNNING", 50)
WINDOW = env_int("BENCH_WINDOW", 60)
REPEAT = max(1, env_int("BENCH_REPEAT", 3))
LONG = env_int("BENCH_LONG", 0) == 1
LONG_AT = env_int("BENCH_LONG_SECONDS", 600)
SETTLE = 5


def log(msg):
    print(f"bench-guests: {msg}", file=sys.stderr, flush=True)


def load():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


# --- /proc readings ---------------------------------------------------------


def children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        ppid = int(s[s.rindex(")") + 2:].split()[1])
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(pid):
    """pid and all its descendants."""
    kids = children_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_seconds(pid):
    """utime+stime of one process (all its threads), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
    except OSError:
        return 0.0
    fields = s[s.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def rollup_kb(pid, key):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def libvirtd_pid():
    try:
        with open(LIBVIRTD_PID) as f:
            pid = int(f.read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


class Sampler(threading.Thread):
    """Samples CPU and memory of a process tree once a second."""

    def __init__(self, pid, t0, extra_pid=None):
        super().__init__(daemon=True)
        self.pid, self.t0, self.extra = pid, t0, extra_pid
        self.samples = []
        self.stop = threading.Event()

    def sample(self):
        pids = tree(self.pid)
        return {
            "t": time.monotonic() - self.t0,
            "cpu": sum(cpu_seconds(p) for p in pids),
            "rss_kb": sum(status_kb(p, "VmRSS") for p in pids),
            "anon_kb": sum(status_kb(p, "RssAnon") for p in pids),
            "pss_kb": sum(rollup_kb(p, "Pss") for p in pids),
            "nproc": len(pids),
            "libvirtd_cpu": cpu_seconds(self.extra) if self.extra else None,
        }

    def run(self):
        while not self.stop.is_set():
            self.samples.append(self.sample())
            self.stop.wait(1.0)

    def at(self, t):
        """The first sample at or after t seconds from launch."""
        for s in self.samples:
            if s["t"] >= t:
                return s
        return self.samples[-1] if self.samples else None


# --- one application in its own session --------------------------------------


class Session:
    """Xvfb, a private session bus (with its AT-SPI bus) and a private home.
    Everything started here is stopped by pid when the session ends."""

    def __init__(self, name):
        self.name = name
        self.procs = []
        self.home = tempfile.mkdtemp(prefix=f"vmm-bench-{name}-")

    def __enter__(self):
        rt = os.path.join(self.home, "runtime")
        os.makedirs(rt, mode=0o700)
        r, w = os.pipe()
        x = subprocess.Popen(
            ["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x800x24",
             "-nolisten", "tcp", "-noreset"],
            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(w)
        self.procs.append(x)
        with os.fdopen(r) as f:
            display = f.readline().strip()
        if not display:
            raise RuntimeError("Xvfb printed no display number")
        self.env = dict(os.environ)
        for k in ("RUST_LOG", "NO_AT_BRIDGE", "WAYLAND_DISPLAY", "SESSION_MANAGER",
                  "VIRT_MANAGER_PLUGIN_PATH", "GTK_A11Y"):
            self.env.pop(k, None)
        self.env.update(
            DISPLAY=":" + display,
            HOME=self.home,
            XDG_CONFIG_HOME=os.path.join(self.home, "config"),
            XDG_DATA_HOME=os.path.join(self.home, "data"),
            XDG_CACHE_HOME=os.path.join(self.home, "cache"),
            XDG_RUNTIME_DIR=rt,
            GSETTINGS_BACKEND="keyfile",
            GSK_RENDERER="cairo",
            LANG="C.UTF-8",
        )
        bus = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1"],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        self.procs.append(bus)
        self.bus_pid = bus.pid
        addr = bus.stdout.readline().strip()
        if not addr:
            raise RuntimeError("dbus-daemon printed no address")
        self.env["DBUS_SESSION_BUS_ADDRESS"] = addr
        # Start the AT-SPI bus and registry before the application, as on
        # a desktop, so neither application pays for starting them.
        subprocess.run(["/usr/bin/python3", WAIT, "--kind", "gtk3-table", "--expect", "0",
                        "--bus-only", "--timeout", "30"],
                       env=self.env, stdout=subprocess.DEVNULL, check=True)
        return self

    def spawn(self, argv, logname, env=None):
        logf = open(os.path.join(BENCH, "logs", logname), "w")
        p = subprocess.Popen(argv, env=env or self.env, stdout=logf, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL)
        logf.close()
        self.procs.append(p)
        return p

    def __exit__(self, *exc):
        # The services the bus started (AT-SPI launcher, its bus, registry)
        # are the bus's children: stop them by pid too.
        extra = [p for p in tree(self.bus_pid) if p != self.bus_pid] if hasattr(self, "bus_pid") else []
        for p in reversed(self.procs):
            stop(p)
        for pid in extra:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
        shutil.rmtree(self.home, ignore_errors=True)
        return False


def stop(p, grace=5):
    if p.poll() is not None:
        return
    try:
        p.terminate()
        p.wait(grace)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def app_env(which, env):
    if which == "ours":
        # Only the plugins beside this binary, never an installed copy.
        env = dict(env, VIRT_MANAGER_PLUGIN_PATH=os.path.dirname(os.path.abspath(OURS)))
    return env


def app_argv(which, uri):
    if which == "ours":
        return [OURS, "--connect", uri]
    return [THEIRS, "--no-fork", "--connect", uri]


def run_app(which, uri, expect, label, *, full=True, detect=True, libvirtd=False,
            long=False, timeout=300):
    """Launches one application and measures it. `expect` guests complete
    the list; `full` adds the CPU window (and the 10-minute check when
    `long`); without `detect` the list is not waited for (empty hosts)."""
    res = {"label": label, "app": which, "uri": uri, "expect": expect,
           "load_start": load(), "window_s": WINDOW}
    with Session(label) as s:
        poller = None
        events = {}
        if detect:
            kind = "gtk4-list" if which == "ours" else "gtk3-table"
            poller = subprocess.Popen(
                ["/usr/bin/python3", WAIT, "--kind", kind, "--expect", str(expect),
                 "--timeout", str(timeout)],
                env=s.env, stdout=subprocess.PIPE, text=True,
            )
            s.procs.append(poller)

            def read():
                for line in poller.stdout:
                    try:
                        ev = json.loads(line)
                    except ValueError:
                        continue
                    events.setdefault(ev["event"], ev)

            reader = threading.Thread(target=read, daemon=True)
            reader.start()
        t0 = time.monotonic()
        app = s.spawn(app_argv(which, uri), f"{label}.log", app_env(which, s.env))
        sampler = Sampler(app.pid, t0, libvirtd_pid() if libvirtd else None)
        sampler.start()
        try:
            tp = None
            if detect:
                poller.wait(timeout + 30)
                reader.join(5)
                if "complete" in events:
                    tp = events["complete"]["t"] - t0
                    res["populated_s"] = round(tp, 3)
                    res["count"] = events["complete"].get("count")
                if "first-row" in events:
                    res["first_row_s"] = round(events["first-row"]["t"] - t0, 3)
                if "app" in events:
                    res["on_a11y_bus_s"] = round(events["app"]["t"] - t0, 3)
                if tp is None:
                    res["error"] = f"list not populated within {timeout} s: {events}"
                    log(f"{label}: {res['error']}")
            if app.poll() is not None:
                res["error"] = f"the application exited ({app.returncode}); see target/bench/logs/{label}.log"
                log(f"{label}: {res['error']}")
                return res
            if not full:
                time.sleep(1)
                return res
            start = max((tp or 0) + SETTLE, 10.0)
            end = start + WINDOW
            wait_until(t0, end + 1)
            a, b = sampler.at(start), sampler.at(end)
            span = b["t"] - a["t"]
            res["cpu_pct"] = round(100 * (b["cpu"] - a["cpu"]) / span, 3)
            if libvirtd and a["libvirtd_cpu"] is not None:
                res["libvirtd_cpu_pct"] = round(100 * (b["libvirtd_cpu"] - a["libvirtd_cpu"]) / span, 3)
            res["window"] = [round(a["t"], 1), round(b["t"], 1)]
            s10 = sampler.at(10.0)
            res["rss10_kb"] = s10["rss_kb"]
            res["pss10_kb"] = s10["pss_kb"]
            res["rss_window_start_kb"] = a["rss_kb"]
            res["rss_window_end_kb"] = b["rss_kb"]
            res["anon_window_end_kb"] = b["anon_kb"]
            res["pss_window_end_kb"] = b["pss_kb"]
            res["nproc"] = b["nproc"]
            if long:
                wait_until(t0, LONG_AT + 1)
                s10m = sampler.at(LONG_AT)
                res["rss10m_kb"] = s10m["rss_kb"]
                res["pss10m_kb"] = s10m["pss_kb"]
                res["long_s"] = LONG_AT
                last = sampler.at(LONG_AT)
                res["cpu_pct_to_10m"] = round(100 * (last["cpu"] - b["cpu"]) / (last["t"] - b["t"]), 3)
                if libvirtd and b["libvirtd_cpu"] is not None:
                    res["libvirtd_cpu_pct_to_10m"] = round(
                        100 * (last["libvirtd_cpu"] - b["libvirtd_cpu"]) / (last["t"] - b["t"]), 3)
            res["rss_series"] = [(round(x["t"]), x["rss_kb"]) for x in sampler.samples[::10]]
            res["cpu_series"] = [(round(x["t"]), round(x["cpu"], 2)) for x in sampler.samples[::3]]
            if app.poll() is not None:
                res["error"] = f"the application exited ({app.returncode}) during the run"
            return res
        finally:
            sampler.stop.set()
            sampler.join(3)
            res["load_end"] = load()
            res["binary"] = app_argv(which, uri)[0]


def wait_until(t0, t):
    while time.monotonic() - t0 < t:
        time.sleep(min(1.0, max(0.0, t - (time.monotonic() - t0))))


def save(res):
    os.makedirs(RUNS, exist_ok=True)
    with open(os.path.join(RUNS, res["label"] + ".json"), "w") as f:
        json.dump(res, f, indent=1)
    keys = ("populated_s", "cpu_pct", "libvirtd_cpu_pct", "rss10_kb", "rss_window_end_kb",
            "rss10m_kb", "open_kb", "trimmed_kb", "error")
    log(res["label"] + ": " + ", ".join(f"{k}={res[k]}" for k in keys if k in res)
        + f" (load {res['load_start']} -> {res.get('load_end')})")


# --- the hosts -----------------------------------------------------------------


def bench_host(host, uri, expect, libvirtd=False):
    """Empty windows, then each application: one full run and REPEAT-1
    launch-only runs, interleaved."""
    empty = "test://" + EMPTY_XML
    if os.path.isdir(RUNS):
        for f in os.listdir(RUNS):
            if f.startswith(host + "-"):
                os.remove(os.path.join(RUNS, f))
    for which in ("ours", "theirs"):
        save(run_app(which, empty, 0, f"{host}-empty-{which}", detect=False))
    if libvirtd:
        save(libvirtd_baseline(f"{host}-baseline-libvirtd"))
    for i in range(REPEAT):
        for which in ("ours", "theirs"):
            full = i == 0
            save(run_app(which, uri, expect, f"{host}-{which}-{i + 1}", full=full,
                         libvirtd=libvirtd, long=full and LONG))


def libvirtd_baseline(label):
    pid = libvirtd_pid()
    res = {"label": label, "app": "none", "load_start": load()}
    if pid:
        a = cpu_seconds(pid)
        t = time.monotonic()
        time.sleep(WINDOW)
        res["libvirtd_cpu_pct"] = round(100 * (cpu_seconds(pid) - a) / (time.monotonic() - t), 3)
    res["load_end"] = load()
    return res


def bench_test():
    xml = os.path.join(BENCH, f"host-{GUESTS}.xml")
    subprocess.run([sys.executable, os.path.join(ROOT, "tools", "bench", "make_host.py"),
                    "--guests", str(GUESTS), xml], check=True)
    bench_host("test", "test://" + xml, GUESTS)
    save(driver_share("test-driver-share", "test://" + xml))


# The test driver runs inside the application: its own domain objects count
# in the application's RSS (Debian's virt-manager pays the same). Measured
# alone: a Python process opens the URI through libvirt and lists the
# guests, and its RSS grows by the driver's share; malloc_trim then returns
# the parser's freed memory, as the application does once loaded.
DRIVER_PROBE = r"""
import ctypes, sys, libvirt
def rss():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
libvirt.registerErrorHandler(lambda *a: None, None)
before = rss()
conn = libvirt.open(sys.argv[1])
doms = conn.listAllDomains(0)
loaded = rss()
ctypes.CDLL("libc.so.6").malloc_trim(0)
print(before, loaded, rss(), len(doms))
"""


def probe_driver(uri):
    out = subprocess.run(["/usr/bin/python3", "-c", DRIVER_PROBE, uri], check=True,
                         stdout=subprocess.PIPE, text=True).stdout.split()
    before, loaded, trimmed, n = (int(x) for x in out)
    return {"open_kb": loaded - before, "trimmed_kb": trimmed - before, "guests": n}


def driver_share(label, uri):
    """The driver's RSS for `uri` less its RSS for the empty host: median of 3."""
    res = {"label": label, "app": "libvirt", "uri": uri, "load_start": load()}
    try:
        empty = [probe_driver("test://" + EMPTY_XML) for _ in range(3)]
        host = [probe_driver(uri) for _ in range(3)]
    except (subprocess.CalledProcessError, ValueError) as e:
        res["error"] = f"driver probe failed: {e}"
        return res
    for key in ("open_kb", "trimmed_kb"):
        res[key] = statistics.median(h[key] for h in host) - statistics.median(
            e[key] for e in empty)
    res["guests"] = host[0]["guests"]
    res["load_end"] = load()
    return res


def virsh(*cmds, check=False):
    """Runs virsh commands (one session, `;`-separated) on qemu:///system."""
    p = subprocess.run(["virsh", "-q", "-c", "qemu:///system", " ; ".join(cmds)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and p.returncode != 0:
        raise RuntimeError(f"virsh failed: {p.stderr.strip()}")
    return p.stdout


def live_names():
    return [n for n in virsh("list --all --name").split() if n.startswith(LIVE_PREFIX)]


def live_cleanup():
    names = live_names()
    if not names:
        return
    log(f"destroying and undefining {len(names)} benchmark guests")
    for chunk in range(0, len(names), 50):
        cmds = []
        for n in names[chunk:chunk + 50]:
            cmds += [f"destroy {n}", f"undefine {n} --managed-save"]
        virsh(*cmds)
    left = live_names()
    if left:
        log(f"WARNING: guests left behind: {' '.join(left)}")


LIVE_ROLES = ["web", "db", "cache", "build", "ci", "mail", "dns", "proxy", "git", "lab"]


def tiny_xml(name):
    return f"""<domain type='qemu'>
  <name>{name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <graphics type='vnc' autoport='yes' listen='127.0.0.1'/>
  </devices>
</domain>
"""


def live_count():
    """Guests this machine holds comfortably: at most BENCH_LIVE_GUESTS, and
    no more than a third of the memory available now (44 MB each)."""
    avail = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) // 1024
    fit = avail // 3 // 44
    n = min(LIVE_GUESTS, 300, fit)
    log(f"live host: {n} guests ({avail} MB available, {LIVE_GUESTS} asked)")
    return n


def live_setup(n, running):
    if os.geteuid() != 0:
        raise RuntimeError("the live host needs root (libvirtd as root)")
    if subprocess.run(["virsh", "-c", "qemu:///system", "version"],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        raise RuntimeError("libvirtd is not answering on qemu:///system "
                           "(start it, as tools/test-services.sh does)")
    live_cleanup()
    tmp = tempfile.mkdtemp(prefix="vmm-bench-xml-")
    names = [f"{LIVE_PREFIX}{LIVE_ROLES[i % len(LIVE_ROLES)]}-{i:03}" for i in range(n)]
    try:
        cmds = []
        for name in names:
            path = os.path.join(tmp, name + ".xml")
            with open(path, "w") as f:
                f.write(tiny_xml(name))
            cmds.append(f"define {path}")
        for chunk in range(0, len(cmds), 50):
            virsh(*cmds[chunk:chunk + 50], check=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    t = time.monotonic()
    # Paused guests are paused at once, before SeaBIOS has run much.
    for chunk in range(0, n, 25):
        cmds = []
        for i, name in enumerate(names[chunk:chunk + 25], start=chunk):
            cmds.append(f"start {name}")
            if i >= running:
                cmds.append(f"suspend {name}")
        virsh(*cmds)
    states = virsh("list --all").splitlines()
    nrun = sum(1 for l in states if LIVE_PREFIX in l and l.split()[-1] == "running")
    npaused = sum(1 for l in states if LIVE_PREFIX in l and l.split()[-1] == "paused")
    log(f"live host: {nrun} running, {npaused} paused, started in {time.monotonic() - t:.0f} s")
    if nrun + npaused < n:
        raise RuntimeError(f"only {nrun + npaused} of {n} guests are up")
    return nrun, npaused


def bench_live():
    n = live_count()
    if n < 1:
        raise RuntimeError("not enough memory for a live host")
    try:
        nrun, npaused = live_setup(n, min(LIVE_RUNNING, n))
        with open(os.path.join(BENCH, "live-host.json"), "w") as f:
            json.dump({"guests": n, "running": nrun, "paused": npaused}, f)
        log("letting the running guests settle (30 s)")
        time.sleep(30)
        total = len(virsh("list --all --name").split())
        bench_host("live", "qemu:///system", total, libvirtd=True)
    finally:
        live_cleanup()


# --- the report --------------------------------------------------------------


def read_runs():
    runs = {}
    if os.path.isdir(RUNS):
        for f in sorted(os.listdir(RUNS)):
            if f.endswith(".json"):
                with open(os.path.join(RUNS, f)) as fh:
                    r = json.load(fh)
                runs[r["label"]] = r
    return runs


def mb(kb):
    return None if kb is None else kb / 1024


def fmt(v, unit="", nd=1):
    if v is None:
        return "–"
    return f"{v:.{nd}f}{unit}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.2f}"


def verdict(ok):
    return "–" if ok is None else ("yes" if ok else "**no**")


def host_table(runs, host):
    empty_o = runs.get(f"{host}-empty-ours", {})
    empty_t = runs.get(f"{host}-empty-theirs", {})
    o = runs.get(f"{host}-ours-1")
    t = runs.get(f"{host}-theirs-1")
    if not o or not t:
        return None
    pops = {}
    for which in ("ours", "theirs"):
        vals = [r["populated_s"] for k, r in runs.items()
                if k.startswith(f"{host}-{which}-") and "populated_s" in r]
        pops[which] = vals
    med = {w: (statistics.median(v) if v else None) for w, v in pops.items()}
    live = host == "live"
    cpu_goal = 1.0 if live else 2.0
    rss_margin = 10 if live else 25
    base = mb(empty_o.get("rss10_kb"))
    o_rss10, t_rss10 = mb(o.get("rss10_kb")), mb(t.get("rss10_kb"))
    o_end, t_end = mb(o.get("rss_window_end_kb")), mb(t.get("rss_window_end_kb"))
    o_10m, t_10m = mb(o.get("rss10m_kb")), mb(t.get("rss10m_kb"))
    o_worst = max(x for x in (o_rss10, o_end, o_10m) if x is not None) if o_end else None
    rows = []
    rows.append(("Populated list, median of runs (s)",
                 fmt(med["ours"], nd=2), fmt(med["theirs"], nd=2), ratio(med["ours"], med["theirs"]),
                 "< 1 s" if not live else "–",
                 verdict(med["ours"] < 1.0) if med["ours"] is not None and not live else "–"))
    rows.append(("… each run (s)",
                 ", ".join(f"{v:.2f}" for v in pops["ours"]) or "–",
                 ", ".join(f"{v:.2f}" for v in pops["theirs"]) or "–", "", "", ""))
    rows.append((f"CPU once populated, {WINDOW} s at the 3 s interval (% of one core)",
                 fmt(o.get("cpu_pct"), nd=2), fmt(t.get("cpu_pct"), nd=2),
                 ratio(o.get("cpu_pct"), t.get("cpu_pct")), f"< {cpu_goal:g} %",
                 verdict(o.get("cpu_pct") < cpu_goal) if o.get("cpu_pct") is not None else "–"))
    if live:
        lo, lt = o.get("libvirtd_cpu_pct"), t.get("libvirtd_cpu_pct")
        lb = runs.get(f"{host}-baseline-libvirtd", {}).get("libvirtd_cpu_pct")
        rows.append(("libvirtd CPU in the same window (% of one core)",
                     fmt(lo, nd=2), fmt(lt, nd=2), ratio(lo, lt), "below virt-manager's",
                     verdict(lo < lt) if lo is not None and lt is not None else "–"))
        rows.append(("libvirtd CPU with no application (baseline)", fmt(lb, nd=2), "", "", "", ""))
    rows.append(("RSS 10 s after launch (MB)", fmt(o_rss10), fmt(t_rss10), ratio(o_rss10, t_rss10),
                 "", ""))
    rows.append((f"RSS at the end of the CPU window, ~{o.get('window', [0, 0])[1]:.0f} s / "
                 f"~{t.get('window', [0, 0])[1]:.0f} s (MB)",
                 fmt(o_end), fmt(t_end), ratio(o_end, t_end), "below virt-manager's",
                 verdict(o_end < t_end) if o_end and t_end else "–"))
    if o_10m or t_10m:
        rows.append((f"RSS {o.get('long_s', 600) // 60} min after launch (MB)",
                     fmt(o_10m), fmt(t_10m), ratio(o_10m, t_10m), "below virt-manager's",
                     verdict(o_10m < t_10m) if o_10m and t_10m else "–"))
        rows.append(("RSS growth, end of window → 10 min (MB)",
                     fmt(o_10m - o_end if o_10m and o_end else None),
                     fmt(t_10m - t_end if t_10m and t_end else None), "",
                     "flat (≤ 2 MB)",
                     verdict(o_10m - o_end <= 2.0) if o_10m and o_end else "–"))
    else:
        rows.append(("RSS growth over the CPU window (MB)",
                     fmt(o_end - mb(o["rss_window_start_kb"]) if o_end else None),
                     fmt(t_end - mb(t["rss_window_start_kb"]) if t_end else None), "",
                     "flat (≤ 2 MB; BENCH_LONG=1 for 10 min)",
                     verdict(o_end - mb(o["rss_window_start_kb"]) <= 2.0) if o_end else "–"))
    rows.append(("Empty window (test:///…/empty.xml), RSS 10 s after launch (MB)",
                 fmt(base), fmt(mb(empty_t.get("rss10_kb"))),
                 ratio(base, mb(empty_t.get("rss10_kb"))), "", ""))
    rows.append(("RSS above our empty window, worst of 10 s / window end / 10 min (MB)",
                 fmt(o_worst - base if o_worst and base else None),
                 fmt(max(x for x in (t_rss10, t_end, t_10m) if x is not None) - base
                     if t_end and base else None), "",
                 f"≤ {rss_margin} MB",
                 verdict(o_worst - base <= rss_margin) if o_worst and base else "–"))
    share = runs.get(f"{host}-driver-share", {})
    if share.get("trimmed_kb") is not None and o_worst and base:
        d = mb(share["trimmed_kb"])
        rows.append(("… of which the in-process test driver's own share, measured alone "
                     f"(MB; {fmt(mb(share['open_kb']))} before malloc_trim)",
                     fmt(d), fmt(d), "", "", ""))
        rows.append(("… the rest: ours above the empty window, less the driver's share (MB)",
                     fmt(o_worst - base - d),
                     fmt(max(x for x in (t_rss10, t_end, t_10m) if x is not None) - base - d
                         if t_end else None), "", "", ""))
    rows.append(("PSS at the end of the window (MB)", fmt(mb(o.get("pss_window_end_kb"))),
                 fmt(mb(t.get("pss_window_end_kb"))),
                 ratio(mb(o.get("pss_window_end_kb")), mb(t.get("pss_window_end_kb"))), "", ""))
    out = ["| measure | ours | virt-manager 4.1 | ours / theirs | goal | met |",
           "|---|---:|---:|---:|---|---|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    loads = sorted({r.get("load_start", "") for k, r in runs.items() if k.startswith(host)})
    errors = [f"{k}: {r['error']}" for k, r in runs.items() if k.startswith(host) and r.get("error")]
    notes = [f"Load averages (1, 5, 15 min) at the starts of the runs: {'; '.join(loads)}."]
    if errors:
        notes.append("Errors: " + "; ".join(errors))
    return "\n".join(out) + "\n\n" + "\n".join(notes) + "\n"


def report():
    runs = read_runs()
    parts = ["# Guest-list benchmark (issue 5)", "",
             "Generated by tools/bench-guests.sh. Ours: "
             f"`{next((r.get('binary') for r in runs.values() if r.get('app') == 'ours'), OURS)}`; "
             "theirs: Debian's virt-manager 4.1 (`/usr/bin/virt-manager --no-fork`). "
             "Each under Xvfb (1280×800) with GSK_RENDERER=cairo, its own session and AT-SPI "
             "bus and an empty HOME (GSETTINGS_BACKEND=keyfile), default settings (CPU "
             "polled every 3 s). Populated: from launch until the list's row count, read from "
             "outside over AT-SPI every 100 ms, reaches every guest (ours: the connection "
             "row's “N guests”, shown once all guests are in the list; theirs: the tree "
             "table's row count). CPU: utime+stime from /proc. RSS: VmRSS of the process "
             "and its children.", ""]
    t = host_table(runs, "test")
    if t:
        parts += [f"## Test-driver host: {GUESTS} guests ({GUESTS // 3} running), `test:///…/host-{GUESTS}.xml`", "", t]
    lt = host_table(runs, "live")
    if lt:
        info = {}
        try:
            with open(os.path.join(BENCH, "live-host.json")) as f:
                info = json.load(f)
        except OSError:
            pass
        parts += [f"## Live host: libvirtd + QEMU, {info.get('guests', '?')} tiny guests "
                  f"({info.get('running', '?')} running, {info.get('paused', '?')} paused), "
                  "`qemu:///system`", "", lt]
    text = "\n".join(parts)
    os.makedirs(BENCH, exist_ok=True)
    with open(os.path.join(BENCH, "guests.md"), "w") as f:
        f.write(text)
    print(text)


def on_signal(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else "all"
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    os.makedirs(os.path.join(BENCH, "logs"), exist_ok=True)
    if cmd == "report":
        report()
        return 0
    if cmd == "live-cleanup":
        live_cleanup()
        return 0
    if cmd not in ("all", "test", "live"):
        print(__doc__, file=sys.stderr)
        return 2
    for path in (OURS, THEIRS):
        if not os.access(path, os.X_OK):
            sys.exit(f"bench-guests: {path} is missing")
    if cmd in ("all", "test"):
        bench_test()
    if cmd in ("all", "live"):
        if os.environ.get("BENCH_LIVE", "1") == "0":
            log("live host skipped (BENCH_LIVE=0)")
        else:
            try:
                bench_live()
            except RuntimeError as e:
                log(f"live host skipped: {e}")
    report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
