#!/usr/bin/env bash
# Relocation with no flag: an artifact unpacked under a random prefix with a space in it starts a
# one-node cluster the way an admin with their own entrypoint would, with nothing of ours.
#
#   tests/e2e/plain-start.sh [--artifact FILE] TOOLCHAIN
#
# Takes the artifact given with --artifact (its toolchain is read from the provenance.json beside
# it, and must be TOOLCHAIN when one is named), or builds it with `build-slurm` (throwaway signing
# key, cache in SF_E2E_CACHE). Then, in a fresh container of the clean base image
# slurm-factory/base-<release> (no compiler, no munge, no Slurm) and without slurm_install.sh:
# unpacks the artifact under '/srv/site <random>/slurm <version>', writes a minimal
# /etc/slurm/slurm.conf with no PluginDir (the compiled-in default config path), starts munged from
# the view (munge's own flags), then plain `slurmctld` and `slurmd` (no -d, no SLURM_CONF, no
# LD_LIBRARY_PATH, nothing on PATH) and checks:
#   provenance.json lists no unhandled compiled-in path; slurmctld and slurmd stay up; sinfo shows
#   the node idle; `scontrol show config` shows the PluginDir the daemons fell back to (under the
#   prefix); `srun hostname`; `sbatch --wrap hostname` writes the hostname; `srun --mpi=pmi2
#   printenv PMI_RANK` prints 0; `srun --mpi=pmix printenv PMIX_RANK` prints 0; with Debian's
#   lmod installed, `module use <prefix>/modules; module load slurm` (no variable) puts the view's
#   sinfo on PATH and it answers.
# One PASS/FAIL line per check, then the summary; exit 1 when a check failed.
#
# Environment: SF_BIN, SF_E2E_CACHE, SF_E2E_VERSION (default 24.11.5), SF_E2E_JOBS, SF_E2E_BACKEND
# (as tests/e2e/cluster.sh), SF_E2E_ENGINE (engine for the container, default docker),
# SF_E2E_KEEP=1 (keep the container for inspection), SF_E2E_BASE_IMAGE (the clean machine's image
# instead of slurm-factory/base-<release>), SF_E2E_TIMEOUT (seconds srun and sbatch may take,
# default 60; more under emulation).
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
ENGINE=${SF_E2E_ENGINE:-docker}
T=${SF_E2E_TIMEOUT:-60}
ARTIFACT=""
if [ "${1:-}" = "--artifact" ]; then
  ARTIFACT=${2:-}
  shift 2
fi
TC=${1:-}
if [ -z "$TC" ] && [ -z "$ARTIFACT" ]; then
  echo "usage: $0 [--artifact FILE] TOOLCHAIN" >&2
  exit 2
fi

e2e_setup plain-start
container=""
cleanup() {
  if [ -n "$container" ]; then
    if [ -z "${SF_E2E_KEEP:-}" ]; then
      "$ENGINE" rm -f "$container" >/dev/null 2>&1
    else
      echo "kept container: $container"
    fi
  fi
  stop_gpg_agent
  rm -rf "$work"
}
trap cleanup EXIT

# build TOOLCHAIN -> prints the artifact path (build-slurm into $work/out, throwaway key)
build() {
  need_binary plain-start >&2 || return 1
  signing_key "$work/gnupg" "$E2E_KEY"
  sf_config "$CACHE" > "$work/config.yaml"
  "$SF_BIN" --json --config "$work/config.yaml" build-slurm --slurm-version "$VERSION" \
    --toolchain "$1" --backend "$BACKEND" --jobs "$JOBS" --output "$work/out" \
    > "$work/build.json" 2> "$work/build.err" || {
    tail -n 30 "$work/build.err" >&2
    return 1
  }
  jq -r 'select(.event=="result") | .artifact // empty' "$work/build.json"
}

# run SCRIPT: bash in the container with a bare environment (no SLURM_CONF, no PATH entry of ours)
run() {
  "$ENGINE" exec "$container" env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin bash -c "$1"
}

if [ -z "$ARTIFACT" ]; then
  start=$(date +%s)
  ARTIFACT=$(build "$TC")
  [ -n "$ARTIFACT" ] && [ -f "$ARTIFACT" ]
  ok=$?  # before the message's command substitutions change $?
  check "$TC: build-slurm $VERSION ($(($(date +%s) - start)) s)" "$ok" "artifact '$ARTIFACT'"
  [ "$failed" -eq 0 ] || { summary plain-start; exit 1; }
fi
prov="${ARTIFACT%.tar.*}.provenance.json"
tc=$(jq -r '.toolchain.name // empty' "$prov" 2>/dev/null)
VERSION=$(jq -r '.slurm_version // empty' "$prov" 2>/dev/null)
if [ -z "$tc" ] || [ -z "$VERSION" ] || { [ -n "$TC" ] && [ "$tc" != "$TC" ]; }; then
  check "read $prov" 1 "toolchain '$tc' (asked: '${TC:-any}'), version '$VERSION'"
  summary plain-start
  exit 1
fi

unhandled=$(jq -r '.compiled_paths_unhandled[]?' "$prov")
[ -z "$unhandled" ]
check "$tc: provenance lists no unhandled compiled-in path" $? "$(echo "$unhandled" | head -n 5)"

# The clean machine: the release's bootstrapped base image, or SF_E2E_BASE_IMAGE (an arm64 one for
# an arm64 artifact: tests/e2e/arm64.sh).
if [ -n "${SF_E2E_BASE_IMAGE:-}" ]; then
  base=$SF_E2E_BASE_IMAGE
else
  base=$("$ENGINE" images --format '{{.Repository}}:{{.Tag}}' "slurm-factory/base-$tc" | head -n 1)
fi
if [ -z "$base" ]; then
  check "$tc: a clean base image slurm-factory/base-$tc" 1 \
    "none; run 'slurm-factory toolchain prepare $tc' (it bootstraps the base image)"
  summary plain-start
  exit 1
fi
rand=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
prefix="/srv/site $rand/slurm $VERSION"
node="plain-$rand"
container="sf-e2e-plain-$rand"
echo "== $tc: $(basename "$ARTIFACT") on $base ($ENGINE), prefix '$prefix', node $node"
# As tests/e2e/cluster.sh: the bridge network (Slurm resolves its addresses with AI_ADDRCONFIG),
# explicit rlimits for podman as root.
limits=()
if [ "$ENGINE" = podman ]; then
  nproc=$(ulimit -Hu)
  [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
  limits=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=$nproc:$nproc")
fi
if ! "$ENGINE" run -d --name "$container" --hostname "$node" --network bridge "${limits[@]}" \
    --label org.slurm-factory.kind=e2e "$base" sleep infinity >/dev/null; then
  check "$tc: start the container" 1
  summary plain-start
  exit 1
fi
# shellcheck disable=SC2016 # $1 expands in the container's shell
zstd -dc "$ARTIFACT" | "$ENGINE" exec -i "$container" sh -c 'mkdir -p "$1" && tar -x -C "$1"' sh "$prefix"
check "$tc: unpack under '$prefix'" $?
# shellcheck disable=SC2016 # expands in the container
found=$(run 'for t in cc gcc munged sinfo slurmctld slurmd; do
    command -v "$t" >/dev/null 2>&1 && printf "%s " "$t"; done; echo end' 2>&1)
[ "$found" = "end" ]
check "$tc: the machine is clean (no compiler, munge or Slurm on PATH)" $? "found: $found"

view="$prefix/view"
# A minimal slurm.conf, as an admin writes one: no PluginDir, the daemons as root, no cgroup.
conf="ClusterName=plain
SlurmctldHost=$node
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
NodeName=$node CPUs=1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP"
out=$(printf '%s\n' "$conf" | "$ENGINE" exec -i "$container" sh -c '
  mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm &&
  cat > /etc/slurm/slurm.conf' 2>&1)
check "$tc: /etc/slurm/slurm.conf without PluginDir" $? "$out"

# munge: a key and its state folders, munged from the view with munge's own flags.
out=$(run "set -e
  mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
  chmod 700 /etc/munge /var/lib/munge /var/log/munge; chmod 755 /run/munge
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  chmod 400 /etc/munge/munge.key
  '$view/sbin/munged' --key-file=/etc/munge/munge.key --socket=/run/munge/munge.socket.2 \
    --pid-file=/run/munge/munged.pid --log-file=/var/log/munge/munged.log \
    --seed-file=/var/lib/munge/munged.seed
  '$view/bin/munge' -n | '$view/bin/unmunge' >/dev/null" 2>&1)
check "$tc: munged from the view answers" $? "$out"

# The daemons, plain: no option, no SLURM_CONF, no LD_LIBRARY_PATH. What they print before they
# detach goes to a file (a daemon that kept the exec's output open would hold it).
for d in slurmctld slurmd; do
  run "'$view/sbin/$d' </dev/null >/var/log/slurm/$d.out 2>&1"
  check "$tc: plain $d starts" $? "$(run "cat /var/log/slurm/$d.out" 2>&1 | tail -n 5)"
done
running() { # running NAME: a process named NAME runs in the container (no procps in the image)
  run "grep -qx '$1' /proc/[0-9]*/comm" >/dev/null 2>&1
}
sleep 3
running slurmctld && running slurmd
check "$tc: slurmctld and slurmd are running" $? \
  "$(run 'tail -n 5 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log' 2>&1)"

state=""
for _ in $(seq 1 "$T"); do
  state=$(run "'$view/bin/sinfo' -h -N -o '%N %T'" 2>&1)
  echo "$state" | grep -q "^$node idle" && break
  sleep 1
done
echo "$state" | grep -q "^$node idle"
check "$tc: sinfo shows $node idle" $? "$state"

out=$(run "'$view/bin/scontrol' show config | grep -E '^PluginDir'" 2>&1)
echo "$out" | grep -qF "= $view/lib/slurm"
check "$tc: PluginDir fell back to the prefix ($out)" $? "$out"

out=$(run "timeout $T '$view/bin/srun' -N1 hostname" 2>&1)
[ "$out" = "$node" ]
check "$tc: srun hostname prints $node" $? "$out"

job=$(run "cd /tmp && '$view/bin/sbatch' --parsable -o /tmp/job-%j.out --wrap hostname" 2>&1)
done_=1
for _ in $(seq 1 "$T"); do
  st=$(run "'$view/bin/squeue' -h -j '$job' -o %T" 2>/dev/null)
  if [ -z "$st" ]; then done_=0; break; fi
  sleep 1
done
out=$(run "cat /tmp/job-$job.out" 2>&1)
[ "$done_" -eq 0 ] && [ "$out" = "$node" ]
check "$tc: sbatch --wrap hostname (job $job) wrote $node" $? "$out"

out=$(run "timeout $T '$view/bin/srun' --mpi=pmi2 -N1 printenv PMI_RANK" 2>&1)
[ "$out" = 0 ]
check "$tc: srun --mpi=pmi2 printenv PMI_RANK prints 0" $? "$(echo "$out" | tail -n 5 | tr '\n' ' ')"

out=$(run "timeout $T '$view/bin/srun' --mpi=pmix -N1 printenv PMIX_RANK" 2>&1)
[ "$out" = 0 ]
check "$tc: srun --mpi=pmix printenv PMIX_RANK prints 0" $? "$(echo "$out" | tail -n 5 | tr '\n' ' ')"

# The module, as a user loads it on a login node: Debian's Lmod, no variable set, nothing run
# before (slurm_install.sh never touched this tree): it must find the view it lies in.
out=$(run "export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends lmod >/dev/null" 2>&1)
check "$tc: Debian's lmod installed in the container" $? "$(echo "$out" | tail -n 3)"
out=$(run ". /usr/share/lmod/lmod/init/bash && module use '$prefix/modules' && module load slurm &&
  command -v sinfo && sinfo -h -o %a" 2>&1)
[ "$out" = "$view/bin/sinfo
up" ]
check "$tc: module load slurm with no variable puts the view's sinfo on PATH, and it answers" $? \
  "$(echo "$out" | tail -n 5 | tr '\n' ' ')"

out=$(run "grep -hiE 'Unable to find slurmstepd|PluginDir: .*No such file|Couldn.t find the specified plugin' /var/log/slurm/*.log" 2>&1)
[ -z "$out" ]
check "$tc: no daemon logged a missing plugin dir or slurmstepd" $? "$out"

[ "$failed" -eq 0 ] || run 'tail -n 15 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log' 2>&1 | sed 's/^/   | /'
summary plain-start " on $tc, prefix '$prefix'"
