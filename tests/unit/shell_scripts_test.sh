#!/usr/bin/env bash
# The project's own shell scripts pass shellcheck (with -x: the files they source are followed):
# CI's entry points, the e2e and bench scripts (run by hand before an issue is resolved, so a
# mistake in one would only show months later), the test helpers. Run from the source root, as
# their `# shellcheck source=tests/...` directives expect. Missing shellcheck is a failure.
#
#   shell_scripts_test.sh <source root>
set -uo pipefail
root=${1:?usage: shell_scripts_test.sh <source root>}
cd "$root" || { echo "shell_scripts: FAIL: no source root $root"; exit 1; }
command -v shellcheck >/dev/null ||
  { echo "shell_scripts: FAIL: shellcheck is not installed (.ci/packages.txt lists it)"; exit 1; }

shopt -s nullglob
scripts=(.ci/run .ci/setup tests/*.sh tests/e2e/*.sh tests/bench/*.sh tests/support/*.sh
         tests/unit/*.sh)
[ "${#scripts[@]}" -ge 20 ] ||
  { echo "shell_scripts: FAIL: only ${#scripts[@]} scripts found under $root"; exit 1; }
if out=$(shellcheck -x "${scripts[@]}" 2>&1); then
  echo "shell_scripts: PASS (${#scripts[@]} scripts)"
else
  echo "$out"
  echo "shell_scripts: FAIL (shellcheck findings above)"
  exit 1
fi
