#!/bin/sh
# Bench: what sharing buys a pipeline. Wall time of a two-cell pipeline (`slurm-factory run`,
# both cells at once, one empty cache) next to the same two cells built one after the other by
# `build-slurm`, each with its own empty cache (nothing shared), and their ratio.
#
#   tests/bench/pipeline.sh            CI-sized: stand-in recipes (plain make, as in
#                                      tests/integration/pipeline_test.cpp): "slurm" 24.11.5 and
#                                      22.05.8, both linking two shared source libraries
#   SF_BENCH_REAL=1 tests/bench/pipeline.sh
#                                      the real recipes: trixie x {22.05.8, 24.11.5} (hours on a
#                                      2-core machine: every dependency is built three times)
#
# Environment: SF_BIN (default build/bin/slurm-factory), SF_BENCH_TOOLCHAIN (trixie),
# SF_BENCH_BACKEND (docker), SF_BENCH_JOBS (2). Prints the figures and "pipeline bench: PASS" when
# every build succeeded (the ratio is reported, not judged), "pipeline bench: FAIL (...)" otherwise.
set -u

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

calc() { awk "BEGIN { print $1 }"; }
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
