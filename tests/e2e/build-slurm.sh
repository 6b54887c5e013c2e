#!/bin/sh
# End to end: `build-slurm` builds Slurm and its source dependencies on docker for each toolchain,
# then `sbin/slurmctld -V` and `bin/sinfo --version` run from a copy of the staged view moved to a
# directory other than the canonical prefix (in a container of the same release, LD_LIBRARY_PATH
# unset), and a second run of the same request rebuilds nothing.
#
#   tests/e2e/build-slurm.sh [TOOLCHAIN...]      (default: trixie bookworm)
#
# Environment: SF_BIN (the slurm-factory binary; default build/bin/slurm-factory),
# SF_E2E_CACHE (cache directory kept between runs; default a new temporary one),
# SF_E2E_VERSION (default 24.11.5), SF_E2E_JOBS (default 2), SF_E2E_BACKEND (default docker).
# Entries are signed with a throwaway GPG key made for this run. Prints one PASS/FAIL line per
# check and a final line "build-slurm e2e: PASS" or "build-slurm e2e: FAIL (N failed)".
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
[ "$#" -gt 0 ] || set -- trixie bookworm
e2e_setup build
cleanup() {
  stop_gpg_agent
  rm -rf "$work/views"
  [ -n "${SF_E2E_CACHE:-}" ] || rm -rf "$work"
}
trap cleanup EXIT

need_binary "build-slurm e2e"

# A throwaway signing key; its keyring is also the trust anchor for reading entries back. It is
# kept beside the cache, so with a kept cache (SF_E2E_CACHE) the entries stay trusted between runs.
signing_key "$CACHE/e2e-gnupg" "$E2E_KEY"
sf_config "$CACHE" > "$work/config.yaml"

run_build() { # run_build TOOLCHAIN LOG -> exit status; events in LOG (JSON lines)
  "$SF_BIN" --json --config "$work/config.yaml" build-slurm --slurm-version "$VERSION" \
    --toolchain "$1" --backend "$BACKEND" --jobs "$JOBS" --output "$work/artifacts-$1" \
    > "$2" 2> "$2.err"
}

for tc in "$@"; do
  echo "== $tc: Slurm $VERSION on $BACKEND (cache $CACHE)"
  rm -rf "$work/artifacts-$tc"  # the first run always assembles and packages
  start=$(date +%s)
  run_build "$tc" "$work/$tc-1.json"
  rc=$?
  secs=$(( $(date +%s) - start ))
  built=$(jq -r 'select(.event=="build" and .kind=="done") | .data.built' "$work/$tc-1.json")
  cached=$(jq -r 'select(.event=="build" and .kind=="done") | .data.cached' "$work/$tc-1.json")
  if [ -n "$built" ] && [ "$rc" -eq 0 ]; then
    check "$tc: first run built $built and reused $cached package(s) in ${secs}s (exit $rc)" 0
  else
    check "$tc: first run" 1 "exit $rc after ${secs}s; $(tail -n 30 "$work/$tc-1.json.err")"
    continue
  fi
  jq -r 'select(.event=="build" and .kind=="built") |
         "   built \(.package.name) \(.package.version) in \(.package.elapsed_ms/1000|floor)s"' \
    "$work/$tc-1.json"

  # The staged view: every runtime source entry of the plan, unpacked, copied, then moved.
  "$SF_BIN" --json --config "$work/config.yaml" build-slurm --slurm-version "$VERSION" \
    --toolchain "$tc" --dry-run > "$work/$tc-plan.json"
  image=$(jq -r 'select(.event=="plan") | .plan.image' "$work/$tc-plan.json")
  view="$work/views/$tc/staged"
  mkdir -p "$view"
  missing=0
  for entry in $(jq -r 'select(.event=="plan") | .plan.packages[] |
                  select(.origin=="source" and .runtime) | "\(.name)-\(.version)-\(.hash12)"' \
                  "$work/$tc-plan.json"); do
    tarball=$(find "$CACHE/cache" -name "$entry.tar.zst" | head -n 1)
    if [ -z "$tarball" ]; then missing=$((missing + 1)); echo "   no entry $entry"; continue; fi
    tar --zstd -xf "$tarball" -C "$view" || missing=$((missing + 1))
  done
  check "$tc: every runtime entry of the plan is in the local cache" "$missing"
  moved="$work/views/$tc/elsewhere/some where/view"
  mkdir -p "$(dirname "$moved")"
  cp -a "$view" "$work/views/$tc/copy" && mv "$work/views/$tc/copy" "$moved"
  rm -rf "$view"
  target="/srv/moved-$tc/slurm view"
  out=$(docker run --rm --network none --user 10001:10001 -v "$moved:$target:ro" "$image" \
    /bin/sh -c 'unset LD_LIBRARY_PATH; test ! -e /opt/slurm/view || exit 90
                # Slurm clients read a config before parsing --version: a minimal one will do.
                printf "ClusterName=e2e\nSlurmctldHost=localhost\nPluginDir=\"%s/lib/slurm\"\n" \
                  "$1" > /tmp/slurm.conf
                export SLURM_CONF=/tmp/slurm.conf
                "$1/sbin/slurmctld" -V && "$1/bin/sinfo" --version' sh "$target" 2>&1)
  rc=$?
  echo "$out" | sed 's/^/   /'
  echo "$out" | grep -q "slurm $VERSION" && [ "$rc" -eq 0 ]
  check "$tc: slurmctld -V and sinfo --version run from the moved view" $? "exit $rc"
  # The libraries come from the view, not from the image's -dev packages.
  ldd_out=$(docker run --rm --network none -v "$moved:$target:ro" "$image" \
    /bin/sh -c 'unset LD_LIBRARY_PATH; ldd "$1/sbin/slurmctld" "$1/lib/slurm/auth_munge.so"' \
    sh "$target" 2>&1)
  echo "$ldd_out" | grep -q "not found"; nf=$?
  # From lib/slurm the RUNPATH reaches the view's lib as $ORIGIN/..: "<target>/lib/slurm/../libmunge".
  echo "$ldd_out" | grep -q -F "libmunge.so.2 => $target/lib/"; from_view=$?
  [ "$nf" -ne 0 ] && [ "$from_view" -eq 0 ]
  check "$tc: ldd finds every library, libmunge from the moved view" $? "$(echo "$ldd_out" | grep -E 'not found|munge')"

  start=$(date +%s)
  run_build "$tc" "$work/$tc-2.json"
  rc=$?
  secs=$(( $(date +%s) - start ))
  built=$(jq -r 'select(.event=="build" and .kind=="done") | .data.built' "$work/$tc-2.json")
  # Either every package comes from the cache, or the pipeline finds the signed artifact of the
  # same plan and returns before building anything.
  exists=$(jq -r 'select(.event=="artifact" and .kind=="exists") | .event' "$work/$tc-2.json")
  [ "$rc" -eq 0 ] && { [ "$built" = "0" ] || [ -n "$exists" ]; }
  second=$?  # the status of the comparison itself, read before anything else runs
  if [ -n "$exists" ]; then built="0 (artifact exists)"; fi
  check "$tc: a second run rebuilds nothing (built=${built:-?}, ${secs}s, exit $rc)" "$second" \
    "$(tail -n 20 "$work/$tc-2.json.err")"
done

summary "build-slurm e2e" || exit 1
