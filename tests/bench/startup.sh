#!/usr/bin/env bash
# Startup benchmark: median wall time of 20 runs of `slurm-factory toolchains list` (loads the
# embedded config, every configured plugin, and renders the table). Goal: <= 50 ms on the 2-core
# reference machine. Baseline in the same run: `true` through the same timing loop, so the loop's
# own overhead is visible. Prints a PASS/FAIL line against the goal.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=${SLURM_FACTORY_BIN:-$root/build/bin/slurm-factory}
runs=${RUNS:-20}
goal_ms=${GOAL_MS:-50}
[ -x "$bin" ] || { echo "startup: $bin not built (run .ci/setup)"; exit 2; }

measure() {  # prints the median in ms of $runs runs of "$@"
  local times=() t0 t1
  for _ in $(seq "$runs"); do
    t0=$(date +%s%N)
    "$@" >/dev/null
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f\n", m/1000}'
}

base=$(measure true)
median=$(measure "$bin" toolchains list)
plugins=$("$bin" plugins list --json 2>/dev/null | grep -o '"file"' | wc -l || true)
echo "startup: baseline 'true' median ${base} ms"
echo "startup: 'slurm-factory toolchains list' median ${median} ms over ${runs} runs (${plugins} plugins loaded)"
echo "startup: ratio to baseline $(awk -v a="$median" -v b="$base" 'BEGIN{printf "%.1f", a/(b>0?b:1)}')x"
if awk -v m="$median" -v g="$goal_ms" 'BEGIN{exit !(m <= g)}'; then
  echo "startup: PASS (${median} ms <= ${goal_ms} ms)"
else
  echo "startup: FAIL (${median} ms > ${goal_ms} ms)"
  exit 1
fi
