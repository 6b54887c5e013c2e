#!/bin/bash
# Binary-cache benchmark (issue 5, Done-when), all in one run on this machine:
#   1. a 500 MB entry (incompressible payload) through the s3 layer on a real s3rver: the s3
#      provider plugin's put and get of its tarball next to curl PUT/GET (SigV4) of the same bytes
#      (goal: throughput ratio >= 0.8 each way); plus `slurm-factory cache push/pull --all` of the
#      whole entry (tarball, manifest; verified before it moves) for information;
#   2. pack / unpack of a large tree (/usr/include + /usr/lib/gcc: ~560 MB, ~20k files) as a cache
#      entry (tar + zstd with threads + a sha256 per file, then verify + safe extract + a sha256 per
#      file) next to `tar -cf - | zstd -T0` / `zstd -d | tar -x` (goal: ratio >= 0.9 each way).
# Each timing is the best of RUNS (default 2) runs. Prints figures, ratios and one PASS/FAIL line
# per goal; exits non-zero when a goal fails.
# Usage: tests/bench/cache.sh [BUILD_DIR]   (builds nothing: ninja -C BUILD_DIR slurm-factory
#        sf-cache-s3 sf-cache-local sf-cache-bench first)
# env:   SF_BENCH_SIZE_MB (500), SF_BENCH_TREE ("/usr/include /usr/lib/gcc"), RUNS (2),
#        SF_BENCH_PARTS ("s3 pack": which parts to run; "pack" alone needs only sf-cache-bench)
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=$(cd "${1:-$src/build}" && pwd)
sf=$build_dir/bin/slurm-factory
bench=$build_dir/tests/sf-cache-bench
plugins=$build_dir/lib/slurm-factory/plugins
size_mb=${SF_BENCH_SIZE_MB:-500}
tree_dirs=${SF_BENCH_TREE:-/usr/include /usr/lib/gcc}
runs=${RUNS:-2}
parts=" ${SF_BENCH_PARTS:-s3 pack} "
need=("$bench")
if [[ "$parts" == *" s3 "* ]]; then need+=("$sf" "$plugins/libsf-cache-s3.so" "$plugins/libsf-cache-local.so"); fi
for f in "${need[@]}"; do
  [[ -e "$f" ]] || { echo "cache.sh: $f missing; build it first (see the usage line)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/sf-bench-cache.XXXXXX")
s3pid=""
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  if [[ -n "$s3pid" ]]; then kill "$s3pid" 2>/dev/null || true; fi
  if [[ -n "${s3data:-}" ]]; then rm -rf "$s3data" "$s3data.log"; fi
  gpgconf --homedir "$work/gnupg" --kill all >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# A throwaway signing key: pack signs each entry and unpack verifies it, as a build does.
export SF_BENCH_GNUPG="$work/gnupg"
mkdir -p "$SF_BENCH_GNUPG" && chmod 700 "$SF_BENCH_GNUPG"
gpg --homedir "$SF_BENCH_GNUPG" --batch --quiet --passphrase '' \
  --quick-gen-key 'slurm-factory cache bench <bench@slurm-factory.invalid>' ed25519 sign never 2>/dev/null
SF_BENCH_KEY=$(gpg --homedir "$SF_BENCH_GNUPG" --batch --with-colons --list-secret-keys |
  awk -F: '/^fpr:/ {print $10; exit}')
export SF_BENCH_KEY
[[ -n "$SF_BENCH_KEY" ]] || { echo "cache.sh: could not make a signing key" >&2; exit 1; }

best() { sort -g | head -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }            # a / b
mbps() { awk -v bytes="$1" -v s="$2" 'BEGIN { printf "%.1f", bytes / 1048576 / s }'; }
verdict() {  # verdict NAME RATIO GOAL
  if awk -v r="$2" -v g="$3" 'BEGIN { exit !(r >= g) }'; then
    echo "PASS  $1: ratio $2 >= $3"
  else
    echo "FAIL  $1: ratio $2 < $3"
    failed=1
  fi
}
failed=0

# ---- 1. s3 ---------------------------------------------------------------------------------------
if [[ "$parts" == *" s3 "* ]]; then
read -r port s3pid s3data < <("$src/tests/support/start-s3rver.sh")
endpoint=http://127.0.0.1:$port
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
unset AWS_SESSION_TOKEN
sigv4=(--aws-sigv4 "aws:amz:us-east-1:s3" --user S3RVER:S3RVER)
empty_sha=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  # sha256 of ""
curl -fsS "${sigv4[@]}" -H "x-amz-content-sha256: $empty_sha" -X PUT "$endpoint/bench" -o /dev/null

echo "== s3 layer: ${size_mb} MB entry on s3rver $endpoint"
mkdir -p "$work/payload/lib"
head -c "$((size_mb * 1048576))" /dev/urandom >"$work/payload/lib/blob.bin"
"$bench" pack "$work/payload" "$work/entry" >/dev/null
tarball=$(find "$work/entry" -name '*.tar.zst')
bytes=$(stat -c %s "$tarball")
echo "entry tarball: $bytes bytes"

put_sf=() put_curl=() put_curl_raw=() get_sf=() get_curl=()
for i in $(seq 1 "$runs"); do
  put_sf+=("$("$bench" s3-put "$endpoint" bench/sf "obj$i.tar.zst" "$tarball" | cut -d' ' -f1)")
  # A SigV4 upload carries the payload's sha256 (x-amz-content-sha256; s3rver refuses a PUT
  # without it and curl signs uploads only that way), so moving the object with curl is
  # sha256sum + PUT; the provider hashes inside its timing too. The bare PUT is shown as well.
  t0=$(date +%s.%N)
  payload_sha=$(sha256sum "$tarball" | cut -d' ' -f1)
  raw=$(curl -fsS "${sigv4[@]}" -H "x-amz-content-sha256: $payload_sha" -T "$tarball" \
    -o /dev/null -w '%{time_total}' "$endpoint/bench/curl/obj$i.tar.zst")
  put_curl+=("$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')")
  put_curl_raw+=("$raw")
  rm -f "$work/get-sf" "$work/get-curl"
  get_sf+=("$("$bench" s3-get "$endpoint" bench/sf "obj$i.tar.zst" "$work/get-sf" | cut -d' ' -f1)")
  get_curl+=("$(curl -fsS "${sigv4[@]}" -H "x-amz-content-sha256: $empty_sha" -o "$work/get-curl" -w '%{time_total}' \
    "$endpoint/bench/curl/obj$i.tar.zst")")
  cmp -s "$work/get-sf" "$tarball" || { echo "cache.sh: s3 get returned other bytes" >&2; exit 1; }
  cmp -s "$work/get-curl" "$tarball" || { echo "cache.sh: curl get returned other bytes" >&2; exit 1; }
done
t_put_sf=$(printf '%s\n' "${put_sf[@]}" | best)
t_put_curl=$(printf '%s\n' "${put_curl[@]}" | best)
t_put_curl_raw=$(printf '%s\n' "${put_curl_raw[@]}" | best)
t_get_sf=$(printf '%s\n' "${get_sf[@]}" | best)
t_get_curl=$(printf '%s\n' "${get_curl[@]}" | best)
printf '%-34s %8.2f s  %8s MB/s\n' "s3 provider put" "$t_put_sf" "$(mbps "$bytes" "$t_put_sf")"
printf '%-34s %8.2f s  %8s MB/s\n' "sha256sum + curl PUT (SigV4)" "$t_put_curl" "$(mbps "$bytes" "$t_put_curl")"
printf '%-34s %8.2f s  %8s MB/s   (hash given, not timed)\n' "curl PUT alone" "$t_put_curl_raw" "$(mbps "$bytes" "$t_put_curl_raw")"
# For information: the same put as one PUT (no multipart: s3rver assembles parts by copying).
t_put_single=$("$bench" s3-put "$endpoint" bench/sf single.tar.zst "$tarball" \
  '{"multipart_threshold": 1073741824}' | cut -d' ' -f1)
printf '%-34s %8.2f s  %8s MB/s   (multipart_threshold 1 GiB)\n' "s3 provider put, single PUT" "$t_put_single" "$(mbps "$bytes" "$t_put_single")"
printf '%-34s %8.2f s  %8s MB/s\n' "s3 provider get" "$t_get_sf" "$(mbps "$bytes" "$t_get_sf")"
printf '%-34s %8.2f s  %8s MB/s\n' "curl GET (SigV4)" "$t_get_curl" "$(mbps "$bytes" "$t_get_curl")"

# The whole entry through the CLI (verified before it moves), for information.
cat >"$work/config.yaml" <<YAML
plugins:
  search_paths: [$plugins]
  load: [cache-local, cache-s3]
cache:
  layers:
    - {name: local, type: local, url: 'file://$work/entry'}
    - {name: bench-s3, type: s3, url: 's3://bench/cli', settings: {endpoint: '$endpoint', region: us-east-1}}
signing:
  allow_unsigned: true
YAML
export XDG_CONFIG_HOME=$work/xdg SLURM_FACTORY_CACHE_DIR=$work/home
t0=$(date +%s.%N)
"$sf" -q --config "$work/config.yaml" cache push --all
t_push=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
rm -rf "$work/entry"
t0=$(date +%s.%N)
"$sf" -q --config "$work/config.yaml" cache pull --all
t_pull=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
[[ -n "$(find "$work/entry" -name '*.tar.zst')" ]] || { echo "cache.sh: pull brought nothing" >&2; exit 1; }
printf '%-34s %8.2f s  %8s MB/s   (read, verify, upload)\n' "cache push --all (CLI)" "$t_push" "$(mbps "$bytes" "$t_push")"
printf '%-34s %8.2f s  %8s MB/s   (download, verify, store)\n' "cache pull --all (CLI)" "$t_pull" "$(mbps "$bytes" "$t_pull")"
rm -rf "$work/payload" "$work/entry" "$work/get-sf" "$work/get-curl"
kill "$s3pid" 2>/dev/null || true
s3pid=""
rm -rf "$s3data" "$s3data.log"
fi

# ---- 2. pack / unpack ------------------------------------------------------------------------------
if [[ "$parts" == *" pack "* ]]; then
mkdir -p "$work/tree"
for d in $tree_dirs; do cp -a "$d" "$work/tree/"; done
# Absolute symlinks (/usr/include has some into /etc/alternatives) are refused by safe extraction;
# staged cache trees have only relative ones.
find "$work/tree" -type l -lname '/*' -delete
tree_bytes=$(du -sb "$work/tree" | cut -f1)
files=$(find "$work/tree" -type f | wc -l)
echo "== pack / unpack: $tree_dirs ($tree_bytes bytes, $files files)"
pack_sf=() pack_tar=() unpack_sf=() unpack_tar=() extract_sf=()
# Every run extracts into new folders and nothing is deleted until the end: ext4 makes the inode
# allocation of a big extraction right after a big `rm -rf` several times slower (the kernel's
# recently_deleted() scan, for a few minutes), which would charge one contender for the other's
# cleanup. Run the bench a few minutes after any large deletion on the same filesystem.
for i in $(seq 1 "$runs"); do
  rm -f "$work/t.tar.zst"
  # sync before each timing: the writeback of the step before must not be charged to the next one.
  sync
  pack_sf+=("$("$bench" pack "$work/tree" "$work/out-$i" | cut -d' ' -f1)")
  sync
  t0=$(date +%s.%N)
  tar -C "$work/tree" -cf - . | zstd -q -T0 -3 -o "$work/t.tar.zst"
  pack_tar+=("$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')")
  sync
  unpack_sf+=("$("$bench" unpack "$work/out-$i" "$work/x-sf-$i" | cut -d' ' -f1)")
  sync
  extract_sf+=("$("$bench" extract "$(find "$work/out-$i" -name '*.tar.zst')" "$work/x-bare-$i" | cut -d' ' -f1)")
  mkdir -p "$work/x-tar-$i"
  sync
  t0=$(date +%s.%N)
  zstd -q -d -c "$work/t.tar.zst" | tar -C "$work/x-tar-$i" -xf -
  unpack_tar+=("$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')")
done
entry_bytes=$(stat -c %s "$(find "$work/out-1" -name '*.tar.zst')")
tar_bytes=$(stat -c %s "$work/t.tar.zst")
t_pack_sf=$(printf '%s\n' "${pack_sf[@]}" | best)
t_pack_tar=$(printf '%s\n' "${pack_tar[@]}" | best)
t_unpack_sf=$(printf '%s\n' "${unpack_sf[@]}" | best)
t_unpack_tar=$(printf '%s\n' "${unpack_tar[@]}" | best)
t_extract_sf=$(printf '%s\n' "${extract_sf[@]}" | best)
printf '%-34s %8.2f s  %8s MB/s  -> %s bytes\n' "pack entry (tar+zstd+sha256)" "$t_pack_sf" "$(mbps "$tree_bytes" "$t_pack_sf")" "$entry_bytes"
printf '%-34s %8.2f s  %8s MB/s  -> %s bytes\n' "tar -cf - | zstd -T0" "$t_pack_tar" "$(mbps "$tree_bytes" "$t_pack_tar")" "$tar_bytes"
printf '%-34s %8.2f s  %8s MB/s\n' "unpack entry (verify+extract)" "$t_unpack_sf" "$(mbps "$tree_bytes" "$t_unpack_sf")"
printf '%-34s %8.2f s  %8s MB/s   (archive reader alone, safe extraction)\n' "extract_archive" "$t_extract_sf" "$(mbps "$tree_bytes" "$t_extract_sf")"
printf '%-34s %8.2f s  %8s MB/s\n' "zstd -d | tar -x" "$t_unpack_tar" "$(mbps "$tree_bytes" "$t_unpack_tar")"
fi

echo "== goals (throughput ratio = other tool's time / ours)"
if [[ "$parts" == *" s3 "* ]]; then
  verdict "s3 put vs sha256sum + curl PUT" "$(ratio "$t_put_curl" "$t_put_sf")" 0.8
  echo "      (vs curl PUT alone, hash not timed: ratio $(ratio "$t_put_curl_raw" "$t_put_sf"))"
  verdict "s3 get vs curl GET" "$(ratio "$t_get_curl" "$t_get_sf")" 0.8
fi
if [[ "$parts" == *" pack "* ]]; then
  verdict "pack vs tar | zstd -T0" "$(ratio "$t_pack_tar" "$t_pack_sf")" 0.9
  verdict "unpack vs zstd -d | tar -x" "$(ratio "$t_unpack_tar" "$t_unpack_sf")" 0.9
  echo "      (extract_archive alone vs zstd -d | tar -x: ratio $(ratio "$t_unpack_tar" "$t_extract_sf"))"
fi
exit "$failed"
