#!/bin/sh
# The side-by-side console benchmark of issue 7: our console, gvncviewer
# (gtk-vnc) and TigerVNC's vncviewer on one Xvnc whose screen changes at
# 60 frames per second. Writes target/bench/console.md and prints it.
#
#   tools/bench-console.sh [run.py options]
#     --viewers ours-tiles-cairo,ours-tiles-gl,ours-nodirect-cairo,ours-gl-cairo,ours-gl-gl,gvncviewer,vncviewer
#     --duration 10 --warmup 2 --repeat 1 --keys 40 --size 1024x720
#     --app target/release/virt-manager
#
# Needs: tigervnc-standalone-server, tigervnc-viewer, gvncviewer, xvfb,
# dbus, gcc, libx11-dev, libxext-dev, libxtst-dev, python3, and the app
# built (cargo build --release --workspace). See tools/bench/console/README.md.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
src=tools/bench/console
bin=target/bench/console/bin
mkdir -p "$bin"
for t in drawer probe; do
  if [ ! -x "$bin/$t" ] || [ "$src/$t.c" -nt "$bin/$t" ] || [ "$src/barcode.h" -nt "$bin/$t" ]; then
    libs="-lX11"
    [ "$t" = probe ] && libs="-lX11 -lXext -lXtst"
    # shellcheck disable=SC2086
    ${CC:-cc} -O2 -Wall -o "$bin/$t" "$src/$t.c" $libs
  fi
done
if [ ! -x target/release/virt-manager ] && ! printf '%s\n' "$@" | grep -q -- '--app'; then
  echo "bench-console: building the app (cargo build --release --workspace)" >&2
  cargo build --release --workspace
fi
exec python3 "$src/run.py" --bin-dir "$bin" "$@"
