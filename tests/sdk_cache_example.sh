#!/usr/bin/env bash
# CI check of the out-of-tree cache provider example (sdk/examples/cache-provider): install the
# build tree into a temporary prefix, build the example against that install with
# find_package(SlurmFactory), and use it with the installed binary as a cache layer of type
# "flatdir": real signed entries (made with a throwaway gpg key by sf-test-cache-entry) are pushed
# from a local layer into it, listed, verified (signature, sha256 of the tarball and of every file),
# pulled back into an empty local layer, and a tampered object in it is caught. No container engine.
#
#   tests/sdk_cache_example.sh BUILD_DIR ENTRY_TOOL   (ctest "sdk_cache_example"; ENTRY_TOOL is
#                                                     the build's tests/sf-test-cache-entry)
set -euo pipefail

# shellcheck source=tests/sdk_common.sh
source "$(dirname "$0")/sdk_common.sh"
sdk_begin sdk_cache_example "${1:-}"
make_entry=${2:?usage: $0 BUILD_DIR ENTRY_TOOL}
[[ -x $make_entry ]] || fail "$make_entry is not built (cmake --build BUILD_DIR --target sf-test-cache-entry)"
example_build=$tmp/example-build
started=$SECONDS

failures=0
# check NAME COMMAND...: PASS when COMMAND succeeds, else FAIL (and the script exits non-zero).
check() {
  local name=$1
  shift
  if "$@"; then
    echo "$sdk_name: PASS: $name"
  else
    echo "$sdk_name: FAIL: $name" >&2
    failures=$((failures + 1))
  fi
}
# sf ARGS...: the installed binary with $config; stdout in $tmp/out, stderr in $tmp/err, exit code
# in $rc (never fails the script by itself).
sf() {
  rc=0
  env -u SLURM_FACTORY_PLUGIN_PATH XDG_CONFIG_HOME="$tmp/xdg" SLURM_FACTORY_CACHE_DIR="$tmp/home" \
    "$prefix/bin/slurm-factory" --config "$config" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
}
show() { echo "--- exit $rc; stdout:" >&2 && cat "$tmp/out" >&2 && echo "--- stderr:" >&2 && cat "$tmp/err" >&2; }
exits() { [[ $rc -eq $1 ]] || { show; return 1; }; }
says() { grep -qF -- "$1" "$tmp/out" "$tmp/err" || { show; return 1; }; }

sdk_install
sdk_build_example cache-provider "$example_build"
plugin=$example_build/libsf-cache-example.so
[[ -f $plugin ]] || fail "the example build produced no $plugin"

# A throwaway signing key (short path: gpg-agent's socket must fit in sockaddr_un).
gnupg=$(mktemp -d /tmp/sf-gpg.XXXXXX)
sdk_on_exit "gpgconf --homedir '$gnupg' --kill all >/dev/null 2>&1; rm -rf '$gnupg'"
chmod 700 "$gnupg"
gpg --homedir "$gnupg" --batch --quiet --passphrase '' \
  --quick-gen-key 'slurm-factory sdk cache example <sdk@slurm-factory.invalid>' ed25519 sign never \
  2>/dev/null
fpr=$(gpg --homedir "$gnupg" --batch --with-colons --list-secret-keys 2>/dev/null | awk -F: '/^fpr:/ {print $10; exit}')
[[ -n $fpr ]] || fail "could not make a throwaway gpg signing key"

local_dir=$tmp/local
flat=$tmp/flat
config=$tmp/config.yaml
# write_config WRITABLE [EXTRA_SETTINGS]: a local layer and the example's layer "shared".
write_config() {
  cat >"$config" <<YAML
plugins:
  search_paths: [$example_build]
  load: [cache-local, cache-example]
cache:
  layers:
    - {name: local, type: local, url: 'file://$local_dir'}
    - name: shared
      type: flatdir
      url: file://$flat
      writable: $1
      settings: {${2:-file_mode: "0664"}}
signing:
  keyring: '$gnupg'
  trusted_fingerprints: [$fpr]
  require_signed: true
YAML
}
write_config true

step "plugins list --json shows the example"
sf --json plugins list
check "plugins list names cache-example from $plugin, providing cache flatdir" \
  expect_plugin "$tmp/out" -DNAME=cache-example -DPATH="$plugin" -DVERSION=1.0.0 -DKIND=cache \
  -DPROVIDES=flatdir

step "a setting the type does not declare is refused"
write_config true 'file_mod: "0664"'
sf cache list --layer shared
check "an unknown flatdir setting is a configuration error (exit 3)" exits 3
check "the error names the unknown key at the config's line" says "$config:11:28: unknown key 'file_mod'"
check "... and suggests the declared one" says "did you mean 'file_mode'?"
write_config true 'file_mode: 4755'
sf cache list --layer shared
check "a setuid file_mode is a configuration error (exit 3)" exits 3
check "the error says how to write file_mode" says 'file_mode: "0664"'
write_config true

step "two signed entries in the local layer"
keys=()
for spec in "json-c a" "slurm c"; do
  # shellcheck disable=SC2086
  keys+=("$("$make_entry" "$gnupg" "$fpr" "$local_dir" $spec)") || fail "sf-test-cache-entry failed"
done
[[ ${#keys[@]} -eq 2 && -f $local_dir/${keys[0]}.manifest.json.asc ]] ||
  fail "sf-test-cache-entry made no signed entry in $local_dir"

step "cache push --all --to shared"
sf cache push --all --to shared
check "push exits 0" exits 0
check "push copied both entries" says "2 pushed"

# The example's own layout: one flat directory, one file per key, '/' written %2F.
flat_names() { (cd "$flat" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort); }
expected_names() {
  local k s
  for k in "${keys[@]}"; do
    for s in .tar.zst .manifest.json .manifest.json.asc; do
      printf '%s\n' "${k//\//%2F}$s"
    done
  done | LC_ALL=C sort
}
check "the flatdir layer holds exactly the 6 objects, flat, named by the example's encoding" \
  diff <(expected_names) <(flat_names)
same_bytes() {
  local k s
  for k in "${keys[@]}"; do
    for s in .tar.zst .manifest.json .manifest.json.asc; do
      cmp -s "$local_dir/$k$s" "$flat/${k//\//%2F}$s" || { echo "differs: $k$s" >&2; return 1; }
    done
  done
}
check "every object in the flatdir layer is byte-identical to the local one" same_bytes
modes_are() { [[ $(stat -c %a "$flat"/* | sort -u) == "$1" ]] || { stat -c '%a %n' "$flat"/* >&2; return 1; }; }
check "stored files have settings.file_mode 0664" modes_are 664

step "cache list --json --layer shared"
sf --json cache list --layer shared
check "list exits 0" exits 0
check "list shows 2 entries" test "$(json_cmake length "$tmp/out")" = 2
for k in "${keys[@]}"; do
  check "list shows $k, signed" json_cmake entry "$tmp/out" -DLAYER=shared -DKEY="$k" -DSIGNED=ON
done

step "cache verify --layer shared (signature against the throwaway key, every sha256)"
sf --json cache verify --layer shared
check "verify exits 0" exits 0
check "verify checked 2 entries" test "$(json_get "$tmp/out" checked)" = 2
check "verify found 0 bad" test "$(json_get "$tmp/out" bad)" = 0

step "wipe the local layer, cache pull --all --from shared"
rm -rf "$local_dir"
sf cache pull --all --from shared
check "pull exits 0" exits 0
check "pull copied both entries" says "2 pulled"
check "the pulled objects are byte-identical to the flatdir ones" same_bytes
sf cache verify --layer local
check "the pulled entries verify in the local layer" says "2 entries checked, 0 bad"

step "a tampered tarball in the flatdir layer"
victim=${keys[0]}
printf 'not the signed bytes' >>"$flat/${victim//\//%2F}.tar.zst"
sf cache verify --layer shared
check "verify exits 11 (verification error)" exits 11
check "verify names the tampered entry" says "BAD  shared  $victim"

step "a read-only flatdir layer refuses a push"
write_config false
sf cache push --all --to shared --force
check "push to a read-only layer exits 8 (cache error)" exits 8
check "the error says the layer is read-only" says "cache layer 'shared' is read-only"

elapsed=$((SECONDS - started))
if ((failures > 0)); then
  echo "$sdk_name: FAIL: $failures check(s) failed (${elapsed}s)" >&2
  exit 1
fi
step "PASS (${elapsed}s)"
