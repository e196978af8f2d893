#!/bin/sh
# Runs every fuzz target (fuzz/) briefly from its committed corpus: part of
# `make test`. New inputs go to target/fuzz-smoke, never into fuzz/corpus.
# Installs cargo-fuzz when it is missing; needs the nightly toolchain.
#   FUZZ_SMOKE_SECONDS  seconds per target (default 15)
#   tools/fuzz-smoke.sh [TARGET...]
set -eu
cd "$(dirname "$0")/.."
SECS=${FUZZ_SMOKE_SECONDS:-15}

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz-smoke: the nightly Rust toolchain is missing: rustup toolchain install nightly" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz-smoke: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

TARGETS=${*:-$(cargo +nightly fuzz list)}
OUT=target/fuzz-smoke
passed=0
failed=0
for t in $TARGETS; do
  if [ ! -f "fuzz/fuzz_targets/$t.rs" ]; then
    echo "fuzz-smoke: $t: no fuzz/fuzz_targets/$t.rs, skipped"
    continue
  fi
  mkdir -p "$OUT/corpus/$t" "$OUT/artifacts/$t" "fuzz/corpus/$t"
  log="$OUT/$t.log"
  # The first corpus directory takes new inputs; the committed one is read.
  if cargo +nightly fuzz run -O "$t" "$OUT/corpus/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$SECS" -malloc_limit_mb=256 -rss_limit_mb=2048 \
    -artifact_prefix="$OUT/artifacts/$t/" -print_final_stats=1 >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz-smoke: $t: ${execs:-?} runs, no crash"
    passed=$((passed + 1))
  else
    echo "fuzz-smoke: $t: FAILED (log: $log, inputs: $OUT/artifacts/$t/)" >&2
    tail -n 30 "$log" >&2
    failed=$((failed + 1))
  fi
done
echo "fuzz-smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
