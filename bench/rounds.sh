#!/usr/bin/env bash
# Runs bench/run.sh BENCH_ROUNDS times (default 5), payoutd and nginx alternating, and reports
# the median of each figure and the median of the rounds' ratios. On a shared 2-core machine one
# round can be off by a half (a neighbour's disk flush, a compiler): the median of alternating
# rounds is the figure to quote.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
rounds="${BENCH_ROUNDS:-5}"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "bench: BENCH_ROUNDS must be a positive integer" >&2; exit 1; }
lines=()
for ((r = 1; r <= rounds; r++)); do
  echo "bench: round $r of $rounds" >&2
  out="$(BENCH_ENFORCE_FLOOR=0 bash "$here/run.sh")"
  echo "$out" | grep -E '^(payoutd|nginx|ratio):' | sed "s/^/  round $r: /"
  lines+=("$(echo "$out" | grep '^BENCH ')")
done
printf '%s\n' "${lines[@]}" | python3 "$here/benchtool.py" median-rounds
