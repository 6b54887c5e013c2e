# shellcheck shell=bash
# What tests/e2e/deb.sh and rpm.sh share (sourced after lib.sh, bash): a clean container of the
# release's base image, commands in it (bare and as a login shell), and a one-node cluster of
# the installed packages started the way an admin without systemd starts it. The caller sets
# here, ENGINE, TC, T (and for the cluster CACHE) and calls cleanup_container on exit.
container=""
node=""

cleanup_container() {
  [ -n "$container" ] || return 0
  if [ -z "${SF_E2E_KEEP:-}" ]; then
    "$ENGINE" rm -f "$container" >/dev/null 2>&1
  else
    echo "kept container: $container"
  fi
}

# clean_container KIND: a fresh container of slurm-factory/base-$TC named sf-e2e-KIND-<random>,
# hostname KIND-<random> (in $node), on the bridge network (Slurm resolves its addresses with
# AI_ADDRCONFIG), with explicit rlimits for podman as root. Two checks; 1 when it cannot start.
clean_container() {
  local base rand nproc
  local limits=()
  base=$("$ENGINE" images --format '{{.Repository}}:{{.Tag}}' "slurm-factory/base-$TC" | head -n 1)
  if [ -z "$base" ]; then
    check "$TC: a clean base image slurm-factory/base-$TC" 1 "none (toolchain prepare makes it)"
    return 1
  fi
  rand=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
  node="$1-$rand"
  container="sf-e2e-$1-$rand"
  if [ "$ENGINE" = podman ]; then
    nproc=$(ulimit -Hu)
    [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
    limits=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=$nproc:$nproc")
  fi
  "$ENGINE" run -d --name "$container" --hostname "$node" --network bridge "${limits[@]}" \
    --label org.slurm-factory.kind=e2e "$base" sleep infinity >/dev/null
  check "$TC: start a clean container ($base)" $?
}

run() { # run SCRIPT: bash in the container, bare environment
  "$ENGINE" exec "$container" env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin bash -c "$1"
}
login() { # login SCRIPT: a login shell (profile.d), as an admin's ssh session
  "$ENGINE" exec "$container" env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin bash -lc "$1"
}

# start_cluster [SLURMCTLD_OPTION]: the OS's munged (unless it answers), then slurmctld and slurmd
# of the installed packages, plainly; waits for the node to be idle. One check each.
start_cluster() {
  # shellcheck disable=SC2016 # expands in the container
  out=$(run 'set -e
    if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
      mkdir -p /run/munge; chown munge:munge /run/munge
      test -s /etc/munge/munge.key || runuser -u munge -- mungekey --verbose
      runuser -u munge -- /usr/sbin/munged
      for _ in $(seq 1 20); do [ -S /run/munge/munge.socket.2 ] && break; sleep 0.5; done
    fi
    munge -n | unmunge >/dev/null' 2>&1)
  check "$TC: the OS's munged answers" $? "$out"
  run "/opt/slurm/view/sbin/slurmctld ${1:-} </dev/null >/var/log/slurm/slurmctld.out 2>&1"
  check "$TC: slurmctld${1:+ $1} starts" $? \
    "$(run "cat /var/log/slurm/slurmctld.out; tail -n 5 /var/log/slurm/slurmctld.log" 2>&1)"
  run "/opt/slurm/view/sbin/slurmd </dev/null >/var/log/slurm/slurmd.out 2>&1"
  check "$TC: slurmd starts" $? \
    "$(run "cat /var/log/slurm/slurmd.out; tail -n 5 /var/log/slurm/slurmd.log" 2>&1)"
  local state=""
  for _ in $(seq 1 "$T"); do
    state=$(login "timeout 10 sinfo -h -N -o '%N %T'" 2>&1)
    echo "$state" | grep -q "^$node idle" && break
    sleep 1
  done
  echo "$state" | grep -q "^$node idle"
  check "$TC: sinfo (on PATH in a login shell) shows $node idle" $? \
    "$state; $(run 'tail -n 5 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log' 2>&1)"
}

# jobs_run: `srun hostname` and `sbatch --wrap hostname` print the node's name (login shells).
jobs_run() {
  out=$(login "timeout $T srun -N1 hostname" 2>&1)
  [ "$out" = "$node" ]
  check "$TC: srun hostname" $? "$out"
  out=$(login "cd /tmp && id=\$(sbatch --parsable --wrap hostname) &&
    for _ in \$(seq 1 $T); do [ -s slurm-\$id.out ] && break; sleep 1; done; cat slurm-\$id.out" 2>&1)
  [ "$out" = "$node" ]
  check "$TC: sbatch --wrap hostname" $? "$out"
}

# built_artifact STATUS OUT PACKAGER START NAME: the check of a `build-slurm --packager PACKAGER
# --output OUT` (exit STATUS, events in OUT.json, errors in OUT.err, started at START); sets
# artifact, dir and prov (its provenance.json). When it failed: the summary line NAME and exit 1.
# shellcheck disable=SC2034,SC2154 # sets the caller's variables; `failed` is lib.sh's
built_artifact() {
  local ok
  artifact=$(jq -r 'select(.event=="result") | .artifact // empty' "$2.json" 2>/dev/null)
  [ "$1" -eq 0 ] && [ -f "$artifact" ]
  ok=$?  # before the message's command substitutions change $?
  check "$TC: build-slurm --packager $3 ($(($(date +%s) - $4)) s)" "$ok" "$(tail -n 20 "$2.err")"
  [ "$failed" -eq 0 ] || { summary "$5"; exit 1; }
  dir=$(dirname "$artifact")
  prov="${artifact%.tar.*}.provenance.json"
}

# outputs_listed EXT PACKAGER DIR PROV: every DIR/*.EXT is in PROV's outputs of PACKAGER and in
# DIR/SHA256SUMS with its sha256 (two checks); the files are left in the array `pkgs`.
outputs_listed() {
  local listed actual
  mapfile -t pkgs < <(cd "$3" && ls -- *."$1" 2>/dev/null)
  listed=$(jq -r ".outputs[] | select(.packager==\"$2\") | \"\(.sha256)  \(.file)\"" "$4" | sort)
  actual=$(cd "$3" && sha256sum -- "${pkgs[@]}" | sort)
  [ "${#pkgs[@]}" -ge 5 ] && [ "$listed" = "$actual" ]
  check "$TC: ${#pkgs[@]} packages, each in provenance.json with its sha256" $? \
    "listed: $listed; actual: $actual"
  (cd "$3" && grep -F ".$1" SHA256SUMS | sha256sum -c --quiet -) >/dev/null 2>&1 &&
    [ "$(grep -c "\\.$1\$" "$3/SHA256SUMS")" -eq "${#pkgs[@]}" ]
  check "$TC: SHA256SUMS covers every package" $? "$(cat "$3/SHA256SUMS")"
}

# start_s3rver BUCKET: s3rver on ADDRESS (default 127.0.0.1; SF_S3RVER_ADDRESS), the bucket made;
# sets s3 (its URL) and s3pid. Two checks.
start_s3rver() {
  local port=""
  s3pid=""
  # shellcheck disable=SC2154 # `here` is the caller's folder (tests/e2e)
  read -r port s3pid _ < <("$here/../support/start-s3rver.sh")
  [ -n "$s3pid" ]
  check "$TC: s3rver on ${SF_S3RVER_ADDRESS:-127.0.0.1}:${port:-?}" $?
  [ -n "$s3pid" ] || return 1
  s3="http://${SF_S3RVER_ADDRESS:-127.0.0.1}:$port"
  export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
  curl -fsS -X PUT "$s3/$1" >/dev/null
  check "$TC: bucket $1" $?
}

# layer_config CONFIG BUCKET OUT: CONFIG with the local layer and a writable s3 layer
# s3://BUCKET/site on $s3, written to OUT.
layer_config() {
  { cat "$1"; cat <<CONF; } > "$3"
cache:
  layers:
    - {name: local, type: local, url: "file://$CACHE/cache", writable: true}
    - name: site-s3
      type: s3
      url: s3://$2/site
      writable: true
      settings: {endpoint: "$s3", region: us-east-1}
CONF
}
