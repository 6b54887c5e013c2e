#!/bin/bash
# Starts the container engines the integration tests use, when they are not already running, and
# waits for their sockets: dockerd (/var/run/docker.sock) and the Podman API service
# (/run/podman/podman.sock as root, $XDG_RUNTIME_DIR/podman/podman.sock otherwise).
# Called by CI (.ci/run) and by developers before `ctest -L integration`.
# Exit status: 0 when every engine that is installed answers; 1 otherwise (the reason is printed).
set -u

log_dir=${SF_ENGINE_LOG_DIR:-/var/log}
timeout=${SF_ENGINE_TIMEOUT:-60}
status=0

ping_socket() {
  # An Engine-API /_ping over the unix socket; curl is the only client needed.
  curl -fsS --max-time 2 --unix-socket "$1" http://d/_ping >/dev/null 2>&1
}

wait_socket() {
  name=$1 sock=$2 i=0
  while [ "$i" -lt "$timeout" ]; do
    if ping_socket "$sock"; then
      echo "start-engines: $name answers on $sock"
      return 0
    fi
    sleep 1
    i=$((i + 1))
  done
  echo "start-engines: $name did not answer on $sock within ${timeout}s (see its log)" >&2
  return 1
}

# --- docker -------------------------------------------------------------------------------------
if command -v dockerd >/dev/null 2>&1; then
  docker_sock=/var/run/docker.sock
  case "${DOCKER_HOST:-}" in unix://*) docker_sock=${DOCKER_HOST#unix://} ;; esac
  if ping_socket "$docker_sock"; then
    echo "start-engines: docker already running on $docker_sock"
  else
    if [ "$(id -u)" -ne 0 ]; then
      echo "start-engines: docker is not running and starting dockerd needs root" >&2
      status=1
    else
      echo "start-engines: starting dockerd (log: $log_dir/dockerd.log)"
      (cd / && nohup dockerd >"$log_dir/dockerd.log" 2>&1 </dev/null &)
      wait_socket docker "$docker_sock" || status=1
    fi
  fi
else
  echo "start-engines: dockerd is not installed (apt-get install docker.io)" >&2
  status=1
fi

# --- podman -------------------------------------------------------------------------------------
if command -v podman >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    podman_sock=/run/podman/podman.sock
  else
    podman_sock=${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/podman/podman.sock
  fi
  case "${CONTAINER_HOST:-}" in unix://*) podman_sock=${CONTAINER_HOST#unix://} ;; esac
  if ping_socket "$podman_sock"; then
    echo "start-engines: podman already running on $podman_sock"
  else
    mkdir -p "$(dirname "$podman_sock")"
    podman_log=$log_dir/podman-service.log
    [ -w "$log_dir" ] || podman_log=${TMPDIR:-/tmp}/podman-service.log
    echo "start-engines: starting podman system service (log: $podman_log)"
    # As root, the default rlimits make runc fail ("error setting rlimit type 7"): raise them for
    # the service; the slurm-factory podman plugin also passes explicit ulimits per container.
    ulimit -n 1048576 2>/dev/null || ulimit -n 65536 2>/dev/null || true
    ulimit -u unlimited 2>/dev/null || true
    # From "/": conmon inherits the service's working directory and fails every container start
    # ("Failed to get working directory") if that directory is later removed.
    (cd / && nohup podman system service --time=0 "unix://$podman_sock" >"$podman_log" 2>&1 </dev/null &)
    wait_socket podman "$podman_sock" || status=1
  fi
else
  echo "start-engines: podman is not installed (apt-get install podman)" >&2
  status=1
fi

exit "$status"
