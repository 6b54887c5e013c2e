#!/usr/bin/env bash
# Starts s3rver (npm s3rver@3.7.1) on 127.0.0.1 (or SF_S3RVER_ADDRESS) with a fresh data directory, installing it into a
# local npm prefix first when missing. Prints "PORT PID DATADIR" on stdout once it accepts
# connections. Stop it with: kill PID.
#
# usage: start-s3rver.sh [PORT]   (PORT 0 or absent: a free port is picked)
# env:   SF_S3RVER_PREFIX  npm prefix to install into (default ~/.cache/slurm-factory/s3rver)
#        SF_S3RVER_ADDRESS the address to listen on (default 127.0.0.1; tests/e2e/deb.sh gives the
#                          container bridge's, so that apt in a container reaches it)
set -euo pipefail

version=3.7.1
prefix=${SF_S3RVER_PREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/slurm-factory/s3rver}
bin="$prefix/node_modules/.bin/s3rver"

if [[ ! -x "$bin" ]]; then
  command -v npm >/dev/null || { echo "start-s3rver.sh: npm not found; install nodejs and npm" >&2; exit 1; }
  mkdir -p "$prefix"
  (cd "$prefix" && npm install --no-audit --no-fund --loglevel=error "s3rver@$version" >&2)
fi

address=${SF_S3RVER_ADDRESS:-127.0.0.1}
port=${1:-0}
if [[ "$port" == 0 ]]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("'"$address"'",0)); print(s.getsockname()[1])' 2>/dev/null ||
         echo $((20000 + RANDOM % 20000)))
fi
data=$(mktemp -d "${TMPDIR:-/tmp}/sf-s3rver.XXXXXX")
log="$data.log"
# s3rver signs ListObjectsV2 continuation tokens with DES, which Node >= 17 (OpenSSL 3) only
# offers through the legacy provider.
NODE_OPTIONS="${NODE_OPTIONS:-} --openssl-legacy-provider" \
  "$bin" --address "$address" --port "$port" --directory "$data" --silent >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/$address/$port") 2>/dev/null; then
    echo "$port $pid $data"
    exit 0
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "start-s3rver.sh: s3rver exited; log follows" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.1
done
echo "start-s3rver.sh: s3rver did not listen on $address:$port within 10 s (log: $log)" >&2
kill "$pid" 2>/dev/null || true
exit 1
