#!/usr/bin/env bash
# Every symbol of the core that a shipped plugin imports is exported by the public core library.
# The plugins are loaded by the slurm-factory binary, which links the public library (exports: the
# SDK, core/sdk_exports.map); the unit tests link the fully-visible variant, so a plugin that calls
# an SDK function the map does not export passes them and fails only in the binary ("undefined
# symbol" at load). This reads each plugin's undefined dynamic symbols in namespace sf (functions,
# vtables, type_info) and names every one the public library does not define.
#
#   plugin_imports_test.sh <public libslurm-factory-core.so> <plugins dir>
set -uo pipefail
lib=${1:?usage: plugin_imports_test.sh <public library> <plugins dir>}
plugins=${2:?usage: plugin_imports_test.sh <public library> <plugins dir>}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$lib" | awk '{print $3}' | sort -u >"$tmp/exported"
[ -s "$tmp/exported" ] || { echo "plugin_imports: FAIL: no exported symbols read from $lib"; exit 1; }

shopt -s nullglob
files=("$plugins"/*.so)
if [ ${#files[@]} -eq 0 ]; then
  echo "plugin_imports: FAIL: no plugin in $plugins"
  exit 1
fi
status=0
for so in "${files[@]}"; do
  # Mangled names in namespace sf: _ZN2sf..., _ZNK2sf..., _ZTIN2sf..., _ZTVN2sf..., _ZTSN2sf...
  nm -D --undefined-only "$so" | awk '{print $2}' | grep -E '^_Z(T[ISV])?NK?2sf' | sort -u \
    >"$tmp/imports"
  missing=$(comm -23 "$tmp/imports" "$tmp/exported")
  if [ -n "$missing" ]; then
    echo "plugin_imports: FAIL: $(basename "$so") imports symbols the public core library does not export:"
    echo "$missing" | c++filt | sed 's/^/  /'
    echo "  add them to core/sdk_exports.map (and declare them in sdk/include) or stop using them"
    status=1
  else
    echo "plugin_imports: PASS: $(basename "$so"): $(wc -l <"$tmp/imports") core symbols, all exported"
  fi
done
exit $status
