#!/bin/sh
# `make bench`, D-Bus: 10,000 ListDomains calls to the running app on a
# 1500-guest test-driver host, beside the bare D-Bus round trip
# (benches/dbus.rs). Writes target/bench/dbus.md.
#   BENCH_GUESTS=1500 BENCH_CALLS=10000 tools/bench-dbus.sh
set -eu
cd "$(dirname "$0")/.."
mkdir -p target/bench
cargo build --release --workspace
BENCH_OUT=$(pwd)/target/bench/dbus.md cargo bench --bench dbus
