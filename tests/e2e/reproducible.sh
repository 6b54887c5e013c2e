#!/bin/sh
# End to end: reproducible artifacts. For each toolchain: the full Slurm build twice, cold (two
# empty cache folders; only the source archives are shared, verified by sha256), gives the same
# artifact sha256 and identical provenance inputs; `slurm-factory rebuild` of the first artifact
# exits 0; a rebuild with a deliberately changed recipe input (a copy of the recipes where
# libyaml builds with -O1 instead of -O2) exits 13 and names the files that differ.
#
#   tests/e2e/reproducible.sh [TOOLCHAIN...]      (default: trixie)
#
# Four cold builds per toolchain (about 20 min each on 2 cores). Environment: SF_BIN,
# SF_E2E_VERSION (default 24.11.5), SF_E2E_JOBS (default 2), SF_E2E_BACKEND (default docker).
# Prints one PASS/FAIL line per check and a final "reproducible e2e: PASS" or "... FAIL" line.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
[ "$#" -gt 0 ] || set -- trixie
unset SF_E2E_CACHE  # always cold: the caches are this run's own
e2e_setup reproducible
cleanup() {
  stop_gpg_agent
  rm -rf "$work"
}
trap cleanup EXIT

need_binary "reproducible e2e"
signing_key "$work/gnupg" "$E2E_KEY"
mkdir -p "$work/sourcecache"

# config_for NAME: an empty cache folder NAME sharing only the source archives.
config_for() {
  mkdir -p "$work/$1"
  ln -sfn "$work/sourcecache" "$work/$1/sourcecache"
  sf_config "$work/$1" > "$work/$1.yaml"
}

build() { # build TOOLCHAIN NAME -> the artifact path on stdout; exit status of build-slurm
  "$SF_BIN" --json --config "$work/$2.yaml" build-slurm --slurm-version "$VERSION" \
    --toolchain "$1" --backend "$BACKEND" --jobs "$JOBS" --output "$work/out-$2" \
    > "$work/$2.json" 2> "$work/$2.err" || return $?
  jq -r 'select(.event=="result") | .artifact' "$work/$2.json"
}

for tc in "$@"; do
  echo "== $tc: Slurm $VERSION, two cold builds on $BACKEND"
  config_for "$tc-a"
  config_for "$tc-b"
  start=$(date +%s)
  a=$(build "$tc" "$tc-a"); rc_a=$?
  check "$tc: cold build A (exit $rc_a, $(( $(date +%s) - start ))s)" "$rc_a" \
    "$(tail -n 20 "$work/$tc-a.err")"
  start=$(date +%s)
  b=$(build "$tc" "$tc-b"); rc_b=$?
  check "$tc: cold build B (exit $rc_b, $(( $(date +%s) - start ))s)" "$rc_b" \
    "$(tail -n 20 "$work/$tc-b.err")"
  if [ "$rc_a" -ne 0 ] || [ "$rc_b" -ne 0 ]; then continue; fi

  sha_a=$(sha256sum "$a" | cut -d' ' -f1)
  sha_b=$(sha256sum "$b" | cut -d' ' -f1)
  [ "$sha_a" = "$sha_b" ]
  check "$tc: two cold builds, same artifact sha256 ($sha_a)" $? "A $sha_a, B $sha_b"

  prov_a="${a%.tar.*}.provenance.json"
  prov_b="${b%.tar.*}.provenance.json"
  jq -e '[.packages[] | select(.origin=="source") | .source_date_epoch] | all(. != null)' \
    "$prov_a" > /dev/null
  check "$tc: provenance records each source package's SOURCE_DATE_EPOCH" $?
  jq -e '.toolchain.image_packages | length > 50' "$prov_a" > /dev/null
  check "$tc: provenance records the toolchain image's package list" $?
  [ "$(jq -c '[.packages[].inputs]' "$prov_a")" = "$(jq -c '[.packages[].inputs]' "$prov_b")" ]
  check "$tc: both provenances record the same package inputs" $?

  # rebuild of A from its provenance, in cache folder B's config (another machine's view).
  start=$(date +%s)
  "$SF_BIN" --config "$work/$tc-b.yaml" rebuild "$a" --backend "$BACKEND" --jobs "$JOBS" \
    > "$work/rebuild.out" 2> "$work/rebuild.err"
  rc=$?
  check "$tc: rebuild of artifact A exits 0 ($(( $(date +%s) - start ))s)" "$rc" \
    "exit $rc; $(tail -n 20 "$work/rebuild.out") $(tail -n 10 "$work/rebuild.err")"
  grep -q '^identical' "$work/rebuild.out"
  check "$tc: rebuild says identical" $? "$(cat "$work/rebuild.out")"

  # A changed recipe input: libyaml built with an extra define.
  recipes="$work/recipes-changed"
  rm -rf "$recipes"
  cp -r "$here/../../configs/recipes" "$recipes"
  cat >> "$recipes/libyaml.yaml" <<'YAML'
env:
  CFLAGS: -O1 -g
YAML
  start=$(date +%s)
  SLURM_FACTORY_RECIPE_DIR="$recipes" "$SF_BIN" --config "$work/$tc-b.yaml" rebuild "$a" \
    --backend "$BACKEND" --jobs "$JOBS" > "$work/rebuild-changed.out" 2> "$work/rebuild-changed.err"
  rc=$?
  [ "$rc" -eq 13 ]
  ok=$?  # before the message's command substitutions change $?
  check "$tc: rebuild with a changed recipe input exits 13 ($(( $(date +%s) - start ))s)" "$ok" \
    "exit $rc; $(tail -n 20 "$work/rebuild-changed.out") $(tail -n 10 "$work/rebuild-changed.err")"
  grep -q 'inputs: *libyaml differs' "$work/rebuild-changed.out"
  check "$tc: the changed rebuild names libyaml's changed inputs" $? \
    "$(head -n 20 "$work/rebuild-changed.out")"
  grep -q 'libyaml' "$work/rebuild-changed.out" && grep -q '^DIFFERENT' "$work/rebuild-changed.out" \
    && grep -Eq '^  view/lib/libyaml[^ ]*  content' "$work/rebuild-changed.out"
  check "$tc: the changed rebuild names the differing files (view/lib/libyaml*)" $? \
    "$(sed -n '/^DIFFERENT/,$p' "$work/rebuild-changed.out" | head -n 20)"
done

summary "reproducible e2e" " for $*"
