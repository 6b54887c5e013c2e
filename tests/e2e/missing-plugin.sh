#!/bin/sh
# End to end: a build image without a plugin's -dev package never gives an artifact without the
# plugin. A site release `trixie-no-ipmi` (based_on trixie, `dev_packages: {freeipmi: []}`, so its
# toolchain image has no libfreeipmi-dev) builds Slurm twice:
#   1. with the shipped slurm recipe, whose `--with-freeipmi` makes configure refuse: the build
#      fails, naming package slurm, its configure stage and its log file, and the log says why;
#   2. with a site recipe that leaves `--with-freeipmi` out (configure then only warns and skips
#      the plugin, as it does for every optional library): make and install succeed, and the
#      expected-plugins check after the build fails, naming acct_gather_energy/ipmi and what
#      provides it (dev_packages.freeipmi, which the site release empties, and where). No artifact
#      is written by either.
# Dependencies come from the release's -dev packages (a site recipe folder with `from: system`),
# so only Slurm builds in the new image.
#
#   tests/e2e/missing-plugin.sh
#
# Environment: SF_BIN, SF_E2E_CACHE (cache kept between runs; default a temporary one),
# SF_E2E_VERSION (default 24.11.5), SF_E2E_JOBS (default 2), SF_E2E_BACKEND (default docker).
# One PASS/FAIL line per check, then "missing-plugin e2e: PASS" or "... FAIL (N failed)".
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
e2e_setup missing-plugin
cleanup() {
  stop_gpg_agent
  [ -n "${SF_E2E_CACHE:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
need_binary "missing-plugin e2e"

signing_key "$CACHE/e2e-gnupg" "$E2E_KEY"
{ sf_config "$CACHE"; cat <<CONF; } > "$work/config.yaml"
# A site release whose image lacks freeipmi's -dev packages (an empty list installs nothing).
toolchains:
  trixie-no-ipmi:
    based_on: trixie
    dev_packages: {freeipmi: []}
CONF
site_recipes_from_system "$work"
TC=trixie-no-ipmi

build() { # build NAME -> exit status; stderr in $work/NAME.err, events in $work/NAME.json
  "$SF_BIN" --json --config "$work/config.yaml" build-slurm --slurm-version "$VERSION" \
    --toolchain "$TC" --backend "$BACKEND" --jobs "$JOBS" --output "$work/out-$1" \
    > "$work/$1.json" 2> "$work/$1.err"
}
# build_must_fail PART NAME: builds, checks that it fails and that no artifact was written,
# shows the end of the error; sets log to the slurm.log the error names (empty when none).
build_must_fail() {
  start=$(date +%s)
  build "$2"
  rc=$?
  [ "$rc" -ne 0 ]
  ok=$?  # before the message's command substitutions change $?
  check "$1: build-slurm fails (exit $rc after $(( $(date +%s) - start ))s)" "$ok" \
    "$(tail -n 20 "$work/$2.err")"
  sed 's/^/   | /' "$work/$2.err" | tail -n 15
  log=$(grep -oE '/[^ ]*/slurm\.log' "$work/$2.err" | head -n 1)
  [ -z "$(find "$work/out-$2" -name '*.tar.zst' 2>/dev/null | head -n 1)" ]
  check "$1: no artifact was written" $?
}

echo "== 1: the shipped slurm recipe on $TC (--with-freeipmi, no libfreeipmi-dev in the image)"
build_must_fail 1 shipped
grep -q 'slurm' "$work/shipped.err" && grep -q 'configure' "$work/shipped.err" &&
  [ -n "$log" ] && [ -f "$log" ]
check "1: the error names package slurm, the configure stage and the log (${log:-none})" $?
grep -i 'freeipmi' "${log:-/dev/null}" | grep -qi 'error'
check "1: the log says configure refused for want of freeipmi" $? \
  "$(tail -n 5 "${log:-/dev/null}")"
grep -q -F "fix the recipe ($SLURM_FACTORY_RECIPE_DIR/slurm.yaml)" "$work/shipped.err"
check "1: what to do names the recipe file in use (the site's recipe folder)" $?

echo "== 2: a site recipe without --with-freeipmi on $TC: configure skips the plugin"
sed -i '/^  - --with-freeipmi/d' "$SLURM_FACTORY_RECIPE_DIR/slurm.yaml"
! grep -q -- '--with-freeipmi' "$SLURM_FACTORY_RECIPE_DIR/slurm.yaml"
check "2: the site recipe leaves --with-freeipmi out" $?
build_must_fail 2 trimmed
grep -q '^==> \[slurm [^]]*\] install' "${log:-/dev/null}"
check "2: Slurm's make and install ran (the log reaches the install stage)" $?
grep -q 'acct_gather_energy/ipmi' "$work/trimmed.err"
check "2: the error names the missing plugin acct_gather_energy/ipmi" $?
grep -q -F "dev_packages.freeipmi, which release $TC leaves empty, defined at $work/config.yaml:" \
  "$work/trimmed.err"
check "2: the error names what provides it (dev_packages.freeipmi), emptied where" $?

summary "missing-plugin e2e"
