#!/bin/sh
# End to end: a configured pipeline, trixie x {22.05.8, 24.11.5} on docker, run with
# `slurm-factory run e2e --parallel 2 --verify`. Checks: the run exits 0; the report lists two
# successful cells; every package hash is built at most once across both cells (counted from the
# "built" events of the --json log, by hash); the dependencies both cells share come from one
# build or the cache; both artifacts pass `verify --deep`; `--emit github-matrix` is valid JSON with
# one entry per cell; `--cell ID` runs exactly that cell (and returns at once: its artifact exists).
#
#   tests/e2e/pipeline.sh
#
# Environment: SF_BIN (default build/bin/slurm-factory), SF_E2E_CACHE (a cache kept between runs,
# e.g. the warm /tmp/sf-e2e-cache of build-slurm.sh; default a new temporary one), SF_E2E_VERSIONS
# (default "22.05.8 24.11.5"), SF_E2E_TOOLCHAIN (default trixie), SF_E2E_JOBS (default 2),
# SF_E2E_BACKEND (default docker). Prints one PASS/FAIL line per check and a final line
# "pipeline e2e: PASS" or "pipeline e2e: FAIL (N failed)".
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
VERSIONS=${SF_E2E_VERSIONS:-22.05.8 24.11.5}
TOOLCHAIN=${SF_E2E_TOOLCHAIN:-trixie}
e2e_setup pipeline
cleanup() {
  stop_gpg_agent
  [ -n "${SF_E2E_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

need_binary "pipeline e2e"

# The same throwaway key as build-slurm.sh keeps beside a kept cache, so its entries stay trusted.
signing_key "$CACHE/e2e-gnupg" "$E2E_KEY"
# shellcheck disable=SC2086  # VERSIONS is a list
versions_yaml=$(printf '%s\n' $VERSIONS | sed 's/.*/"&"/' | paste -sd, -)
{ sf_config "$CACHE"; cat <<CONF; } > "$work/config.yaml"
build:
  jobs: $JOBS
pipelines:
  e2e:
    matrix:
      slurm_versions: [$versions_yaml]
      toolchains: [$TOOLCHAIN]
    backend: $BACKEND
    parallel: 2
    verify: true
CONF
sf() { "$SF_BIN" --config "$work/config.yaml" "$@"; }
# shellcheck disable=SC2086  # VERSIONS is a list
ncells=$(printf '%s\n' $VERSIONS | wc -l)

echo "== plan"
sf --json run e2e --dry-run > "$work/dry.json" 2> "$work/dry.err"
rc=$?
planned=$(jq -r 'select(.event=="pipeline" and .kind=="plan") | .plan.cells[] | select(.error == null) | .cell' \
  "$work/dry.json" 2>/dev/null | sort -u | wc -l)
[ "$rc" -eq 0 ] && [ "$planned" -eq "$ncells" ]
check "dry run plans $ncells cells" $? "exit $rc, $planned cells planned: $(tail -n 3 "$work/dry.err")"

echo "== run (cache $CACHE)"
start=$(date +%s)
sf --json run e2e --output "$work/out" --report "$work/report.json" > "$work/run.json" 2> "$work/run.err"
rc=$?
secs=$(( $(date +%s) - start ))
echo "run took ${secs}s (exit $rc)"
check "run exits 0" "$rc" "$(tail -n 5 "$work/run.err")"
ok=$(jq '[.cells[] | select(.result=="ok")] | length' "$work/report.json" 2>/dev/null || echo 0)
[ "$ok" -eq "$ncells" ]
check "report lists $ncells successful cells" $? "$(jq -c '.cells[] | {cell, result, error}' "$work/report.json" 2>/dev/null)"
jq -r '.cells[] | "  \(.cell): \(.result) in \(.seconds|floor)s, built \(.built), cached \(.cached) (\(.reused_from_other_cells) from the other cell) -> \(.artifact // "-")"' \
  "$work/report.json" 2>/dev/null

# Each hash built at most once across cells; what both cells share (same hash) built once or cached.
jq -r 'select(.event=="build" and .kind=="built") | "\(.package.name) \(.package.hash12)"' \
  "$work/run.json" | sort | uniq -c | sort -rn > "$work/built-counts"
echo "builds per package hash:"; sed 's/^/  /' "$work/built-counts"
dups=$(awk '$1 > 1' "$work/built-counts" | wc -l)
[ "$dups" -eq 0 ]
check "no package hash built twice" $? "$(awk '$1 > 1' "$work/built-counts" | tr '\n' ';')"
shared=$(jq -r 'select(.event=="build" and (.kind=="built" or .kind=="cached")) | "\(.package.hash12) \(.cell)"' \
  "$work/run.json" | sort -u | awk '{print $1}' | uniq -d | wc -l)
echo "package hashes both cells use: $shared"
[ "$shared" -gt 0 ]
check "the cells share dependencies" $?

artifacts=$(jq -r '.cells[].artifact // empty' "$work/report.json" 2>/dev/null)
nart=$(printf '%s' "$artifacts" | grep -c . || true)
[ "$nart" -eq "$ncells" ]
check "the report names $ncells artifacts" $? "$nart: $artifacts"
for a in $artifacts; do
  sf verify --deep "$a" > "$work/verify.out" 2>&1
  ok=$?  # before the message's command substitutions change $?
  check "verify --deep $(basename "$a")" "$ok" "$(tail -n 5 "$work/verify.out")"
done

echo "== CI fan-out"
sf run e2e --emit github-matrix > "$work/matrix.json"
n=$(jq '.include | length' "$work/matrix.json" 2>/dev/null || echo -1)
[ "$n" -eq "$ncells" ]
check "github matrix: valid JSON, $ncells entries" $?
first=$(jq -r '.include[0].cell' "$work/matrix.json")
sf --json run e2e --output "$work/out" --cell "$first" > "$work/cell.json" 2> "$work/cell.err"
rc=$?
[ -n "$first" ] && [ "$first" != null ]
check "the matrix names a first cell" $? "'$first'"
cells=$(jq -r 'select(.event=="cell" and .kind=="start") | .cell' "$work/cell.json" | sort -u | tr '\n' ' ')
[ "$rc" -eq 0 ] && [ "$cells" = "$first " ]
check "--cell $first runs exactly that cell" $? "exit $rc, cells run: $cells"
jq -s -e 'any(.[]; .event=="artifact" and .kind=="exists")' "$work/cell.json" > /dev/null
check "--cell finds the artifact of the pipeline run" $?

summary "pipeline e2e" ", run ${secs}s" || exit 1
