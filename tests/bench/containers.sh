#!/bin/bash
# Container benchmark (issue 3, Done-when), for docker and podman, measuring our own code:
#   1. a second `slurm-factory toolchain prepare trixie` (goal <= 1 s: the image is reused);
#   2. the median of 10 hermetic create+start+run `true`+remove cycles through sf::run_hermetic
#      (tests/bench/hermetic_cycle.cpp: the backend plugin and the Engine-API client, as a package
#      build runs its container) next to `docker run --rm IMAGE true` / `podman run --rm IMAGE true`
#      measured in the same run, interleaved one for one so load on the machine hits both alike
#      (goal: ratio <= 1.2);
#   3. for information, where a cycle's time goes (create, start, exec, kill+wait, remove).
# Prints the figures, the ratios and one PASS/FAIL line per goal; exits 1 when a goal is missed.
# Usage: tests/bench/containers.sh [BUILD_DIR] [RUNS]
#   needs: ninja -C BUILD_DIR slurm-factory sf-hermetic-cycle sf-backend-docker sf-backend-podman
#          sf-toolchain-debian (+ the plugins of the default config); engines are started with
#          tests/support/start-engines.sh when they do not answer.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=${1:-$root/build}
runs=${2:-10}
sf=$build_dir/bin/slurm-factory
cycle_bin=$build_dir/tests/sf-hermetic-cycle
for f in "$sf" "$cycle_bin"; do
  [ -x "$f" ] || { echo "containers.sh: $f is missing (build it first)" >&2; exit 2; }
done

now() { date +%s.%N; }
# The median of the numbers on stdin; prints nothing when there is none (a missing sample is never 0).
median() { grep -E '^[0-9.]+$' | sort -n | awk '{a[NR]=$1} END {if (NR > 0) print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
le() { [ "$(echo "$1 <= $2" | bc)" = 1 ]; }
ping_socket() { curl -fsS --max-time 2 --unix-socket "$1" http://d/_ping >/dev/null 2>&1; }

podman_sock=/run/podman/podman.sock
[ "$(id -u)" -eq 0 ] || podman_sock=${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/podman/podman.sock
if ! ping_socket /var/run/docker.sock || ! ping_socket "$podman_sock"; then
  bash "$root/tests/support/start-engines.sh" || true
fi

nofile=$(ulimit -Hn)
nproc=$(ulimit -Hu); [ "$nproc" = unlimited ] && nproc=32768; [ "$nproc" -gt 32768 ] && nproc=32768
failed=0
summary=()
for engine in docker podman; do
  case $engine in docker) sock=/var/run/docker.sock ;; podman) sock=$podman_sock ;; esac
  if ! ping_socket "$sock"; then
    echo "$engine: FAIL, no engine answers on $sock (tests/support/start-engines.sh)"
    summary+=("FAIL $engine: no engine answers on $sock")
    failed=1
    continue
  fi
  echo "== $engine"
  # The first prepare builds the image when it does not exist yet; the next ones are measured.
  if ! "$sf" -q toolchain prepare trixie --backend "$engine" >/dev/null; then
    echo "$engine: FAIL, toolchain prepare trixie failed"; failed=1; continue
  fi
  image=$("$sf" --json toolchain prepare trixie --backend "$engine" | sed -n 's/.*"image":"\([^"]*\)".*/\1/p')
  prepare=$(for _ in 1 2 3; do
    a=$(now); "$sf" -q toolchain prepare trixie --backend "$engine" >/dev/null; b=$(now)
    echo "$b - $a" | bc
  done | median)
  echo "second toolchain prepare trixie: ${prepare} s (median of 3, $image)"

  ours=() cli=()
  for _ in $(seq "$runs"); do
    ours+=("$("$cycle_bin" "$engine" "$image" 1 | sed -n 's/^cycle //p')")
    a=$(now)
    if [ "$engine" = podman ]; then
      podman run --rm --network none --ulimit "nofile=$nofile:$nofile" \
        --ulimit "nproc=$nproc:$nproc" "$image" true
    else
      docker run --rm --network none "$image" true
    fi
    b=$(now)
    cli+=("$(echo "$b - $a" | bc)")
  done
  hermetic=$(printf '%s\n' "${ours[@]}" | median)
  reference=$(printf '%s\n' "${cli[@]}" | median)
  if [ -z "$prepare" ] || [ -z "$hermetic" ] || [ -z "$reference" ] ||
     [ "$(printf '%s\n' "${ours[@]}" | grep -cE '^[0-9.]+$')" -ne "$runs" ]; then
    echo "$engine: FAIL, nothing or not everything was measured (prepare '$prepare', cycles" \
         "'${ours[*]}', reference '$reference')"
    summary+=("FAIL $engine: missing samples")
    failed=1
    continue
  fi
  ratio=$(echo "scale=2; $hermetic / $reference" | bc)
  echo "hermetic cycle (sf::run_hermetic), median of $runs: ${hermetic} s"
  echo "$engine run --rm IMAGE true, median of $runs:     ${reference} s"
  echo "ratio: $ratio"
  echo "where a cycle goes (step by step through the backend, medians of 5):"
  "$cycle_bin" "$engine" "$image" 5 --phases | sed 's/^/  /'

  if le "$prepare" 1; then r=PASS; else r=FAIL; failed=1; fi
  summary+=("$r $engine: second toolchain prepare trixie ${prepare} s (goal <= 1 s)")
  if le "$ratio" 1.2; then r=PASS; else r=FAIL; failed=1; fi
  summary+=("$r $engine: hermetic cycle ${hermetic} s vs run --rm ${reference} s, ratio $ratio (goal <= 1.2)")
done
echo "== summary"
printf '%s\n' "${summary[@]}"
if [ "$failed" -eq 0 ]; then echo "containers bench: PASS"; else echo "containers bench: FAIL"; fi
exit "$failed"
