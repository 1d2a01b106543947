#!/usr/bin/env bash
# Runs one fuzz target: first every input of its seed corpus once (the regression cases), then
# libFuzzer for FUZZ_SECONDS (default 20). Any crash, leak, timeout, out-of-memory or sanitizer
# report fails the run (exit 1) and names the reproducer file.
#   run.sh BINARY NAME     e.g. run.sh build-fuzz/tests/fuzz/fuzz_json json
# Inputs libFuzzer finds interesting are kept in build-fuzz/tests/fuzz/work/NAME (reused by the next run),
# reproducers in build-fuzz/tests/fuzz/artifacts/NAME; neither is part of the tree.
set -euo pipefail

binary=$(realpath "$1")
name=$2
seconds=${FUZZ_SECONDS:-20}
# A single input slower than this, or a process above this memory, is a finding.
input_timeout_s=${FUZZ_INPUT_TIMEOUT_S:-10}
rss_limit_mb=${FUZZ_RSS_LIMIT_MB:-2048}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
corpus="$here/corpus/$name"
build=$(dirname "$binary")
work="$build/work/$name"
artifacts="$build/artifacts/$name"
mkdir -p "$work" "$artifacts"

# Leaks are findings; every sanitizer report aborts with a symbolized stack.
export ASAN_OPTIONS="detect_leaks=1:symbolize=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

options=(-timeout="$input_timeout_s" -rss_limit_mb="$rss_limit_mb" -artifact_prefix="$artifacts/"
         -print_final_stats=1)
if [[ -f "$here/$name.dict" ]]; then options+=(-dict="$here/$name.dict"); fi

log="$artifacts/last-run.log"
fail() {
  echo "fuzz $name: FAILED ($1); the log is $log"
  grep -E "^(==[0-9]+==ERROR|SUMMARY|fuzz property failed|.*runtime error)" "$log" |
    head -n 5 || true
  local input
  input=$(grep -oE "^Running: .+" "$log" | tail -n 1 | cut -d' ' -f2-) || true
  if [[ -n "$input" ]]; then echo "fuzz $name: the last corpus input run: $input"; fi
  input=$(grep -oE "Test unit written to .+" "$log" | tail -n 1 | cut -d' ' -f5-) || true
  if [[ -n "$input" ]]; then echo "fuzz $name: reproducer $input (replay: $binary $input)"; fi
  tail -n 40 "$log"
  exit 1
}

# 1. The seed corpus, one input at a time: a regression case that fails names its own file.
mapfile -t seeds < <(find "$corpus" -type f | sort)
if ((${#seeds[@]} == 0)); then echo "fuzz $name: no seed corpus in $corpus"; exit 1; fi
"$binary" "${options[@]}" "${seeds[@]}" >"$log" 2>&1 || fail "a corpus input"
echo "fuzz $name: ${#seeds[@]} corpus inputs replayed"

# 2. Fuzzing for a fixed time, new inputs into the work directory.
"$binary" "${options[@]}" -max_total_time="$seconds" "$work" "$corpus" >"$log" 2>&1 ||
  fail "fuzzing"
grep -E "^stat::(number_of_executed_units|new_units_added|peak_rss_mb)" "$log" | tr '\n' ' '
echo
echo "fuzz $name: ${seconds}s without a finding"
