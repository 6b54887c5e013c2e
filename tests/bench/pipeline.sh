#!/bin/sh
# Bench: what sharing buys a pipeline. Wall time of a two-cell pipeline (`slurm-factory run`,
# both cells at once, one empty cache) next to the same two cells built one after the other by
# `build-slurm`, each with its own empty cache (nothing shared), and their ratio.
#
#   tests/bench/pipeline.sh            CI-sized: stand-in recipes (plain make, as in
#                                      tests/integration/pipeline_test.cpp): "slurm" 24.11.5 and
#                                      22.05.8, both linking two shared source libraries
#   tests/bench/pipeline.sh --executor slurm
#                                      the price of Slurm: the same two stand-in cells through
#                                      `run --executor slurm` on a one-node cluster started on this
#                                      host (tests/e2e/host-cluster.sh, bookworm artifact as in
#                                      tests/e2e/slurm-executor.sh) next to `run --executor local`
#                                      with the same order (--parallel 1: the second cell waits for
#                                      the first's shared packages, as its job does), each from an
#                                      empty cache, SF_BENCH_ROUNDS (3) rounds alternating; prints
#                                      the medians, their difference and ratio; PASS when the
#                                      overhead is under 10 s
#   SF_BENCH_REAL=1 tests/bench/pipeline.sh
#                                      the real recipes: trixie x {22.05.8, 24.11.5} (hours on a
#                                      2-core machine: every dependency is built three times)
#
# Environment: SF_BIN (default build/bin/slurm-factory), SF_BENCH_TOOLCHAIN (trixie),
# SF_BENCH_BACKEND (docker), SF_BENCH_JOBS (2). Prints the figures and "pipeline bench: PASS" when
# every build succeeded (the ratio is reported, not judged), "pipeline bench: FAIL (...)" otherwise.
set -u
EXECUTOR=local
if [ "${1:-}" = "--executor" ]; then
  EXECUTOR=${2:-}
  shift 2
fi
case "$EXECUTOR" in local | slurm) ;; *) echo "usage: $0 [--executor slurm]" >&2; exit 2 ;; esac

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/../e2e/lib.sh"
TOOLCHAIN=${SF_BENCH_TOOLCHAIN:-trixie}
BACKEND=${SF_BENCH_BACKEND:-docker}
JOBS=${SF_BENCH_JOBS:-2}
V1=24.11.5
V2=22.05.8
PLUGINS=$(cd "$(dirname "$SF_BIN")/../lib/slurm-factory/plugins" 2>/dev/null && pwd)

work=$(mktemp -d /tmp/sf-bench-pipeline.XXXXXX)
cleanup() {
  [ "$EXECUTOR" = local ] || host_cluster_stop >/dev/null 2>&1
  gpgconf --homedir "$work/gnupg" --kill all >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
[ -x "$SF_BIN" ] || { echo "pipeline bench: FAIL (no binary at $SF_BIN; set SF_BIN)"; exit 1; }

signing_key "$work/gnupg" "sf bench <bench@sf.invalid>"

# Stand-in sources and recipes (skipped with SF_BENCH_REAL=1): tests/e2e/standin.sh.
# shellcheck source=tests/e2e/standin.sh
. "$here/../e2e/standin.sh"
[ -n "${SF_BENCH_REAL:-}" ] || standin_recipes "$work" "$V1" "$V2"

config() { # config CACHE_DIR FILE ; a config with that empty cache, its sources pre-verified
  mkdir -p "$1"
  [ -n "${SF_BENCH_REAL:-}" ] || standin_sources "$1"
  # Real sources: reuse a warm source cache when there is one (downloads are not what is measured).
  [ -n "${SF_BENCH_REAL:-}" ] && [ -d /tmp/sf-e2e-cache/sourcecache ] && \
    cp -r /tmp/sf-e2e-cache/sourcecache "$1/"
  { sf_config "$1" "" "$PLUGINS"; cat <<CONF; } > "$2"
build:
  jobs: $JOBS
pipelines:
  bench:
    matrix: {slurm_versions: ["$V1", "$V2"], toolchains: [$TOOLCHAIN]}
    backend: $BACKEND
    parallel: 2
CONF
}
now() { date +%s.%N; }
failed=""
calc() { awk "BEGIN { print $1 }"; }

if [ "$EXECUTOR" = slurm ]; then
  # shellcheck source=tests/e2e/host-cluster.sh
  . "$here/../e2e/host-cluster.sh"
  [ -z "${SF_BENCH_REAL:-}" ] || { echo "pipeline bench: FAIL (--executor slurm runs the stand-ins only)"; exit 1; }
  ROUNDS=${SF_BENCH_ROUNDS:-3}
  keyhome=$GNUPGHOME
  artifact=$(host_cluster_artifact "${SF_E2E_CACHE:-/tmp/sf-e2e-cache}" "$work") ||
    { echo "pipeline bench: FAIL (no artifact for the cluster)"; exit 1; }
  export GNUPGHOME="$keyhome"
  host_cluster_start "$artifact" "$work/cluster" ||
    { echo "pipeline bench: FAIL (the cluster did not start)"; exit 1; }
  median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
  : > "$work/local.times"
  : > "$work/slurm.times"
  for r in $(seq 1 "$ROUNDS"); do
    for mode in local slurm; do
      config "$work/$mode-$r" "$work/$mode-$r.yaml"
      set -- --parallel 1
      [ "$mode" = local ] || set -- --executor slurm
      t0=$(now)
      "$SF_BIN" --json --config "$work/$mode-$r.yaml" run bench "$@" --output "$work/$mode-$r-out" \
        --report "$work/$mode-$r.json" > "$work/$mode-$r.events" 2> "$work/$mode-$r.err" ||
        failed="$failed $mode-$r"
      t1=$(now)
      calc "$t1 - $t0" >> "$work/$mode.times"
      printf 'round %s %-5s %6.1f s  (%s)\n' "$r" "$mode" "$(calc "$t1 - $t0")" \
        "$(jq -r '[.cells[] | "\(.cell) \(.result) built \(.built)"] | join(", ")' "$work/$mode-$r.json" 2>/dev/null)"
    done
  done
  lm=$(median < "$work/local.times")
  sm=$(median < "$work/slurm.times")
  overhead=$(calc "$sm - $lm")
  printf 'two cells, local (--parallel 1):    %6.1f s median of %s\n' "$lm" "$ROUNDS"
  printf 'two cells through Slurm (afterok):  %6.1f s median of %s\n' "$sm" "$ROUNDS"
  printf 'overhead of Slurm:                  %6.1f s (ratio %.2f; goal < 10 s)\n' "$overhead" "$(calc "$sm / $lm")"
  if [ -n "$failed" ]; then
    echo "pipeline bench: FAIL (failed:$failed; logs in $work)"
    exit 1
  fi
  if [ "$(calc "($overhead < 10) ? 1 : 0")" = 1 ]; then
    echo "pipeline bench: PASS (Slurm adds $overhead s to the two-cell pipeline, goal < 10 s)"
    exit 0
  fi
  echo "pipeline bench: FAIL (Slurm adds $overhead s, goal < 10 s)"
  exit 1
fi

# Sequential, nothing shared: each cell with its own empty cache.
config "$work/seq1" "$work/seq1.yaml"
config "$work/seq2" "$work/seq2.yaml"
t0=$(now)
"$SF_BIN" -q --config "$work/seq1.yaml" build-slurm --slurm-version $V1 --toolchain "$TOOLCHAIN" \
  --backend "$BACKEND" --output "$work/seq-out" > "$work/seq1.log" 2>&1 || failed="$failed seq-$V1"
t1=$(now)
"$SF_BIN" -q --config "$work/seq2.yaml" build-slurm --slurm-version $V2 --toolchain "$TOOLCHAIN" \
  --backend "$BACKEND" --output "$work/seq-out" > "$work/seq2.log" 2>&1 || failed="$failed seq-$V2"
t2=$(now)

# The pipeline: one empty cache, both cells at once, shared packages built once.
config "$work/pipe" "$work/pipe.yaml"
"$SF_BIN" --json --config "$work/pipe.yaml" run bench --output "$work/pipe-out" \
  --report "$work/report.json" > "$work/pipe.json" 2> "$work/pipe.err" || failed="$failed pipeline"
t3=$(now)

seq1=$(calc "$t1 - $t0")
seq2=$(calc "$t2 - $t1")
seq=$(calc "$t2 - $t0")
pipe=$(calc "$t3 - $t2")
builds=$(jq -r 'select(.event=="build" and .kind=="built") | .package.name' "$work/pipe.json" | wc -l)
reused=$(jq '[.cells[].reused_from_other_cells] | add' "$work/report.json" 2>/dev/null || echo "?")
printf 'cell %s alone (empty cache):      %8.1f s\n' "$V1" "$seq1"
printf 'cell %s alone (empty cache):      %8.1f s\n' "$V2" "$seq2"
printf 'one after the other, no sharing:     %8.1f s\n' "$seq"
printf 'pipeline, 2 cells at once, shared:   %8.1f s  (%s package builds, %s reused from the other cell)\n' \
  "$pipe" "$builds" "$reused"
printf 'ratio pipeline / sequential:         %8.2f\n' "$(calc "$pipe / $seq")"
if [ -z "$failed" ]; then
  echo "pipeline bench: PASS"
else
  echo "pipeline bench: FAIL (failed:$failed; logs in $work, kept)"
  trap - EXIT
  exit 1
fi
