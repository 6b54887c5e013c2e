#!/usr/bin/env bash
# CI check of the plugin SDK: install the build tree into a temporary prefix, build the out-of-tree
# example plugin (sdk/examples/custom-toolchain) against that install with find_package(SlurmFactory),
# and load it with the installed binary.
#
#   tests/sdk_example.sh BUILD_DIR        (registered in ctest as "sdk_example")
set -euo pipefail

build_dir=${1:?usage: $0 BUILD_DIR}
build_dir=$(cd "$build_dir" && pwd)
source_dir=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sf-sdk-example.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
example_build=$tmp/example-build

fail() { echo "sdk_example: FAIL: $*" >&2; exit 1; }
step() { echo "sdk_example: $*"; }

# JSON checks in CMake script mode (string(JSON)), so the check needs nothing beyond the build tools.
cat >"$tmp/json.cmake" <<'CMAKE'
# -DMODE=get -DFILE=f -DKEY=k: print the top-level string KEY.
# -DMODE=plugin -DFILE=f -DNAME=n [-DPATH=p -DVERSION=v -DKIND=k -DPROVIDES=x]: the array in FILE
#   has exactly one plugin NAME, with that file, version and a provides entry {kind, name}.
file(READ "${FILE}" json)
if(MODE STREQUAL "get")
  string(JSON value GET "${json}" "${KEY}")
  message("${value}")
  return()
endif()
string(JSON count LENGTH "${json}")
set(found 0)
math(EXPR last "${count} - 1")
foreach(i RANGE 0 ${last})
  if(count EQUAL 0)
    break()
  endif()
  string(JSON name GET "${json}" ${i} name)
  if(NOT name STREQUAL NAME)
    continue()
  endif()
  math(EXPR found "${found} + 1")
  string(JSON file GET "${json}" ${i} file)
  string(JSON version GET "${json}" ${i} version)
  if(DEFINED PATH AND NOT file STREQUAL PATH)
    message(FATAL_ERROR "plugin ${NAME}: file is ${file}, expected ${PATH}")
  endif()
  if(DEFINED VERSION AND NOT version STREQUAL VERSION)
    message(FATAL_ERROR "plugin ${NAME}: version is ${version}, expected ${VERSION}")
  endif()
  if(DEFINED KIND)
    set(provided FALSE)
    string(JSON n LENGTH "${json}" ${i} provides)
    foreach(j RANGE 0 ${n})
      if(j EQUAL n)
        break()
      endif()
      string(JSON k GET "${json}" ${i} provides ${j} kind)
      string(JSON v GET "${json}" ${i} provides ${j} name)
      if(k STREQUAL KIND AND v STREQUAL PROVIDES)
        set(provided TRUE)
      endif()
    endforeach()
    if(NOT provided)
      message(FATAL_ERROR "plugin ${NAME} does not provide ${KIND} ${PROVIDES}")
    endif()
  endif()
endforeach()
if(NOT found EQUAL 1)
  message(FATAL_ERROR "expected one plugin named ${NAME}, found ${found}")
endif()
CMAKE
json_get() { cmake -DMODE=get -DFILE="$1" -DKEY="$2" -P "$tmp/json.cmake" 2>&1; }
expect_plugin() { cmake -DMODE=plugin -DFILE="$1" "${@:2}" -P "$tmp/json.cmake"; }

step "installing $build_dir into $prefix"
cmake --install "$build_dir" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log" >&2; fail "cmake --install failed"; }
for f in bin/slurm-factory lib/cmake/SlurmFactory/SlurmFactoryConfig.cmake \
  lib/cmake/SlurmFactory/SlurmFactoryTargets.cmake include/slurm_factory/plugin.hpp; do
  [[ -e $prefix/$f ]] || fail "the install tree has no $f"
done

generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
step "configuring the example against the installed SDK"
cmake -S "$source_dir/sdk/examples/custom-toolchain" -B "$example_build" "${generator[@]}" \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$tmp/configure.log" 2>&1 ||
  { cat "$tmp/configure.log" >&2; fail "configuring the example failed"; }
step "building the example"
cmake --build "$example_build" -j 2 >"$tmp/build.log" 2>&1 ||
  { cat "$tmp/build.log" >&2; fail "building the example failed"; }
"$prefix/bin/slurm-factory" version --json >"$tmp/version.json"
abi=$(json_get "$tmp/version.json" abi)
grep -q "plugin ABI $abi;" "$tmp/configure.log" ||
  { cat "$tmp/configure.log" >&2; fail "the installed SDK does not report the binary's plugin ABI $abi"; }
plugin=$example_build/libsf-toolchain-example.so
[[ -f $plugin ]] || fail "the example build produced no $plugin"
# The example must not have picked up the source tree's headers: only the installed ones.
[[ -f $example_build/compile_commands.json ]] || fail "the example build wrote no compile_commands.json"
if grep -q -- "$source_dir/sdk/include\|$source_dir/core" "$example_build/compile_commands.json"; then
  fail "the example was compiled against the source tree, not the installed SDK"
fi
grep -q -- "$prefix/include" "$example_build/compile_commands.json" ||
  fail "the example was not compiled against $prefix/include"

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
