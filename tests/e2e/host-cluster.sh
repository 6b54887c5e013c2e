# shellcheck shell=sh
# A real one-node Slurm cluster directly on this host (sourced, POSIX sh): the daemons of a
# slurm-factory artifact built for this host's release, all as root, with accounting (slurmdbd and
# a private MariaDB), so that jobs run as root here (and may use the host's docker). For the e2e
# scripts that need a Slurm to submit to (the slurm executor); tests/e2e/host-cluster-check.sh
# proves it. Everything lives in a work folder the caller owns:
#
#   . "$here/host-cluster.sh"
#   work=$(mktemp -d /tmp/sf-e2e-NAME.XXXXXX)
#   trap 'host_cluster_stop; rm -rf "$work"' EXIT
#   host_cluster_start "$ARTIFACT" "$work" || exit 1
#   sbatch --parsable --wrap hostname ...
#
# host_cluster_start ARTIFACT WORKDIR: unpacks ARTIFACT (.tar.zst) under
# 'WORKDIR/site <random>/slurm' (a prefix with a space: the artifact is relocatable), writes
# WORKDIR/etc/{slurm,slurmdbd,cgroup}.conf (cluster sfexec, this host as its one node with all its
# CPUs, partition `build`; free TCP ports from HOST_CLUSTER_PORT_BASE, default 16817, upwards:
# slurmctld, slurmd, slurmdbd, MariaDB), starts munged (the view's, own key and socket), a private
# mariadbd (Debian's mariadb-server, installed when missing; data, socket and pid in WORKDIR),
# slurmdbd, slurmctld and slurmd, and waits until sinfo shows the node idle and sacctmgr lists the
# cluster. Exports SLURM_CONF, PATH (the view's bin first), HOST_CLUSTER_PREFIX (the unpacked
# root), HOST_CLUSTER_VIEW, HOST_CLUSTER_WORK, HOST_CLUSTER_NODE. On failure: non-zero, with a
# message naming what did not come up and the tail of its log (the caller still calls
# host_cluster_stop). Logs: WORKDIR/log/*.log; pid files: WORKDIR/run/*.pid.
#
# host_cluster_stop: cancels every job, stops slurmd, slurmctld, slurmdbd, mariadbd and munged
# (by pid file or by their executable under the view, TERM then KILL) and any slurmstepd left of
# the view. Leaves WORKDIR. Safe to call twice, or after a start that failed halfway.

# _hc_fail WHAT [LOG]: the message for the caller, with the tail of LOG
_hc_fail() {
  echo "host_cluster_start: $1${2:+ (log: $2)}" >&2
  if [ -n "${2:-}" ] && [ -f "$2" ]; then tail -n 20 "$2" | sed 's/^/  | /' >&2; fi
  return 1
}

# _hc_port_used PORT [LISTEN]: a local TCP socket is bound to PORT (any state; with LISTEN, one
# listens on it). Read from /proc: no connection is made (slurmdbd logs probe connections).
_hc_port_used() {
  _hc_files=""
  for _hc_f in /proc/net/tcp /proc/net/tcp6; do [ -r "$_hc_f" ] && _hc_files="$_hc_files $_hc_f"; done
  [ -n "$_hc_files" ] || return 1
  # shellcheck disable=SC2086 # a list of /proc files, no space in them
  awk -v p="$(printf ':%04X' "$1")" -v l="${2:-}" \
    'FNR > 1 && $2 ~ (p "$") && (l == "" || $4 == "0A") { found = 1 } END { exit !found }' $_hc_files
}

# _hc_free_port FROM: prints the first port from FROM up that no local TCP socket uses
_hc_free_port() {
  _hc_p=$1
  while _hc_port_used "$_hc_p"; do _hc_p=$((_hc_p + 1)); done
  echo "$_hc_p"
}

# _hc_pid PIDFILE: the pid in PIDFILE when that process is alive, else nothing (and 1)
_hc_pid() {
  [ -r "$1" ] || return 1
  _hc_x=$(head -n 1 "$1" 2>/dev/null | tr -dc 0-9)
  [ -n "$_hc_x" ] && kill -0 "$_hc_x" 2>/dev/null && echo "$_hc_x"
}

# _hc_wait_up NAME PIDFILE LOG [PORT]: waits (30 s) until PIDFILE names a live process and, with
# PORT, something listens on PORT while it stays alive
_hc_wait_up() {
  _hc_n=0
  while [ "$_hc_n" -lt 60 ]; do
    if _hc_pid "$2" >/dev/null; then
      if [ -z "${4:-}" ] || _hc_port_used "$4" listen; then
        return 0
      fi
    fi
    sleep 0.5
    _hc_n=$((_hc_n + 1))
  done
  if _hc_pid "$2" >/dev/null; then
    _hc_fail "$1 runs but does not listen on port $4 after 30 s" "$3"
  else
    _hc_fail "$1 did not start (no live pid in $2 after 30 s)" "$3"
  fi
}

# _hc_pids_of EXE: the pids of the processes running the executable EXE (an exact path)
_hc_pids_of() {
  for _hc_d in /proc/[0-9]*; do
    [ "$(readlink "$_hc_d/exe" 2>/dev/null)" = "$1" ] && echo "${_hc_d#/proc/}"
  done
  return 0
}

# _hc_kill NAME PIDS...: TERM, then up to 20 s for them to exit, then KILL (and 5 s more)
_hc_kill() {
  _hc_name=$1
  shift
  [ "$#" -gt 0 ] || return 0
  kill -TERM "$@" 2>/dev/null
  for _hc_n in $(seq 1 40); do
    _hc_left=""
    for _hc_x in "$@"; do kill -0 "$_hc_x" 2>/dev/null && _hc_left="$_hc_left $_hc_x"; done
    [ -n "$_hc_left" ] || return 0
    [ "$_hc_n" -eq 40 ] || sleep 0.5
  done
  echo "host_cluster_stop: $_hc_name ($_hc_left) did not exit on TERM; KILL" >&2
  # shellcheck disable=SC2086 # a list of pids
  kill -KILL $_hc_left 2>/dev/null
  for _ in $(seq 1 10); do
    _hc_alive=""
    # shellcheck disable=SC2086 # a list of pids
    for _hc_x in $_hc_left; do kill -0 "$_hc_x" 2>/dev/null && _hc_alive=1; done
    [ -n "$_hc_alive" ] || return 0
    sleep 0.5
  done
}

# _hc_stop_daemon NAME: stops the view's daemon NAME (pid file, and any process of its executable)
_hc_stop_daemon() {
  _hc_exe="$HOST_CLUSTER_VIEW/sbin/$1"
  # shellcheck disable=SC2046 # a list of pids
  _hc_kill "$1" $( { _hc_pid "$HOST_CLUSTER_WORK/run/$1.pid" | while read -r _hc_x; do
        [ "$(readlink "/proc/$_hc_x/exe" 2>/dev/null)" = "$_hc_exe" ] && echo "$_hc_x"; done
      _hc_pids_of "$_hc_exe"; } | sort -u)
}

# _hc_mariadb_pids: the mariadbd of this work folder (its pid file, or the pid it was started as;
# either only when that process's command line names our data folder)
_hc_mariadb_pids() {
  for _hc_f in "$HOST_CLUSTER_WORK/run/mariadbd.pid" "$HOST_CLUSTER_WORK/run/mariadbd.started"; do
    _hc_x=$(_hc_pid "$_hc_f") || continue
    tr '\0' '\n' < "/proc/$_hc_x/cmdline" 2>/dev/null |
      grep -qxF -- "--datadir=$HOST_CLUSTER_WORK/mysql/data" && echo "$_hc_x"
  done | sort -u
}

host_cluster_start() {
  if [ "$#" -ne 2 ]; then
    echo "usage: host_cluster_start ARTIFACT WORKDIR" >&2
    return 2
  fi
  [ -f "$1" ] || { _hc_fail "no artifact at '$1'"; return 1; }
  mkdir -p "$2" || { _hc_fail "cannot create the work folder '$2'"; return 1; }
  case $2 in *'"'*) _hc_fail "the work folder '$2' has a double quote (slurm.conf cannot say it)"; return 1 ;; esac
  HOST_CLUSTER_WORK=$(cd "$2" && pwd) || return 1
  export HOST_CLUSTER_WORK
  _hc_w=$HOST_CLUSTER_WORK
  # A unix socket path has at most 107 bytes.
  if [ "${#_hc_w}" -gt 80 ]; then
    _hc_fail "the work folder '$_hc_w' is too long for the munge and MariaDB sockets in it (> 80 bytes)"
    return 1
  fi
  _hc_log=$_hc_w/log
  _hc_run=$_hc_w/run
  mkdir -p "$_hc_w/etc" "$_hc_log" "$_hc_run" "$_hc_w/munge" "$_hc_w/mysql" \
    "$_hc_w/spool/slurmctld" "$_hc_w/spool/slurmd" || { _hc_fail "cannot populate $_hc_w"; return 1; }
  chmod 700 "$_hc_w/munge"

  # MariaDB: Debian's server, installed when this host has none (its service is not used).
  _hc_mariadbd=$(command -v mariadbd || command -v /usr/sbin/mariadbd || true)
  if [ -z "$_hc_mariadbd" ] || ! command -v mariadb-install-db >/dev/null; then
    echo "host_cluster_start: installing Debian's mariadb-server" >&2
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mariadb-server ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends mariadb-server; }; } > "$_hc_log/apt.log" 2>&1 ||
      { _hc_fail "apt-get install mariadb-server failed" "$_hc_log/apt.log"; return 1; }
    _hc_mariadbd=$(command -v mariadbd || command -v /usr/sbin/mariadbd || true)
    [ -n "$_hc_mariadbd" ] || { _hc_fail "no mariadbd after installing mariadb-server"; return 1; }
  fi

  # The artifact, under a random prefix with a space in it.
  _hc_rand=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
  HOST_CLUSTER_PREFIX="$_hc_w/site $_hc_rand/slurm"
  HOST_CLUSTER_VIEW=$HOST_CLUSTER_PREFIX/view
  export HOST_CLUSTER_PREFIX HOST_CLUSTER_VIEW
  _hc_v=$HOST_CLUSTER_VIEW
  if ! { mkdir -p "$HOST_CLUSTER_PREFIX" &&
      zstd -q -dc "$1" 2> "$_hc_log/unpack.log" | tar -x -C "$HOST_CLUSTER_PREFIX" 2>> "$_hc_log/unpack.log" &&
      [ -x "$_hc_v/sbin/slurmctld" ] && [ -x "$_hc_v/sbin/munged" ]; }; then
    _hc_fail "unpacking $1 under '$HOST_CLUSTER_PREFIX' failed (or it has no view/sbin/slurmctld, munged)" \
      "$_hc_log/unpack.log"
    return 1
  fi

  # Ports: four free ones from the base up (Slurm's defaults 6817-6819 and 3306 stay untouched).
  _hc_port_ctld=$(_hc_free_port "${HOST_CLUSTER_PORT_BASE:-16817}")
  _hc_port_slurmd=$(_hc_free_port $((_hc_port_ctld + 1)))
  _hc_port_dbd=$(_hc_free_port $((_hc_port_slurmd + 1)))
  _hc_port_db=$(_hc_free_port $((_hc_port_dbd + 1)))

  HOST_CLUSTER_NODE=$(hostname -s)
  export HOST_CLUSTER_NODE
  _hc_cpus=$(nproc)
  _hc_mem=$(awk '/^MemTotal:/ { m = int($2 / 1024) - 1024; if (m < 500) m = int($2 / 1024 / 2); print m }' /proc/meminfo)
  _hc_munge_sock=$_hc_w/munge/munge.socket.2
  _hc_db_sock=$_hc_w/mysql/mysqld.sock
  _hc_db_pass=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')

  # The configuration: all daemons as root, every path in the work folder, no cgroup.
  cat > "$_hc_w/etc/slurm.conf" <<EOF
# slurm.conf of tests/e2e/host-cluster.sh: a one-node cluster on this host, all as root.
ClusterName=sfexec
SlurmctldHost=$HOST_CLUSTER_NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$_hc_port_ctld
SlurmdPort=$_hc_port_slurmd
AuthType=auth/munge
CredType=cred/munge
AuthInfo="socket=$_hc_munge_sock"
PluginDir="$_hc_v/lib/slurm"
StateSaveLocation="$_hc_w/spool/slurmctld"
SlurmdSpoolDir="$_hc_w/spool/slurmd"
SlurmctldPidFile="$_hc_run/slurmctld.pid"
SlurmdPidFile="$_hc_run/slurmd.pid"
SlurmctldLogFile="$_hc_log/slurmctld.log"
SlurmdLogFile="$_hc_log/slurmd.log"
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
MailProg=/bin/true
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$_hc_port_dbd
AccountingStoragePass="$_hc_munge_sock"
SlurmctldTimeout=120
SlurmdTimeout=300
InactiveLimit=0
MinJobAge=120
KillWait=10
Waittime=0
NodeName=$HOST_CLUSTER_NODE NodeAddr=127.0.0.1 CPUs=$_hc_cpus RealMemory=$_hc_mem State=UNKNOWN
PartitionName=build Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
  cat > "$_hc_w/etc/cgroup.conf" <<EOF
# cgroup.conf of tests/e2e/host-cluster.sh: unused (proctrack/linuxproc, task/none).
CgroupPlugin=autodetect
EOF
  cat > "$_hc_w/etc/slurmdbd.conf" <<EOF
# slurmdbd.conf of tests/e2e/host-cluster.sh (mode 600: it holds the database password).
AuthType=auth/munge
AuthInfo="socket=$_hc_munge_sock"
DbdHost=$HOST_CLUSTER_NODE
DbdAddr=127.0.0.1
DbdPort=$_hc_port_dbd
SlurmUser=root
PidFile="$_hc_run/slurmdbd.pid"
LogFile="$_hc_log/slurmdbd.log"
DebugLevel=info
PluginDir="$_hc_v/lib/slurm"
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$_hc_port_db
StorageUser=slurm
StoragePass=$_hc_db_pass
StorageLoc=slurm_acct_db
EOF
  chmod 600 "$_hc_w/etc/slurmdbd.conf"
  SLURM_CONF=$_hc_w/etc/slurm.conf
  export SLURM_CONF
  case ":$PATH:" in *":$_hc_v/bin:"*) ;; *) PATH="$_hc_v/bin:$PATH" ;; esac
  export PATH

  # munged: the view's, its own key, socket, pid, log and seed in the work folder (--force: the
  # caller's folders may be group-writable).
  if ! { dd if=/dev/urandom of="$_hc_w/munge/munge.key" bs=1024 count=1 status=none &&
      chmod 400 "$_hc_w/munge/munge.key"; }; then
    _hc_fail "cannot write the munge key"
    return 1
  fi
  "$_hc_v/sbin/munged" --force --key-file="$_hc_w/munge/munge.key" --socket="$_hc_munge_sock" \
    --pid-file="$_hc_run/munged.pid" --log-file="$_hc_log/munged.log" \
    --seed-file="$_hc_w/munge/munged.seed" < /dev/null > "$_hc_log/munged.out" 2>&1 ||
    { cat "$_hc_log/munged.out" >> "$_hc_log/munged.log"; _hc_fail "munged did not start" "$_hc_log/munged.log"; return 1; }
  _hc_wait_up munged "$_hc_run/munged.pid" "$_hc_log/munged.log" || return 1
  "$_hc_v/bin/munge" -n -S "$_hc_munge_sock" | "$_hc_v/bin/unmunge" -S "$_hc_munge_sock" \
    > "$_hc_log/munge-check.log" 2>&1 ||
    { _hc_fail "munged does not answer on $_hc_munge_sock" "$_hc_log/munge-check.log"; return 1; }

  # MariaDB: a private instance (no option file read), root by unix socket, slurm by TCP.
  mariadb-install-db --no-defaults --datadir="$_hc_w/mysql/data" --user=root --skip-test-db \
    --skip-name-resolve --auth-root-authentication-method=socket > "$_hc_log/mariadb-install-db.log" 2>&1 ||
    { _hc_fail "mariadb-install-db failed" "$_hc_log/mariadb-install-db.log"; return 1; }
  "$_hc_mariadbd" --no-defaults --datadir="$_hc_w/mysql/data" --socket="$_hc_db_sock" \
    --port="$_hc_port_db" --bind-address=127.0.0.1 --user=root --skip-name-resolve \
    --pid-file="$_hc_run/mariadbd.pid" --log-error="$_hc_log/mariadbd.log" \
    --innodb-buffer-pool-size=128M --innodb-lock-wait-timeout=900 \
    < /dev/null > "$_hc_log/mariadbd.out" 2>&1 &
  echo "$!" > "$_hc_run/mariadbd.started"
  _hc_wait_up mariadbd "$_hc_run/mariadbd.pid" "$_hc_log/mariadbd.log" "$_hc_port_db" || return 1
  _hc_n=0
  until mariadb --no-defaults -S "$_hc_db_sock" -u root -e 'select 1' > /dev/null 2> "$_hc_log/mariadb-client.log"; do
    _hc_n=$((_hc_n + 1))
    [ "$_hc_n" -lt 60 ] || { _hc_fail "mariadbd does not answer on $_hc_db_sock" "$_hc_log/mariadbd.log"; return 1; }
    sleep 0.5
  done
  # The artifact's own SQL (database, user slurm@localhost and @%) with this password.
  sed "s/@DB_PASSWORD@/$_hc_db_pass/g" "$HOST_CLUSTER_PREFIX/data/slurm_assets/mysql/slurm_acct_db.sql" |
    mariadb --no-defaults -S "$_hc_db_sock" -u root > "$_hc_log/mariadb-client.log" 2>&1 ||
    { _hc_fail "creating slurm_acct_db and its user failed" "$_hc_log/mariadb-client.log"; return 1; }

  # slurmdbd first, listening, before a first slurmctld asks it for its TRES; then slurmctld, slurmd.
  "$_hc_v/sbin/slurmdbd" < /dev/null > "$_hc_log/slurmdbd.out" 2>&1 ||
    { cat "$_hc_log/slurmdbd.out" >> "$_hc_log/slurmdbd.log"; _hc_fail "slurmdbd did not start" "$_hc_log/slurmdbd.log"; return 1; }
  _hc_wait_up slurmdbd "$_hc_run/slurmdbd.pid" "$_hc_log/slurmdbd.log" "$_hc_port_dbd" || return 1
  "$_hc_v/sbin/slurmctld" < /dev/null > "$_hc_log/slurmctld.out" 2>&1 ||
    { cat "$_hc_log/slurmctld.out" >> "$_hc_log/slurmctld.log"; _hc_fail "slurmctld did not start" "$_hc_log/slurmctld.log"; return 1; }
  _hc_wait_up slurmctld "$_hc_run/slurmctld.pid" "$_hc_log/slurmctld.log" "$_hc_port_ctld" || return 1
  "$_hc_v/sbin/slurmd" < /dev/null > "$_hc_log/slurmd.out" 2>&1 ||
    { cat "$_hc_log/slurmd.out" >> "$_hc_log/slurmd.log"; _hc_fail "slurmd did not start" "$_hc_log/slurmd.log"; return 1; }
  _hc_wait_up slurmd "$_hc_run/slurmd.pid" "$_hc_log/slurmd.log" "$_hc_port_slurmd" || return 1

  _hc_n=0
  until [ "$(sinfo -h -N -n "$HOST_CLUSTER_NODE" -o %T 2> "$_hc_log/sinfo.err")" = idle ]; do
    _hc_n=$((_hc_n + 1))
    if [ "$_hc_n" -ge 60 ]; then
      sinfo -N -l >> "$_hc_log/sinfo.err" 2>&1
      tail -n 10 "$_hc_log/slurmd.log" >&2
      _hc_fail "node $HOST_CLUSTER_NODE is not idle in sinfo after 60 s" "$_hc_log/slurmctld.log"
      return 1
    fi
    sleep 1
  done
  # slurmctld registers its cluster with slurmdbd itself; add it when it has not (yet).
  _hc_n=0
  until sacctmgr -n -P list cluster format=cluster 2> "$_hc_log/sacctmgr.err" | grep -qx sfexec; do
    _hc_n=$((_hc_n + 1))
    [ "$_hc_n" -ne 10 ] || sacctmgr -i add cluster sfexec >> "$_hc_log/sacctmgr.err" 2>&1
    [ "$_hc_n" -lt 30 ] || { _hc_fail "cluster sfexec is not in the accounting database" "$_hc_log/slurmdbd.log"; return 1; }
    sleep 1
  done
  sacct -n -X > "$_hc_log/sacct.err" 2>&1 ||
    { _hc_fail "sacct does not answer" "$_hc_log/sacct.err"; return 1; }
  return 0
}

host_cluster_stop() {
  [ -n "${HOST_CLUSTER_WORK:-}" ] && [ -d "$HOST_CLUSTER_WORK" ] || return 0
  if [ -n "${HOST_CLUSTER_VIEW:-}" ] && [ -x "$HOST_CLUSTER_VIEW/bin/scancel" ] &&
      _hc_pid "$HOST_CLUSTER_WORK/run/slurmctld.pid" > /dev/null; then
    _hc_jobs=$(SLURM_CONF=$HOST_CLUSTER_WORK/etc/slurm.conf timeout 10 "$HOST_CLUSTER_VIEW/bin/squeue" -h -o %A 2>/dev/null)
    if [ -n "$_hc_jobs" ]; then
      # shellcheck disable=SC2086 # a list of job ids
      SLURM_CONF=$HOST_CLUSTER_WORK/etc/slurm.conf timeout 10 "$HOST_CLUSTER_VIEW/bin/scancel" $_hc_jobs 2>/dev/null
      for _ in $(seq 1 30); do  # KillWait is 10 s
        [ -z "$(SLURM_CONF=$HOST_CLUSTER_WORK/etc/slurm.conf timeout 5 "$HOST_CLUSTER_VIEW/bin/squeue" -h -o %A 2>/dev/null)" ] && break
        sleep 1
      done
    fi
  fi
  if [ -n "${HOST_CLUSTER_VIEW:-}" ]; then
    for _hc_dmn in slurmd slurmctld slurmdbd; do _hc_stop_daemon "$_hc_dmn"; done
  fi
  # shellcheck disable=SC2046 # a list of pids
  _hc_kill mariadbd $(_hc_mariadb_pids)
  if [ -n "${HOST_CLUSTER_VIEW:-}" ]; then
    _hc_stop_daemon munged
    # shellcheck disable=SC2046 # a list of pids
    _hc_kill slurmstepd $(_hc_pids_of "$HOST_CLUSTER_VIEW/sbin/slurmstepd")
  fi
  rm -f "$HOST_CLUSTER_WORK/run/mariadbd.started"
  return 0
}

# host_cluster_artifact CACHE_DIR WORKDIR: prints the artifact the host cluster runs: $SF_E2E_ARTIFACT
# when set, else the one an earlier run left in CACHE_DIR/executor-artifact, else one built now
# (`build-slurm --slurm-version 24.11.5 --toolchain bookworm`, this host's release) into that
# folder, signed with the e2e key kept beside the cache (CACHE_DIR/e2e-gnupg). Uses lib.sh's
# SF_BIN, sf_config, signing_key, E2E_KEY, and BACKEND and JOBS. On a failed build: non-zero, the
# tail of its log on stderr (the whole of it in WORKDIR/artifact.err).
host_cluster_artifact() {
  if [ -n "${SF_E2E_ARTIFACT:-}" ]; then
    echo "$SF_E2E_ARTIFACT"
    return 0
  fi
  _hc_art="$1/executor-artifact/bookworm/24.11.5/amd64/slurm-24.11.5-bookworm-amd64-software.tar.zst"
  if [ ! -f "$_hc_art" ]; then
    echo "host_cluster_artifact: building Slurm 24.11.5 for bookworm into $1/executor-artifact" >&2
    if ! (
      signing_key "$1/e2e-gnupg" "$E2E_KEY"
      sf_config "$1" > "$2/artifact.yaml"
      "$SF_BIN" --json --config "$2/artifact.yaml" build-slurm --slurm-version 24.11.5 \
        --toolchain bookworm --backend "${BACKEND:-docker}" --jobs "${JOBS:-2}" \
        --output "$1/executor-artifact" > "$2/artifact.json" 2> "$2/artifact.err"
      _hc_rc=$?
      gpgconf --homedir "$1/e2e-gnupg" --kill all > /dev/null 2>&1
      exit "$_hc_rc"
    ); then
      tail -n 20 "$2/artifact.err" >&2
      return 1
    fi
  fi
  echo "$_hc_art"
}
