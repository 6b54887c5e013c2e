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
SF_BIN=${SF_BIN:-$here/../../build/bin/slurm-factory}
VERSIONS=${SF_E2E_VERSIONS:-22.05.8 24.11.5}
TOOLCHAIN=${SF_E2E_TOOLCHAIN:-trixie}
JOBS=${SF_E2E_JOBS:-2}
BACKEND=${SF_E2E_BACKEND:-docker}

work=$(mktemp -d /tmp/sf-e2e-pipeline.XXXXXX)
CACHE=${SF_E2E_CACHE:-$work/cache}
mkdir -p "$CACHE"
failed=0
passed=0
check() { # check NAME STATUS [DETAIL]
  if [ "$2" -eq 0 ]; then
    passed=$((passed + 1)); echo "PASS $1"
  else
    failed=$((failed + 1)); echo "FAIL $1${3:+: $3}"
  fi
}
cleanup() {
  [ -n "${GNUPGHOME:-}" ] && gpgconf --homedir "$GNUPGHOME" --kill all >/dev/null 2>&1
  [ -n "${SF_E2E_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

if [ ! -x "$SF_BIN" ]; then
  echo "pipeline e2e: FAIL (no slurm-factory binary at $SF_BIN; set SF_BIN)"
  exit 1
fi

# The same throwaway key as build-slurm.sh keeps beside a kept cache, so its entries stay trusted.
export GNUPGHOME="$CACHE/e2e-gnupg"
[ -n "${SF_E2E_CACHE:-}" ] || GNUPGHOME="$work/gnupg"
mkdir -p "$GNUPGHOME" && chmod 700 "$GNUPGHOME"
if ! gpg --batch --list-secret-keys 2>/dev/null | grep -q 'slurm-factory e2e'; then
  gpg --batch --quiet --passphrase '' --quick-gen-key \
    'slurm-factory e2e <e2e@slurm-factory.invalid>' ed25519 sign never 2>/dev/null
fi
fpr=$(gpg --batch --with-colons --list-secret-keys | awk -F: '/^fpr:/ {print $10; exit}')
versions_yaml=$(printf '%s\n' $VERSIONS | sed 's/.*/"&"/' | paste -sd, -)
cat > "$work/config.yaml" <<CONF
cache_dir: $CACHE
plugins:
  load: [toolchain-debian, backend-docker, backend-podman, cache-local, packager-tarball]
signing:
  key_id: "$fpr"
  keyring: "$GNUPGHOME"
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
ncells=$(printf '%s\n' $VERSIONS | wc -l)

echo "== plan"
sf run e2e --dry-run
check "dry run plans $ncells cells" $?

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

for a in $(jq -r '.cells[].artifact // empty' "$work/report.json"); do
  sf verify --deep "$a" > "$work/verify.out" 2>&1
  check "verify --deep $(basename "$a")" $? "$(tail -n 5 "$work/verify.out")"
done

echo "== CI fan-out"
sf run e2e --emit github-matrix > "$work/matrix.json"
n=$(jq '.include | length' "$work/matrix.json" 2>/dev/null || echo -1)
[ "$n" -eq "$ncells" ]
check "github matrix: valid JSON, $ncells entries" $?
first=$(jq -r '.include[0].cell' "$work/matrix.json")
sf --json run e2e --output "$work/out" --cell "$first" > "$work/cell.json" 2>&1
rc=$?
cells=$(jq -r 'select(.event=="cell" and .kind=="start") | .cell' "$work/cell.json" | sort -u | tr '\n' ' ')
[ "$rc" -eq 0 ] && [ "$cells" = "$first " ]
check "--cell $first runs exactly that cell" $? "exit $rc, cells run: $cells"
jq -s -e 'any(.[]; .event=="artifact" and .kind=="exists")' "$work/cell.json" > /dev/null
check "--cell finds the artifact of the pipeline run" $?

if [ "$failed" -eq 0 ]; then
  echo "pipeline e2e: PASS ($passed checks, run ${secs}s)"
else
  echo "pipeline e2e: FAIL ($failed failed, $passed passed)"
  exit 1
fi
