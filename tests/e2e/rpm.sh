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
# shellcheck source=tests/e2e/os_packages.sh
. "$here/os_packages.sh"
ENGINE=${SF_E2E_ENGINE:-docker}
TC=${1:-trixie}
T=60

e2e_setup rpm
cleanup() {
  cleanup_container
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
built_artifact $? "$work/out" rpm "$start" "rpm e2e"
prefix=slurm-factory-

outputs_listed rpm rpm "$dir" "$prov"
rpms=("${pkgs[@]}")

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
start_s3rver sf-rpm || { summary "rpm e2e"; exit 1; }
trap 'kill "$s3pid" 2>/dev/null; cleanup' EXIT
layer_config "$work/config.yaml" sf-rpm "$work/publish.yaml"
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
clean_container rpm || { summary "rpm e2e"; exit 1; }
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
start_cluster ""
jobs_run
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
