#!/usr/bin/env python3
"""The side-by-side console benchmark (issue 7, "Performance").

One TigerVNC Xvnc whose screen an X client (drawer.c) changes at a fixed 60
frames per second, stamping each frame's number as a barcode; each viewer
in turn, in its own Xvfb, at 1:1, on that same server; a probe (probe.c)
reading the frame number off the viewer's own screen every 2 ms. All times
are CLOCK_MONOTONIC on this one machine. Per viewer and scene:

  shown/s    distinct frames seen / measured time (the server draws 60)
  latency    from the server having frame n (drawer's XSync returned) to
             the probe first seeing frame n or a later one: median, p95
  stall      longest time between two new frames seen while the server drew
  CPU        utime+stime of the viewer over the measured time, % of one
             core; also with its Xvfb (what the viewer's drawing costs the
             X server it draws into), and Xvnc's (encoding for that viewer)
  key        (separate phase) XTest key press in the viewer's Xvfb to the
             KeyPress reaching an X client in Xvnc: median, p95

Writes target/bench/console.md (and raw data beside it) and prints it.
Stdlib only; run through tools/bench-console.sh.
"""

import argparse
import datetime
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CLK_TCK = os.sysconf("SC_CLK_TCK")

# (name, kind, environment) in run order. "ours" rows pick the display
# implementation with VIRT_MANAGER_DISPLAY and the GTK renderer with
# GSK_RENDERER; the references are GTK 3 (gvncviewer) and FLTK (vncviewer),
# where GSK_RENDERER means nothing.
VIEWERS = {
    "ours-tiles-cairo": ("ours", {"VIRT_MANAGER_DISPLAY": "tiles", "GSK_RENDERER": "cairo"}),
    "ours-tiles-gl": ("ours", {"VIRT_MANAGER_DISPLAY": "tiles", "GSK_RENDERER": "gl"}),
    # The same without direct painting (every update through GTK's frame
    # clock and renderer), to compare.
    "ours-nodirect-cairo": ("ours", {"VIRT_MANAGER_DISPLAY": "tiles", "VIRT_MANAGER_DISPLAY_DIRECT": "0",
                                     "GSK_RENDERER": "cairo"}),
    "ours-gl-cairo": ("ours", {"VIRT_MANAGER_DISPLAY": "gl", "GSK_RENDERER": "cairo"}),
    "ours-gl-gl": ("ours", {"VIRT_MANAGER_DISPLAY": "gl", "GSK_RENDERER": "gl"}),
    "gvncviewer": ("gvncviewer", {}),
    "vncviewer": ("vncviewer", {}),
}
DEFAULT_VIEWERS = list(VIEWERS)
SCENES = [("full", 1000), ("square", 20000)]

PROCS = []  # every process we started, stopped in reverse order


def log(msg):
    print(f"[bench-console] {msg}", file=sys.stderr, flush=True)


def start(cmd, env=None, stdout=None, stderr=None, pass_fds=()):
    p = subprocess.Popen(cmd, env=env, stdout=stdout or subprocess.DEVNULL,
                         stderr=stderr or subprocess.DEVNULL, pass_fds=pass_fds,
                         start_new_session=True)
    PROCS.append(p)
    return p


def stop(p, timeout=5):
    """Stops one process we started (its own session: by its pid only)."""
    if p.poll() is None:
        try:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in PROCS:
        PROCS.remove(p)


def stop_all():
    for p in reversed(list(PROCS)):
        stop(p)


def start_x(cmd, env, log_path):
    """Starts Xvfb or Xvnc on a free display (-displayfd); returns (proc, n)."""
    r, w = os.pipe()
    with open(log_path, "w") as lf:
        p = start(cmd + ["-displayfd", str(w)], env=env, stderr=lf, pass_fds=(w,))
    os.close(w)
    data = b""
    deadline = time.monotonic() + 20
    while not data.endswith(b"\n") and time.monotonic() < deadline:
        chunk = os.read(r, 16)
        if not chunk:
            break
        data += chunk
    os.close(r)
    if not data.strip():
        raise RuntimeError(f"{cmd[0]} did not start (see {log_path})")
    return p, int(data.strip())


def free_vnc_port():
    """A display number k with TCP port 5900+k free (gvncviewer takes
    host:k and adds 5900)."""
    for k in list(range(37, 99)) + list(range(137, 200)):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", 5900 + k))
            return k
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port 5937-5998, 6037-6099")


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def cpu_snapshot(pids):
    return {k: cpu_ticks(v) for k, v in pids.items()}


def cpu_percent(a, b, seconds):
    out = {}
    for k in a:
        if a[k] is None or b.get(k) is None:
            out[k] = None
        else:
            out[k] = 100.0 * (b[k] - a[k]) / CLK_TCK / seconds
    return out


def read_lines(path):
    try:
        with open(path) as f:
            return [line.split() for line in f if line.strip()]
    except OSError:
        return []


def percentile(values, q):
    if not values:
        return None
    v = sorted(values)
    i = min(len(v) - 1, max(0, int(round(q / 100.0 * (len(v) - 1)))))
    return v[i]


def analyse_scene(frames_path, seen_path, ws, we):
    frames = {}
    for f in read_lines(frames_path):
        if f[0] == "frame":
            frames[int(f[1])] = float(f[3])
    seen, found, bad, stats = [], None, 0, None
    for f in read_lines(seen_path):
        if f[0] == "seen":
            seen.append((int(f[1]), float(f[2])))
        elif f[0] == "found":
            found = (int(f[1]), int(f[2]))
        elif f[0] == "bad":
            bad += 1
        elif f[0] == "stats":
            stats = {"samples": int(f[1]), "bad_samples": int(f[2]), "probe_max_gap_ms": float(f[3])}
    in_window = {n: t for n, t in frames.items() if ws <= t <= we}
    if not in_window or found is None:
        return {"error": "no barcode seen" if found is None else "no frames drawn"}
    lo, hi = min(in_window), max(in_window)
    shown = {n for n, _ in seen if lo <= n <= hi}
    # Latency: frame n drawn -> first sample showing n or a later frame.
    lat = []
    j = 0
    ordered = sorted(seen, key=lambda s: s[1])
    for n in sorted(in_window):
        td = in_window[n]
        while j < len(ordered) and ordered[j][1] < td:
            j += 1
        for k in range(j, len(ordered)):
            if ordered[k][0] >= n and ordered[k][0] <= hi + 600:
                lat.append((ordered[k][1] - td) * 1000)
                break
    # Stalls: time between new frames appearing, over the window.
    times = [t for n, t in ordered if ws <= t <= we + 0.1 and lo <= n <= hi + 10]
    gaps = [(b - a) * 1000 for a, b in zip(times, times[1:])]
    if times:
        gaps.append((times[0] - ws) * 1000)
    duration = we - ws
    return {
        "drawn": len(in_window),
        "drawn_per_s": len(in_window) / duration,
        "shown": len(shown),
        "shown_per_s": len(shown) / duration,
        "lat_median_ms": statistics.median(lat) if lat else None,
        "lat_p95_ms": percentile(lat, 95),
        "lat_max_ms": max(lat) if lat else None,
        "stall_ms": max(gaps) if gaps else None,
        "stalls_over_20ms": sum(1 for g in gaps if g > 20),
        "unreadable_runs": bad,
        "barcode_at": found,
        **(stats or {}),
    }


def analyse_keys(sent_path, keys_path):
    sent = [(int(f[1]), float(f[2])) for f in read_lines(sent_path) if f[0] == "sent"]
    got = [(int(f[1]), float(f[2])) for f in read_lines(keys_path) if f[0] == "key"]
    lat, j = [], 0
    for sym, ts in sent:
        while j < len(got) and (got[j][0] != sym or got[j][1] < ts):
            j += 1
        if j < len(got):
            lat.append((got[j][1] - ts) * 1000)
            j += 1
    return {
        "sent": len(sent),
        "received": len(lat),
        "key_median_ms": statistics.median(lat) if lat else None,
        "key_p95_ms": percentile(lat, 95),
    }


def viewer_command(kind, args, vnc_k, port):
    if kind == "ours":
        return [args.app, f"vnc://127.0.0.1:{port}"]
    if kind == "gvncviewer":
        return ["gvncviewer", f"127.0.0.1:{vnc_k}"]
    if kind == "vncviewer":
        return ["vncviewer", f"127.0.0.1::{port}"]
    raise ValueError(kind)


def run_viewer(name, args, base_env, xvnc, vnc_display, vnc_k, port, outdir, rep):
    kind, extra = VIEWERS[name]
    tag = f"{name}.{rep}"
    result = {"viewer": name, "repeat": rep, "env": extra}
    xvfb, vd = start_x(["Xvfb", "-screen", "0", f"{args.screen}x24", "-nolisten", "tcp", "-noreset"],
                       base_env, os.path.join(outdir, f"{tag}.xvfb.log"))
    env = dict(base_env)
    env["DISPLAY"] = f":{vd}"
    env.update(extra)
    if kind == "ours":
        cfg = os.path.join(outdir, "config")
        os.makedirs(os.path.join(cfg, "glib-2.0", "settings"), exist_ok=True)
        with open(os.path.join(cfg, "glib-2.0", "settings", "keyfile"), "w") as f:
            f.write("[org/virt_manager/VirtManager]\nconsole-scaling='one-to-one'\n")
        env.update({
            "XDG_CONFIG_HOME": cfg,
            "GSETTINGS_BACKEND": "keyfile",
            "RUST_LOG": "warn,virt_manager::windows::widgets::display_gl=debug",
            "DBUS_SESSION_BUS_ADDRESS": args.bus,
        })
    viewer_log = open(os.path.join(outdir, f"{tag}.viewer.log"), "w")
    viewer = start(viewer_command(kind, args, vnc_k, port), env=env, stdout=viewer_log, stderr=viewer_log)
    pids = {"viewer": viewer.pid, "xvfb": xvfb.pid, "xvnc": xvnc.pid}
    draw_env = dict(base_env, DISPLAY=f":{vnc_display}")
    probe_env = dict(base_env, DISPLAY=f":{vd}")
    bin_dir = args.bin_dir
    try:
        # Connected: the probe finds the barcode of a short square scene.
        drawer = start([f"{bin_dir}/drawer", "--scene", "square", "--duration", "2", "--start", "60000"], env=draw_env)
        deadline = time.monotonic() + args.connect_timeout
        ok = False
        while time.monotonic() < deadline and viewer.poll() is None:
            if drawer.poll() is not None:
                stop(drawer)
                drawer = start([f"{bin_dir}/drawer", "--scene", "square", "--duration", "2", "--start", "60000"], env=draw_env)
            r = subprocess.run([f"{bin_dir}/probe", "--duration", "0", "--find-timeout", "1", "--out", "/dev/null"],
                               env=probe_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r.returncode == 0:
                ok = True
                break
        stop(drawer)
        if not ok:
            result["error"] = "viewer never showed the server's screen" + (" (exited)" if viewer.poll() is not None else "")
            return result
        time.sleep(0.5)
        for scene, first in SCENES:
            frames = os.path.join(outdir, f"{tag}.{scene}.frames")
            seen = os.path.join(outdir, f"{tag}.{scene}.seen")
            total = args.warmup + args.duration
            t0 = time.monotonic()
            drawer = start([f"{bin_dir}/drawer", "--scene", scene, "--duration", str(total + 0.3),
                            "--start", str(first), "--frames", frames], env=draw_env)
            probe = start([f"{bin_dir}/probe", "--duration", str(total + 0.2), "--find-timeout", "5",
                           "--out", seen], env=probe_env)
            ws = t0 + args.warmup
            time.sleep(max(0, ws - time.monotonic()))
            ws = time.monotonic()
            c0 = cpu_snapshot(pids)
            time.sleep(args.duration)
            c1 = cpu_snapshot(pids)
            we = time.monotonic()
            probe.wait()
            drawer.wait()
            PROCS.remove(probe)
            PROCS.remove(drawer)
            r = analyse_scene(frames, seen, ws, we)
            r["cpu"] = cpu_percent(c0, c1, we - ws)
            result[scene] = r
            time.sleep(0.3)
        if args.keys > 0:
            keys = os.path.join(outdir, f"{tag}.keys.recv")
            sent = os.path.join(outdir, f"{tag}.keys.sent")
            dur = args.keys * 0.15 + 3
            drawer = start([f"{bin_dir}/drawer", "--scene", "square", "--duration", str(dur), "--start", "40000",
                            "--keys", keys, "--fps", "10"], env=draw_env)
            subprocess.run([f"{bin_dir}/probe", "--type", str(args.keys), "--find-timeout", "5", "--out", sent],
                           env=probe_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
            stop(drawer)
            result["keys"] = analyse_keys(sent, keys)
        if kind == "ours":
            viewer_log.flush()
            with open(viewer_log.name, errors="replace") as f:
                text = f.read()
            if "GL display:" in text:
                result["display_impl"] = "gl"
            else:
                # display.rs holds cairo surfaces under the cairo renderer,
                # textures under the others.
                cairo = extra.get("GSK_RENDERER") == "cairo"
                direct = extra.get("VIRT_MANAGER_DISPLAY_DIRECT") != "0"
                result["display_impl"] = ("tiles (cairo nodes) + direct X11" if direct else "tiles (cairo nodes)") \
                    if cairo else "tiles (textures)"
            if "OpenGL unavailable" in text:
                result["display_impl"] = "gl (failed)"
    finally:
        stop(viewer)
        viewer_log.close()
        stop(xvfb)
    return result


def fmt(v, spec="{:.1f}"):
    return "–" if v is None else spec.format(v)


def median_of(results, viewer, path):
    vals = []
    for r in results:
        if r["viewer"] != viewer:
            continue
        v = r
        for k in path:
            v = v.get(k) if isinstance(v, dict) else None
            if v is None:
                break
        if v is not None:
            vals.append(v)
    return statistics.median(vals) if vals else None


def report(results, args, meta):
    names = [v for v in args.viewers]
    lines = []
    lines.append("# Console benchmark: our console against gvncviewer and TigerVNC vncviewer")
    lines.append("")
    lines.append(f"Run {meta['date']} on {meta['host']}: {meta['cpus']} CPUs, load before {meta['load_before']}, after {meta['load_after']}.")
    lines.append(f"Server: TigerVNC Xvnc {meta['tigervnc']} at {args.size}, depth 24, `{' '.join(meta['xvnc_args'])}`; "
                 f"60 frames/s drawn by tools/bench/console/drawer.c. Viewers each in their own Xvfb {args.screen} at 1:1, "
                 f"one after another, same server, same run. GTK {meta['gtk4']} (ours), gtk-vnc {meta['gtkvnc']} (gvncviewer, GTK 3), "
                 f"GL: {meta['gl']}.")
    lines.append(f"Each scene: {args.warmup:g} s warm-up, then {args.duration:g} s measured; "
                 f"{args.repeat} repeat(s), figures are medians over repeats. Probe samples every 2 ms.")
    lines.append("")
    lines.append("Columns: shown/s = distinct frames seen per second (of 60); latency = server has frame n → viewer's screen shows n or later; "
                 "stall = longest time without a new frame; CPU = viewer process, % of one core (+Xvfb: plus the X server it draws into; "
                 "Xvnc: the server's encoding for this viewer).")
    for scene, _ in SCENES:
        lines.append("")
        lines.append(f"## Scene: {'whole screen changing' if scene == 'full' else '200x200 square changing'}")
        lines.append("")
        lines.append("| viewer | GSK_RENDERER | display | shown/s | latency median ms | p95 ms | longest stall ms | stalls >20 ms | CPU % | +Xvfb % | Xvnc % |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for v in names:
            kind, extra = VIEWERS[v]
            errs = [r.get("error") or r.get(scene, {}).get("error") for r in results if r["viewer"] == v]
            errs = [e for e in errs if e]
            impl = next((r.get("display_impl") for r in results if r["viewer"] == v and r.get("display_impl")), None)
            if kind != "ours":
                impl = {"gvncviewer": "gtk-vnc (cairo)", "vncviewer": "FLTK"}[kind]
            if errs and median_of(results, v, [scene, "shown_per_s"]) is None:
                lines.append(f"| {v} | {extra.get('GSK_RENDERER', '–')} | {impl or '–'} | failed: {errs[0]} |||||||| ")
                continue
            m = lambda *p: median_of(results, v, [scene, *p])
            cpu_v, cpu_x, cpu_s = m("cpu", "viewer"), m("cpu", "xvfb"), m("cpu", "xvnc")
            lines.append(
                f"| {v} | {extra.get('GSK_RENDERER', '–')} | {impl or '–'} | {fmt(m('shown_per_s'))} | {fmt(m('lat_median_ms'))} | "
                f"{fmt(m('lat_p95_ms'))} | {fmt(m('stall_ms'))} | {fmt(m('stalls_over_20ms'), '{:.0f}')} | {fmt(cpu_v, '{:.0f}')} | "
                f"{fmt(None if cpu_v is None or cpu_x is None else cpu_v + cpu_x, '{:.0f}')} | {fmt(cpu_s, '{:.0f}')} |")
        # Ratios against gvncviewer.
        if "gvncviewer" in names:
            g_lat = median_of(results, "gvncviewer", [scene, "lat_median_ms"])
            g_cpu = median_of(results, "gvncviewer", [scene, "cpu", "viewer"])
            g_cpux = median_of(results, "gvncviewer", [scene, "cpu", "xvfb"])
            lines.append("")
            lines.append("Ours against gvncviewer (goals: 60 of 60 shown, latency ratio ≤ 0.5, no stall over 20 ms, CPU ratio ≤ 1):")
            lines.append("")
            lines.append("| viewer | shown/s | latency ratio | longest stall ms | CPU ratio | CPU ratio with Xvfb | goals met |")
            lines.append("|---|---|---|---|---|---|---|")
            for v in names:
                if VIEWERS[v][0] != "ours":
                    continue
                m = lambda *p: median_of(results, v, [scene, *p])
                lat, cpu, cpux, shown, stall = m("lat_median_ms"), m("cpu", "viewer"), m("cpu", "xvfb"), m("shown_per_s"), m("stall_ms")
                lr = lat / g_lat if lat is not None and g_lat else None
                cr = cpu / g_cpu if cpu is not None and g_cpu else None
                crx = (cpu + cpux) / (g_cpu + g_cpux) if None not in (cpu, cpux, g_cpu, g_cpux) and (g_cpu + g_cpux) else None
                goals = []
                if shown is not None:
                    goals.append("60/60" if shown >= 59.5 else f"shown {shown:.1f}")
                if lr is not None:
                    goals.append("latency" if lr <= 0.5 else "latency ✗")
                if stall is not None:
                    goals.append("stall" if stall <= 20 else "stall ✗")
                if cr is not None:
                    goals.append("CPU" if cr <= 1 else "CPU ✗")
                lines.append(f"| {v} | {fmt(shown)} | {fmt(lr, '{:.2f}')} | {fmt(stall)} | {fmt(cr, '{:.2f}')} | {fmt(crx, '{:.2f}')} | {', '.join(goals)} |")
    if args.keys > 0:
        lines.append("")
        lines.append("## Input latency: XTest key press in the viewer's Xvfb → KeyPress at an X client in Xvnc")
        lines.append("")
        lines.append("| viewer | keys sent | received | median ms | p95 ms |")
        lines.append("|---|---|---|---|---|")
        for v in names:
            m = lambda k: median_of(results, v, ["keys", k])
            lines.append(f"| {v} | {fmt(m('sent'), '{:.0f}')} | {fmt(m('received'), '{:.0f}')} | {fmt(m('key_median_ms'), '{:.2f}')} | {fmt(m('key_p95_ms'), '{:.2f}')} |")
    if args.repeat > 1:
        lines.append("")
        lines.append("## Every repeat (shown/s, latency median/p95 ms, longest stall ms, viewer CPU %)")
        lines.append("")
        lines.append("| viewer | repeat | full | square |")
        lines.append("|---|---|---|---|")
        for r in results:
            cells = []
            for scene, _ in SCENES:
                s = r.get(scene)
                if not s or "error" in s:
                    cells.append((s or {}).get("error", r.get("error", "–")))
                else:
                    cells.append(f"{fmt(s['shown_per_s'])}, {fmt(s['lat_median_ms'])}/{fmt(s['lat_p95_ms'])}, {fmt(s['stall_ms'])}, {fmt(s['cpu'].get('viewer'), '{:.0f}')}")
            lines.append(f"| {r['viewer']} | {r['repeat']} | {cells[0]} | {cells[1]} |")
    lines.append("")
    lines.append("Raw data (frames drawn, frames seen, keys) and logs: " + os.path.relpath(args.raw, os.getcwd()) + "/.")
    return "\n".join(lines) + "\n"


def tool_version(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout.strip() or "?"
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--app", default="target/release/virt-manager")
    ap.add_argument("--bin-dir", required=True, help="where drawer and probe are")
    ap.add_argument("--out", default="target/bench/console.md")
    ap.add_argument("--raw", default="target/bench/console")
    ap.add_argument("--viewers", default=",".join(DEFAULT_VIEWERS))
    ap.add_argument("--size", default="1024x720", help="the server's screen")
    ap.add_argument("--screen", default="1280x1024", help="each viewer's Xvfb (room for window chrome)")
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--warmup", type=float, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--keys", type=int, default=40, help="key presses for input latency (0: skip)")
    ap.add_argument("--connect-timeout", type=float, default=30)
    args = ap.parse_args()
    args.viewers = [v for v in args.viewers.split(",") if v]
    for v in args.viewers:
        if v not in VIEWERS:
            ap.error(f"unknown viewer {v}; known: {', '.join(VIEWERS)}")
    missing = [t for t in ["Xvnc", "Xvfb", "gvncviewer", "vncviewer", "dbus-daemon"] if not shutil.which(t)]
    needed = {VIEWERS[v][0] for v in args.viewers}
    missing = [t for t in missing if t in ("Xvnc", "Xvfb", "dbus-daemon") or t in needed]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: apt-get install tigervnc-standalone-server xvfb gvncviewer tigervnc-viewer dbus")
    if "ours" in needed and not os.access(args.app, os.X_OK):
        sys.exit(f"{args.app} is not built: cargo build --release --workspace")

    os.makedirs(args.raw, exist_ok=True)
    base_env = {k: v for k, v in os.environ.items()
                if k not in ("DISPLAY", "WAYLAND_DISPLAY", "GSK_RENDERER", "VIRT_MANAGER_DISPLAY",
                             "VIRT_MANAGER_DISPLAY_DIRECT", "DBUS_SESSION_BUS_ADDRESS")}
    # No accessibility bus: the same for every viewer, and less noise.
    base_env.update({"NO_AT_BRIDGE": "1", "GTK_A11Y": "none", "GDK_BACKEND": "x11"})
    base_env.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="bench-console-rt-"))

    meta = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "host": os.uname().nodename,
        "cpus": os.cpu_count(),
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "tigervnc": tool_version(["dpkg-query", "-W", "-f", "${Version}", "tigervnc-standalone-server"]),
        "gtkvnc": tool_version(["dpkg-query", "-W", "-f", "${Version}", "gvncviewer"]),
        "gtk4": tool_version(["pkg-config", "--modversion", "gtk4"]),
        "gl": "Mesa llvmpipe (software), Xvfb GLX",
    }
    vnc_k = free_vnc_port()
    port = 5900 + vnc_k
    xvnc_args = ["-geometry", args.size, "-depth", "24", "-rfbport", str(port), "-localhost", "-SecurityTypes", "None",
                 "-AlwaysShared", "-FrameRate", "250", "-nolisten", "tcp"]
    meta["xvnc_args"] = ["Xvnc"] + ["PORT" if a == str(port) else a for a in xvnc_args]
    results = []
    try:
        bus = start(["dbus-daemon", "--session", "--nofork", "--print-address=1"], env=base_env, stdout=subprocess.PIPE)
        args.bus = bus.stdout.readline().decode().strip()
        xvnc, vnc_display = start_x(["Xvnc"] + xvnc_args, base_env, os.path.join(args.raw, "xvnc.log"))
        log(f"Xvnc on :{vnc_display}, port {port}; viewers: {', '.join(args.viewers)}")
        for rep in range(1, args.repeat + 1):
            for v in args.viewers:
                log(f"{v} (repeat {rep}/{args.repeat}) ...")
                r = run_viewer(v, args, base_env, xvnc, vnc_display, vnc_k, port, args.raw, rep)
                results.append(r)
                brief = "; ".join(
                    f"{s}: {fmt(r[s].get('shown_per_s'))}/s, {fmt(r[s].get('lat_median_ms'))} ms, stall {fmt(r[s].get('stall_ms'))}, cpu {fmt(r[s].get('cpu', {}).get('viewer'), '{:.0f}')}%"
                    for s, _ in SCENES if s in r and "error" not in r[s])
                log(f"  {r.get('error') or brief}")
    finally:
        stop_all()
    meta["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with open(os.path.join(args.raw, "results.json"), "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    text = report(results, args, meta)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        stop_all()
        sys.exit(130)
