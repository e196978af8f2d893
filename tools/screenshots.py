#!/usr/bin/python3
"""Screenshots of every window, light and dark, into docs/screenshots/.

Runs the real app (target/release/virt-manager, or VMM_BIN) on its demo
host (libvirt's test driver) under a private Xvfb and session bus, opens
each window the way a user or script would (the D-Bus API, the command
line, the application's actions) and saves each window with ImageMagick's
`import`. A TigerVNC Xvnc showing a few X clients is the console's guest.

    tools/screenshots.py [--out docs/screenshots] [--scheme light|dark|both]

Needs: xvfb, dbus, imagemagick, xdotool, tigervnc-standalone-server,
x11-apps (xlogo, xclock, xeyes), xterm is not needed.
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUS = "org.virt_manager.VirtManager1"
PATH = "/org/virt_manager/VirtManager1"
APP_ID = "org.virt_manager.VirtManager"


class Services:
    """Every process started here, stopped by pid in reverse order."""

    def __init__(self):
        self.procs = []

    def start(self, args, **kw):
        p = subprocess.Popen(args, **kw)
        self.procs.append(p)
        return p

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs.clear()


def x_display(services, args):
    """Starts an X server that picks its own display number."""
    r, w = os.pipe()
    services.start(args + ["-displayfd", str(w)], pass_fds=(w,),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    num = b""
    while not num.endswith(b"\n"):
        chunk = os.read(r, 16)
        if not chunk:
            sys.exit("the X server did not start")
        num += chunk
    os.close(r)
    return ":" + num.decode().strip()


def wait(what, fn, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        v = fn()
        if v:
            return v
        time.sleep(0.2)
    sys.exit(f"screenshots: timed out waiting for {what}")


class Session:
    def __init__(self, services, binary, scheme, home):
        self.services = services
        self.binary = binary
        self.home = home
        self.display = x_display(services, ["Xvfb", "-screen", "0", "1400x1000x24", "-nolisten", "tcp"])
        runtime = os.path.join(home, "runtime")
        os.makedirs(runtime, mode=0o700, exist_ok=True)
        bus = services.start(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                             stdout=subprocess.PIPE, text=True)
        self.bus = bus.stdout.readline().strip()
        self.env = dict(os.environ,
                        DISPLAY=self.display,
                        DBUS_SESSION_BUS_ADDRESS=self.bus,
                        HOME=home,
                        XDG_CONFIG_HOME=os.path.join(home, "config"),
                        XDG_DATA_HOME=os.path.join(home, "data"),
                        XDG_CACHE_HOME=os.path.join(home, "cache"),
                        XDG_RUNTIME_DIR=runtime,
                        GSETTINGS_BACKEND="keyfile",
                        GSK_RENDERER="cairo",
                        LANG=os.environ.get("SHOT_LANG", "C.UTF-8"),
                        ADW_DEBUG_COLOR_SCHEME="prefer-dark" if scheme == "dark" else "prefer-light",
                        VIRT_MANAGER_PLUGIN_PATH=os.path.dirname(binary))
        # Sample every second, memory too, so the graphs have a history.
        settings = os.path.join(home, "config", "glib-2.0", "settings")
        os.makedirs(settings, exist_ok=True)
        with open(os.path.join(settings, "keyfile"), "w") as f:
            f.write("[org/virt_manager/VirtManager]\nstats-interval=1\nstats-poll-memory=true\n")
        self.env.pop("WAYLAND_DISPLAY", None)
        self.env.pop("RUST_LOG", None)
        self.log = open(os.path.join(home, "app.log"), "w")
        services.start([binary, "--demo"], env=self.env, stdout=self.log, stderr=self.log)
        wait("the app's D-Bus API", lambda: self.gdbus("ListConnections", check=False) is not None, 40)
        self.uri = wait("the demo host", self.demo_uri, 20)

    def run(self, args, check=True):
        r = subprocess.run(args, env=self.env, capture_output=True, text=True)
        if check and r.returncode != 0:
            sys.exit(f"screenshots: {' '.join(args)} failed: {r.stderr.strip()}")
        return r.stdout if r.returncode == 0 else None

    def gdbus(self, method, *args, check=True):
        return self.run(["gdbus", "call", "--session", "--dest", BUS, "--object-path", PATH,
                         "--method", f"{BUS}.{method}", *args], check)

    def action(self, name):
        self.run(["gdbus", "call", "--session", "--dest", APP_ID, "--object-path",
                  "/" + APP_ID.replace(".", "/"), "--method", "org.gtk.Actions.Activate",
                  name, "@av []", "@a{sv} {}"])

    def demo_uri(self):
        out = self.gdbus("ListConnections", check=False) or ""
        if "'active'" not in out:
            return None
        return out.split("'")[1]

    def windows(self):
        out = self.run(["xdotool", "search", "--onlyvisible", "--name", "."], check=False) or ""
        return [w for w in out.split() if w]

    def new_window(self, before, what):
        def found():
            new = [w for w in self.windows() if w not in before]
            return new[-1] if new else None
        return wait(what, found)

    def shoot(self, win, out, settle=1.5):
        self.run(["xdotool", "windowraise", win])
        time.sleep(settle)
        self.run(["import", "-window", win, out])
        print(f"screenshots: {os.path.relpath(out, ROOT)}")

    def close(self, win):
        self.run(["xdotool", "windowunmap", win], check=False)
        time.sleep(0.3)


def guest_screen(services):
    """An Xvnc with a few clients: the console's guest."""
    display = x_display(services, ["Xvnc", "-geometry", "1024x768", "-depth", "24",
                                   "-SecurityTypes", "None", "-localhost",
                                   "-nolisten", "tcp"])
    return display


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "docs/screenshots"))
    ap.add_argument("--scheme", choices=["light", "dark", "both"], default="both")
    ap.add_argument("--suffix", default="", help="added to each file name (e.g. -de)")
    a = ap.parse_args()
    binary = os.environ.get("VMM_BIN", os.path.join(ROOT, "target/release/virt-manager"))
    if not os.access(binary, os.X_OK):
        sys.exit(f"screenshots: {binary} is not built (cargo build --release --workspace)")
    for tool in ["Xvfb", "Xvnc", "dbus-daemon", "gdbus", "xdotool", "import"]:
        if not shutil.which(tool):
            sys.exit(f"screenshots: {tool} is missing (tools/install-deps.sh test)")
    os.makedirs(a.out, exist_ok=True)
    schemes = ["light", "dark"] if a.scheme == "both" else [a.scheme]

    services = Services()
    try:
        for scheme in schemes:
            with tempfile.TemporaryDirectory() as home:
                take(services, binary, scheme, home, a.out, a.suffix)
            services.stop()
    finally:
        services.stop()


def take(services, binary, scheme, home, out_dir, suffix):
    s = Session(services, binary, scheme, home)
    out = lambda name: os.path.join(out_dir, f"{name}-{scheme}{suffix}.png")

    manager = wait("the manager window", lambda: (s.windows() or [None])[0])
    # The statistics need some samples before the graphs say anything.
    time.sleep(25)
    s.shoot(manager, out("manager"))

    for name, open_it in [
        ("details", lambda: s.gdbus("ShowDetails", s.uri, "fedora-workstation")),
        ("performance", lambda: s.run([binary, "--connect", s.uri,
                                       "--show-domain-performance", "debian-server"])),
        ("host-summary", lambda: s.gdbus("ShowHostSummary", s.uri)),
        ("connect", lambda: s.gdbus("ShowConnect")),
        ("preferences", lambda: s.gdbus("ShowPreferences")),
        ("about", lambda: s.action("about")),
    ]:
        before = s.windows()
        open_it()
        win = s.new_window(before, name)
        s.shoot(win, out(name), settle=4 if name == "performance" else 1.5)
        s.close(win)

    # The console, on a VNC server showing X clients.
    vnc = guest_screen(services)
    genv = dict(os.environ, DISPLAY=vnc)
    for client in (["xlogo", "-geometry", "260x260+600+80"],
                   ["xclock", "-geometry", "220x220+80+420", "-update", "1"],
                   ["xeyes", "-geometry", "300x160+560+460"]):
        if shutil.which(client[0]):
            services.start(client, env=genv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run(["xsetroot", "-solid", "#2e5f8a"], env=genv, check=False)
    port = 5900 + int(vnc.lstrip(":"))
    before = s.windows()
    s.run([binary, f"vnc://127.0.0.1:{port}"])
    win = s.new_window(before, "console")
    s.shoot(win, out("console"), settle=3)
    s.close(win)


if __name__ == "__main__":
    main()
