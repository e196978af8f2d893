#!/usr/bin/python3
"""Finds an accessible in a running application and acts on it.

Usage: atspi_do.py APP ROLE NAME ACTION [TIMEOUT]
  ROLE    an AT-SPI role name ("push button", "frame", "check box", ...)
  NAME    the accessible name, matched exactly, or "prefix*" / "*suffix";
          alternatives separated by "|"
  ACTION  "click" (the first action), "exists", "focus", "set-text=TEXT",
          "get-text", "set-value=N", "get-value" or "center" (screen x y,
          for widgets without actions; printed)
Exits 0 when done, 1 when not found within TIMEOUT seconds.
Run with /usr/bin/python3 (Debian's python3-pyatspi).
"""
import sys
import time

import pyatspi


def matches(node, role, name):
    if "|" in name:
        return any(matches(node, role, alt) for alt in name.split("|"))
    try:
        if node.getRoleName() != role:
            return False
        n = node.name or ""
        if name.endswith("*"):
            return n.startswith(name[:-1])
        if name.startswith("*"):
            return n.endswith(name[1:])
        return n == name
    except Exception:
        return False


def find(node, role, name, depth=0):
    if node is None or depth > 60:
        return None
    if matches(node, role, name):
        return node
    try:
        for i in range(node.childCount):
            hit = find(node.getChildAtIndex(i), role, name, depth + 1)
            if hit is not None:
                return hit
    except Exception:
        pass
    return None


def main():
    app_name, role, name, action = sys.argv[1:5]
    timeout = float(sys.argv[5]) if len(sys.argv) > 5 else 20
    deadline = time.time() + timeout
    while time.time() < deadline:
        desktop = pyatspi.Registry.getDesktop(0)
        for i in range(desktop.childCount):
            app = desktop.getChildAtIndex(i)
            if app is None or app.name != app_name:
                continue
            hit = find(app, role, name)
            if hit is None:
                continue
            if action == "exists":
                return 0
            if action == "focus":
                hit.queryComponent().grabFocus()
                return 0
            if action == "click":
                hit.queryAction().doAction(0)
                return 0
            if action == "extents":
                e = hit.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
                print(f"{e.x} {e.y} {e.width} {e.height}")
                return 0
            if action == "center":
                e = hit.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
                print(f"{e.x + e.width // 2} {e.y + e.height // 2}")
                return 0
            if action.startswith("set-text="):
                hit.queryEditableText().setTextContents(action[len("set-text="):])
                return 0
            if action == "get-text":
                t = hit.queryText()
                print(t.getText(0, t.characterCount))
                return 0
            if action.startswith("set-value="):
                hit.queryValue().currentValue = float(action[len("set-value="):])
                return 0
            if action == "get-value":
                print(hit.queryValue().currentValue)
                return 0
        time.sleep(0.2)
    print(f"no {role} named {name!r} in {app_name}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
