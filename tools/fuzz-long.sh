#!/bin/sh
# Long fuzzing campaigns, one target after another, each from its committed
# corpus plus what earlier long runs found (target/fuzz-long/corpus).
#   FUZZ_SECONDS  seconds per target (default 3600)
#   FUZZ_JOBS     parallel fuzzing processes per target (default 1)
#   tools/fuzz-long.sh [TARGET...]
# Crashes land in target/fuzz-long/artifacts/<target>/; reproduce one with
# `cargo +nightly fuzz run <target> <file>`. The last line sums up.
set -eu
cd "$(dirname "$0")/.."
SECS=${FUZZ_SECONDS:-3600}
JOBS=${FUZZ_JOBS:-1}
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz-long: the nightly Rust toolchain is missing: rustup toolchain install nightly" >&2
  exit 1
fi
cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked

TARGETS=${*:-$(cargo +nightly fuzz list)}
OUT=target/fuzz-long
PARALLEL=""
# libFuzzer's job mode (each worker logging to fuzz-N.log) only when asked.
[ "$JOBS" -gt 1 ] && PARALLEL="-jobs=$JOBS -workers=$JOBS"
summary=""
for t in $TARGETS; do
  [ -f "fuzz/fuzz_targets/$t.rs" ] || continue
  mkdir -p "$OUT/corpus/$t" "$OUT/artifacts/$t"
  log="$OUT/$t.log"
  status=ok
  cargo +nightly fuzz run -O "$t" "$OUT/corpus/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$SECS" $PARALLEL -malloc_limit_mb=256 -rss_limit_mb=2048 \
    -artifact_prefix="$OUT/artifacts/$t/" -print_final_stats=1 >"$log" 2>&1 || status=CRASH
  # With -jobs each worker writes fuzz-N.log (in fuzz/); sum their counts.
  execs=$(cat "$log" fuzz-*.log fuzz/fuzz-*.log 2>/dev/null | sed -n 's/^stat::number_of_executed_units: *//p' | awk '{s += $1} END {print s + 0}')
  rm -f fuzz-*.log fuzz/fuzz-*.log
  crashes=$(find "$OUT/artifacts/$t" -type f | wc -l)
  line="$t: $execs runs, $crashes crash files, $status"
  echo "fuzz-long: $line"
  summary="$summary$line
"
done
printf '%s' "$summary"
