#!/usr/bin/env bash
# Plan time of the full DAG (goal: <= 50 ms per plan: loading and checking the recipes, resolving
# the toolchain and planning, as reported by `plan --json` in plan_ms).
# Usage: tests/bench/plan.sh [path/to/slurm-factory]   (default: build/bin/slurm-factory)
# Prints one line per request with the planner's own time (from --json: plan_ms) and the wall time
# of the whole command (process start and output included, for information), and fails when a
# plan takes longer than the goal.
set -euo pipefail
here="$(cd "$(dirname "$0")/../.." && pwd)"
bin="${1:-$here/build/bin/slurm-factory}"
goal_ms="${SF_PLAN_GOAL_MS:-50}"
[ -x "$bin" ] || { echo "plan.sh: $bin is not built (ninja -C build slurm-factory)" >&2; exit 2; }
status=0
for req in "24.11 trixie" "24.11.5 bookworm --from pmix=source" "25.11 rockylinux9 --gpu cuda" \
           "26.05 noble --gpu cuda --gpu rocm --from pmix=source"; do
  # shellcheck disable=SC2086 # req is a list of words
  set -- $req
  version=$1 toolchain=$2; shift 2
  start=$(date +%s%N)
  json=$("$bin" plan --slurm-version "$version" --toolchain "$toolchain" "$@" --json)
  end=$(date +%s%N)
  wall_ms=$(( (end - start) / 1000000 ))
  plan_ms=$(printf '%s' "$json" | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["plan_ms"], 2))')
  count=$(printf '%s' "$json" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["packages"]))')
  echo "plan slurm $version on $toolchain $*: $count packages, plan ${plan_ms} ms, command ${wall_ms} ms"
  if python3 -c "import sys; sys.exit(0 if $plan_ms > $goal_ms else 1)"; then
    echo "  over the ${goal_ms} ms goal" >&2
    status=1
  fi
done
exit $status
