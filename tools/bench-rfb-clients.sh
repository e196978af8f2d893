#!/bin/sh
# Side-by-side VNC client decoding benchmark (issue 6, "Performance"):
# every recorded session in benches/data served over loopback by a replay
# server to our client (`virt-manager capture --until-closed`), to a
# libvncclient viewer and to a gtk-vnc viewer, in one run; MB/s of
# framebuffer pixels, the ratios, CPU time, callgrind instruction counts
# and a check of every client's final framebuffer.
# Method and how to read the tables: tools/bench/rfb-clients/README.md.
#
#   tools/bench-rfb-clients.sh [--repeats N] [--encodings a,b] [--clients ours,libvncclient,gtk-vnc] [--no-callgrind]
#
# Needs gcc, pkg-config, zlib1g-dev, libvncserver-dev, libgtk-vnc-2.0-dev
# (libgvnc-1.0-dev), imagemagick and valgrind (tools/install-deps.sh's
# BENCH group). Writes target/bench/rfb-clients.md (also printed) and
# target/bench/rfb-clients/ (programs, logs, dumps, callgrind files,
# results.json).
set -eu
cd "$(dirname "$0")/.."
SRC=tools/bench/rfb-clients
OUT=target/bench/rfb-clients
mkdir -p "$OUT"

missing=""
for tool in gcc pkg-config convert identify; do
  command -v "$tool" >/dev/null || missing="$missing $tool"
done
for pc in zlib libvncclient gvnc-1.0; do
  pkg-config --exists "$pc" 2>/dev/null || missing="$missing $pc.pc"
done
if [ -n "$missing" ]; then
  echo "bench-rfb-clients: missing:$missing" >&2
  echo "  apt-get install gcc pkg-config zlib1g-dev libvncserver-dev libgtk-vnc-2.0-dev imagemagick valgrind" >&2
  exit 1
fi

CFLAGS="-O2 -g -Wall -Wextra"
# shellcheck disable=SC2046,SC2086
{
  gcc $CFLAGS -o "$OUT/rfb-replay" "$SRC/replay.c" $(pkg-config --cflags --libs zlib)
  gcc $CFLAGS -o "$OUT/rfb-sink" "$SRC/sink.c"
  gcc $CFLAGS -o "$OUT/rfb-libvncclient" "$SRC/libvncclient.c" $(pkg-config --cflags --libs libvncclient)
  gcc $CFLAGS -o "$OUT/rfb-gtkvnc" "$SRC/gtkvnc.c" $(pkg-config --cflags --libs gvnc-1.0)
}

if [ ! -x target/release/virt-manager ] || [ ! -e target/release/libvirt_manager_rfb.so ]; then
  cargo build --release --workspace
fi

if ! command -v valgrind >/dev/null; then
  echo "bench-rfb-clients: valgrind is missing (apt-get install valgrind): no instruction counts" >&2
  set -- "$@" --no-callgrind
fi
exec /usr/bin/python3 "$SRC/run.py" "$@"
