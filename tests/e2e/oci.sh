#!/usr/bin/env bash
# The container images, used the way a site runs Slurm in containers: `build-slurm --packager oci`
# (default signing, cache in SF_E2E_CACHE: warm after tests/e2e/cluster.sh), then:
#   the layout file is an output of provenance.json and a line of SHA256SUMS with its sha256;
#   `verify` accepts the artifact; its index.json names the five images (slurmctld, slurmd,
#   slurmdbd, slurmrestd, login) and every blob has the sha256 it is named by; each image's labels
#   carry the Slurm version, the toolchain, the GPU flavours and the artifact's sha256; making the
#   layout again gives the same bytes;
#   a registry (Debian's docker-registry, started here on 127.0.0.1) gets the images from
#   `--publish all` (packagers.oci.registry); the signed record of the push in the cache layer
#   verifies with the exported key and names each image's digest; the registry lists the tags;
#   docker and podman pull the images by digest (a tampered layout is refused before any push:
#   tests/integration/oci_registry_test.cpp);
#   a cluster of containers from the images on one docker network, the munge key and slurm.conf
#   mounted read-only: slurmctld and slurmd (docker), the node idle, `srun hostname` from a login
#   container prints the slurmd container's hostname, `sbatch` runs; podman runs the login image
#   (sinfo --version through the entrypoint with munge); the slurmdbd and slurmrestd images answer
#   -V through the entrypoint; an image started without the munge key says what to mount.
# One PASS/FAIL line per check, then "oci e2e: PASS (N checks)" or FAIL; exit 1 when a check failed.
#
#   tests/e2e/oci.sh [TOOLCHAIN]      (default trixie)
#
# Environment: SF_BIN, SF_E2E_CACHE, SF_E2E_VERSION (default 24.11.5), SF_E2E_JOBS,
# SF_E2E_BACKEND, SF_E2E_KEEP=1 (keep the containers).
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/e2e/os_packages.sh
. "$here/os_packages.sh"
TC=${1:-trixie}
T=90

e2e_setup oci
rand=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
net="sf-e2e-oci-$rand"
containers=()
regpid=""
s3pid=""
cleanup() {
  if [ -z "${SF_E2E_KEEP:-}" ]; then
    for c in "${containers[@]}"; do docker rm -f "$c" >/dev/null 2>&1; done
    docker network rm "$net" >/dev/null 2>&1
  else
    echo "kept containers: ${containers[*]}"
  fi
  [ -z "$regpid" ] || kill "$regpid" 2>/dev/null
  [ -z "$s3pid" ] || kill "$s3pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
need_binary "oci e2e"
for tool in jq docker podman docker-registry curl sha256sum gpgv; do
  command -v "$tool" >/dev/null || { echo "oci e2e: FAIL (needs $tool on the host)"; exit 1; }
done

# --- a registry on 127.0.0.1 ----------------------------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
registry="127.0.0.1:$port"
cat > "$work/registry.yml" <<CONF
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $work/registry}}
http: {addr: $registry}
CONF
docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 &
regpid=$!
for _ in $(seq 1 50); do curl -fsS "http://$registry/v2/" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "http://$registry/v2/" >/dev/null 2>&1
check "$TC: docker-registry answers on $registry" $? "$(tail -n 5 "$work/registry.log")"
[ "$failed" -eq 0 ] || { summary "oci e2e"; exit 1; }

export GNUPGHOME="$work/user-gnupg"
mkdir -p "$GNUPGHOME" && chmod 700 "$GNUPGHOME"
cat > "$work/config.yaml" <<CONF
cache_dir: $CACHE
packagers:
  oci: {registry: "$registry/sf-e2e"}
CONF
# build OUT [EXTRA...]: build-slurm --packager oci into OUT, events in OUT.json
build() {
  local out=$1
  shift
  "$SF_BIN" --json --config "$work/config.yaml" build-slurm --slurm-version "$VERSION" \
    --toolchain "$TC" --backend "$BACKEND" --jobs "$JOBS" --packager oci --output "$out" "$@" \
    > "$out.json" 2> "$out.err"
}
start=$(date +%s)
build "$work/out"
built_artifact $? "$work/out" oci "$start" "oci e2e"
layout=$(cd "$dir" && find . -maxdepth 1 -name '*-images.oci.tar' -printf '%f\n' | head -n 1)
listed=$(jq -r '.outputs[] | select(.packager=="oci") | "\(.sha256)  \(.file)"' "$prov")
actual=$(cd "$dir" && sha256sum -- "$layout" 2>/dev/null)
[ -n "$layout" ] && [ "$listed" = "$actual" ]
check "$TC: the layout file ($layout) is in provenance.json with its sha256" $? \
  "listed: $listed; actual: $actual"
(cd "$dir" && grep -F -- "$layout" SHA256SUMS | sha256sum -c --quiet -) >/dev/null 2>&1
check "$TC: SHA256SUMS covers the layout file" $? "$(cat "$dir/SHA256SUMS")"
out=$("$SF_BIN" --config "$work/config.yaml" verify "$artifact" 2>&1)
check "$TC: verify accepts the artifact" $? "$(echo "$out" | tail -n 3)"

# --- the layout ---------------------------------------------------------------------------------
mkdir -p "$work/layout"
tar -xf "$dir/$layout" -C "$work/layout"
names=$(jq -r '.manifests[].annotations["org.opencontainers.image.ref.name"]' "$work/layout/index.json" | sort | tr '\n' ' ')
tag=$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]' "$work/layout/index.json" | cut -d: -f2)
want=""
for r in login slurmctld slurmd slurmdbd slurmrestd; do want="${want}slurm-factory-$r:$tag "; done
[ "$names" = "$want" ] && [ "$tag" = "$VERSION-$TC-$(jq -r '.toolchain.arch' "$prov")" ]
check "$TC: index.json names the five images, tag $tag" $? "names: $names"
bad=""
for b in "$work"/layout/blobs/sha256/*; do
  [ "$(sha256sum < "$b" | cut -d' ' -f1)" = "$(basename "$b")" ] || bad="$bad $(basename "$b")"
done
[ -z "$bad" ]
ok=$?
blobs=$(find "$work/layout/blobs/sha256" -type f | wc -l)
check "$TC: every blob has the sha256 it is named by ($blobs blobs)" $ok "$bad"
art_sha=$(sha256sum < "$artifact" | cut -d' ' -f1)
labels_ok=0
for m in $(jq -r '.manifests[].digest' "$work/layout/index.json"); do
  cfg=$(jq -r '.config.digest' "$work/layout/blobs/sha256/${m#sha256:}")
  l=$(jq -c '.config.Labels' "$work/layout/blobs/sha256/${cfg#sha256:}")
  [ "$(echo "$l" | jq -r '.["org.slurm-factory.slurm-version"]')" = "$VERSION" ] &&
    [ "$(echo "$l" | jq -r '.["org.slurm-factory.toolchain"]')" = "$TC" ] &&
    [ "$(echo "$l" | jq -r '.["org.slurm-factory.gpu"]')" = "none" ] &&
    [ "$(echo "$l" | jq -r '.["org.slurm-factory.artifact.sha256"]')" = "$art_sha" ] || labels_ok=1
done
check "$TC: every image's labels carry version, toolchain, GPU and the artifact's sha256" $labels_ok "$l"

before=$(sha256sum < "$dir/$layout")
rm -f "$dir/$layout"
build "$work/out" && after=$(sha256sum < "$dir/$layout") && [ "$before" = "$after" ]
check "$TC: making the layout again gives the same bytes" $? "$(tail -n 5 "$work/out.err")"

# --- the registry -------------------------------------------------------------------------------
# The record of the push goes to the publish layer (a real s3rver), the images to the registry.
start_s3rver sf-oci || { summary "oci e2e"; exit 1; }
cp "$work/config.yaml" "$work/base.yaml"
layer_config "$work/base.yaml" sf-oci "$work/config.yaml"
"$SF_BIN" --config "$work/config.yaml" cache keys export --armor > "$work/key.asc" 2>"$work/key.err"
gpg --dearmor < "$work/key.asc" > "$work/key.gpg"
start=$(date +%s)
build "$work/out" --publish all
rc=$?
pushed=$(jq -r 'select(.event=="publish" and .kind=="repository-done") | .data.listed' "$work/out.json" | head -n 1)
[ "$rc" -eq 0 ] && [ "$pushed" = 5 ]
ok=$?
check "$TC: --publish all pushes the five images ($(($(date +%s) - start)) s)" "$ok" "$(tail -n 8 "$work/out.err")"
arch=$(jq -r '.toolchain.arch' "$prov")
record="$work/record.json"
curl -fsS "$s3/sf-oci/site/oci/$TC/$arch/$tag.json" -o "$record" &&
  curl -fsS "$s3/sf-oci/site/oci/$TC/$arch/$tag.json.asc" -o "$record.asc" &&
  gpgv --keyring "$work/key.gpg" "$record.asc" "$record" >/dev/null 2>&1
check "$TC: the signed record of the push (oci/$TC/$arch/$tag.json on s3) verifies with the exported key" $?
tags=$(curl -fsS "http://$registry/v2/sf-e2e/slurm-factory-slurmctld/tags/list" 2>&1)
echo "$tags" | jq -e --arg t "$tag" '.tags | index($t)' >/dev/null 2>&1
check "$TC: the registry lists $tag" $? "$tags"
digest() { jq -r --arg r "$1" '.images[] | select(.role==$r) | .digest' "$record"; }
ref() { echo "$registry/sf-e2e/slurm-factory-$1@$(digest "$1")"; }
layout_digest=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] | startswith("slurm-factory-slurmd:")) | .digest' "$work/layout/index.json")
[ "$(digest slurmd)" = "$layout_digest" ]
check "$TC: the record's digest is the layout's (slurmd $layout_digest)" $? "record: $(digest slurmd)"

for r in slurmctld slurmd login slurmdbd slurmrestd; do
  image=$(ref "$r")
  out=$(docker pull -q "$image" 2>&1)
  check "$TC: docker pull $image" $? "$out"
done
image=$(ref login)
out=$(podman pull -q --tls-verify=false "$image" 2>&1)
check "$TC: podman pull $image" $? "$out"
v=$(docker image inspect -f '{{index .Config.Labels "org.slurm-factory.slurm-version"}}' "$(ref slurmctld)" 2>&1)
[ "$v" = "$VERSION" ]
check "$TC: docker sees the labels (slurm-version $v)" $? "$v"

# --- a cluster of containers --------------------------------------------------------------------
docker network create "$net" >/dev/null
check "$TC: docker network $net" $?
ctl="ctl-$rand"
node="node-$rand"
mkdir -p "$work/etc" "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 0400 "$work/munge/munge.key"
cat > "$work/etc/slurm.conf" <<CONF
ClusterName=oci
SlurmctldHost=$ctl
SlurmUser=slurm
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
NodeName=$node CPUs=1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
mounts=(-v "$work/etc:/etc/slurm:ro" -v "$work/munge:/etc/munge:ro")
# daemon NAME ROLE: a container of the ROLE image, hostname NAME
daemon() {
  containers+=("$1")
  docker run -d --name "$1" --hostname "$1" --network "$net" "${mounts[@]}" \
    --label org.slurm-factory.kind=e2e "$(ref "$2")" >/dev/null 2>"$work/$1.err"
}
daemon "$ctl" slurmctld
check "$TC: slurmctld container" $? "$(cat "$work/$ctl.err")"
daemon "$node" slurmd
check "$TC: slurmd container" $? "$(cat "$work/$node.err")"
daemon "login-$rand" login
check "$TC: login container" $? "$(cat "$work/login-$rand.err")"
state=""
for _ in $(seq 1 "$T"); do
  state=$(docker exec "login-$rand" sinfo -h -N -o '%N %T' 2>&1)
  echo "$state" | grep -q "^$node idle" && break
  sleep 1
done
echo "$state" | grep -q "^$node idle"
check "$TC: sinfo in the login container shows $node idle" $? \
  "$state; $(docker logs --tail 5 "$ctl" 2>&1); $(docker logs --tail 5 "$node" 2>&1)"
out=$(timeout "$T" docker exec "login-$rand" srun -N1 hostname 2>&1)
[ "$out" = "$node" ]
check "$TC: srun hostname from the login container prints $node" $? "$out"
# shellcheck disable=SC2016 # expands in the container
out=$(timeout "$T" docker exec "login-$rand" sh -c 'cd /tmp &&
  id=$(sbatch --parsable --wrap hostname -o /dev/null) || exit 1
  for _ in $(seq 1 '"$T"'); do
    scontrol show job "$id" | grep -q "JobState=COMPLETED" && echo completed && break
    sleep 1
  done' 2>&1)
[ "$out" = completed ]
check "$TC: sbatch runs a job to completion" $? "$out"

nproc=$(ulimit -Hu)
[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
out=$(podman run --rm --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=$nproc:$nproc" \
  "${mounts[@]}" "$(ref login)" login sinfo --version 2>&1)
[ "$out" = "slurm $VERSION" ]
check "$TC: podman runs the login image (sinfo --version through the entrypoint)" $? "$out"

# The two images the cluster above does not start: their daemon answers through the entrypoint
# (slurmdbd with a slurmdbd.conf mounted; slurmrestd as its own user, made by the entrypoint).
mkdir -p "$work/dbd"
cp "$work/etc/slurm.conf" "$work/dbd/"
printf 'DbdHost=localhost\nSlurmUser=slurm\nStorageType=accounting_storage/mysql\n' > "$work/dbd/slurmdbd.conf"
chmod 0600 "$work/dbd/slurmdbd.conf"
out=$(docker run --rm -v "$work/dbd:/etc/slurm:ro" -v "$work/munge:/etc/munge:ro" \
  "$(ref slurmdbd)" slurmdbd -V 2>&1)
[ "$out" = "slurm $VERSION" ]
check "$TC: the slurmdbd image answers (slurmdbd -V through the entrypoint)" $? "$out"
out=$(docker run --rm "${mounts[@]}" "$(ref slurmrestd)" slurmrestd -V 2>&1)
[ "$out" = "slurm $VERSION" ]
check "$TC: the slurmrestd image answers (slurmrestd -V as user slurmrestd)" $? "$out"
rc=0
out=$(docker run --rm -v "$work/etc:/etc/slurm:ro" "$(ref slurmd)" 2>&1) || rc=$?
[ "$rc" -ne 0 ] && echo "$out" | grep -q "no munge key at /etc/munge/munge.key"
check "$TC: without the munge key an image stops and says what to mount" $? "$out"

summary "oci e2e"
