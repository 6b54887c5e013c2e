#!/bin/bash
# slurm_install.sh: set up a host from an unpacked slurm-factory artifact.
# Rendered by slurm-factory 0.1.0 for Slurm 24.11.5 on trixie (amd64).
# Idempotent: a second run with the same options changes nothing (keys, passwords and existing
# configs are kept). Run with --help for the options.
# The Mustache tags below are literal braces to shellcheck until rendered:
# shellcheck disable=SC1083
set -euo pipefail

# Every rendered value is one shell word, single-quoted by the renderer where needed: never put
# a value tag inside double quotes here.
SF_SLURM_VERSION=24.11.5
SF_TOOLCHAIN=trixie
# The folder the artifact was built for (holding view/); text files name it until --prefix.
SF_BUILD_ROOT=/opt/slurm
# "yes" when this Slurm has auth/slurm (23.11 and newer).
SF_AUTH_SLURM_SUPPORTED="yes"
# GPU features of this build ("cuda rocm"), empty for CPU-only builds.
SF_GPU_LIST=(cuda rocm )
SF_GPU_AUTODETECT_LIST=(nvml rsmi )
SF_GPU_FEATURES="${SF_GPU_LIST[*]}"
SF_GPU_AUTODETECT="${SF_GPU_AUTODETECT_LIST[*]}"

PROG=slurm_install
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
CONF_DIR=/etc/slurm

usage() {
  cat <<EOF
Usage: slurm_install.sh [options]

Sets up this host from the unpacked slurm-factory artifact (Slurm ${SF_SLURM_VERSION}, ${SF_TOOLCHAIN}).
Without a mode option it only points the artifact's text files (modulefiles, systemd units) at
the folder it is unpacked in.

Options:
  --prefix DIR         the folder holding view/, modules/ and data/ (default: found from this
                       script's place: $(cd "${SCRIPT_DIR}/../.." && pwd -P)); the modulefiles and
                       units are rewritten to name it
  --init-only          also create the slurm and munge users, /etc/slurm, /var/spool/slurmctld,
                       /var/spool/slurmd and /var/log/slurm, generate the munge key, slurm.key and
                       the JWT key, and render slurm.conf (cgroup.conf, gres.conf) with the CPUs and
                       memory of this host; installs no units and starts nothing
  --full-init          --init-only, plus this host as controller (implies --head-node), slurmdbd.conf
                       with a generated database password (mode 600), and the systemd units
  --head-node          this host runs slurmctld (SlurmctldHost is this host)
  --controller HOST    SlurmctldHost for a compute node (default: this host)
  --cluster-name NAME  ClusterName (default: cluster)
  --auth munge|slurm   authentication plugin (default: munge; auth/slurm needs Slurm 23.11+)
  --accounting         store accounting in slurmdbd (AccountingStorageType); creates the database
                       from mysql/slurm_acct_db.sql when a local MariaDB/MySQL answers, starts
                       slurmdbd with --start-services
  --db-host HOST       MariaDB/MySQL host for slurmdbd (default: localhost)
  --start-services     start munged, slurmdbd, slurmctld and slurmd as configured: with systemd
                       when it runs, otherwise directly with pid files (containers)
  --force-config       overwrite existing configs (default: keep them and write <file>.new)
  --dry-run            print what would be done and change nothing
  -h, --help           show this help

Where systemd does not run (a container), slurm.conf uses proctrack/linuxproc and task/none,
and the script says so.

Examples:
  sudo ./slurm_install.sh --prefix /opt/slurm-24.11 --full-init --start-services
  sudo ./slurm_install.sh --init-only --controller head01 --cluster-name hpc
  ./slurm_install.sh --dry-run --full-init
EOF
}

note() { printf '%s: %s\n' "${PROG}" "$*"; }
die() {
  printf '%s: error: %s\n' "${PROG}" "$1" >&2
  if [[ -n "${2:-}" ]]; then printf '  hint: %s\n' "$2" >&2; fi
  exit 1
}
usage_error() {
  printf '%s: %s\n  hint: see slurm_install.sh --help\n' "${PROG}" "$1" >&2
  exit 2
}

PREFIX=""
INIT=no
FULL=no
HEAD=no
CONTROLLER=""
CLUSTER_NAME=cluster
AUTH=munge
ACCOUNTING=no
DB_HOST=localhost
START=no
FORCE_CONFIG=no
DRY_RUN=no

need_value() {
  if [[ $# -lt 2 || -z "$2" || "$2" == --* ]]; then usage_error "option $1 needs a value"; fi
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --prefix) need_value "$@"; PREFIX=$2; shift 2 ;;
    --prefix=*) PREFIX=${1#*=}; shift ;;
    --init-only) INIT=yes; shift ;;
    --full-init) INIT=yes; FULL=yes; HEAD=yes; shift ;;
    --head-node) HEAD=yes; shift ;;
    --controller) need_value "$@"; CONTROLLER=$2; shift 2 ;;
    --cluster-name) need_value "$@"; CLUSTER_NAME=$2; shift 2 ;;
    --cluster-name=*) CLUSTER_NAME=${1#*=}; shift ;;
    --auth) need_value "$@"; AUTH=$2; shift 2 ;;
    --auth=*) AUTH=${1#*=}; shift ;;
    --accounting) ACCOUNTING=yes; shift ;;
    --db-host) need_value "$@"; DB_HOST=$2; shift 2 ;;
    --start-services) START=yes; shift ;;
    --force-config) FORCE_CONFIG=yes; shift ;;
    --dry-run) DRY_RUN=yes; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown option: $1" ;;
  esac
done

case "${AUTH}" in
  munge) ;;
  slurm)
    if [[ "${SF_AUTH_SLURM_SUPPORTED}" != yes ]]; then
      die "--auth slurm needs Slurm 23.11 or newer; this artifact holds Slurm ${SF_SLURM_VERSION}" \
        "use --auth munge"
    fi
    ;;
  *) usage_error "--auth must be munge or slurm, not '${AUTH}'" ;;
esac
if [[ ! "${CLUSTER_NAME}" =~ ^[a-z0-9_]{1,40}$ ]]; then
  usage_error "--cluster-name '${CLUSTER_NAME}': use 1-40 lower-case letters, digits or _"
fi
if [[ "${START}" == yes && "${INIT}" != yes && ! -f "${CONF_DIR}/slurm.conf" ]]; then
  usage_error "--start-services needs ${CONF_DIR}/slurm.conf: add --init-only or --full-init"
fi

if [[ -z "${PREFIX}" ]]; then
  PREFIX=$(cd "${SCRIPT_DIR}/../.." && pwd -P)
fi
if [[ "${PREFIX}" != /* ]]; then PREFIX="$(pwd -P)/${PREFIX}"; fi
PREFIX=${PREFIX%/}
VIEW="${PREFIX}/view"
ASSETS="${PREFIX}/data/slurm_assets"
if [[ ! -d "${VIEW}" || ! -d "${ASSETS}" ]]; then
  die "${PREFIX} does not hold an unpacked artifact (no view/ or data/slurm_assets/)" \
    "unpack the tarball there first, or give --prefix the folder you unpacked it in"
fi
if [[ "${PREFIX}" == *$'\n'* || "${PREFIX}" == *'|'* ]]; then
  die "--prefix must not contain a newline or '|'"
fi

# --- actions: every change goes through these, so --dry-run changes nothing -----------------------
act() {
  if [[ "${DRY_RUN}" == yes ]]; then
    printf 'would run:'
    printf ' %q' "$@"
    printf '\n'
  else
    "$@"
  fi
}

# install_file DEST MODE OWNER:GROUP < content. Keeps an existing DEST whose content is the same.
install_file() {
  local dest=$1 mode=$2 owner=$3 tmp
  tmp=$(mktemp)
  cat >"${tmp}"
  if [[ -f "${dest}" ]] && cmp -s "${tmp}" "${dest}"; then
    rm -f "${tmp}"
    if [[ "${DRY_RUN}" != yes ]]; then
      chmod "${mode}" "${dest}"
      chown "${owner}" "${dest}"
    fi
    note "${dest}: unchanged"
    return 0
  fi
  if [[ "${DRY_RUN}" == yes ]]; then
    note "would write ${dest} (mode ${mode}, owner ${owner}, $(wc -l <"${tmp}") lines)"
    rm -f "${tmp}"
    return 0
  fi
  # Same directory as dest, so the rename is atomic.
  install -m "${mode}" -o "${owner%%:*}" -g "${owner##*:}" "${tmp}" "${dest}.sf-new"
  rm -f "${tmp}"
  mv -f "${dest}.sf-new" "${dest}"
  note "wrote ${dest} (mode ${mode}, owner ${owner})"
}

# install_config DEST MODE OWNER < content: like install_file, but an existing different config is
# kept (the new one goes to DEST.new) unless --force-config.
install_config() {
  local dest=$1 mode=$2 owner=$3
  if [[ -f "${dest}" && "${FORCE_CONFIG}" != yes ]]; then
    local tmp
    tmp=$(mktemp)
    cat >"${tmp}"
    if cmp -s "${tmp}" "${dest}"; then
      rm -f "${tmp}"
      note "${dest}: unchanged"
      return 0
    fi
    note "${dest} exists and differs: kept; the new version goes to ${dest}.new (--force-config replaces it)"
    install_file "${dest}.new" "${mode}" "${owner}" <"${tmp}"
    rm -f "${tmp}"
    return 0
  fi
  install_file "${dest}" "${mode}" "${owner}"
}

ensure_dir() {
  local dir=$1 mode=$2 owner=$3
  if [[ -d "${dir}" ]]; then
    if [[ "$(stat -c '%a %U:%G' "${dir}")" == "${mode} ${owner}" ]]; then return 0; fi
    act chmod "${mode}" "${dir}"
    act chown "${owner}" "${dir}"
    return 0
  fi
  act install -d -m "${mode}" -o "${owner%%:*}" -g "${owner##*:}" "${dir}"
}

ensure_user() {
  local name=$1 home=$2
  if ! getent group "${name}" >/dev/null; then
    act groupadd --system "${name}"
  fi
  if ! getent passwd "${name}" >/dev/null; then
    local shell=/usr/sbin/nologin
    [[ -x "${shell}" ]] || shell=/sbin/nologin
    act useradd --system --gid "${name}" --home-dir "${home}" --no-create-home \
      --shell "${shell}" --comment "${name} daemon" "${name}"
  fi
}

# generate_key DEST BYTES MODE OWNER:GROUP: a key from the kernel's random source, kept if present.
generate_key() {
  local dest=$1 bytes=$2 mode=$3 owner=$4
  if [[ -s "${dest}" ]]; then
    note "${dest}: kept (exists)"
    if [[ "${DRY_RUN}" != yes ]]; then
      chmod "${mode}" "${dest}"
      chown "${owner}" "${dest}"
    fi
    return 0
  fi
  if [[ "${DRY_RUN}" == yes ]]; then
    note "would generate ${dest} (${bytes} random bytes, mode ${mode}, owner ${owner})"
    return 0
  fi
  local tmp
  tmp=$(mktemp "${dest}.XXXXXX")
  chmod 600 "${tmp}"
  head -c "${bytes}" /dev/urandom >"${tmp}"
  chmod "${mode}" "${tmp}"
  chown "${owner}" "${tmp}"
  mv -f "${tmp}" "${dest}"
  note "generated ${dest} (mode ${mode}, owner ${owner})"
}

sed_escape() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }

# --- 1. point the text files at the prefix -----------------------------------------------------
relocate() {
  local marker="${ASSETS}/installed-prefix" current=${SF_BUILD_ROOT} file
  if [[ -f "${marker}" ]]; then current=$(<"${marker}"); fi
  if [[ "${current}" == "${PREFIX}" ]]; then
    note "text files already name ${PREFIX}"
    return 0
  fi
  local from to
  from=$(sed_escape "${current}")
  to=$(sed_escape "${PREFIX}")
  local files=()
  for file in "${PREFIX}"/modules/slurm/*.lua "${PREFIX}"/modules/slurm/*.tcl \
    "${ASSETS}"/defaults/*.service; do
    if [[ -f "${file}" ]]; then files+=("${file}"); fi
  done
  # Text files of the view that name the prefix (scripts, libtool files), listed at packaging.
  if [[ -f "${ASSETS}/prefix-files.txt" ]]; then
    local rel
    while IFS= read -r rel; do
      # Only plain files inside the view: no absolute paths, no "..", no symlinks.
      if [[ -n "${rel}" && "${rel}" != /* && "${rel}" != *..* && -f "${VIEW}/${rel}" &&
        ! -L "${VIEW}/${rel}" ]]; then
        files+=("${VIEW}/${rel}")
      fi
    done <"${ASSETS}/prefix-files.txt"
  fi
  for file in "${files[@]}"; do
    if grep -qF -- "${current}" "${file}"; then
      if [[ "${DRY_RUN}" == yes ]]; then
        note "would rewrite ${current} -> ${PREFIX} in ${file}"
      else
        sed -i -e "s|${from}|${to}|g" "${file}"
        note "rewrote ${current} -> ${PREFIX} in ${file}"
      fi
    fi
  done
  if [[ "${DRY_RUN}" == yes ]]; then
    note "would record ${PREFIX} in ${marker}"
  else
    printf '%s\n' "${PREFIX}" >"${marker}"
  fi
}

# --- 2. host detection ---------------------------------------------------------------------------
NODE_NAME=$(uname -n)
NODE_NAME=${NODE_NAME%%.*}
HAS_SYSTEMD=no
if [[ -d /run/systemd/system ]]; then HAS_SYSTEMD=yes; fi

lscpu_field() { LC_ALL=C lscpu 2>/dev/null | sed -n "s/^$1:[[:space:]]*//p" | head -n1; }

detect_hardware() {
  CPUS=$(lscpu_field 'CPU(s)')
  [[ "${CPUS}" =~ ^[0-9]+$ ]] || CPUS=$(getconf _NPROCESSORS_ONLN)
  local sockets cores threads
  sockets=$(lscpu_field 'Socket(s)')
  cores=$(lscpu_field 'Core(s) per socket')
  threads=$(lscpu_field 'Thread(s) per core')
  if [[ "${sockets}" =~ ^[0-9]+$ && "${cores}" =~ ^[0-9]+$ && "${threads}" =~ ^[0-9]+$ ]] &&
    ((sockets * cores * threads == CPUS)); then
    NODE_HARDWARE="CPUs=${CPUS} Sockets=${sockets} CoresPerSocket=${cores} ThreadsPerCore=${threads}"
  else
    NODE_HARDWARE="CPUs=${CPUS}"
  fi
  local mem_kb
  mem_kb=$(sed -n 's/^MemTotal:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/meminfo)
  # 98% of MemTotal: a node whose RealMemory exceeds what slurmd finds is drained.
  REAL_MEMORY=$((mem_kb * 98 / 100 / 1024))
  GPU_COUNT=0
  if [[ -n "${SF_GPU_FEATURES}" ]]; then
    local dev
    for dev in /dev/nvidia[0-9]* /dev/dri/renderD*; do
      if [[ -e "${dev}" ]]; then GPU_COUNT=$((GPU_COUNT + 1)); fi
    done
  fi
}

# --- 3. configs --------------------------------------------------------------------------------
# render TEMPLATE: substitutes the @NAME@ placeholders and enables the "#@TAG@" lines in ENABLED.
render() {
  local template=$1 tag script=()
  for tag in ${ENABLED_TAGS}; do script+=(-e "s|^#@${tag}@||"); done
  script+=(
    -e "s|@CLUSTER_NAME@|$(sed_escape "${CLUSTER_NAME}")|g"
    -e "s|@CONTROL_HOST@|$(sed_escape "${CONTROLLER}")|g"
    -e "s|@NODE_NAME@|$(sed_escape "${NODE_NAME}")|g"
    -e "s|@NODE_HARDWARE@|${NODE_HARDWARE}|g"
    -e "s|@REAL_MEMORY@|${REAL_MEMORY}|g"
    -e "s|@NODE_GRES@|${NODE_GRES}|g"
    -e "s|@PREFIX@|$(sed_escape "${PREFIX}")|g"
    -e "s|@AUTH_TYPE@|auth/${AUTH}|g"
    -e "s|@CRED_TYPE@|cred/${AUTH}|g"
    -e "s|@PROCTRACK_TYPE@|${PROCTRACK_TYPE}|g"
    -e "s|@TASK_PLUGIN@|${TASK_PLUGIN}|g"
    -e "s|@JOBACCT_GATHER_TYPE@|${JOBACCT_GATHER_TYPE}|g"
    -e "s|@ACCOUNTING_STORAGE_TYPE@|${ACCOUNTING_STORAGE_TYPE}|g"
    -e "s|@DBD_HOST@|$(sed_escape "${CONTROLLER}")|g"
    -e "s|@DB_HOST@|$(sed_escape "${DB_HOST}")|g"
    -e "s|@ENVIRONMENT_NOTE@|$(sed_escape "${ENVIRONMENT_NOTE}")|g"
  )
  sed "${script[@]}" "${template}"
}

render_configs() {
  detect_hardware
  [[ -n "${CONTROLLER}" ]] || CONTROLLER=${NODE_NAME}
  ENABLED_TAGS=""
  if [[ "${AUTH}" == munge ]]; then ENABLED_TAGS+=" MUNGE"; fi
  if [[ -f "${VIEW}/lib/slurm/auth_jwt.so" ]]; then ENABLED_TAGS+=" JWT"; fi
  if [[ "${HAS_SYSTEMD}" == yes ]]; then
    PROCTRACK_TYPE=proctrack/cgroup
    TASK_PLUGIN=task/cgroup,task/affinity
    JOBACCT_GATHER_TYPE=jobacct_gather/cgroup
    ENVIRONMENT_NOTE="systemd runs here: cgroup process tracking and task containment (cgroup.conf)."
  else
    PROCTRACK_TYPE=proctrack/linuxproc
    TASK_PLUGIN=task/none
    JOBACCT_GATHER_TYPE=jobacct_gather/linux
    ENVIRONMENT_NOTE="systemd does not run here (a container?): proctrack/linuxproc and task/none, no cgroup containment."
    note "systemd is not running on this host: slurm.conf uses proctrack/linuxproc and task/none (no cgroup containment of jobs)"
  fi
  if [[ "${ACCOUNTING}" == yes ]]; then
    ACCOUNTING_STORAGE_TYPE=accounting_storage/slurmdbd
    ENABLED_TAGS+=" ACCT"
  else
    ACCOUNTING_STORAGE_TYPE=accounting_storage/none
  fi
  NODE_GRES=""
  if [[ "${GPU_COUNT}" -gt 0 ]]; then NODE_GRES=" Gres=gpu:${GPU_COUNT}"; fi
  note "this host: ${NODE_NAME}, ${NODE_HARDWARE}, RealMemory=${REAL_MEMORY} MB; controller ${CONTROLLER}"

  render "${ASSETS}/slurm/slurm.conf.template" | install_config "${CONF_DIR}/slurm.conf" 644 root:root
  if [[ "${HAS_SYSTEMD}" == yes ]]; then
    render "${ASSETS}/slurm/cgroup.conf.template" | install_config "${CONF_DIR}/cgroup.conf" 644 root:root
  fi
  if [[ -n "${SF_GPU_FEATURES}" && -f "${ASSETS}/slurm/gres.conf.template" ]]; then
    note "GPU build (${SF_GPU_FEATURES% }): gres.conf uses AutoDetect=${SF_GPU_AUTODETECT% }; ${GPU_COUNT} GPU device(s) found"
    render "${ASSETS}/slurm/gres.conf.template" | install_config "${CONF_DIR}/gres.conf" 644 root:root
  fi
}

DB_PASSWORD=""
render_slurmdbd_conf() {
  local dest="${CONF_DIR}/slurmdbd.conf"
  if [[ -f "${dest}" ]]; then
    # Keep the password this host already uses.
    DB_PASSWORD=$(sed -n 's/^StoragePass=//p' "${dest}")
    note "${dest}: kept (exists; its database password is reused)"
    if [[ "${DRY_RUN}" != yes ]]; then
      chmod 600 "${dest}"
      chown slurm:slurm "${dest}"
    fi
    return 0
  fi
  DB_PASSWORD=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
  # The password never reaches argv or the log: it is piped through sed's stdin script.
  printf 's|@DB_PASSWORD@|%s|g\n' "${DB_PASSWORD}" >"${SED_SCRIPT}"
  render "${ASSETS}/slurm/slurmdbd.conf.template" | sed -f "${SED_SCRIPT}" |
    install_file "${dest}" 600 slurm:slurm
}

create_database() {
  local client=""
  if command -v mariadb >/dev/null; then client=mariadb; elif command -v mysql >/dev/null; then client=mysql; fi
  local sql="${ASSETS}/mysql/slurm_acct_db.sql"
  if [[ -z "${client}" ]]; then
    note "no mariadb/mysql client here: create the database on ${DB_HOST} with ${sql}, replacing @DB_PASSWORD@ by StoragePass from ${CONF_DIR}/slurmdbd.conf"
    return 0
  fi
  if [[ "${DRY_RUN}" == yes ]]; then
    note "would create database slurm_acct_db and user slurm on ${DB_HOST} with ${client} (${sql})"
    return 0
  fi
  printf 's|@DB_PASSWORD@|%s|g\n' "${DB_PASSWORD}" >"${SED_SCRIPT}"
  if sed -f "${SED_SCRIPT}" "${sql}" | "${client}" --host="${DB_HOST}" -u root; then
    note "database slurm_acct_db and user slurm ready on ${DB_HOST}"
  else
    die "could not create the accounting database on ${DB_HOST} with ${client} as root" \
      "start MariaDB, or apply ${sql} yourself with StoragePass from ${CONF_DIR}/slurmdbd.conf"
  fi
}

install_units() {
  local unit name dest_dir=/etc/systemd/system
  ensure_dir "${dest_dir}" 755 root:root
  for unit in "${ASSETS}"/defaults/*.service; do
    name=$(basename "${unit}")
    if [[ "${name}" == munged.service ]]; then name=munge.service; fi
    install_file "${dest_dir}/${name}" 644 root:root <"${unit}"
  done
  if [[ "${HAS_SYSTEMD}" == yes ]]; then
    act systemctl daemon-reload
  else
    note "systemd is not running: the units in ${dest_dir} are for later; --start-services starts the daemons directly"
  fi
}

# --- 4. services -------------------------------------------------------------------------------
pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for_pid() {
  local pidfile=$1 log=$2 name=$3
  for _ in $(seq 1 30); do
    if pid_alive "${pidfile}"; then
      note "${name} running (pid $(cat "${pidfile}"))"
      return 0
    fi
    sleep 0.5
  done
  printf '%s: error: %s did not start (no live pid in %s)\n' "${PROG}" "${name}" "${pidfile}" >&2
  if [[ -f "${log}" ]]; then tail -n 20 "${log}" >&2; fi
  die "${name} failed to start" "read ${log}"
}

# dbd_port: DbdPort from slurmdbd.conf, else Slurm's default 6819
dbd_port() {
  local port=""
  if [[ -r "${CONF_DIR}/slurmdbd.conf" ]]; then
    port=$(sed -n 's/^[[:space:]]*[Dd][Bb][Dd][Pp][Oo][Rr][Tt][[:space:]]*=[[:space:]]*\([0-9][0-9]*\).*/\1/p' \
      "${CONF_DIR}/slurmdbd.conf" | tail -n 1)
  fi
  echo "${port:-6819}"
}

# port_listening PORT: a local TCP socket listens on PORT (read from /proc, no connection made:
# a probe connection would show up in slurmdbd's log as a broken persistent connection)
port_listening() {
  local hex f files=()
  hex=$(printf '%04X' "$1")
  for f in /proc/net/tcp /proc/net/tcp6; do [[ -r "${f}" ]] && files+=("${f}"); done
  [[ "${#files[@]}" -gt 0 ]] || return 1
  awk -v p=":${hex}" '$2 ~ (p "$") && $4 == "0A" { found = 1 } END { exit !found }' "${files[@]}"
}

# wait_for_dbd: slurmdbd writes its pid file before it listens, and a first slurmctld (no state
# files yet) that cannot reach it exits ("we have no TRES from it"): wait for the port.
wait_for_dbd() {
  local port
  port=$(dbd_port)
  for _ in $(seq 1 60); do
    if port_listening "${port}"; then
      note "slurmdbd listening on port ${port}"
      return 0
    fi
    sleep 0.5
  done
  if [[ -f /var/log/slurm/slurmdbd.log ]]; then tail -n 20 /var/log/slurm/slurmdbd.log >&2; fi
  die "slurmdbd is running but does not listen on port ${port} after 30 s" \
    "read /var/log/slurm/slurmdbd.log (database reachable? StoragePass right?), then rerun with --start-services"
}

start_direct() {
  local sbin="${VIEW}/sbin"
  export SLURM_CONF="${CONF_DIR}/slurm.conf"
  if [[ "${AUTH}" == munge ]]; then
    local munged="${sbin}/munged"
    [[ -x "${munged}" ]] || munged=$(command -v munged || true)
    [[ -n "${munged}" ]] || die "munged not found in ${sbin} nor on PATH" "install munge or use --auth slurm"
    if pid_alive /run/munge/munged.pid; then
      note "munged already running"
    else
      act runuser -u munge -- "${munged}" --key-file=/etc/munge/munge.key \
        --socket=/run/munge/munge.socket.2 --pid-file=/run/munge/munged.pid \
        --log-file=/var/log/munge/munged.log --seed-file=/var/lib/munge/munged.seed
      [[ "${DRY_RUN}" == yes ]] || wait_for_pid /run/munge/munged.pid /var/log/munge/munged.log munged
    fi
  fi
  if [[ "${HEAD}" == yes && "${ACCOUNTING}" == yes ]]; then
    if pid_alive /run/slurmdbd/slurmdbd.pid; then
      note "slurmdbd already running"
    else
      act "${sbin}/slurmdbd"
      [[ "${DRY_RUN}" == yes ]] || wait_for_pid /run/slurmdbd/slurmdbd.pid /var/log/slurm/slurmdbd.log slurmdbd
    fi
    [[ "${DRY_RUN}" == yes ]] || wait_for_dbd
  fi
  if [[ "${HEAD}" == yes ]]; then
    if pid_alive /run/slurmctld/slurmctld.pid; then
      note "slurmctld already running"
    else
      act "${sbin}/slurmctld"
      [[ "${DRY_RUN}" == yes ]] || wait_for_pid /run/slurmctld/slurmctld.pid /var/log/slurm/slurmctld.log slurmctld
    fi
  fi
  if pid_alive /run/slurm/slurmd.pid; then
    note "slurmd already running"
  else
    # -d: slurmd has the build prefix's slurmstepd path compiled in (docs/relocation.md).
    act "${sbin}/slurmd" -d "${sbin}/slurmstepd"
    [[ "${DRY_RUN}" == yes ]] || wait_for_pid /run/slurm/slurmd.pid /var/log/slurm/slurmd.log slurmd
  fi
}

start_systemd() {
  local units=()
  if [[ "${AUTH}" == munge ]]; then units+=(munge.service); fi
  if [[ "${HEAD}" == yes && "${ACCOUNTING}" == yes ]]; then
    # slurmdbd first, and listening, before a first slurmctld asks it for its TRES
    act systemctl enable --now "${units[@]}" slurmdbd.service
    [[ "${DRY_RUN}" == yes ]] || wait_for_dbd
    units=()
  fi
  if [[ "${HEAD}" == yes ]]; then units+=(slurmctld.service); fi
  units+=(slurmd.service)
  act systemctl enable --now "${units[@]}"
}

# --- main --------------------------------------------------------------------------------------
if [[ "${DRY_RUN}" == yes ]]; then note "dry run: nothing on this host is changed"; fi
if [[ "${INIT}" == yes || "${START}" == yes ]] && [[ "${DRY_RUN}" != yes && "${EUID}" -ne 0 ]]; then
  die "--init-only, --full-init and --start-services change the system and need root" \
    "run with sudo, or add --dry-run to see what would be done"
fi
SED_SCRIPT=$(mktemp)
trap 'rm -f "${SED_SCRIPT}"' EXIT

note "Slurm ${SF_SLURM_VERSION} (${SF_TOOLCHAIN}) in ${PREFIX}"
relocate

if [[ "${INIT}" == yes ]]; then
  ensure_user slurm /var/lib/slurm
  if [[ "${AUTH}" == munge ]]; then ensure_user munge /var/lib/munge; fi
  ensure_dir "${CONF_DIR}" 755 root:root
  ensure_dir /var/spool/slurmctld 700 slurm:slurm
  ensure_dir /var/spool/slurmd 755 root:root
  ensure_dir /var/log/slurm 755 slurm:slurm
  ensure_dir /run/slurm 755 root:root
  ensure_dir /run/slurmctld 755 slurm:slurm
  if [[ "${AUTH}" == munge ]]; then
    ensure_dir /etc/munge 700 munge:munge
    ensure_dir /var/lib/munge 700 munge:munge
    ensure_dir /var/log/munge 700 munge:munge
    ensure_dir /run/munge 755 munge:munge
    generate_key /etc/munge/munge.key 1024 400 munge:munge
  fi
  if [[ "${SF_AUTH_SLURM_SUPPORTED}" == yes ]]; then
    generate_key "${CONF_DIR}/slurm.key" 1024 600 slurm:slurm
  fi
  generate_key "${CONF_DIR}/jwt_hs256.key" 32 600 slurm:slurm
  render_configs
  if [[ "${FULL}" == yes ]]; then
    ensure_dir /run/slurmdbd 755 slurm:slurm
    render_slurmdbd_conf
    if [[ "${ACCOUNTING}" == yes ]]; then create_database; fi
    install_units
  fi
fi

if [[ "${START}" == yes ]]; then
  [[ -n "${CONTROLLER}" ]] || CONTROLLER=${NODE_NAME}
  if [[ "${HAS_SYSTEMD}" == yes ]]; then start_systemd; else start_direct; fi
fi

note "done. Load the module with: module use ${PREFIX}/modules && module load slurm/${SF_SLURM_VERSION}-${SF_TOOLCHAIN}"
