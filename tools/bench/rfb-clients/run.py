#!/usr/bin/python3
"""Side-by-side VNC client decoding benchmark (issue 6, "Performance").

Each recorded session in benches/data is served over loopback by
rfb-replay (replay.c) to three clients in turn: ours (`virt-manager
capture --until-closed`), a libvncclient viewer (libvncclient.c) and a
gtk-vnc viewer (gtkvnc.c). See README.md beside this file for the method
and how to read the tables. tools/bench-rfb-clients.sh builds everything
and runs this; by hand:

    /usr/bin/python3 tools/bench/rfb-clients/run.py [--repeats 5]
        [--encodings zrle,tight] [--clients ours,libvncclient,gtk-vnc]
        [--no-callgrind]

Only the standard library; ImageMagick's `convert` turns PNGs into pixels
for the correctness check.
"""

import argparse
import gzip
import json
import os
import signal
import statistics
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "benches" / "data"
OUT = ROOT / "target" / "bench" / "rfb-clients"
BIN = OUT  # the C programs, built by tools/bench-rfb-clients.sh
OURS = ROOT / "target" / "release" / "virt-manager"

# name, number, JPEG quality the recording was made with (None: lossless
# session), libvncclient's name, gtk-vnc support, truth image, check.
ENCODINGS = [
    ("raw", 0, None, "raw", True, "truth.png", "exact"),
    ("copyrect", 1, None, "copyrect", True, "truth.png", "exact"),
    ("rre", 2, None, "rre", True, "truth.png", "exact"),
    ("hextile", 5, None, "hextile", True, "truth.png", "exact"),
    ("zlib", 6, None, "zlib", False, "truth.png", "exact"),
    ("tight", 7, None, "tight", True, "truth.png", "exact"),
    ("tight-jpeg", 7, 8, "tight", True, "truth.png", "psnr30"),
    ("zrle", 16, None, "zrle", True, "truth.png", "exact"),
    ("tightpng", -260, None, "tightpng", False, "qemu-truth.png", "cell9x16"),
]
CLIENTS = ["ours", "libvncclient", "gtk-vnc"]

# ----------------------------------------------------------------------------
# Recordings: walked without decoding, for the pixel totals.

PSEUDO = {-239: "Cursor", -314: "CursorWithAlpha", -223: "DesktopSize", -308: "ExtendedDesktopSize",
          -224: "LastRect", -232: "PointerPos", -307: "DesktopName"}


def load_recording(path):
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    if not raw.startswith(b"VMMRFB1\n"):
        raise SystemExit(f"{path}: not a VMMRFB1 recording")
    w, h = struct.unpack(">HH", raw[8:12])
    return w, h, raw[12:]


def compact_len(d, p):
    """Tight's 1-3 byte length."""
    b = d[p]
    p += 1
    n = b & 0x7F
    if b & 0x80:
        b = d[p]
        p += 1
        n |= (b & 0x7F) << 7
        if b & 0x80:
            n |= d[p] << 14
            p += 1
    return n, p


def skip_tight(d, p, w, h):
    cc = d[p]
    p += 1
    kind = cc >> 4
    if kind == 8:  # fill: one TPIXEL (3 bytes at 32 bpp depth 24)
        return p + 3
    if kind in (9, 10):  # JPEG, PNG
        n, p = compact_len(d, p)
        return p + n
    if kind > 10:
        raise ValueError(f"bad Tight control byte {cc:#x}")
    filt = 0
    if kind & 4:
        filt = d[p]
        p += 1
    if filt == 1:  # palette
        colours = d[p] + 1
        p += 1 + 3 * colours
        size = h * ((w + 7) // 8) if colours == 2 else w * h
    elif filt in (0, 2):
        size = w * h * 3
    else:
        raise ValueError(f"bad Tight filter {filt}")
    if size < 12:
        return p + size
    n, p = compact_len(d, p)
    return p + n


def skip_hextile(d, p, w, h):
    for ty in range(0, h, 16):
        th = min(16, h - ty)
        for tx in range(0, w, 16):
            tw = min(16, w - tx)
            s = d[p]
            p += 1
            if s & 1:
                p += tw * th * 4
                continue
            if s & 2:
                p += 4
            if s & 4:
                p += 4
            if s & 8:
                n = d[p]
                p += 1 + n * (6 if s & 16 else 2)
    return p


def walk_rect(d, p, w, h, e):
    """The end of the body of a rectangle of encoding `e` starting at `p`."""
    if e == 0:
        return p + w * h * 4
    if e == 1:
        return p + 4
    if e == 2:
        (n,) = struct.unpack(">I", d[p:p + 4])
        return p + 8 + 12 * n
    if e == 5:
        return skip_hextile(d, p, w, h)
    if e in (6, 16):
        (n,) = struct.unpack(">I", d[p:p + 4])
        return p + 4 + n
    if e in (7, -260):
        return skip_tight(d, p, w, h)
    if e == -239:
        return p + w * h * 4 + (w + 7) // 8 * h
    if e == -314:
        return p + 4 + w * h * 4  # assumes Raw inside
    if e in (-223, -232):
        return p
    if e == -308:
        return p + 4 + 16 * d[p]
    if e == -307:
        (n,) = struct.unpack(">I", d[p:p + 4])
        return p + 4 + n
    raise ValueError(f"encoding {e} at {p}: cannot skip it")


def walk(d):
    """Updates, rectangles and pixel bytes per encoding of a recording."""
    stats = {"updates": 0, "rects": {}, "pixel_bytes": 0}
    p = 0
    while p < len(d):
        t = d[p]
        if t == 0:
            (count,) = struct.unpack(">H", d[p + 2:p + 4])
            p += 4
            stats["updates"] += 1
            for _ in range(count):
                x, y, w, h, e = struct.unpack(">HHHHi", d[p:p + 12])
                p += 12
                if e == -224:
                    break
                name = PSEUDO.get(e, str(e))
                stats["rects"][name] = stats["rects"].get(name, 0) + 1
                p = walk_rect(d, p, w, h, e)
                if e >= 0 or e == -260:
                    stats["pixel_bytes"] += w * h * 4
        elif t == 1:
            (n,) = struct.unpack(">H", d[p + 4:p + 6])
            p += 6 + 6 * n
        elif t == 2:
            p += 1
        elif t == 3:
            (n,) = struct.unpack(">I", d[p + 4:p + 8])
            p += 8 + n
        else:
            raise ValueError(f"server message {t} at {p}")
    if p != len(d):
        raise ValueError(f"walked past the end ({p} of {len(d)})")
    return stats


# ----------------------------------------------------------------------------
# Images

def png_rgb(path):
    """(w, h, RGB bytes) of a PNG, through ImageMagick."""
    size = subprocess.run(["identify", "-format", "%w %h", str(path)], check=True,
                          capture_output=True, text=True).stdout.split()
    rgb = subprocess.run(["convert", str(path), "-depth", "8", "rgb:-"], check=True,
                         capture_output=True).stdout
    return int(size[0]), int(size[1]), rgb


def ppm_rgb(path):
    data = path.read_bytes()
    fields, p = [], 0
    while len(fields) < 4:
        while data[p:p + 1].isspace():
            p += 1
        q = p
        while not data[q:q + 1].isspace():
            q += 1
        fields.append(data[p:q])
        p = q
    p += 1
    if fields[0] != b"P6" or fields[3] != b"255":
        raise ValueError(f"{path}: not an 8-bit binary PPM")
    return int(fields[1]), int(fields[2]), data[p:]


def compare(got, want, check):
    """None when `got` passes against `want`, else what is wrong."""
    (gw, gh, g), (ww, wh, wt) = got, want
    if (gw, gh) != (ww, wh):
        return f"size {gw}x{gh}, expected {ww}x{wh}"
    if len(g) != len(wt):
        return f"{len(g)} bytes of pixels, expected {len(wt)}"
    if check == "psnr30":
        se = sum((a - b) * (a - b) for a, b in zip(g, wt))
        if se == 0:
            return None
        import math
        db = 10 * math.log10(255 * 255 * len(g) / se)
        return None if db > 30 else f"PSNR {db:.1f} dB (needs > 30)"
    wrong, box = 0, None
    for i in range(0, len(g), 3):
        if g[i:i + 3] != wt[i:i + 3]:
            wrong += 1
            x, y = (i // 3) % gw, (i // 3) // gw
            box = (x, y, x, y) if box is None else (min(box[0], x), min(box[1], y), max(box[2], x), max(box[3], y))
    if wrong == 0:
        return None
    if check == "cell9x16" and box[2] - box[0] < 9 and box[3] - box[1] < 16:
        return None  # SeaBIOS's blinking text cursor
    return f"{wrong} pixels differ, in ({box[0]},{box[1]})-({box[2]},{box[3]})"


def fixed_recording(truth_name):
    """A recording of one Raw update of the truth image: what a client
    pays besides decoding (start, connect, framebuffer, final PNG of the
    same picture, exit) plus a 1.2 MB copy."""
    path = OUT / "data" / f"fixed-{Path(truth_name).stem}.rfb"
    if not path.exists():
        w, h, rgb = png_rgb(DATA / truth_name)
        px = bytearray(w * h * 4)
        px[0::4], px[1::4], px[2::4] = rgb[2::3], rgb[1::3], rgb[0::3]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"VMMRFB1\n" + struct.pack(">HH", w, h) + b"\0\0\0\x01"
                         + struct.pack(">HHHHi", 0, 0, w, h, 0) + bytes(px))
    return path


def encode_compact_len(n):
    """Tight's 1-3 byte length."""
    out = bytearray([n & 0x7F])
    if n > 0x7F:
        out[0] |= 0x80
        out.append((n >> 7) & 0x7F)
        if n > 0x3FFF:
            out[1] |= 0x80
            out.append(n >> 14)
    return bytes(out)


class Rezip:
    """One zlib stream of a recording, inflated as the recording's client
    would (afresh for every copy) and deflated again as one continuous
    stream at `level`, a sync-flush after every rectangle (as the servers
    do)."""

    def __init__(self, level):
        self.level = level
        self.deflate = zlib.compressobj(level)
        self.inflate = zlib.decompressobj()

    def new_copy(self):
        self.inflate = zlib.decompressobj()

    def reset(self):
        self.deflate = zlib.compressobj(self.level)
        self.inflate = zlib.decompressobj()

    def chunk(self, data):
        raw = self.inflate.decompress(data)
        return self.deflate.compress(raw) + self.deflate.flush(zlib.Z_SYNC_FLUSH)


def copy_session(d, streams):
    """One pass over the recording's bytes `d`, with every zlib chunk
    re-encoded through `streams` (stream id -> Rezip, carried on from
    the previous copy, so that the copies form one valid session)."""
    for z in streams.values():
        z.new_copy()
    out = bytearray()
    p = 0
    while p < len(d):
        t = d[p]
        if t != 0:
            raise ValueError(f"server message {t}: only FramebufferUpdates are copied")
        (count,) = struct.unpack(">H", d[p + 2:p + 4])
        out += d[p:p + 4]
        p += 4
        for _ in range(count):
            x, y, w, h, e = struct.unpack(">HHHHi", d[p:p + 12])
            out += d[p:p + 12]
            p += 12
            if e in (6, 16):  # Zlib, ZRLE: u32 length, one stream
                (n,) = struct.unpack(">I", d[p:p + 4])
                z = streams[e].chunk(d[p + 4:p + 4 + n])
                out += struct.pack(">I", len(z)) + z
                p += 4 + n
            elif e in (7, -260):  # Tight, TightPNG: four streams
                start = p
                cc = d[p]
                for i in range(4):
                    if cc & (1 << i):
                        streams[(e, i)].reset()
                kind = cc >> 4
                end = skip_tight(d, p, w, h)
                if kind >= 8:
                    out += d[start:end]
                else:
                    # ctl, filter, palette: as recorded; then the data.
                    q = p + 1
                    filt = 0
                    if kind & 4:
                        filt = d[q]
                        q += 1
                    if filt == 1:
                        colours = d[q] + 1
                        q += 1 + 3 * colours
                        size = h * ((w + 7) // 8) if colours == 2 else w * h
                    else:
                        size = w * h * 3
                    out += d[start:q]
                    if size < 12:
                        out += d[q:end]
                    else:
                        n, q = compact_len(d, q)
                        z = streams[(e, kind & 3)].chunk(d[q:q + n])
                        out += encode_compact_len(len(z)) + z
                p = end
            else:
                end = walk_rect(d, p, w, h, e)
                out += d[p:end]
                p = end
    return bytes(out)


def zlib_level(d):
    """The deflate level closest to the recording's own: the one whose
    re-encoded copy is nearest the recording's size."""
    best = None
    for level in range(1, 10):
        size = len(copy_session(d, Streams(level)))
        if best is None or abs(size - len(d)) < best[0]:
            best = (abs(size - len(d)), level)
    return best[1]


class Streams(dict):
    def __init__(self, level):
        super().__init__()
        self.level = level

    def __missing__(self, key):
        self[key] = Rezip(self.level)
        return self[key]


def stateful(name):
    return name in ("zlib", "tight", "tight-jpeg", "zrle", "tightpng")


def served_recording(name, src, copies):
    """The session the timed runs serve: the recording `copies` times over
    (every recording starts with an update of the whole screen, so each
    copy ends on the same picture). Encodings with zlib streams get them
    re-encoded as one continuous stream across the copies, at the deflate
    level nearest the recording's own size. Returns (path, info)."""
    if copies <= 1:
        return src, {"copies": 1, "level": None}
    path = OUT / "data" / f"{name}-x{copies}.rfb"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists() and path.stat().st_mtime >= src.stat().st_mtime:
        return path, json.loads(meta.read_text())
    w, h, d = load_recording(src)
    level = None
    if stateful(name):
        level = zlib_level(d)
        streams = Streams(level)
        body = b"".join(copy_session(d, streams) for _ in range(copies))
    else:
        body = d * copies
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"VMMRFB1\n" + struct.pack(">HH", w, h) + body)
    info = {"copies": copies, "level": level}
    meta.write_text(json.dumps(info))
    return path, info


# ----------------------------------------------------------------------------
# Runs

def client_command(client, enc, port, dump=None):
    name, number, quality, lv_name, _, _, _ = enc
    if client == "ours":
        offer = name.split("-")[0] if number != 0 else "raw"
        cmd = [str(OURS), "capture", f"vnc://127.0.0.1:{port}", str(dump or OUT / "tmp" / "ours.png"),
               "--until-closed", "--encodings", offer if number == 0 else f"{offer},raw"]
        if quality is not None:
            cmd += ["--quality", str(quality)]
    elif client == "libvncclient":
        cmd = [str(BIN / "rfb-libvncclient"), str(port), lv_name if number == 0 else f"{lv_name} raw"]
        if quality is not None:
            cmd += ["--quality", str(quality)]
        if dump:
            cmd += ["--dump", str(dump)]
    else:
        cmd = [str(BIN / "rfb-gtkvnc"), str(port), str(number)]
        if quality is not None:
            cmd += ["--quality", str(quality)]
        if dump:
            cmd += ["--dump", str(dump)]
    return cmd


def run_once(client, enc, recording, server_encoding, dump=None, prefix=(), timeout=300):
    """Serves `recording` to one client run. Returns a dict: ok, error,
    drain_ms (server: first byte to the client's close), cpu_ms and
    wall_ms (client process, from wait4), maxrss_kb, server report."""
    server = subprocess.Popen([str(BIN / "rfb-replay"), str(recording), "--encoding", str(server_encoding),
                               "--timeout", str(timeout)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True)
    line = server.stdout.readline()
    if not line.startswith("PORT "):
        server.wait()
        raise SystemExit(f"rfb-replay did not start: {server.stderr.read()}")
    port = int(line.split()[1])
    log = OUT / "logs" / f"{client}.log"
    cmd = list(prefix) + client_command(client, enc, port, dump)
    start = time.monotonic()
    with open(log, "a") as lf:
        lf.write(f"$ {' '.join(cmd)}\n")
        lf.flush()
        proc = subprocess.Popen(cmd, stdout=lf, stderr=lf, stdin=subprocess.DEVNULL)
        killer = threading.Timer(timeout, lambda: os.kill(proc.pid, signal.SIGKILL))
        killer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        killer.cancel()
        wall = (time.monotonic() - start) * 1e3
        proc.returncode = os.waitstatus_to_exitcode(status)
    try:
        out, err = server.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        out, err = server.communicate()
    report = {}
    for ln in out.splitlines():
        if ln.startswith("{"):
            report = json.loads(ln)
    result = {
        "rc": proc.returncode,
        "wall_ms": wall,
        "cpu_ms": (usage.ru_utime + usage.ru_stime) * 1e3,
        "maxrss_kb": usage.ru_maxrss,
        "drain_ms": report.get("drain_ms", -1),
        "setup_ms": report.get("setup_ms", -1),
        "server": report,
    }
    problems = []
    if not report.get("ok"):
        problems.append("server: " + (report.get("error") or err.strip() or "no report"))
    if proc.returncode != 0:
        problems.append(f"client exited with {proc.returncode} (see {log.relative_to(ROOT)})")
    result["ok"] = not problems
    result["error"] = "; ".join(problems)
    return result


def callgrind(client, enc, recording, server_encoding, tag):
    out = OUT / "callgrind" / f"{client}.{tag}.out"
    prefix = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", "--dump-instr=no",
              f"--log-file={OUT / 'callgrind' / (client + '.' + tag + '.log')}"]
    r = run_once(client, enc, recording, server_encoding, prefix=prefix, timeout=900)
    if not r["ok"]:
        return None, r["error"]
    for ln in out.read_text().splitlines():
        if ln.startswith("summary:") or ln.startswith("totals:"):
            return int(ln.split()[1]), None
    return None, "no totals in the callgrind output"


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def fmt(x, digits=0):
    if x is None or x != x:
        return "–"
    return f"{x:,.{digits}f}".replace(",", " ")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--pixel-mb", type=float, default=100,
                    help="timed sessions repeat each recording until they write at least this many MB "
                         "of pixels (0: the recordings as they are)")
    ap.add_argument("--encodings", default=",".join(e[0] for e in ENCODINGS))
    ap.add_argument("--clients", default=",".join(CLIENTS))
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "target" / "bench" / "rfb-clients.md"))
    args = ap.parse_args()
    wanted = args.encodings.split(",")
    encs = [e for e in ENCODINGS if e[0] in wanted]
    clients = [c for c in args.clients.split(",") if c in CLIENTS]
    for d in ("logs", "tmp", "dumps", "callgrind", "data"):
        (OUT / d).mkdir(parents=True, exist_ok=True)
    for f in (OUT / "logs").glob("*.log"):
        f.unlink()

    print("Walking the recordings ...", file=sys.stderr)
    recs = {}
    for enc in encs:
        path = DATA / f"{enc[0]}.rfb.gz"
        w, h, d = load_recording(path)
        recs[enc[0]] = {"path": path, "width": w, "height": h, "wire": len(d), **walk(d)}
        copies = max(1, -(-int(args.pixel_mb * 1e6) // recs[enc[0]]["pixel_bytes"])) if args.pixel_mb > 0 else 1
        served, info = served_recording(enc[0], path, copies)
        served_wire = served.stat().st_size - 12 if copies > 1 else len(d)
        recs[enc[0]].update(served=served, copies=copies, level=info["level"], served_wire=served_wire,
                            served_pixel_bytes=recs[enc[0]]["pixel_bytes"] * copies)

    # Who can decode what: what the client offers (checked by the server)
    # and whether its final framebuffer is right.
    print("Checking every client's final framebuffer ...", file=sys.stderr)
    truths = {}
    verdict = {}  # (client, encoding) -> None (fine) or the reason it is left out
    for enc in encs:
        truth = enc[5]
        if truth not in truths:
            truths[truth] = png_rgb(DATA / truth)
        for c in clients:
            if c == "gtk-vnc" and not enc[4]:
                verdict[(c, enc[0])] = "lacks " + enc[0]
                continue
            ext = "png" if c == "ours" else "ppm"
            dump = OUT / "dumps" / f"{c}-{enc[0]}.{ext}"
            dump.unlink(missing_ok=True)
            r = run_once(c, enc, recs[enc[0]]["served"], enc[1], dump=dump)
            if not r["ok"]:
                err = r["error"]
                if "did not offer" in err:
                    verdict[(c, enc[0])] = "lacks " + enc[0] + " (does not offer it)"
                else:
                    verdict[(c, enc[0])] = "FAILED: " + err
                continue
            got = png_rgb(dump) if c == "ours" else ppm_rgb(dump)
            bad = compare(got, truths[truth], enc[6])
            verdict[(c, enc[0])] = f"MISMATCH: {bad}" if bad else None

    # Fixed costs: one Raw update of the same picture, per client and size.
    fixed_recs = {t: fixed_recording(t) for t in {e[5] for e in encs}}
    raw_enc = ENCODINGS[0]

    # Timed runs, interleaved: every repeat goes through every encoding,
    # each time through every client, in a rotated order.
    results = {}  # (client, name) -> [runs]
    fixed = {}  # (client, truth) -> [runs]
    print(f"Timing {args.repeats} repeats ...", file=sys.stderr)
    for rep in range(args.repeats):
        order = clients[rep % len(clients):] + clients[:rep % len(clients)]
        for c in order:
            for t, path in fixed_recs.items():
                r = run_once(c, raw_enc, path, 0)
                if not r["ok"]:
                    raise SystemExit(f"{c}: the fixed-cost run failed: {r['error']}")
                fixed.setdefault((c, t), []).append(r)
        for enc in encs:
            for c in order:
                if verdict[(c, enc[0])] is not None:
                    continue
                r = run_once(c, enc, recs[enc[0]]["served"], enc[1])
                if not r["ok"]:
                    verdict[(c, enc[0])] = "FAILED: " + r["error"]
                    continue
                r["repeat"] = rep
                results.setdefault((c, enc[0]), []).append(r)
        print(f"  repeat {rep + 1} done", file=sys.stderr)

    # The server alone: a client that reads and discards.
    sink = {}
    for enc in encs:
        times = []
        for _ in range(args.repeats):
            server = subprocess.Popen([str(BIN / "rfb-replay"), str(recs[enc[0]]["served"]), "--encoding",
                                       str(enc[1])], stdout=subprocess.PIPE, text=True)
            port = int(server.stdout.readline().split()[1])
            subprocess.run([str(BIN / "rfb-sink"), str(port), str(enc[1])], check=True, stdout=subprocess.DEVNULL)
            out, _ = server.communicate(timeout=30)
            times.append(json.loads(out.strip().splitlines()[-1])["drain_ms"])
        sink[enc[0]] = median(times)

    # Instruction counts.
    irs = {}
    if not args.no_callgrind:
        print("Counting instructions (callgrind) ...", file=sys.stderr)
        for c in clients:
            for t, path in fixed_recs.items():
                n, err = callgrind(c, raw_enc, path, 0, f"fixed-{Path(t).stem}")
                irs[(c, "fixed-" + t)] = n
            for enc in encs:
                if verdict[(c, enc[0])] is not None:
                    continue
                n, err = callgrind(c, enc, recs[enc[0]]["path"], enc[1], enc[0])
                if err:
                    print(f"  callgrind {c} {enc[0]}: {err}", file=sys.stderr)
                irs[(c, enc[0])] = n

    # ------------------------------------------------------------------
    # Tables
    lines = []
    say = lines.append
    short = {"ours": "ours", "libvncclient": "libvncclient", "gtk-vnc": "gtk-vnc"}
    say("# VNC clients decoding recorded sessions over loopback")
    say("")
    say(f"{time.strftime('%Y-%m-%d %H:%M')}, {os.uname().nodename}, {os.cpu_count()} CPUs; "
        f"{args.repeats} runs per client and session, clients interleaved. "
        "MB = 10^6 bytes of framebuffer pixels written (sum of w*h*4 over the pixel rectangles).")
    say("")
    if args.pixel_mb > 0:
        say(f"Each timed session is its recording served {'several times over' if any(r['copies'] > 1 for r in recs.values()) else 'once'}, "
            f"in one connection, until it writes at least {args.pixel_mb:g} MB of pixels (column \"copies\"; "
            "every recording starts with an update of the whole screen, so each copy ends on the same "
            "picture), so that a session lasts long enough to time. Sessions with zlib streams (Zlib, "
            "ZRLE, Tight) have them re-encoded as one continuous stream across the copies, at the deflate "
            "level that gives the recording's own size most closely (column \"zlib level\"). Every client is "
            "served the same bytes; the correctness check below is of these sessions. The instruction counts "
            "are of one copy, the recording as it is.")
        say("")
    say("## Wall clock: server's first byte sent to the client's close")
    say("")
    say("The replay server streams the whole session as fast as the socket takes it and stops its clock "
        "when the client, having read and decoded everything, closes its end. "
        "Startup, plugin loading and our final PNG fall outside this window. "
        "ms: median, then (min–max) of the runs. Ratios: ours' speed over the other client's, the median of "
        "the ratios of runs made in the same repeat (one after the other), then (min–max) of those ratios.")
    say("")
    hdr = "| session | copies | pixel MB | wire MB | " + " | ".join(f"{short[c]} ms | {short[c]} MB/s"
                                                              for c in clients)
    ratios = [c for c in clients if c != "ours"] if "ours" in clients else []
    hdr += "".join(f" | ours / {c}" for c in ratios) + " | server alone MB/s |"
    say(hdr)
    say("|" + "---|" * (hdr.count("|") - 1))

    def cell(c, name, key):
        v = verdict.get((c, name))
        if v is not None:
            return None, v
        runs = results.get((c, name), [])
        return [r[key] for r in runs], None

    def paired(name, other, key):
        """Per repeat: other's time / ours (ours' speed over theirs)."""
        mine = {r["repeat"]: r[key] for r in results.get(("ours", name), [])}
        theirs = {r["repeat"]: r[key] for r in results.get((other, name), [])}
        return [theirs[k] / mine[k] for k in mine if k in theirs and mine[k] > 0]

    def cpu(c, name, truth):
        v = verdict.get((c, name))
        if v is not None:
            return None, v
        base = median([r["cpu_ms"] for r in fixed[(c, truth)]])
        return median([r["cpu_ms"] for r in results[(c, name)]]) - base, None

    goal_misses = []
    for enc in encs:
        name = enc[0]
        px = recs[name]["served_pixel_bytes"] / 1e6
        row = [name, str(recs[name]["copies"]), fmt(px, 1), fmt(recs[name]["served_wire"] / 1e6, 2)]
        speeds = {}
        for c in clients:
            times, why = cell(c, name, "drain_ms")
            if why:
                row += [why, "–"]
            elif not times:
                row += ["no runs", "–"]
            else:
                ms = median(times)
                speeds[c] = px / (ms / 1e3)
                row += [f"{fmt(ms, 1)} ({fmt(min(times), 1)}–{fmt(max(times), 1)})", fmt(speeds[c])]
        for c in ratios:
            qs = paired(name, c, "drain_ms") if "ours" in speeds and c in speeds else []
            if qs:
                q = median(qs)
                row.append(f"{q:.2f}x ({min(qs):.2f}–{max(qs):.2f})")
                if q < 1.5:
                    goal_misses.append(f"{name}: ours / {c} = {q:.2f}x (wall)")
            else:
                row.append("–")
        row.append(fmt(px / (sink[name] / 1e3)))
        say("| " + " | ".join(row) + " |")
    say("")
    say("## CPU time of the client process (wait4), minus its fixed cost")
    say("")
    say("User + system CPU of the whole client process (every thread), minus the median CPU of the same client "
        "served one Raw update of the same final picture (start, connect, framebuffer, its exit work — our "
        "PNG of the same picture — and a 1.2 MB copy). Coarser than the wall clock (the kernel counts CPU in "
        "ticks on some machines). Medians.")
    say("")
    hdr = "| session | " + " | ".join(f"{short[c]} CPU ms | {short[c]} MB/s" for c in clients)
    hdr += "".join(f" | ours / {c}" for c in ratios) + " |"
    say(hdr)
    say("|" + "---|" * (hdr.count("|") - 1))
    for enc in encs:
        name = enc[0]
        px = recs[name]["served_pixel_bytes"] / 1e6
        row = [name]
        speeds = {}
        for c in clients:
            ms, why = cpu(c, name, enc[5])
            if why:
                row += [why, "–"]
            else:
                speeds[c] = px / (ms / 1e3) if ms > 0 else float("inf")
                row += [fmt(ms, 1), fmt(speeds[c])]
        for c in ratios:
            if "ours" in speeds and c in speeds and speeds[c] not in (0, float("inf")):
                row.append(f"{speeds['ours'] / speeds[c]:.2f}x")
            else:
                row.append("–")
        say("| " + " | ".join(row) + " |")
    if irs:
        say("")
        say("## Instructions (callgrind), minus the fixed-cost run")
        say("")
        say("One run of each client under `valgrind --tool=callgrind`: every instruction of the process, all "
            "threads, minus the same client's fixed-cost run (as above). Repeatable to a few parts per million "
            "whatever the machine is doing.")
        say("")
        hdr = "| session | " + " | ".join(f"{short[c]} Minstr | {short[c]} instr/pixel" for c in clients)
        hdr += "".join(f" | {c} / ours" for c in ratios) + " |"
        say(hdr)
        say("|" + "---|" * (hdr.count("|") - 1))
        for enc in encs:
            name = enc[0]
            pixels = recs[name]["pixel_bytes"] / 4
            row = [name]
            got = {}
            for c in clients:
                n, base = irs.get((c, name)), irs.get((c, "fixed-" + enc[5]))
                if verdict.get((c, name)) is not None or n is None or base is None:
                    row += [verdict.get((c, name)) or "–", "–"]
                else:
                    got[c] = n - base
                    row += [fmt(got[c] / 1e6, 1), fmt(got[c] / pixels, 2)]
            for c in ratios:
                row.append(f"{got[c] / got['ours']:.2f}x" if "ours" in got and c in got and got["ours"] > 0 else "–")
            say("| " + " | ".join(row) + " |")
    say("")
    say("## Fixed costs (one Raw update of the final picture)")
    say("")
    say("| client | picture | process wall ms | CPU ms | drain ms | max RSS MB |" +
        (" Minstr |" if irs else ""))
    say("|---|---|---:|---:|---:|---:|" + ("---:|" if irs else ""))
    for c in clients:
        for t in fixed_recs:
            runs = fixed[(c, t)]
            row = [c, t, fmt(median([r["wall_ms"] for r in runs]), 1), fmt(median([r["cpu_ms"] for r in runs]), 1),
                   fmt(median([r["drain_ms"] for r in runs]), 2),
                   fmt(median([r["maxrss_kb"] for r in runs]) / 1024, 1)]
            if irs:
                n = irs.get((c, "fixed-" + t))
                row.append(fmt(n / 1e6, 1) if n else "–")
            say("| " + " | ".join(row) + " |")
    say("")
    say("## Sessions")
    say("")
    say("One copy, as recorded; the timed sessions serve `copies` of them (zlib streams re-encoded at "
        "`zlib level`, making `served wire bytes`).")
    say("")
    say("| session | size | updates | rectangles | wire bytes | pixel bytes | copies | zlib level | served wire bytes |")
    say("|---|---|---:|---|---:|---:|---:|---:|---:|")
    for enc in encs:
        r = recs[enc[0]]
        rects = ", ".join(f"{('Raw' if k == '0' else k)} {v}" for k, v in sorted(r["rects"].items()))
        say(f"| {enc[0]} | {r['width']}x{r['height']} | {r['updates']} | {rects} | {r['wire']} | {r['pixel_bytes']} "
            f"| {r['copies']} | {r['level'] if r['level'] is not None else '–'} | {r['served_wire']} |")
    say("")
    say("## Correctness")
    say("")
    say("Final framebuffer of one run per client against benches/data/truth.png (lossless: every pixel; "
        "tight-jpeg: PSNR > 30 dB) or qemu-truth.png (tightpng: differences only inside one 9x16 text cell, "
        "SeaBIOS's blinking cursor).")
    say("")
    say("| session | " + " | ".join(clients) + " |")
    say("|---|" + "---|" * len(clients))
    for enc in encs:
        say(f"| {enc[0]} | " + " | ".join("match" if verdict[(c, enc[0])] is None else verdict[(c, enc[0])]
                                           for c in clients) + " |")
    say("")
    if ratios:
        say("Goal (issue 6): ours at least 1.5x each other client on every session they share (wall clock). "
            + ("Met everywhere." if not goal_misses else "Missed: " + "; ".join(goal_misses) + "."))
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text)
    raw = {
        "recordings": {k: {kk: (str(vv) if isinstance(vv, Path) else vv) for kk, vv in v.items()} for k, v in recs.items()},
        "pixel_mb": args.pixel_mb,
        "runs": {f"{c}/{n}": rs for (c, n), rs in results.items()},
        "fixed": {f"{c}/{t}": rs for (c, t), rs in fixed.items()},
        "sink_drain_ms": sink,
        "instructions": {f"{c}/{n}": v for (c, n), v in irs.items()},
        "verdicts": {f"{c}/{n}": v for (c, n), v in verdict.items()},
    }
    (OUT / "results.json").write_text(json.dumps(raw, indent=1))
    print(text)


if __name__ == "__main__":
    main()
