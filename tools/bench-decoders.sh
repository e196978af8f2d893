#!/bin/sh
# `make bench` for the RFB decoders: benches/decoders/main.rs (ABI overhead,
# throughput per encoding, memcpy bandwidth) with the plugin built for
# release, then the instructions of one pass over every recording through
# each side, counted by callgrind (the wall clock of a shared machine is
# noisy; instruction counts are not).
set -eu
cd "$(dirname "$0")/.."
cargo build --release -p virt-manager-rfb-decoders
# A directory of its own, so the plugin host loads only this plugin.
PLUGINS=target/bench-plugins
mkdir -p "$PLUGINS"
cp target/release/libvirt_manager_rfb.so "$PLUGINS/"
RFB_PLUGIN_DIR=$(pwd)/$PLUGINS
export RFB_PLUGIN_DIR
cargo bench --bench decoders

if ! command -v valgrind >/dev/null; then
  echo "bench-decoders: valgrind is missing (apt-get install valgrind): no instruction counts" >&2
  exit 0
fi
BIN=$(cargo bench --bench decoders --no-run --message-format=json 2>/dev/null |
  grep '"kind":\["bench"\].*"name":"decoders"' | sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -n 1)
[ -x "$BIN" ] || { echo "bench-decoders: cannot find the bench executable" >&2; exit 1; }
echo
echo "Instructions for one pass over every recording (callgrind):"
echo
echo "| side | instructions |"
echo "|---|---:|"
for side in linked plugin; do
  RFB_BENCH=callgrind-$side valgrind --tool=callgrind --callgrind-out-file="target/callgrind.$side.out" \
    --toggle-collect="decoders::bench_pass_$side" "$BIN" >/dev/null 2>"target/callgrind.$side.log"
  n=$(sed -n 's/^summary: *//p' "target/callgrind.$side.out")
  echo "| $side | $n |"
  eval "ir_$side=$n"
done
# shellcheck disable=SC2154
echo "| plugin / linked | $(echo "scale=5; $ir_plugin / $ir_linked" | bc) |"
