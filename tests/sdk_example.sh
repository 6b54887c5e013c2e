#!/usr/bin/env bash
# CI check of the plugin SDK: install the build tree into a temporary prefix, build the out-of-tree
# example plugin (sdk/examples/custom-toolchain) against that install with find_package(SlurmFactory),
# and load it with the installed binary.
#
#   tests/sdk_example.sh BUILD_DIR        (registered in ctest as "sdk_example")
set -euo pipefail

# shellcheck source=tests/sdk_common.sh
source "$(dirname "$0")/sdk_common.sh"
sdk_begin sdk_example "${1:-}"
example_build=$tmp/example-build

sdk_install
sdk_build_example custom-toolchain "$example_build"
plugin=$example_build/libsf-toolchain-example.so
[[ -f $plugin ]] || fail "the example build produced no $plugin"

config=$tmp/config.yaml
cat >"$config" <<YAML
plugins:
  search_paths: [$example_build]
  load: [toolchain-example]
YAML

step "loading it: slurm-factory plugins list --json"
env -u SLURM_FACTORY_PLUGIN_PATH "$prefix/bin/slurm-factory" --config "$config" plugins list --json \
  >"$tmp/plugins.json" 2>"$tmp/plugins.err" ||
  { cat "$tmp/plugins.err" >&2; fail "plugins list failed"; }
expect_plugin "$tmp/plugins.json" -DNAME=toolchain-example -DPATH="$plugin" -DVERSION=1.0.0 \
  -DKIND=toolchain -DPROVIDES=example ||
  { cat "$tmp/plugins.json" >&2; fail "plugins list --json does not show toolchain-example from $plugin"; }

if "$prefix/bin/slurm-factory" toolchains list --help >/dev/null 2>&1; then
  step "its release: slurm-factory toolchains list --json"
  env -u SLURM_FACTORY_PLUGIN_PATH "$prefix/bin/slurm-factory" --config "$config" toolchains list \
    --json >"$tmp/toolchains.json" 2>"$tmp/toolchains.err" ||
    { cat "$tmp/toolchains.err" >&2; fail "toolchains list failed"; }
  grep -q '"example-bookworm"' "$tmp/toolchains.json" ||
    { cat "$tmp/toolchains.json" >&2; fail "toolchains list --json does not show example-bookworm"; }
else
  step "toolchains list does not exist yet; skipped"
fi

# The same plugin installed into the prefix is found with no search path configured.
step "installing the example into the prefix and loading it by name only"
cmake --install "$example_build" --prefix "$prefix" >/dev/null
cat >"$config" <<YAML
plugins:
  load: [toolchain-example]
YAML
env -u SLURM_FACTORY_PLUGIN_PATH "$prefix/bin/slurm-factory" --config "$config" plugins list --json \
  >"$tmp/plugins.json" 2>"$tmp/plugins.err" ||
  { cat "$tmp/plugins.err" >&2; fail "plugins list failed with the installed example"; }
expect_plugin "$tmp/plugins.json" -DNAME=toolchain-example \
  -DPATH="$prefix/lib/slurm-factory/plugins/libsf-toolchain-example.so" ||
  fail "the installed example is not found beside the installed binary"

step "PASS"
