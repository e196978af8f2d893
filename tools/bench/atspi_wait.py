#!/usr/bin/python3
"""Waits, from outside, until an application's guest list is populated.

Usage: atspi_wait.py --kind gtk4-list|gtk3-table --expect N [--timeout S]
                     [--app virt-manager] [--interval 0.1]

Reads the application's accessibility tree over the AT-SPI D-Bus protocol
directly (Gio, no libatspi): libatspi fetches and mirrors a whole
application's tree when it first meets it, which costs a GTK 3 tree view
with 1500 rows seconds of its main thread and would distort what is
measured. Raw calls cost the application only what is asked.

- gtk4-list (this project): the guest list is the accessible of role
  "list"; its first row is the connection header, whose status label reads
  "Connected · N guests" once the guests are in the list's model. Complete
  when N >= expected and a guest row below the header shows a name.
  (GTK 4.8 sets no SHOWING state on list rows, so rows are told apart by
  their text, not their state.)
- gtk3-table (Debian's virt-manager): the guest list is the "tree table";
  its Table.NRows counts the connection row plus one row per guest.
  Complete when NRows - 1 >= expected.

Prints JSON lines with CLOCK_MONOTONIC times (Python's time.monotonic, the
same clock as the harness): {"event": "a11y-bus"}, {"event": "app"},
{"event": "list"}, {"event": "first-row"}, {"event": "complete",
"count": N}, or {"event": "timeout"}. Run with /usr/bin/python3 (python3-gi).
Exits 0 when complete, 1 on timeout.
"""
import argparse
import json
import re
import sys
import time

from gi.repository import Gio, GLib

ACC = "org.a11y.atspi.Accessible"
PROPS = "org.freedesktop.DBus.Properties"
# Roles whose subtrees never hold the list.
PRUNE = {
    "table cell", "label", "push button", "toggle button", "menu item",
    "menu", "menu bar", "tool bar", "list item", "separator", "entry",
    "check menu item", "radio menu item", "image", "scroll bar",
}
STATUS = re.compile(r"(\d+)\D*$")


def emit(event, **kw):
    kw.update(event=event, t=time.monotonic())
    print(json.dumps(kw), flush=True)


class A11y:
    def __init__(self, timeout):
        session = Gio.bus_get_sync(Gio.BusType.SESSION, None)
        deadline = time.monotonic() + timeout
        while True:
            try:
                addr = session.call_sync(
                    "org.a11y.Bus", "/org/a11y/bus", "org.a11y.Bus", "GetAddress",
                    None, GLib.VariantType("(s)"), Gio.DBusCallFlags.NONE, 5000, None,
                ).unpack()[0]
                self.bus = Gio.DBusConnection.new_for_address_sync(
                    addr,
                    Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT
                    | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
                    None, None,
                )
                # The registry answers once it is up.
                self.children(("org.a11y.atspi.Registry", "/org/a11y/atspi/accessible/root"))
                return
            except GLib.Error:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def call(self, ref, iface, method, args=None, reply=None):
        return self.bus.call_sync(
            ref[0], ref[1], iface, method, args,
            GLib.VariantType(reply) if reply else None,
            Gio.DBusCallFlags.NONE, 10000, None,
        ).unpack()

    def prop(self, ref, iface, name):
        return self.call(ref, PROPS, "Get", GLib.Variant("(ss)", (iface, name)), "(v)")[0]

    def name(self, ref):
        return self.prop(ref, ACC, "Name")

    def child_count(self, ref):
        return self.prop(ref, ACC, "ChildCount")

    def role(self, ref):
        return self.call(ref, ACC, "GetRoleName", None, "(s)")[0]

    def children(self, ref):
        return [tuple(c) for c in self.call(ref, ACC, "GetChildren", None, "(a(so))")[0]]


def find_app(a11y, app_name):
    for ref in a11y.children(("org.a11y.atspi.Registry", "/org/a11y/atspi/accessible/root")):
        try:
            if a11y.name(ref) == app_name and a11y.child_count(ref) > 0:
                return ref
        except GLib.Error:
            continue
    return None


def find_role(a11y, ref, role, depth=0):
    try:
        r = a11y.role(ref)
        if r == role:
            return ref
        if r in PRUNE or depth > 20:
            return None
        for child in a11y.children(ref):
            hit = find_role(a11y, child, role, depth + 1)
            if hit:
                return hit
    except GLib.Error:
        pass
    return None


def labels(a11y, ref, out, depth=0):
    """(ref, name) of every label below ref."""
    try:
        if a11y.role(ref) == "label":
            out.append((ref, a11y.name(ref)))
            return out
        if depth > 15:
            return out
        for child in a11y.children(ref):
            labels(a11y, child, out, depth + 1)
    except GLib.Error:
        pass
    return out


class Gtk4List:
    """This project's GtkListView: header status label, then guest rows."""

    # Labels of a header row, which a recycled row may still hold.
    not_guest = ("Connected", "Connecting", "Disconnected", "Failed", "test:", "qemu")

    def __init__(self, a11y, lst):
        self.a11y, self.lst = a11y, lst
        self.status = None

    def _find_status(self):
        for item in self.a11y.children(self.lst)[:2]:
            for ref, name in labels(self.a11y, item, []):
                if name.startswith(("Connected", "Connecting")):
                    return ref
        return None

    def count(self):
        if self.a11y.child_count(self.lst) == 0:
            return None
        if self.status is None:
            self.status = self._find_status()
            if self.status is None:
                return None
        try:
            text = self.a11y.name(self.status)
        except GLib.Error:
            text = ""
        if not text.startswith("Connected"):
            if not text.startswith("Connecting"):
                self.status = None  # the row was recycled
            return None
        m = STATUS.search(text.replace("guests", "").replace("guest", ""))
        return int(m.group(1)) if m else None

    def guest_row_shown(self):
        """A row below the header shows a guest's name."""
        for item in self.a11y.children(self.lst)[1:4]:
            for ref, name in labels(self.a11y, item, []):
                if name and name != "GtkLabel" and not name.startswith(self.not_guest):
                    return True
        return False


class Gtk3Table:
    """virt-manager's GtkTreeView: one row per connection and per guest."""

    def __init__(self, a11y, table):
        self.a11y, self.table = a11y, table

    def count(self):
        rows = self.a11y.prop(self.table, "org.a11y.atspi.Table", "NRows")
        return rows - 1 if rows > 0 else None

    def guest_row_shown(self):
        return True


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kind", choices=["gtk4-list", "gtk3-table"], required=True)
    p.add_argument("--expect", type=int, required=True)
    p.add_argument("--timeout", type=float, default=180)
    p.add_argument("--app", default="virt-manager")
    p.add_argument("--interval", type=float, default=0.1)
    p.add_argument("--bus-only", action="store_true",
                   help="start the accessibility bus and registry, then exit")
    a = p.parse_args()
    deadline = time.monotonic() + a.timeout
    a11y = A11y(a.timeout)
    emit("a11y-bus")
    if a.bus_only:
        return 0
    app = None
    while app is None:
        app = find_app(a11y, a.app)
        if app is None:
            if time.monotonic() > deadline:
                emit("timeout", stage="app")
                return 1
            time.sleep(a.interval)
    emit("app")
    role = "list" if a.kind == "gtk4-list" else "tree table"
    widget = None
    while widget is None:
        widget = find_role(a11y, app, role)
        if widget is None:
            if time.monotonic() > deadline:
                emit("timeout", stage="list")
                return 1
            time.sleep(a.interval)
    emit("list")
    view = Gtk4List(a11y, widget) if a.kind == "gtk4-list" else Gtk3Table(a11y, widget)
    first = False
    last = None
    while time.monotonic() < deadline:
        try:
            n = view.count()
        except GLib.Error as e:
            emit("error", message=str(e))
            n = None
        if n is not None and n != last:
            last = n
            if n > 0 and not first:
                first = True
                emit("first-row", count=n)
        if n is not None and n >= a.expect and view.guest_row_shown():
            emit("complete", count=n)
            return 0
        time.sleep(a.interval)
    emit("timeout", stage="populate", count=last)
    return 1


if __name__ == "__main__":
    sys.exit(main())
