#!/usr/bin/env bash
# The .rpm packages, checked with RPM's own tools and installed on a clean machine:
# `build-slurm --packager rpm` (default signing, cache in SF_E2E_CACHE: warm after
# tests/e2e/cluster.sh), then on the host:
#   every package the packager wrote is listed in provenance.json and SHA256SUMS with its sha256;
#   rpm -qpi / -qpl / --requires (name, version, release, arch, signature, the daemon's files and
#   unit, the sonames the view needs from the OS, munge); rpm -K against the exported key in a
#   private rpm database says "digests signatures OK" for each, and against another key it does
#   not; rpmlint with tests/support/slurm-factory.rpmlintrc reports no error and no warning;
# and in a fresh container of the clean base image slurm-factory/base-<release> (the Rocky image
# cannot be had here, so Debian's rpm installs them): `rpm -i --nodeps` of common, client,
# slurmctld and slurmd (scriptlets run: the slurm user, a one-node /etc/slurm), munge from the OS,
# slurmctld and slurmd start, sinfo on PATH in a login shell shows the node idle, `srun hostname`,
# `sbatch`, `rpm -V --nodeps` finds every file as packaged, `rpm -e` leaves no file of ours.
# Between the two: `--publish all` to a real s3rver makes the signed repository; dnf (Debian's)
# lists every package with repo_gpgcheck against the exported key; a second package set merges;
# a repomd.xml changed on the server is refused by dnf.
# One PASS/FAIL line per check, then "rpm e2e: PASS (N checks)" or FAIL; exit 1 when a check failed.
#
#   tests/e2e/rpm.sh [TOOLCHAIN]      (default trixie)
#
# Environment: SF_BIN, SF_E2E_CACHE, SF_E2E_VERSION (default 24.11.5), SF_E2E_JOBS,
# SF_E2E_BACKEND, SF_E2E_ENGINE (engine of the install container, default docker), SF_E2E_KEEP=1.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
ENGINE=${SF_E2E_ENGINE:-docker}
TC=${1:-trixie}
T=60

e2e_setup rpm
container=""
cleanup() {
  if [ -n "$container" ]; then
    if [ -z "${SF_E2E_KEEP:-}" ]; then
      "$ENGINE" rm -f "$container" >/dev/null 2>&1
    else
      echo "kept container: $container"
    fi
  fi
  rm -rf "$work"
}
trap cleanup EXIT
need_binary "rpm e2e"
for tool in jq rpm rpmlint gpg sha256sum dnf curl; do
  command -v "$tool" >/dev/null || { echo "rpm e2e: FAIL (needs $tool on the host)"; exit 1; }
done

export GNUPGHOME="$work/user-gnupg"
mkdir -p "$GNUPGHOME" && chmod 700 "$GNUPGHOME"
printf 'cache_dir: %s\n' "$CACHE" > "$work/config.yaml"
start=$(date +%s)
"$SF_BIN" --json --config "$work/config.yaml" build-slurm --slurm-version "$VERSION" \
  --toolchain "$TC" --backend "$BACKEND" --jobs "$JOBS" --packager rpm --output "$work/out" \
  > "$work/out.json" 2> "$work/out.err"
rc=$?
artifact=$(jq -r 'select(.event=="result") | .artifact // empty' "$work/out.json" 2>/dev/null)
[ "$rc" -eq 0 ] && [ -f "$artifact" ]
ok=$?  # before the message's command substitutions change $?
check "$TC: build-slurm --packager rpm ($(($(date +%s) - start)) s)" "$ok" "$(tail -n 20 "$work/out.err")"
[ "$failed" -eq 0 ] || { summary "rpm e2e"; exit 1; }
dir=$(dirname "$artifact")
prov="${artifact%.tar.*}.provenance.json"
prefix=slurm-factory-

mapfile -t rpms < <(cd "$dir" && ls -- *.rpm 2>/dev/null)
listed=$(jq -r '.outputs[] | select(.packager=="rpm") | "\(.sha256)  \(.file)"' "$prov" | sort)
actual=$(cd "$dir" && sha256sum -- "${rpms[@]}" | sort)
[ "${#rpms[@]}" -ge 5 ] && [ "$listed" = "$actual" ]
check "$TC: ${#rpms[@]} packages, each in provenance.json with its sha256" $? \
  "listed: $listed; actual: $actual"
(cd "$dir" && grep -F '.rpm' SHA256SUMS | sha256sum -c --quiet -) >/dev/null 2>&1 &&
  [ "$(grep -c '\.rpm$' "$dir/SHA256SUMS")" -eq "${#rpms[@]}" ]
check "$TC: SHA256SUMS covers every package" $? "$(cat "$dir/SHA256SUMS")"

rpm_of() { printf '%s\n' "${rpms[@]}" | grep "^${prefix}$1-[0-9]"; }
info=$(rpm -qpi "$dir/$(rpm_of slurmd)" 2>/dev/null)
echo "$info" | grep -q "^Name *: ${prefix}slurmd$" && echo "$info" | grep -q "^Version *: $VERSION$" &&
  echo "$info" | grep -q "^Release *: 1\.$TC$" && echo "$info" | grep -q '^Signature *: .*Key ID'
check "$TC: rpm -qpi ${prefix}slurmd (name, version, release, signature)" $? "$info"
files=$(rpm -qpl "$dir/$(rpm_of slurmd)" 2>/dev/null)
echo "$files" | grep -qx /opt/slurm/view/sbin/slurmd &&
  echo "$files" | grep -qx /opt/slurm/view/sbin/slurmstepd &&
  echo "$files" | grep -qx /usr/lib/systemd/system/slurmd.service
check "$TC: rpm -qpl ${prefix}slurmd: slurmd, slurmstepd and its unit" $? "$files"
req=$(rpm -qp --requires "$dir/$(rpm_of common)" 2>/dev/null)
echo "$req" | grep -qx 'libc.so.6()(64bit)' && echo "$req" | grep -qx munge
check "$TC: ${prefix}common requires the OS's sonames and munge" $? "$req"
req=$(rpm -qp --requires "$dir/$(rpm_of slurmctld)" 2>/dev/null)
echo "$req" | grep -q "^${prefix}common = $VERSION-1\.$TC$"
check "$TC: ${prefix}slurmctld requires ${prefix}common of the same build" $? "$req"

# rpm -K with the exported key, in a private rpm database; with another key it must not pass.
"$SF_BIN" --config "$work/config.yaml" cache keys export --armor > "$work/key.asc" 2>/dev/null
mkdir -p "$work/rpmdb" "$work/otherdb"
rpm --dbpath "$work/rpmdb" --import "$work/key.asc"
out=$(cd "$dir" && rpm --dbpath "$work/rpmdb" -K -- "${rpms[@]}" 2>&1)
[ "$(echo "$out" | grep -c ': digests signatures OK$')" -eq "${#rpms[@]}" ]
check "$TC: rpm -K with the exported key: digests signatures OK" $? "$out"
GNUPGHOME="$work/other-gnupg" && mkdir -p "$GNUPGHOME" && chmod 700 "$GNUPGHOME"
gpg --batch --quiet --passphrase '' --quick-gen-key 'other <other@slurm-factory.invalid>' ed25519 sign never 2>/dev/null
gpg --batch --armor --export > "$work/other.asc"
GNUPGHOME="$work/user-gnupg"
rpm --dbpath "$work/otherdb" --import "$work/other.asc"
out=$(rpm --dbpath "$work/otherdb" -K "$dir/$(rpm_of common)" 2>&1)
rc=$?
[ "$rc" -ne 0 ] && ! echo "$out" | grep -q 'digests signatures OK'
check "$TC: rpm -K with another key does not pass (exit $rc)" $? "$out"
lint=$(cd "$dir" && rpmlint -r "$here/../support/slurm-factory.rpmlintrc" -- "${rpms[@]}" 2>&1)
echo "$lint" | grep -q ' 0 errors, 0 warnings'
check "$TC: rpmlint: no error, no warning (tests/support/slurm-factory.rpmlintrc)" $? \
  "$(echo "$lint" | grep -E ': (E|W): ' | head -n 10)"

# --- the signed YUM/DNF repository on a real S3 server, read by dnf ------------------------------
s3pid=""
read -r s3port s3pid _ < <("$here/../support/start-s3rver.sh")
[ -n "$s3pid" ]
check "$TC: s3rver on 127.0.0.1:${s3port:-?}" $?
[ "$failed" -eq 0 ] || { summary "rpm e2e"; exit 1; }
trap 'kill "$s3pid" 2>/dev/null; cleanup' EXIT
s3="http://127.0.0.1:$s3port"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER
curl -fsS -X PUT "$s3/sf-rpm" >/dev/null
check "$TC: bucket sf-rpm" $?
{ cat "$work/config.yaml"; cat <<CONF; } > "$work/publish.yaml"
cache:
  layers:
    - {name: local, type: local, url: "file://$CACHE/cache", writable: true}
    - name: site-s3
      type: s3
      url: s3://sf-rpm/site
      writable: true
      settings: {endpoint: "$s3", region: us-east-1}
CONF
publish() { # publish CONFIG: the request again with --publish all (only publishing runs)
  "$SF_BIN" --json --config "$1" build-slurm --slurm-version "$VERSION" --toolchain "$TC" \
    --backend "$BACKEND" --jobs "$JOBS" --packager rpm --publish all --output "$work/out" \
    > "$1.json" 2> "$1.err"
}
publish "$work/publish.yaml"
rc=$?
listed=$(jq -r 'select(.event=="publish" and .kind=="repository-done") | .data.listed' "$work/publish.yaml.json")
[ "$rc" -eq 0 ] && [ "$listed" = "${#rpms[@]}" ]
check "$TC: --publish all puts the packages into the rpm repository (lists ${listed:-?})" $? \
  "$(tail -n 5 "$work/publish.yaml.err")"
repo="$s3/sf-rpm/site/rpm/$TC/$(rpm -qp --qf '%{ARCH}' "$dir/$(rpm_of common)" 2>/dev/null)"
dnfq() { # dnfq: the packages dnf lists from the repository, metadata signature checked
  rm -rf "$work/dnf" && mkdir -p "$work/dnf"
  dnf -y --setopt=reposdir=/dev/null --setopt=cachedir="$work/dnf" --releasever=9 \
    --repofrompath="sf,$repo" --repo=sf --setopt=sf.repo_gpgcheck=1 --setopt=sf.gpgcheck=1 \
    --setopt=sf.skip_if_unavailable=False \
    --setopt=sf.gpgkey="file://$work/key.asc" repoquery --available 2>&1
}
out=$(dnfq)
rc=$?
[ "$rc" -eq 0 ] && [ "$(echo "$out" | grep -c "^${prefix}")" -eq "${#rpms[@]}" ]
check "$TC: dnf repoquery (repo_gpgcheck with the exported key) lists every package" $? "$out"
# Another package set merged into the same repository: what was listed stays listed.
{ cat "$work/publish.yaml"; printf 'packagers:\n  rpm: {name_prefix: site-}\n'; } > "$work/site.yaml"
rm -f "$dir"/*.rpm
publish "$work/site.yaml"
listed2=$(jq -r 'select(.event=="publish" and .kind=="repository-done") | .data.listed' "$work/site.yaml.json")
out=$(dnfq)
[ "$listed2" = "$(( ${#rpms[@]} * 2 ))" ] && [ "$(echo "$out" | grep -c '^site-')" -eq "${#rpms[@]}" ] &&
  [ "$(echo "$out" | grep -c "^${prefix}")" -eq "${#rpms[@]}" ]
check "$TC: a second package set merges into the metadata (${listed2:-?} listed)" $? \
  "$(tail -n 5 "$work/site.yaml.err"); $out"
# A tampered repomd.xml on the server: dnf refuses it (its signature no longer matches).
curl -fsS "$repo/repodata/repomd.xml" | sed 's|<revision>|<revision>9|' > "$work/repomd.tampered" &&
  curl -fsS -X PUT -T "$work/repomd.tampered" "$s3/sf-rpm/site/rpm/$TC/${repo##*/}/repodata/repomd.xml" >/dev/null
check "$TC: tamper with repomd.xml on the server" $?
out=$(dnfq)
rc=$?
[ "$rc" -ne 0 ] && echo "$out" | grep -q 'repomd.xml GPG signature verification error' &&
  ! echo "$out" | grep -q "^${prefix}"
check "$TC: dnf refuses the tampered repomd.xml (exit $rc)" $? "$out"
# The packages of this request again (the site- set replaced them in the output folder).
rm -f "$dir"/*.rpm
"$SF_BIN" --json --config "$work/config.yaml" build-slurm --slurm-version "$VERSION" \
  --toolchain "$TC" --backend "$BACKEND" --jobs "$JOBS" --packager rpm --output "$work/out" \
  > "$work/again.json" 2> "$work/again.err"
check "$TC: the packages again" $? "$(tail -n 5 "$work/again.err")"

# --- install on a clean machine (Debian's rpm, since no Rocky image can be had here) -----------
base=$("$ENGINE" images --format '{{.Repository}}:{{.Tag}}' "slurm-factory/base-$TC" | head -n 1)
if [ -z "$base" ]; then
  check "$TC: a clean base image slurm-factory/base-$TC" 1 "none (toolchain prepare makes it)"
  summary "rpm e2e"
  exit 1
fi
rand=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
node="rpm-$rand"
container="sf-e2e-rpm-$rand"
limits=()
if [ "$ENGINE" = podman ]; then
  nproc=$(ulimit -Hu)
  [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
  limits=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit "nproc=$nproc:$nproc")
fi
"$ENGINE" run -d --name "$container" --hostname "$node" --network bridge "${limits[@]}" \
  --label org.slurm-factory.kind=e2e "$base" sleep infinity >/dev/null
check "$TC: start a clean container ($base)" $?
run() { # run SCRIPT: bash in the container, bare environment
  "$ENGINE" exec "$container" env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin bash -c "$1"
}
login() { # login SCRIPT: a login shell (profile.d), as an admin's ssh session
  "$ENGINE" exec "$container" env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin bash -lc "$1"
}
out=$(run 'export DEBIAN_FRONTEND=noninteractive; apt-get update -q >/dev/null &&
  apt-get install -y -q --no-install-recommends rpm munge procps' 2>&1)
check "$TC: the OS's rpm and munge" $? "$(echo "$out" | tail -n 5)"
"$ENGINE" exec "$container" mkdir -p /tmp/rpms
want=""
for role in common client slurmctld slurmd; do
  f=$(rpm_of "$role")
  "$ENGINE" cp "$dir/$f" "$container:/tmp/rpms/$f"
  want="$want /tmp/rpms/$f"
done
"$ENGINE" cp "$work/key.asc" "$container:/tmp/key.asc"
# Debian's rpm before 4.20 wants --force-debian to install anything; later ones do not know it,
# and run scriptlets through their unshare plugin, which an unprivileged container refuses
# (--noplugins; the scriptlets themselves still run).
out=$(run "rpm --import /tmp/key.asc && rpm -K $want && force=\$(rpm --help | grep -o -- --force-debian)
  rpm -i --nodeps --noplugins \$force $want" 2>&1)
check "$TC: rpm -K and rpm -i --nodeps ${prefix}{common,client,slurmctld,slurmd} in the container" $? \
  "$(echo "$out" | tail -n 10)"
out=$(run 'set -e; getent passwd slurm; test -s /etc/slurm/slurm.conf
  test -f /usr/lib/systemd/system/slurmd.service; test -f /etc/profile.d/slurm-factory-client.sh' 2>&1)
check "$TC: the scriptlets made the slurm user and /etc/slurm/slurm.conf; units and profile script" $? "$out"
# shellcheck disable=SC2016 # expands in the container
out=$(run 'set -e; mkdir -p /run/munge; chown munge:munge /run/munge
  test -s /etc/munge/munge.key || runuser -u munge -- mungekey --verbose
  runuser -u munge -- /usr/sbin/munged
  for _ in $(seq 1 20); do [ -S /run/munge/munge.socket.2 ] && break; sleep 0.5; done
  munge -n | unmunge >/dev/null' 2>&1)
check "$TC: the OS's munged answers" $? "$out"
for d in slurmctld slurmd; do
  run "/opt/slurm/view/sbin/$d </dev/null >/var/log/slurm/$d.out 2>&1"
  check "$TC: $d starts" $? "$(run "cat /var/log/slurm/$d.out; tail -n 5 /var/log/slurm/$d.log" 2>&1)"
done
state=""
for _ in $(seq 1 "$T"); do
  state=$(login "sinfo -h -N -o '%N %T'" 2>&1)
  echo "$state" | grep -q "^$node idle" && break
  sleep 1
done
echo "$state" | grep -q "^$node idle"
check "$TC: sinfo (on PATH in a login shell) shows $node idle" $? \
  "$state; $(run 'tail -n 5 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log' 2>&1)"
out=$(login "timeout $T srun -N1 hostname" 2>&1)
[ "$out" = "$node" ]
check "$TC: srun hostname" $? "$out"
out=$(login "cd /tmp && id=\$(sbatch --parsable --wrap hostname) &&
  for _ in \$(seq 1 $T); do [ -s slurm-\$id.out ] && break; sleep 1; done; cat slurm-\$id.out" 2>&1)
[ "$out" = "$node" ]
check "$TC: sbatch --wrap hostname" $? "$out"
out=$(run "rpm -V --nodeps ${prefix}common ${prefix}client ${prefix}slurmctld ${prefix}slurmd" 2>&1)
[ -z "$out" ]
check "$TC: rpm -V: every installed file as packaged" $? "$(echo "$out" | head -n 5)"
run 'pkill -x slurmd; pkill -x slurmctld; sleep 1' >/dev/null 2>&1
out=$(run "rpm -e --nodeps --noplugins ${prefix}slurmd ${prefix}slurmctld ${prefix}client ${prefix}common" 2>&1)
check "$TC: rpm -e" $? "$(echo "$out" | tail -n 5)"
left=$(run 'find /opt/slurm /usr/lib/systemd/system/slurm*.service /etc/profile.d/slurm-factory* \
  /etc/slurm /var/lib/slurm-factory-common 2>/dev/null' 2>&1)
[ -z "$left" ]
check "$TC: rpm -e leaves no file of ours" $? "$left"

summary "rpm e2e"
