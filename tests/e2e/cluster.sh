#!/usr/bin/env bash
# The proof: a slurm-factory artifact starts a one-node cluster on a clean machine of its OS.
#
#   tests/e2e/cluster.sh [--artifact FILE] [TOOLCHAIN[@VERSION]...]   (default: trixie bookworm)
#
# A pair such as bookworm@22.05.8 builds that Slurm version for that toolchain (default version:
# SF_E2E_VERSION); `cluster.sh trixie@24.11.5 trixie@22.05.8 bookworm@24.11.5 bookworm@22.05.8`
# proves every series the Debian mirror serves on both releases, each from its own build.
#
# For each toolchain: takes the artifact given with --artifact (its toolchain is read from the
# provenance.json beside it), or builds it with `build-slurm --verify` (throwaway signing key, cache
# in SF_E2E_CACHE, like tests/e2e/build-slurm.sh). Then, in a fresh container of the bootstrapped
# minimal base image of the same release (slurm-factory/base-<release>: no compiler, no -dev
# package, no munge, no Slurm), it unpacks the artifact under a random prefix, runs
# `slurm_install.sh --prefix ... --full-init --start-services`, and checks:
#   sinfo shows the node idle; `srun -N1 hostname` prints the container's hostname; `sbatch --wrap
#   hostname` completes and its output file holds the hostname; `scontrol show config` shows the
#   PluginDir under the random prefix; `ldd` on every ELF file of the view finds every library;
#   slurmd.log has no "can not load" line (mpi/pmix finds its libpmix); `srun --mpi=list` lists
#   pmix and pmi2; `srun --mpi=pmix` runs a step with PMIX_RANK=0 and `srun --mpi=pmi2` one with
#   PMI_RANK=0; every plugin the original tool shipped is in view/lib/slurm (acct_gather_energy/ipmi,
#   acct_gather_profile/hdf5 and /influxdb, cgroup/v2, mpi/pmi2, mpi/pmix) with libpmi2, nss_slurm and
#   pam_slurm_adopt; view/bin and view/sbin hold only Slurm's and munge's programs. Then the same
#   artifact again, started plainly (tests/e2e/plain-start.sh: no install script, no flag).
# One PASS/FAIL line per check, then "N passed, N failed"; exit 1 when a check failed.
#
# Environment: SF_BIN (default build/bin/slurm-factory), SF_E2E_CACHE (cache kept between runs;
# default a new temporary one), SF_E2E_VERSION (default 24.11.5), SF_E2E_JOBS (default 2),
# SF_E2E_BACKEND (build engine, default docker), SF_E2E_ENGINE (engine for the cluster container,
# default docker), SF_E2E_KEEP=1 (keep the cluster container for inspection), SF_E2E_ACCOUNTING=1
# (also install Debian's mariadb-server in the container from deb.debian.org, run slurm_install.sh
# with --accounting so slurmdbd starts, and check that sacct lists the batch job).
set -u  # bash: ulimit -H for podman

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
ENGINE=${SF_E2E_ENGINE:-docker}
ARTIFACT=""
if [ "${1:-}" = "--artifact" ]; then
  ARTIFACT=$2
  shift 2
fi

e2e_setup cluster
containers=""
cleanup() {
  if [ -z "${SF_E2E_KEEP:-}" ]; then
    for c in $containers; do "$ENGINE" rm -f "$c" >/dev/null 2>&1; done
  elif [ -n "$containers" ]; then
    echo "kept container(s):$containers"
  fi
  stop_gpg_agent
  rm -rf "$work"
}
trap cleanup EXIT
tally() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# build_artifact TOOLCHAIN -> prints the artifact path (build-slurm --verify into $work/out)
build_artifact() {
  if [ ! -x "$SF_BIN" ]; then
    echo "no slurm-factory binary at $SF_BIN; set SF_BIN" >&2
    return 1
  fi
  # The default signing, as the README's main job has it: no signing section, so the automatic
  # key of the cache (<cache>/gnupg, made on first use) signs and is the one trust anchor. The
  # user's GNUPGHOME points at an empty folder: nothing may come from ~/.gnupg.
  export GNUPGHOME="$work/user-gnupg"
  mkdir -p "$GNUPGHOME" && chmod 700 "$GNUPGHOME"
  printf 'cache_dir: %s\nplugins:\n  load: [toolchain-debian, backend-docker, backend-podman, cache-local, packager-tarball]\n' \
    "$CACHE" > "$work/config.yaml"
  "$SF_BIN" --json --config "$work/config.yaml" build-slurm --slurm-version "$VERSION" \
    --toolchain "$1" --backend "$BACKEND" --jobs "$JOBS" --verify --output "$work/out" \
    > "$work/$1-build.json" 2> "$work/$1-build.err" || {
    tail -n 30 "$work/$1-build.err" >&2
    return 1
  }
  # Exactly one result event naming an existing artifact, or the build is a failure.
  a=$(jq -r 'select(.event=="result") | .artifact // empty' "$work/$1-build.json")
  if [ -z "$a" ] || [ "$(printf '%s\n' "$a" | wc -l)" -ne 1 ] || [ ! -f "$a" ]; then
    echo "build-slurm exited 0 but its JSON has no single result event naming an artifact" \
      "(got: '${a}')" >&2
    return 1
  fi
  printf '%s\n' "$a"
}

# trust_checks TOOLCHAIN ARTIFACT: with the default signing, the tool's own verify accepts the
# artifact, a rerun of the same request reuses it in under a second, and the automatic key can be
# exported for a second machine.
trust_checks() {
  out=$("$SF_BIN" --config "$work/config.yaml" verify "$2" 2>&1)
  check "$1: slurm-factory verify accepts its own artifact (default signing)" $? \
    "$(echo "$out" | tail -n 5)"
  t0=$(date +%s%N)
  "$SF_BIN" --json --config "$work/config.yaml" build-slurm --slurm-version "$VERSION" \
    --toolchain "$1" --backend "$BACKEND" --jobs "$JOBS" --output "$work/out" \
    > "$work/$1-rerun.json" 2> "$work/$1-rerun.err"
  rc=$?
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  reused=$(jq -r 'select(.event=="artifact" and .kind=="exists") | .event' "$work/$1-rerun.json")
  [ "$rc" -eq 0 ] && [ -n "$reused" ] && [ "$ms" -lt 1000 ]
  check "$1: a rerun reuses the signed artifact (${ms} ms, exit $rc)" $? \
    "$(tail -n 5 "$work/$1-rerun.err")"
  "$SF_BIN" --config "$work/config.yaml" cache keys export --armor > "$work/key.asc" 2> "$work/key.err"
  rc=$?
  [ "$rc" -eq 0 ] && grep -q 'BEGIN PGP PUBLIC KEY BLOCK' "$work/key.asc"
  check "$1: cache keys export gives the automatic key" $? "$(tail -n 3 "$work/key.err")"
}

# in CONTAINER SCRIPT [NAME ARG...]: runs SCRIPT with bash in the cluster container (SLURM_CONF
# set, as clients get it from the modulefile); NAME becomes $0 and ARGs $1... inside SCRIPT
in_container() {
  "$ENGINE" exec -e SLURM_CONF=/etc/slurm/slurm.conf "$1" bash -c "$2" "${@:3}"
}

# view_contents TOOLCHAIN CONTAINER VIEW: bin/ and sbin/ hold only Slurm's and munge's programs
# (loading the module must not change which curl or openssl a user runs).
view_contents() {
  # shellcheck disable=SC2016 # expands in the container
  out=$(in_container "$2" 'cd "$1" || exit 1; for f in bin/* sbin/*; do
      case "${f#*/}" in s*|munge|unmunge|remunge|munged|mungekey) ;; *) printf "%s " "$f" ;; esac
    done' sh "$3" 2>&1)
  [ -z "$out" ]
  check "$1: view/bin and view/sbin hold only Slurm's and munge's programs" $? "also: $out"
}

# plain_start TOOLCHAIN ARTIFACT: the same artifact started the way an admin's own entrypoint
# would, with no install script and no flag (tests/e2e/plain-start.sh, its checks indented here).
plain_start() {
  SF_BIN="$SF_BIN" SF_E2E_VERSION="$VERSION" bash "$here/plain-start.sh" --artifact "$2" "$1" \
    2>&1 | sed 's/^/   plain | /'
  check "$1: plain slurmctld/slurmd with no PluginDir, no -d, no flag (tests/e2e/plain-start.sh)" \
    "${PIPESTATUS[0]}"
}

cluster() { # cluster TOOLCHAIN ARTIFACT
  tc=$1
  artifact=$2
  base=$("$ENGINE" images --format '{{.Repository}}:{{.Tag}}' "slurm-factory/base-$tc" | head -n 1)
  if [ -z "$base" ]; then
    check "$tc: a clean base image slurm-factory/base-$tc" 1 \
      "none; run 'slurm-factory toolchain prepare $tc' (it bootstraps the base image)"
    return
  fi
  rand=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
  prefix="/srv/site-$rand/slurm-$VERSION"
  node="sfnode-$rand"
  name="sf-e2e-cluster-$rand"
  echo "== $tc: $(basename "$artifact") on $base ($ENGINE), prefix '$prefix', node $node"
  # A plain root container with the default capabilities (useradd and runuser need them) on the
  # engine's bridge network: Slurm resolves its listen addresses with AI_ADDRCONFIG, which finds
  # nothing when loopback is the only interface (--network none: "getaddrinfo((null):6817)
  # failed"), and the node name must resolve. The cluster only talks to itself; with accounting
  # the bridge also reaches the Debian mirror once, for mariadb-server.
  # Podman as root passes the service's rlimits, which the runtime may refuse: explicit ones, no
  # higher than ours (as the podman backend plugin does).
  limits=""
  if [ "$ENGINE" = podman ]; then
    nproc=$(ulimit -Hu)
    [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
    limits="--ulimit nofile=$(ulimit -Hn):$(ulimit -Hn) --ulimit nproc=$nproc:$nproc"
  fi
  # shellcheck disable=SC2086 # $limits is a list of options
  if ! "$ENGINE" run -d --name "$name" --hostname "$node" --network bridge $limits \
      --label org.slurm-factory.kind=e2e "$base" sleep infinity >/dev/null; then
    containers="$containers $name"  # a container the runtime refused to start still exists
    check "$tc: start the cluster container" 1
    return
  fi
  containers="$containers $name"
  # shellcheck disable=SC2016 # $1 expands in the container's shell
  zstd -dc "$artifact" | "$ENGINE" exec -i "$name" sh -c 'mkdir -p "$1" && tar -x -C "$1"' sh "$prefix"
  check "$tc: unpack under a random prefix" $?
  # Each tool is looked up on its own: the exec itself must work (exit 0 from the shell) and
  # print which of them it found; a failed exec is a failure, not a clean machine.
  # shellcheck disable=SC2016 # expands in the container
  found=$(in_container "$name" 'for t in cc gcc munged sinfo slurmctld; do
      command -v "$t" >/dev/null 2>&1 && printf "%s " "$t"; done; echo end' 2>&1)
  [ "$found" = "end" ]
  check "$tc: the machine is clean (no compiler, munge or Slurm on PATH)" $? "found: $found"

  extra=""
  if [ -n "${SF_E2E_ACCOUNTING:-}" ]; then
    # shellcheck disable=SC2016 # expands in the container
    out=$(in_container "$name" 'export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq && apt-get install -y -qq --no-install-recommends mariadb-server >/dev/null || exit 1
      mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
      setsid mariadbd-safe >/dev/null 2>&1 < /dev/null &
      for _ in $(seq 1 60); do mariadb -u root -e "select 1" >/dev/null 2>&1 && exit 0; sleep 1; done
      exit 1' 2>&1)
    check "$tc: mariadb-server installed and answering" $? "$(echo "$out" | tail -n 5)"
    extra="--accounting"
  fi
  out=$(in_container "$name" "cd /tmp && '$prefix/data/slurm_assets/slurm_install.sh' \
        --prefix '$prefix' --full-init --start-services $extra" 2>&1)
  rc=$?
  echo "$out" | sed 's/^/   | /' | tail -n 25
  check "$tc: slurm_install.sh --full-init --start-services" $rc
  if [ "$rc" -ne 0 ]; then
    in_container "$name" 'tail -n 20 /var/log/slurm/*.log /var/log/munge/*.log' 2>&1 | sed 's/^/   | /'
    return
  fi

  bin="$prefix/view/bin"
  state=""
  for _ in $(seq 1 30); do
    state=$(in_container "$name" "'$bin/sinfo' -h -N -o '%N %T'" 2>&1)
    echo "$state" | grep -q "^$node idle" && break
    sleep 1
  done
  echo "$state" | grep -q "^$node idle"
  check "$tc: sinfo shows $node idle" $? "$state"

  out=$(in_container "$name" "timeout 60 '$bin/srun' -N1 hostname" 2>&1)
  [ "$out" = "$node" ]
  check "$tc: srun -N1 hostname prints $node" $? "$out"

  job=$(in_container "$name" "cd /tmp && '$bin/sbatch' --parsable -o /tmp/job-%j.out --wrap hostname" 2>&1)
  ok=1
  case "$job" in
    '' | *[!0-9]*)  # no job id: sbatch's message is the failure, never part of a command
      check "$tc: sbatch --wrap hostname gives a job id" 1 "$job"
      job=none ;;
  esac
  for _ in $(seq 1 60); do
    [ "$job" = none ] && break
    st=$(in_container "$name" "'$bin/squeue' -h -j '$job' -o %T" 2>/dev/null)
    if [ -z "$st" ]; then ok=0; break; fi
    sleep 1
  done
  out=$(in_container "$name" "cat /tmp/job-$job.out" 2>&1)
  [ "$ok" -eq 0 ] && [ "$out" = "$node" ]
  check "$tc: sbatch --wrap hostname (job $job) wrote $node" $? "$out"

  # PMIx: Slurm's mpi_pmix dlopens libpmix.so.2 (recipe pmix: runtime_dlopen), bundled in view/lib.
  out=$(in_container "$name" "grep -i 'can not load' /var/log/slurm/slurmd.log" 2>&1)
  [ -z "$out" ]
  check "$tc: slurmd.log has no 'can not load' line" $? "$out"
  out=$(in_container "$name" "timeout 60 '$bin/srun' --mpi=list" 2>&1)
  echo "$out" | grep -qw pmix
  check "$tc: srun --mpi=list lists pmix" $? "$(echo "$out" | tr '\n' ' ')"
  out=$(in_container "$name" "timeout 60 '$bin/srun' --mpi=pmix -N1 printenv PMIX_RANK" 2>&1)
  [ "$out" = 0 ]
  check "$tc: srun --mpi=pmix -N1 printenv PMIX_RANK prints 0 (libpmix loaded in the step)" $? \
    "$(echo "$out" | tail -n 5 | tr '\n' ' ')"
  out=$(in_container "$name" "timeout 60 '$bin/srun' --mpi=pmi2 -N1 printenv PMI_RANK" 2>&1)
  [ "$out" = 0 ]
  check "$tc: srun --mpi=pmi2 -N1 printenv PMI_RANK prints 0" $? \
    "$(echo "$out" | tail -n 5 | tr '\n' ' ')"

  if [ -n "${SF_E2E_ACCOUNTING:-}" ]; then
    out=""
    for _ in $(seq 1 30); do
      out=$(in_container "$name" "'$bin/sacct' -n -X -j '$job' -o JobID,State" 2>&1)
      echo "$out" | grep -q "COMPLETED" && break
      sleep 1
    done
    echo "$out" | grep -q "^ *$job .*COMPLETED"
    check "$tc: sacct lists job $job COMPLETED (slurmdbd + MariaDB)" $? "$out"
  fi

  out=$(in_container "$name" "'$bin/scontrol' show config | grep -E '^PluginDir'" 2>&1)
  echo "$out" | grep -q "= $prefix/view/lib/slurm"
  check "$tc: scontrol show config: PluginDir under the prefix" $? "$out"

  view_contents "$tc" "$name" "$prefix/view"

  # Every ELF file of the view (magic bytes), ldd with nothing set.
  out=$(in_container "$name" "unset LD_LIBRARY_PATH; n=0; bad=0
    while IFS= read -r -d '' f; do
      [ \"\$(head -c 4 \"\$f\" | od -An -c | tr -d ' ')\" = '177ELF' ] || continue
      n=\$((n + 1))
      if ldd \"\$f\" 2>&1 | grep -q 'not found'; then bad=\$((bad + 1)); echo \"\$f:\"; ldd \"\$f\" | grep 'not found'; fi
    done < <(find '$prefix/view' -type f -print0)
    echo \"\$n ELF files, \$bad with a missing library\"; [ \$bad -eq 0 ] && [ \$n -gt 0 ]" 2>&1)
  rc=$?
  check "$tc: ldd on every ELF of the view finds every library ($(echo "$out" | tail -n 1))" $rc \
    "$(echo "$out" | head -n 10)"

  # Every plugin the original shipped (issue 13, point 4; the slurm recipe's expected_plugins),
  # each also covered by the ldd check above on this clean machine (freeipmi, hdf5: bundled).
  echo "   view/lib/slurm: $(in_container "$name" "ls '$prefix/view/lib/slurm' | grep '\.so$' | tr '\n' ' '")"
  for f in lib/slurm/acct_gather_energy_ipmi.so lib/slurm/acct_gather_profile_hdf5.so \
      lib/slurm/acct_gather_profile_influxdb.so lib/slurm/cgroup_v2.so lib/libpmi2.so.0 \
      lib/libnss_slurm.so.2 lib/security/pam_slurm_adopt.so; do
    out=$(in_container "$name" "ls -l '$prefix/view/$f'" 2>&1)
    check "$tc: the view has $f" $? "$out"
  done
}

[ "$#" -gt 0 ] || set -- trixie bookworm
if [ -n "$ARTIFACT" ]; then
  prov="${ARTIFACT%.tar.*}.provenance.json"
  tc=$(jq -r '.toolchain.name' "$prov" 2>/dev/null)
  VERSION=$(jq -r '.slurm_version' "$prov" 2>/dev/null)
  if [ -z "$tc" ] || [ "$tc" = null ]; then
    check "read $prov" 1 "no toolchain in the provenance beside the artifact"
  else
    cluster "$tc" "$ARTIFACT"
    plain_start "$tc" "$ARTIFACT"
  fi
  tally
  exit $?
fi
default_version=$VERSION
for pair in "$@"; do
  tc=${pair%@*}
  VERSION=$default_version
  [ "$tc" = "$pair" ] || VERSION=${pair#*@}
  echo "== $tc: build-slurm $VERSION on $BACKEND"
  start=$(date +%s)
  artifact=$(build_artifact "$tc")
  rc=$?
  [ "$rc" -eq 0 ] && [ -n "$artifact" ] && [ -f "$artifact" ]
  ok=$?
  check "$tc: build-slurm --verify ($(( $(date +%s) - start ))s)" "$ok" "exit $rc, artifact '${artifact}'"
  if [ "$ok" -eq 0 ]; then
    trust_checks "$tc" "$artifact"
    cluster "$tc" "$artifact"
    plain_start "$tc" "$artifact"
  fi
done
tally
