#!/usr/bin/env bash
# The one-node cluster of tests/e2e/host-cluster.sh comes up on this host and runs jobs as root.
#
#   tests/e2e/host-cluster-check.sh ARTIFACT
#
# ARTIFACT: a slurm-factory .tar.zst built for this host's release (run as root). Starts the
# cluster in a new /tmp/sf-e2e-host-cluster.* folder and checks: sinfo shows this host idle;
# `sbatch --wrap 'docker info >/dev/null && hostname'` completes, its output holds the hostname
# (the job runs here and reaches the host's docker) and sacct says COMPLETED; a job that exits 3
# is FAILED with ExitCode 3:0 in sacct; a cancelled `sleep 300` leaves squeue empty; after
# host_cluster_stop no process of the work folder is left (pgrep). One PASS/FAIL line per check,
# then the summary; exit 1 when a check failed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/e2e/host-cluster.sh
. "$here/host-cluster.sh"
ARTIFACT=${1:-}
if [ -z "$ARTIFACT" ] || [ ! -f "$ARTIFACT" ]; then
  echo "usage: $0 ARTIFACT (a slurm-factory .tar.zst for this host's release)" >&2
  exit 2
fi

work=$(mktemp -d /tmp/sf-e2e-host-cluster.XXXXXX)
cleanup() {
  host_cluster_stop
  rm -rf "$work"
}
trap cleanup EXIT

start=$(date +%s)
host_cluster_start "$ARTIFACT" "$work"
rc=$?
check "host_cluster_start ($(($(date +%s) - start)) s, prefix '${HOST_CLUSTER_PREFIX:-}')" "$rc"
if [ "$rc" -ne 0 ]; then
  summary host-cluster
  exit 1
fi
node=$HOST_CLUSTER_NODE
host=$(hostname)

state=$(sinfo -h -N -o '%N %T' 2>&1)
[ "$state" = "$node idle" ]
check "sinfo shows $node idle" $? "$state"

# job_done ID: waits (60 s) until squeue no longer lists job ID
job_done() {
  for _ in $(seq 1 60); do
    [ -z "$(squeue -h -j "$1" -o %T 2>/dev/null)" ] && return 0
    sleep 1
  done
  return 1
}
# sacct_of ID: waits (30 s) until sacct has job ID in a final state; prints "State|ExitCode"
sacct_of() {
  out=""
  for _ in $(seq 1 30); do
    out=$(sacct -X -n -P -j "$1" -o State,ExitCode 2>&1)
    case "$out" in COMPLETED* | FAILED* | CANCELLED* | TIMEOUT* | NODE_FAIL* | OUT_OF_MEMORY*) break ;; esac
    sleep 1
  done
  echo "$out"
}
# submit ARGS...: sbatch --parsable ARGS in the work folder; prints the job id, or fails
submit() {
  job=$(sbatch --parsable -D "$work" -o "$work/job-%j.out" "$@" 2>&1)
  case "$job" in '' | *[!0-9]*) echo "$job"; return 1 ;; esac
  echo "$job"
}

job=$(submit --wrap 'docker info >/dev/null && hostname')
ok=$?
[ "$ok" -eq 0 ] && job_done "$job" && [ "$(cat "$work/job-$job.out" 2>&1)" = "$host" ]
check "sbatch --wrap 'docker info >/dev/null && hostname' (job $job) wrote $host" $? \
  "$(tail -n 5 "$work/job-$job.out" 2>&1)"
if [ "$ok" -eq 0 ]; then
  out=$(sacct_of "$job")
  [ "${out%%|*}" = COMPLETED ]
  check "sacct: job $job COMPLETED" $? "$out"
fi

job=$(submit --wrap 'exit 3')
ok=$?
[ "$ok" -eq 0 ] && job_done "$job"
check "sbatch --wrap 'exit 3' (job $job) ends" $? "$job"
if [ "$ok" -eq 0 ]; then
  out=$(sacct_of "$job")
  [ "$out" = "FAILED|3:0" ]
  check "sacct: job $job FAILED with ExitCode 3:0" $? "$out"
fi

job=$(submit --wrap 'sleep 300')
ok=$?
st=""
for _ in $(seq 1 30); do
  [ "$ok" -eq 0 ] || break
  st=$(squeue -h -j "$job" -o %T 2>&1)
  [ "$st" = RUNNING ] && break
  sleep 1
done
[ "$st" = RUNNING ]
check "sbatch --wrap 'sleep 300' (job $job) runs" $? "$st"
if [ "$ok" -eq 0 ]; then
  scancel "$job"
  out=""
  for _ in $(seq 1 30); do
    out=$(squeue -h 2>&1)
    [ -z "$out" ] && break
    sleep 1
  done
  [ -z "$out" ]
  check "scancel $job leaves squeue -h empty" $? "$out"
fi

host_cluster_stop
left=$(pgrep -a -f -- "$work/")
[ -z "$left" ]
check "host_cluster_stop leaves no process of $work" $? "$left"

summary host-cluster " in $(($(date +%s) - start)) s, node $node"
