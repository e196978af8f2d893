#!/bin/sh
# Starts the app for `make run`: on the desktop session when there is one;
# on a machine without a display, says how to get one.
set -eu
bin="$1"; shift
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display: run this from a desktop session, or under Xvfb:" >&2
  echo "  xvfb-run -a dbus-run-session -- $bin $*" >&2
  exit 1
fi
if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] && [ ! -S "${XDG_RUNTIME_DIR:-/nonexistent}/bus" ]; then
  exec dbus-run-session -- "$bin" "$@"
fi
exec "$bin" "$@"
