# shellcheck shell=bash
# Shared by the SDK checks (tests/sdk_example.sh, tests/sdk_cache_example.sh); sourced, not run.
# sdk_begin NAME BUILD_DIR sets build_dir, source_dir, tmp (removed on exit; sdk_on_exit adds
# cleanup commands), prefix, and the helpers below.
#   sdk_install                     install the build tree into $prefix and check the SDK is there
#   sdk_build_example DIR BUILD     configure and build sdk/examples/DIR against $prefix in BUILD,
#                                   checking it saw the installed headers only and the binary's ABI
#   json_get FILE KEY               print the top-level value KEY of a JSON object
#   json_cmake MODE FILE -DVAR=...  run the JSON checks of $tmp/json.cmake (see there)

sdk_begin() {
  sdk_name=$1
  build_dir=$(cd "${2:?usage: $0 BUILD_DIR}" && pwd)
  source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/sf-$sdk_name.XXXXXX")
  prefix=$tmp/prefix
  sdk_exit_cmds=()
  # shellcheck disable=SC2154 # c is the loop variable inside the trap string
  trap 'for c in "${sdk_exit_cmds[@]}"; do eval "$c"; done; rm -rf "$tmp"' EXIT
  sdk_write_json_cmake
}

sdk_on_exit() { sdk_exit_cmds+=("$1"); }

fail() {
  echo "$sdk_name: FAIL: $*" >&2
  exit 1
}
step() { echo "$sdk_name: $*"; }

# JSON checks in CMake script mode (string(JSON)), so the checks need nothing beyond the build tools.
sdk_write_json_cmake() {
  cat >"$tmp/json.cmake" <<'CMAKE'
# -DMODE=get -DFILE=f -DKEY=k: print the top-level value KEY.
# -DMODE=length -DFILE=f: print the length of the top-level array.
# -DMODE=entry -DFILE=f -DLAYER=l -DKEY=k -DSIGNED=true|false: the array (cache list --json) has
#   exactly one element with that layer and key, and its "signed" is SIGNED.
# -DMODE=plugin -DFILE=f -DNAME=n [-DPATH=p -DVERSION=v -DKIND=k -DPROVIDES=x]: the array in FILE
#   has exactly one plugin NAME, with that file, version and a provides entry {kind, name}.
file(READ "${FILE}" json)
if(MODE STREQUAL "get")
  string(JSON value GET "${json}" "${KEY}")
  message("${value}")
  return()
endif()
string(JSON count LENGTH "${json}")
if(MODE STREQUAL "length")
  message("${count}")
  return()
endif()
set(found 0)
math(EXPR last "${count} - 1")
foreach(i RANGE 0 ${last})
  if(count EQUAL 0)
    break()
  endif()
  if(MODE STREQUAL "entry")
    string(JSON layer GET "${json}" ${i} layer)
    string(JSON key GET "${json}" ${i} key)
    if(layer STREQUAL LAYER AND key STREQUAL KEY)
      math(EXPR found "${found} + 1")
      string(JSON signed GET "${json}" ${i} signed)
      # string(JSON) gives a boolean as ON/OFF
      if((signed AND NOT SIGNED) OR (NOT signed AND SIGNED))
        message(FATAL_ERROR "entry ${LAYER} ${KEY}: signed is ${signed}, expected ${SIGNED}")
      endif()
    endif()
    continue()
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
if(NOT found EQUAL 1 AND MODE STREQUAL "entry")
  message(FATAL_ERROR "expected one entry ${KEY} in layer ${LAYER}, found ${found}")
elseif(NOT found EQUAL 1)
  message(FATAL_ERROR "expected one plugin named ${NAME}, found ${found}")
endif()
CMAKE
}

json_get() { cmake -DMODE=get -DFILE="$1" -DKEY="$2" -P "$tmp/json.cmake" 2>&1; }
json_cmake() { cmake -DMODE="$1" -DFILE="$2" "${@:3}" -P "$tmp/json.cmake" 2>&1; }
expect_plugin() { cmake -DMODE=plugin -DFILE="$1" "${@:2}" -P "$tmp/json.cmake"; }

sdk_install() {
  step "installing $build_dir into $prefix"
  cmake --install "$build_dir" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log" >&2; fail "cmake --install failed"; }
  local f
  for f in bin/slurm-factory lib/cmake/SlurmFactory/SlurmFactoryConfig.cmake \
    lib/cmake/SlurmFactory/SlurmFactoryTargets.cmake include/slurm_factory/plugin.hpp; do
    [[ -e $prefix/$f ]] || fail "the install tree has no $f"
  done
}

sdk_build_example() {
  local example=$1 out=$2 generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  step "configuring sdk/examples/$example against the installed SDK"
  cmake -S "$source_dir/sdk/examples/$example" -B "$out" "${generator[@]}" \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >"$tmp/configure-$example.log" 2>&1 ||
    { cat "$tmp/configure-$example.log" >&2; fail "configuring the example $example failed"; }
  step "building sdk/examples/$example"
  cmake --build "$out" -j 2 >"$tmp/build-$example.log" 2>&1 ||
    { cat "$tmp/build-$example.log" >&2; fail "building the example $example failed"; }
  "$prefix/bin/slurm-factory" version --json >"$tmp/version.json"
  local abi
  abi=$(json_get "$tmp/version.json" abi)
  grep -q "plugin ABI $abi;" "$tmp/configure-$example.log" ||
    { cat "$tmp/configure-$example.log" >&2; fail "the installed SDK does not report the binary's plugin ABI $abi"; }
  # The example must not have picked up the source tree's headers: only the installed ones.
  [[ -f $out/compile_commands.json ]] || fail "the $example build wrote no compile_commands.json"
  if grep -q -- "$source_dir/sdk/include\|$source_dir/core" "$out/compile_commands.json"; then
    fail "the example $example was compiled against the source tree, not the installed SDK"
  fi
  grep -q -- "$prefix/include" "$out/compile_commands.json" ||
    fail "the example $example was not compiled against $prefix/include"
}
