#!/bin/bash
# Container benchmark (issue 3, Done-when), for docker and podman:
#   1. a second `slurm-factory toolchain prepare trixie` (goal <= 1 s: the image is reused);
#   2. the median of 10 hermetic create+start+exec `true`+remove cycles through the Engine API
#      (the `slurm-factory` binary is not involved: curl on the socket does the same requests the
#      backend does) next to `docker run --rm IMAGE true` / `podman run --rm IMAGE true` measured
#      in the same run (goal: ratio <= 1.2).
# Usage: tests/bench/containers.sh [BUILD_DIR]   (engines: tests/support/start-engines.sh)
set -euo pipefail

build_dir=${1:-$(cd "$(dirname "$0")/../.." && pwd)/build}
sf=$build_dir/bin/slurm-factory
runs=10

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

api() {  # api SOCKET METHOD PATH [BODY]
  curl -fsS --unix-socket "$1" -X "$2" -H 'Content-Type: application/json' \
    ${4:+--data "$4"} "http://localhost/v1.41$3"
}

cycle() {  # one hermetic create+start+exec true+remove cycle over the Engine API
  local sock=$1 image=$2 id exec_id
  id=$(api "$sock" POST /containers/create "{\"Image\":\"$image\",\"Cmd\":[\"sleep\",\"30\"],\"User\":\"10001:10001\",\"Labels\":{\"org.slurm-factory.managed\":\"true\",\"org.slurm-factory.kind\":\"bench\"},\"HostConfig\":{\"NetworkMode\":\"none\",\"CapDrop\":[\"ALL\"],\"SecurityOpt\":[\"no-new-privileges\"],\"PidsLimit\":4096,\"Ulimits\":[{\"Name\":\"nofile\",\"Soft\":$nofile,\"Hard\":$nofile}]}}" |
    sed 's/.*"Id":"\([0-9a-f]*\)".*/\1/')
  api "$sock" POST "/containers/$id/start" >/dev/null
  exec_id=$(api "$sock" POST "/containers/$id/exec" '{"AttachStdout":true,"AttachStderr":true,"Cmd":["true"]}' |
    sed 's/.*"Id":"\([0-9a-f]*\)".*/\1/')
  api "$sock" POST "/exec/$exec_id/start" '{"Detach":false,"Tty":false}' >/dev/null
  api "$sock" DELETE "/containers/$id?force=1" >/dev/null
}

nofile=$(ulimit -Hn)
printf '%-8s %-22s %-12s %-24s %-22s %s\n' engine "prepare trixie (2nd)" "goal <= 1 s" "hermetic cycle (median)" "CLI run --rm (median)" ratio
for engine in docker podman; do
  case $engine in
    docker) sock=/var/run/docker.sock ;;
    podman) sock=/run/podman/podman.sock ;;
  esac
  if ! curl -fsS --max-time 2 --unix-socket "$sock" http://d/_ping >/dev/null 2>&1; then
    echo "$engine: skipped, no engine answers on $sock (tests/support/start-engines.sh)"
    continue
  fi
  # First prepare builds (or reuses); the second is the measurement.
  "$sf" -q toolchain prepare trixie --backend "$engine" >/dev/null
  t0=$(now)
  image=$("$sf" --json toolchain prepare trixie --backend "$engine" | sed 's/.*"image":"\([^"]*\)".*/\1/')
  t1=$(now)
  prepare=$(echo "$t1 - $t0" | bc)

  hermetic=$(for _ in $(seq $runs); do
    a=$(now); cycle "$sock" "$image"; b=$(now); echo "$b - $a" | bc
  done | median)
  cli=$(for _ in $(seq $runs); do
    a=$(now)
    if [ "$engine" = podman ]; then
      podman run --rm --network none --ulimit "nofile=$nofile:$nofile" "$image" true
    else
      docker run --rm --network none "$image" true
    fi
    b=$(now); echo "$b - $a" | bc
  done | median)
  ratio=$(echo "scale=2; $hermetic / $cli" | bc)
  printf '%-8s %-22s %-12s %-24s %-22s %s\n' "$engine" "${prepare} s" \
    "$(echo "$prepare <= 1" | bc | sed 's/1/met/;s/0/MISSED/')" "${hermetic} s" "${cli} s" \
    "$ratio (goal <= 1.2)"
done
