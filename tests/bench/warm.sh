#!/bin/bash
# Warm rebuild from the remote cache (issue 7, part 5): a cold build of real Slurm that publishes
# (--publish all) to an s3rver bucket; then the local binary cache and the output are wiped and
# the same request runs again with the S3 layer behind the now empty local layer (every package
# comes from S3); then the same request a third time with the artifact present.
# Prints cold seconds, warm seconds, their ratio and the third run's seconds, then
#   "warm rebuild bench: PASS" or "warm rebuild bench: FAIL (...)"
# Goals: warm <= 60 s, third <= 1 s (SF_BENCH_WARM_GOAL / SF_BENCH_THIRD_GOAL).
#
#   tests/bench/warm.sh [TOOLCHAIN]          (default: trixie)
#
# Environment:
#   SF_BIN              the slurm-factory binary (default build/bin/slurm-factory)
#   SF_BENCH_VERSION    Slurm version (default 24.11.5)
#   SF_BENCH_JOBS       make jobs (default: the CPU count)
#   SF_BENCH_BACKEND    docker | podman (default docker)
#   SF_BENCH_SOURCES    a cache directory whose sourcecache/ (verified source archives) is reused
#                       by all three runs (default ~/.slurm-factory); sources are not the binary
#                       cache and are not wiped
#   SF_BENCH_SEED       a cache directory whose cache/ holds the plan's entries: the first run
#                       starts from a copy of them (so it is NOT a cold build: it packages and
#                       seeds S3), for machines where a cold Slurm build does not fit. Its entries
#                       must verify with SF_BENCH_SEED_GNUPG (default $SF_BENCH_SEED/e2e-gnupg),
#                       a copy of which then also signs. SF_BENCH_SEED_BUILD="slurm ..." drops
#                       those packages' entries from the copy, so the first run builds them.
#   SF_BENCH_KEEP=1     keep the work directory
# The signing key is a throwaway one made for this run (unless seeding). The toolchain image is
# prepared or reused before the clock starts.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/../e2e/lib.sh"
bench_settings
SEED=${SF_BENCH_SEED:-}
WARM_GOAL=${SF_BENCH_WARM_GOAL:-60}
THIRD_GOAL=${SF_BENCH_THIRD_GOAL:-1}
tc=${1:-trixie}
[ -x "$SF_BIN" ] || { echo "warm.sh: no slurm-factory binary at $SF_BIN (set SF_BIN)" >&2; exit 2; }
for tool in jq curl gpg; do
  command -v "$tool" >/dev/null || { echo "warm.sh: $tool not found" >&2; exit 2; }
done

work=$(mktemp -d /tmp/sf-bench-warm.XXXXXX)
s3pid=""
cleanup() {
  [ -n "$s3pid" ] && kill "$s3pid" 2>/dev/null
  [ -n "${s3data:-}" ] && rm -rf "$s3data" "$s3data.log"
  stop_gpg_agent
  if [ "${SF_BENCH_KEEP:-0}" = 1 ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

# S3: a fresh s3rver and bucket.
read -r s3port s3pid s3data < <("$here/../support/start-s3rver.sh") || {
  echo "warm rebuild bench: FAIL (s3rver did not start)"; exit 1; }
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_SESSION_TOKEN
endpoint="http://127.0.0.1:$s3port"
empty_sha=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  # sha256 of ""
curl -fsS --aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER -X PUT \
  -H "x-amz-content-sha256: $empty_sha" "$endpoint/sf-bench" >/dev/null || { echo "warm rebuild bench: FAIL (cannot create the bucket)"; exit 1; }

# The signing key.
if [ -n "$SEED" ]; then
  # A copy of the seed's keyring: this run's gpg-agent is its own (and is stopped at the end).
  export GNUPGHOME="$work/gnupg"
  cp -a "${SF_BENCH_SEED_GNUPG:-$SEED/e2e-gnupg}" "$GNUPGHOME" || {
    echo "warm rebuild bench: FAIL (no keyring to copy for the seed)"; exit 1; }
  rm -f "$GNUPGHOME"/S.* "$GNUPGHOME"/*.lock
else
  signing_key "$work/gnupg" 'slurm-factory warm bench <warm@slurm-factory.invalid>'
fi
fpr=$(gpg --batch --with-colons --list-secret-keys 2>/dev/null | awk -F: '/^fpr:/ {print $10; exit}')
[ -n "$fpr" ] || { echo "warm rebuild bench: FAIL (no signing key in $GNUPGHOME)"; exit 1; }

link_sources "$work/cache"
{ sf_config "$work/cache" cache-s3; cat <<CONF; } > "$work/config.yaml"
cache:
  layers:
    - {name: local, type: local, url: "file://$work/cache/cache", writable: true}
    - name: bench-s3
      type: s3
      url: s3://sf-bench/slurm-factory
      writable: true
      settings: {endpoint: "$endpoint", region: us-east-1}
CONF
sf() { "$SF_BIN" --config "$work/config.yaml" "$@"; }
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

echo "== Slurm $VERSION for $tc on $BACKEND, --jobs $JOBS, publishing to s3rver $endpoint"
echo "   sources: $SOURCES/sourcecache (kept for all runs); signing key $fpr"
sf toolchain prepare "$tc" --backend "$BACKEND" >/dev/null 2>"$work/prepare.err" || {
  echo "warm rebuild bench: FAIL (toolchain prepare: $(tail -n 5 "$work/prepare.err"))"; exit 1; }
if [ -n "$SEED" ]; then
  mkdir -p "$work/cache/cache"
  cp -a "$SEED/cache/." "$work/cache/cache/"
  for name in ${SF_BENCH_SEED_BUILD:-}; do  # these build cold in the first run
    rm -f "$work/cache/cache"/*/*/"$name"-[0-9]*
  done
  echo "   first run: SEEDED from $SEED/cache (not a cold build: entries found there are reused;" \
    "built cold: ${SF_BENCH_SEED_BUILD:-nothing})"
else
  echo "   first run: cold (empty local layer, empty bucket: every package builds)"
fi

run() { # run NAME -> events in $work/NAME.json, seconds in $elapsed, exit status in $rc
  local t0
  t0=$(now)
  sf --json build-slurm --slurm-version "$VERSION" --toolchain "$tc" --backend "$BACKEND" \
    --jobs "$JOBS" --output "$work/out" --publish all > "$work/$1.json" 2> "$work/$1.err"
  rc=$?
  elapsed=$(secs "$t0" "$(now)")
}
field() { jq -r "select(.event==\"$2\" and .kind==\"$3\") | $4" "$work/$1.json" | head -n 1; }

fail=0
problem() { fail=$((fail + 1)); echo "   problem: $*"; }

run first
cold=$elapsed
echo "first run: ${cold}s (exit $rc): built $(field first build 'done' .data.built)," \
  "cached $(field first build 'done' .data.cached) $(field first build 'done' '.data.hits|tostring')"
[ "$rc" -eq 0 ] || { problem "first run failed: $(tail -n 20 "$work/first.err")"; }
jq -r 'select(.event=="build" and .kind=="built") |
       "   built \(.package.name) \(.package.version) in \(.package.elapsed_ms/1000|floor)s"' \
  "$work/first.json"
echo "   published: $(jq -c 'select(.event=="result") | .published | map({layer, entries: (.entries_uploaded|length), entries_present: (.entries_present|length), files: .files_uploaded})' "$work/first.json")"

# Wipe the local binary cache, the run's work files and the output; S3 keeps everything.
rm -rf "$work/cache/cache" "$work/cache/work" "$work/out"

run second
warm=$elapsed
hits=$(field second build 'done' '.data.hits["bench-s3"] // 0')
built=$(field second build 'done' .data.built)
echo "warm run (local layer empty, S3 behind it): ${warm}s (exit $rc): built ${built:-?}," \
  "from S3 ${hits:-?}"
[ "$rc" -eq 0 ] || problem "warm run failed: $(tail -n 20 "$work/second.err")"
[ "${built:-x}" = 0 ] || problem "the warm run built ${built:-?} package(s)"
[ "${hits:-0}" -gt 0 ] || problem "the warm run took nothing from S3"
jq -r 'select(.event != "build" or .kind == "done") | select(.kind=="done" or .kind=="exists") |
       "   \(.event) done at \(.elapsed_ms/1000)s: \(.message)"' "$work/second.json"

run third
third=$elapsed
echo "third run (artifact present): ${third}s (exit $rc):" \
  "$(field third artifact exists .message)"
[ "$rc" -eq 0 ] || problem "third run failed: $(tail -n 20 "$work/third.err")"
[ -n "$(field third artifact exists .event)" ] || problem "the third run did not find the artifact"
echo "   published: $(jq -c 'select(.event=="result") | .published | map({layer, uploaded: ((.entries_uploaded|length) + (.files_uploaded|length))})' "$work/third.json")"

ratio=$(awk -v c="$cold" -v w="$warm" 'BEGIN { printf "%.1f", (w > 0 ? c / w : 0) }')
echo "cold ${cold} s, warm ${warm} s, ratio ${ratio}x (cold/warm), third ${third} s" \
  "$([ -n "$SEED" ] && echo "(first run seeded, not cold)")"
awk -v w="$warm" -v g="$WARM_GOAL" 'BEGIN { exit !(w <= g) }' ||
  problem "warm ${warm} s > goal ${WARM_GOAL} s"
awk -v t="$third" -v g="$THIRD_GOAL" 'BEGIN { exit !(t <= g) }' ||
  problem "third ${third} s > goal ${THIRD_GOAL} s"
if [ "$fail" -eq 0 ]; then
  echo "warm rebuild bench: PASS (warm ${warm} s <= ${WARM_GOAL} s, third ${third} s <= ${THIRD_GOAL} s)"
else
  echo "warm rebuild bench: FAIL ($fail problem(s))"
  exit 1
fi
