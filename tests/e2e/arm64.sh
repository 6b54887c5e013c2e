#!/usr/bin/env bash
# arm64 on an amd64 host (issue 17): a Debian toolchain cross-builds an aarch64 artifact, proven
# under emulation.
#
#   tests/e2e/arm64.sh [TOOLCHAIN]      (default trixie; bookworm works the same)
#
# 1. `build-slurm --arch arm64` cold (a fresh cache; the sources are shared) and warm (the same
#    request again: nothing built), with their times;
# 2. `verify --deep` accepts the artifact, and every ELF file of its view is an AArch64 one
#    (readelf, independently of our own reader);
# 3. the amd64 artifact of the same request: both verify, and the two share no cache entry;
# 4. a pipeline with `arches: [amd64, arm64]` makes both (from the cache);
# 5. under Debian's qemu-user-static with no binfmt: `sinfo --version`, `slurmctld -V` and
#    `srun --version` from the view unpacked under a random prefix, with `qemu-aarch64-static -L`
#    on an arm64 rootfs of the release (mmdebstrap --arch=arm64, kept in the cache);
# 6. with binfmt_misc (qemu-user-static registers aarch64 on Debian): that rootfs as an arm64
#    container image, and tests/e2e/plain-start.sh on it: a one-node cluster of the arm64 daemons
#    started plainly (munged, slurmctld, slurmd; sinfo idle, srun hostname, sbatch, pmi2, pmix,
#    module load).
# One PASS/FAIL line per check, then "arm64 e2e: PASS (N checks ...)" or FAIL; the figures for
# the README on "FIGURE" lines.
#
# Environment: SF_BIN, SF_E2E_CACHE (kept between runs: the amd64 build is then warm), SF_E2E_VERSION
# (default 24.11.5), SF_E2E_JOBS (default 2), SF_E2E_BACKEND (default docker),
# SF_E2E_SKIP_CLUSTER=1 (stop after step 5).
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
TC=${1:-trixie}
e2e_setup arm64
cleanup() {
  stop_gpg_agent
  rm -rf "$work/unpacked" "$work/rootfs"
  [ -n "${SF_E2E_CACHE:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
need_binary "arm64 e2e"

host=$(dpkg --print-architecture)
if [ "$host" != amd64 ]; then
  echo "arm64 e2e: FAIL (this proof cross-builds arm64 on an amd64 host; this host is $host)"
  exit 1
fi
for tool in qemu-aarch64-static mmdebstrap readelf jq zstd; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "arm64 e2e: FAIL ($tool is missing: bash .ci/setup installs it)"
    exit 1
  fi
done

signing_key "$CACHE/e2e-gnupg" "$E2E_KEY"
# The sources of every run are shared (kept in ~/.slurm-factory): only builds are cold here.
mkdir -p "$HOME/.slurm-factory/sourcecache"
[ -e "$CACHE/sourcecache" ] || ln -s "$HOME/.slurm-factory/sourcecache" "$CACHE/sourcecache"
sf_config "$CACHE" > "$work/config.yaml"
cat >> "$work/config.yaml" <<EOF
pipelines:
  both:
    matrix: {slurm_versions: ["$VERSION"], toolchains: [$TC], arches: [amd64, arm64]}
EOF

build() { # build ARCH NAME -> exit status; events in $work/NAME.json, artifacts in $work/out-NAME
  "$SF_BIN" --json --config "$work/config.yaml" build-slurm --slurm-version "$VERSION" \
    --toolchain "$TC" --arch "$1" --backend "$BACKEND" --jobs "$JOBS" --output "$work/out-$2" \
    > "$work/$2.json" 2> "$work/$2.err"
}
built_count() { jq -r 'select(.event=="build" and .kind=="done") | .data.built' "$work/$1.json"; }
artifact_of() { jq -r 'select(.event=="result") | .artifact // empty' "$work/$1.json"; }

# 1. cold and warm
echo "== $TC arm64: Slurm $VERSION cross-built on $host ($BACKEND, cache $CACHE)"
start=$(date +%s)
build arm64 arm64-cold
rc=$?
cold=$(($(date +%s) - start))
art=$(artifact_of arm64-cold)
[ "$rc" -eq 0 ] && [ -f "$art" ]
n_cold=$(built_count arm64-cold)
kind=cold
[ "$n_cold" != 0 ] || kind="first (the kept cache had every entry: not cold)"
check "$TC arm64: $kind build-slurm --arch arm64 (built $n_cold, ${cold} s)" $? \
  "exit $rc; $(tail -n 20 "$work/arm64-cold.err")"
if [ "$failed" -ne 0 ]; then summary "arm64 e2e"; exit 1; fi
case "$(basename "$art")" in *-"$TC"-arm64-software.tar.zst) r=0 ;; *) r=1 ;; esac
check "$TC arm64: the artifact is named for arm64 ($(basename "$art"))" "$r"
jq -e '.toolchain.arch == "arm64"' "${art%.tar.zst}.provenance.json" >/dev/null
check "$TC arm64: the provenance says arm64" $?

rm -rf "$work/out-arm64-cold"
start=$(date +%s)
build arm64 arm64-warm
rc=$?
warm=$(($(date +%s) - start))
art=$(artifact_of arm64-warm)
[ "$rc" -eq 0 ] && [ "$(built_count arm64-warm)" = 0 ] && [ -f "$art" ]
check "$TC arm64: warm build-slurm --arch arm64 builds nothing (${warm} s)" $? \
  "exit $rc, built $(built_count arm64-warm)"
if [ "$n_cold" != 0 ]; then
  echo "FIGURE arm64 cross-build of Slurm $VERSION for $TC: cold ${cold} s ($n_cold built), warm ${warm} s"
fi

# 2. verify --deep, and the machine of every ELF file by readelf
out=$("$SF_BIN" --config "$work/config.yaml" verify --deep "$art" 2>&1)
check "$TC arm64: verify --deep accepts the artifact" $? "$(echo "$out" | tail -n 8)"
mkdir -p "$work/unpacked/arm64"
tar --zstd -xf "$art" -C "$work/unpacked/arm64"
elves=0
other=""
while IFS= read -r -d '' f; do
  head -c 4 "$f" 2>/dev/null | grep -q 'ELF' || continue
  elves=$((elves + 1))
  m=$(readelf -h "$f" 2>/dev/null | awk -F: '/Machine:/ { gsub(/^ +/, "", $2); print $2 }')
  [ "$m" = AArch64 ] || other="$other ${f#"$work/unpacked/arm64/"} ($m)"
done < <(find "$work/unpacked/arm64/view" -type f -print0)
[ "$elves" -gt 100 ] && [ -z "$other" ]
check "$TC arm64: all $elves ELF files of the view are AArch64" $? "not:$(echo "$other" | head -c 600)"

# 3. the amd64 artifact of the same request: both verify, no shared cache entry
start=$(date +%s)
build amd64 amd64
rc=$?
amd_secs=$(($(date +%s) - start))
amd_art=$(artifact_of amd64)
[ "$rc" -eq 0 ] && [ -f "$amd_art" ]
ok=$?  # before the message's command substitutions change $?
check "$TC amd64: build-slurm --arch amd64 (built $(built_count amd64), ${amd_secs} s)" "$ok" \
  "exit $rc; $(tail -n 20 "$work/amd64.err")"
out=$("$SF_BIN" --config "$work/config.yaml" verify --deep "$amd_art" 2>&1)
check "$TC amd64: verify --deep accepts the artifact" $? "$(echo "$out" | tail -n 8)"
entries() { # entries NAME: the plan's source entries of a run, "name-version-hash12", sorted
  jq -r 'select(.event=="build" and (.kind=="built" or .kind=="cached")) |
         "\(.package.name)-\(.package.version)-\(.package.hash12)"' "$work/$1.json" | sort -u
}
entries arm64-cold > "$work/keys-arm64"
entries amd64 > "$work/keys-amd64"
shared=$(comm -12 "$work/keys-arm64" "$work/keys-amd64")
in_arm64=0
while read -r e; do
  [ -n "$(find "$CACHE/cache" -path "*/arm64/$e.tar.zst" | head -n 1)" ] && in_arm64=$((in_arm64 + 1))
done < "$work/keys-arm64"
[ -s "$work/keys-arm64" ] && [ -s "$work/keys-amd64" ] && [ -z "$shared" ] &&
  [ "$in_arm64" -eq "$(wc -l < "$work/keys-arm64")" ]
check "$TC: the arm64 ($(wc -l < "$work/keys-arm64"), all under <toolchain>/arm64/) and amd64 ($(wc -l < "$work/keys-amd64")) entries share none" \
  $? "shared: $shared; $in_arm64 under arm64/"

# 4. a pipeline with both arches
out=$("$SF_BIN" --json --config "$work/config.yaml" run both --output "$work/pipeline" 2>&1)
rc=$?
n=$(find "$work/pipeline" -name "slurm-$VERSION-$TC-*-software.tar.zst" | wc -l)
a=$(find "$work/pipeline" -name "slurm-$VERSION-$TC-arm64-software.tar.zst" | wc -l)
[ "$rc" -eq 0 ] && [ "$n" -eq 2 ] && [ "$a" -eq 1 ]
check "$TC: a pipeline with arches [amd64, arm64] makes both artifacts" $? \
  "exit $rc, $n artifact(s); $(echo "$out" | tail -n 5)"

# 5. emulation without binfmt: qemu-aarch64-static -L on an arm64 rootfs of the release
suite=$TC
rootfs_tar="$CACHE/arm64-rootfs-$suite-procps.tar"
if [ ! -f "$rootfs_tar" ] || [ ! -s "$rootfs_tar" ]; then
  rm -rf "$rootfs_tar"
  # Foreign-architecture maintainer scripts run under qemu through binfmt_misc (arch-test checks).
  # procps: under qemu-user /proc/PID/exe names the emulator, not the shell, so Lmod's init asks
  # ps for the shell's name (an amd64 minbase machine does not need it).
  # (mmdebstrap picks the format from the name: the partial file ends in .tar too)
  rm -rf "$rootfs_tar.partial.tar"
  mmdebstrap --arch=arm64 --variant=minbase --include=procps "$suite" "$rootfs_tar.partial.tar" \
    http://deb.debian.org/debian \
    > "$work/mmdebstrap.log" 2>&1 && mv "$rootfs_tar.partial.tar" "$rootfs_tar"
fi
[ -f "$rootfs_tar" ] && [ -s "$rootfs_tar" ]
check "$TC: an arm64 minbase rootfs of $suite ($rootfs_tar)" $? "$(tail -n 5 "$work/mmdebstrap.log" 2>/dev/null)"
mkdir -p "$work/rootfs"
tar -xf "$rootfs_tar" -C "$work/rootfs" 2>/dev/null
rand=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
prefix="$work/unpacked/site $rand/slurm"
mkdir -p "$prefix"
tar --zstd -xf "$art" -C "$prefix"
# The clients read a slurm.conf before they answer --version (else a DNS SRV lookup fails).
printf 'ClusterName=arm\nSlurmctldHost=localhost\nNodeName=localhost CPUs=1\nPartitionName=p Nodes=ALL\n' \
  > "$work/slurm.conf"
for cmd in "bin/sinfo --version" "sbin/slurmctld -V" "bin/srun --version"; do
  # shellcheck disable=SC2086 # a program and its one option
  set -- $cmd
  out=$(env -i PATH=/usr/bin:/bin SLURM_CONF="$work/slurm.conf" \
    qemu-aarch64-static -L "$work/rootfs" "$prefix/view/$1" "$2" 2>&1)
  [ "$out" = "slurm $VERSION" ]
  check "$TC arm64 under qemu -L: $1 $2 prints 'slurm $VERSION'" $? "$out"
done

# 6. a one-node cluster of the arm64 daemons, in an arm64 container through binfmt_misc
if [ -n "${SF_E2E_SKIP_CLUSTER:-}" ]; then
  summary "arm64 e2e" " on $TC; the cluster under emulation was skipped (SF_E2E_SKIP_CLUSTER)"
  exit $?
fi
grep -qx enabled /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null
check "binfmt_misc runs aarch64 programs (qemu-aarch64 enabled)" $? \
  "register it: apt-get install qemu-user-static binfmt-support"
interp=$(sed -n 's/^interpreter //p' /proc/sys/fs/binfmt_misc/qemu-aarch64 2>/dev/null)
image="slurm-factory/e2e-arm64-$suite:$(sha256sum "$rootfs_tar" | cut -c1-12)"
if ! docker image inspect "$image" >/dev/null 2>&1; then
  # The interpreter binfmt names (flag P, no F) must exist inside the container: a copy of the
  # static qemu at that path, added to the rootfs.
  mkdir -p "$work/interp$(dirname "$interp")"
  cp "$(command -v qemu-aarch64-static)" "$work/interp$interp"
  cp "$rootfs_tar" "$work/image.tar"
  tar -rf "$work/image.tar" -C "$work/interp" "${interp#/}"
  docker import "$work/image.tar" "$image" >/dev/null
  rm -f "$work/image.tar"
fi
docker image inspect "$image" >/dev/null 2>&1
check "$TC: the arm64 rootfs as container image $image" $?
out=$(docker run --rm "$image" uname -m 2>&1)
[ "$out" = aarch64 ]
check "$TC: an arm64 container runs (uname -m: $out)" $?
SF_E2E_BASE_IMAGE=$image SF_E2E_TIMEOUT=300 bash "$here/plain-start.sh" --artifact "$art" "$TC" \
  > "$work/plain-start.log" 2>&1
rc=$?
sed 's/^/   | /' "$work/plain-start.log"
check "$TC arm64 under emulation: $(tail -n 1 "$work/plain-start.log")" "$rc"

summary "arm64 e2e" " on $TC: $kind ${cold} s, warm ${warm} s"
