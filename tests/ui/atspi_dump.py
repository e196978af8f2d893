#!/usr/bin/python3
"""Prints the accessibility tree of a running application as JSON lines.

Usage: atspi_dump.py APP_NAME [TIMEOUT_SECONDS]

Waits until an application named APP_NAME is on the AT-SPI bus and has a
window, then prints one JSON object per accessible: role, name, depth.
Run with /usr/bin/python3 (Debian's python3-pyatspi).
"""
import json
import sys
import time

import pyatspi


def find_app(name, timeout):
    deadline = time.time() + timeout
    seen = set()
    while time.time() < deadline:
        desktop = pyatspi.Registry.getDesktop(0)
        for i in range(desktop.childCount):
            app = desktop.getChildAtIndex(i)
            if app is None:
                continue
            seen.add(app.name)
            if app.name == name and app.childCount > 0:
                return app
        time.sleep(0.2)
    print(f"applications seen: {sorted(seen)}", file=sys.stderr)
    return None


def walk(node, depth, out, limit=20000):
    if node is None or len(out) >= limit:
        return
    try:
        out.append({"role": node.getRoleName(), "name": node.name or "", "depth": depth})
        for i in range(node.childCount):
            walk(node.getChildAtIndex(i), depth + 1, out, limit)
    except Exception as e:  # a node vanished while walking
        out.append({"role": "error", "name": str(e), "depth": depth})


def main():
    name = sys.argv[1]
    timeout = float(sys.argv[2]) if len(sys.argv) > 2 else 20
    app = find_app(name, timeout)
    if app is None:
        print(json.dumps({"error": f"no application {name!r} on the AT-SPI bus"}))
        return 2
    out = []
    walk(app, 0, out)
    for row in out:
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
