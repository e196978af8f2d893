#!/bin/sh
# `make bench`, guest list: this project's app beside Debian's virt-manager
# 4.1 (issue 5, "Performance"), on a libvirt test-driver host of 1500
# guests and on a live libvirtd + QEMU host of tiny guests. Prints the
# tables and writes them to target/bench/guests.md (runs in
# target/bench/runs/, application logs in target/bench/logs/).
#
#   tools/bench-guests.sh [all|test|live|report|live-cleanup]
#
# Settings (environment):
#   BENCH_GUESTS=1500        guests of the test-driver host
#   BENCH_LIVE=1             0 skips the live host (it needs root and libvirtd)
#   BENCH_LIVE_GUESTS=200    live guests (at most 300, and no more than a
#                            third of the available memory at 44 MB each)
#   BENCH_LIVE_RUNNING=50    of which running; the rest are paused
#   BENCH_REPEAT=3           launches per app and host (median reported)
#   BENCH_WINDOW=60          seconds of the steady CPU window
#   BENCH_LONG=0             1: also RSS 10 minutes after launch (+20 min per host)
#   BENCH_BUILD=1            0: use the binary already built
#   VMM_BIN=path             our binary (default: a copy of target/release/virt-manager
#                            and its plugins in target/bench/app, so a rebuild
#                            during the run cannot change what is measured)
#
# Every live guest is named vmm-bench-*, and is destroyed and undefined at
# the end, on failure and on interruption.
set -eu
cd "$(dirname "$0")/.."

cmd="${1:-all}"

need() {
  # program, Debian package
  if ! command -v "$1" >/dev/null 2>&1 && [ ! -x "$1" ]; then
    echo "bench-guests: $1 is missing: apt-get install $2" >&2
    exit 1
  fi
}

case "$cmd" in
  report|live-cleanup)
    exec /usr/bin/python3 tools/bench/guests.py "$cmd" ;;
  all|test|live) ;;
  *) echo "usage: $0 [all|test|live|report|live-cleanup]" >&2; exit 2 ;;
esac

need /usr/bin/virt-manager virt-manager
need /usr/bin/python3 python3
/usr/bin/python3 -c 'import gi; from gi.repository import Gio' 2>/dev/null || {
  echo "bench-guests: python3-gi is missing: apt-get install python3-gi" >&2; exit 1; }
need Xvfb xvfb
need dbus-daemon dbus
need /usr/libexec/at-spi-bus-launcher at-spi2-core
need virsh libvirt-clients

mkdir -p target/bench
if [ -z "${VMM_BIN:-}" ]; then
  if [ "${BENCH_BUILD:-1}" = 1 ]; then
    cargo build --release --workspace
  fi
  [ -x target/release/virt-manager ] || {
    echo "bench-guests: target/release/virt-manager is missing (cargo build --release --workspace)" >&2
    exit 1; }
  rm -rf target/bench/app
  mkdir -p target/bench/app
  cp target/release/virt-manager target/release/*.so target/bench/app/
  VMM_BIN="$(pwd)/target/bench/app/virt-manager"
  export VMM_BIN
fi
# The Python side cleans up after itself; this catches what it cannot
# (killed outright, say).
cleanup() {
  if [ "$cmd" != test ] && [ "$(id -u)" -eq 0 ] && [ "${BENCH_LIVE:-1}" != 0 ]; then
    /usr/bin/python3 tools/bench/guests.py live-cleanup || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

/usr/bin/python3 tools/bench/guests.py "$cmd"
