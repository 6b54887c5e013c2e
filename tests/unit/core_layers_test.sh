#!/usr/bin/env bash
# The core's layers (core/src/layers.cmake, core/cmake/CoreLayers.cmake): the real tree passes the
# check, and the check refuses an upward include and an upward DEPENDS in a copy of the tree.
set -uo pipefail
root=${1:?usage: core_layers_test.sh <source dir>}
check="$root/core/cmake/check_core_layers.cmake"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0
expect() {  # expect <name> <0|1: should fail> <src dir> <text the output must hold>
  local name=$1 should_fail=$2 src=$3 text=$4 out rc
  out=$(cmake -DSRC="$src" -P "$check" 2>&1)
  rc=$?
  if { [ "$should_fail" = 1 ] && [ "$rc" -ne 0 ]; } || { [ "$should_fail" = 0 ] && [ "$rc" -eq 0 ]; }; then
    if grep -qF -- "$text" <<<"$out"; then
      echo "PASS: $name"
      return
    fi
  fi
  echo "FAIL: $name (exit $rc, wanted the output to hold '$text'):"
  echo "$out"
  failed=1
}

expect "the tree as it is passes" 0 "$root/core/src" "PASS: "

cp -r "$root/core/src" "$tmp/upward-include"
sed -i '1i #include "cli/command.hpp"' "$tmp/upward-include/support/log.cpp"
expect "an upward include is refused" 1 "$tmp/upward-include" \
  "support/log.cpp: #include \"cli/command.hpp\": core/src/support does not depend on core/src/cli"

cp -r "$root/core/src" "$tmp/sideways-include"
sed -i '1i #include "net/http_client.hpp"' "$tmp/sideways-include/config/config_yaml.cpp"
expect "an include of a lower folder not in DEPENDS is refused" 1 "$tmp/sideways-include" \
  "core/src/config does not depend on core/src/net"

cp -r "$root/core/src" "$tmp/upward-depends"
sed -i 's/^sf_core_subsystem(formats$/sf_core_subsystem(formats DEPENDS pipeline/' \
  "$tmp/upward-depends/formats/CMakeLists.txt"
expect "an upward DEPENDS is refused" 1 "$tmp/upward-depends" \
  "core/src/formats may not depend on 'pipeline'"

mkdir "$tmp/unlisted" && cp -r "$root/core/src/." "$tmp/unlisted/" && mkdir "$tmp/unlisted/extra"
expect "a folder missing from layers.cmake is refused" 1 "$tmp/unlisted" \
  "core/src/extra is not listed"

# The SDK is the plugins' boundary: no plugin includes a core header or links the core's internals.
folders=$(find "$root/core/src" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort | paste -sd'|')
if [ -z "$folders" ]; then
  echo "FAIL: no core folders read from core/src/layers.cmake"
  failed=1
elif hits=$(grep -rnE "^#include \"($folders)/" "$root/plugins" "$root/sdk" --include='*.cpp' --include='*.hpp'); then
  echo "FAIL: plugins or the SDK include core headers:"
  echo "$hits"
  failed=1
else
  echo "PASS: no plugin or SDK header includes a core header (folders: $folders)"
fi
if hits=$(grep -rn 'core-internal' "$root/plugins" "$root/sdk" --include=CMakeLists.txt --include='*.cmake'); then
  echo "FAIL: plugins link the core's internal target:"
  echo "$hits"
  failed=1
else
  echo "PASS: no plugin links slurm-factory-core-internal"
fi

exit "$failed"
