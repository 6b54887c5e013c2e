#!/usr/bin/env bash
# The .deb packages, installed the way an admin installs packages: `build-slurm --packager deb`
# (default signing, cache in SF_E2E_CACHE: warm after tests/e2e/cluster.sh), then checks on the
# host and in a fresh container of the clean base image slurm-factory/base-<release> (no compiler,
# no munge, no Slurm):
#   every package the packager wrote is listed in provenance.json and SHA256SUMS with its sha256;
#   `verify` accepts the artifact; dpkg-deb --info/--contents read each package (control fields,
#   files under the install root); lintian reports no error; a second packaging of the same
#   request gives the same bytes;
#   in the container: `apt-get install ./<prefix>common ./<prefix>client ./<prefix>slurmctld
#   ./<prefix>slurmd` (munge from the OS, from deb.debian.org); the slurm user, a one-node
#   /etc/slurm/slurm.conf and the units exist; the OS's munged, then plain slurmctld and slurmd
#   start (no systemd in a container); a login shell finds sinfo on PATH (profile.d) and shows the
#   node idle; `srun hostname` and `sbatch --wrap hostname` work; `dpkg --verify` finds every file
#   as packaged; `apt-get remove` leaves no program or unit (configuration stays, as Debian
#   does), `apt-get purge` leaves no file of ours (/opt/slurm, /etc/slurm, the units, the profile
#   script, /var/lib/<prefix>common, the spool and log folders).
# One PASS/FAIL line per check, then "deb e2e: PASS (N checks)" or FAIL; exit 1 when a check failed.
#
#   tests/e2e/deb.sh [TOOLCHAIN]      (default trixie)
#
# With SF_E2E_UPGRADE_FROM=22.05.8, that version's packages are built and published into the same
# repository too, installed first in the container (pinned versions), run (sinfo --version, the
# node idle, srun), and then upgraded by apt-get to SF_E2E_VERSION's, which the checks above run.
#
# Environment: SF_BIN, SF_E2E_CACHE, SF_E2E_VERSION (default 24.11.5), SF_E2E_UPGRADE_FROM,
# SF_E2E_JOBS, SF_E2E_BACKEND, SF_E2E_ENGINE (engine of the install container, default docker),
# SF_E2E_KEEP=1.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
# shellcheck source=tests/e2e/os_packages.sh
. "$here/os_packages.sh"
ENGINE=${SF_E2E_ENGINE:-docker}
TC=${1:-trixie}
T=60

e2e_setup deb
cleanup() {
  cleanup_container
  rm -rf "$work"
}
trap cleanup EXIT
need_binary "deb e2e"
for tool in jq dpkg-deb lintian sha256sum; do
  command -v "$tool" >/dev/null || { echo "deb e2e: FAIL (needs $tool on the host)"; exit 1; }
done

# build OUT: build-slurm --packager deb into OUT with the default signing (the cache's own key).
build() {
  export GNUPGHOME="$work/user-gnupg"
  mkdir -p "$GNUPGHOME" && chmod 700 "$GNUPGHOME"
  printf 'cache_dir: %s\n' "$CACHE" > "$work/config.yaml"
  "$SF_BIN" --json --config "$work/config.yaml" build-slurm --slurm-version "$VERSION" \
    --toolchain "$TC" --backend "$BACKEND" --jobs "$JOBS" --packager deb --output "$1" \
    > "$1.json" 2> "$1.err"
}
start=$(date +%s)
build "$work/out"
built_artifact $? "$work/out" deb "$start" "deb e2e"
arch=$(jq -r '.toolchain.arch' "$prov")

# Every .deb is an output of the provenance and a line of SHA256SUMS, with the same sha256.
outputs_listed deb deb "$dir" "$prov"
debs=("${pkgs[@]}")
out=$("$SF_BIN" --config "$work/config.yaml" verify "$artifact" 2>&1)
check "$TC: verify accepts the artifact" $? "$(echo "$out" | tail -n 3)"

prefix=slurm-factory-
common=$(printf '%s\n' "${debs[@]}" | grep "^${prefix}common_")
version=$(dpkg-deb --field "$dir/$common" Version)
for role in client slurmctld slurmd slurmdbd slurmrestd; do
  f=$(printf '%s\n' "${debs[@]}" | grep "^${prefix}${role}_")
  dep=$(dpkg-deb --field "$dir/$f" Depends 2>&1)
  echo "$dep" | grep -qF "${prefix}common (= $version)"
  check "$TC: ${prefix}$role depends on ${prefix}common (= $version)" $? "$dep"
done
dep=$(dpkg-deb --field "$dir/$common" Depends)
echo "$dep" | grep -q 'libc6 (>= ' && echo "$dep" | grep -qw munge
check "$TC: ${prefix}common depends on libc6 and munge ($dep)" $? "$dep"
contents=$(dpkg-deb --contents "$dir/$(printf '%s\n' "${debs[@]}" | grep "^${prefix}slurmd_")")
echo "$contents" | grep -q ' opt/slurm/view/sbin/slurmd$' &&
  echo "$contents" | grep -q ' opt/slurm/view/sbin/slurmstepd$' &&
  echo "$contents" | grep -q ' usr/lib/systemd/system/slurmd.service$'
check "$TC: ${prefix}slurmd holds slurmd, slurmstepd and its unit" $? "$contents"
lint=$(cd "$dir" && lintian --tag-display-limit 0 -- "${debs[@]}" 2>&1 | grep -v 'running with root')
warnings=$(echo "$lint" | grep -c '^W: ')
! echo "$lint" | grep -q '^E: '
check "$TC: lintian reports no error ($warnings warnings)" $? "$(echo "$lint" | grep '^E: ' | head -n 10)"

# The same request packaged again (the artifact exists, the packages are made again only when
# missing): remove one package and rebuild; the bytes are the same.
slurmd_deb=$(printf '%s\n' "${debs[@]}" | grep "^${prefix}slurmd_")
before=$(sha256sum < "$dir/$slurmd_deb")
rm -f "$dir/$slurmd_deb"
build "$work/out" && after=$(sha256sum < "$dir/$slurmd_deb") && [ "$before" = "$after" ]
check "$TC: packaging again gives the same bytes" $? "$(tail -n 5 "$work/out.err")"

# --- the signed APT repository on a real S3 server ----------------------------------------------
# s3rver listens on the container bridge's address, so apt in the container reaches it over HTTP.
gw=$("$ENGINE" network inspect bridge -f '{{(index .IPAM.Config 0).Gateway}}' 2>/dev/null)
SF_S3RVER_ADDRESS=$gw start_s3rver sf-apt || { summary "deb e2e"; exit 1; }
trap 'kill "$s3pid" 2>/dev/null; cleanup' EXIT
# publish CONFIG [VERSION OUT]: the request with --publish all (the artifact exists: only
# publishing runs), events in CONFIG.json
publish() {
  "$SF_BIN" --json --config "$1" build-slurm --slurm-version "${2:-$VERSION}" --toolchain "$TC" \
    --backend "$BACKEND" --jobs "$JOBS" --packager deb --publish all --output "${3:-$work/out}" \
    > "$1.json" 2> "$1.err"
}
layer_config "$work/config.yaml" sf-apt "$work/publish.yaml"
# The key apt will trust (signed-by), exported first, as an admin does before sharing a layer.
"$SF_BIN" --config "$work/config.yaml" cache keys export --armor > "$work/key.asc" 2>"$work/key.err"
grep -q 'BEGIN PGP PUBLIC KEY BLOCK' "$work/key.asc"
check "$TC: cache keys export --armor (the key for signed-by)" $? "$(cat "$work/key.err")"
publish "$work/publish.yaml"
rc=$?
listed=$(jq -r 'select(.event=="publish" and .kind=="repository-done") | .data.listed' "$work/publish.yaml.json")
[ "$rc" -eq 0 ] && [ "$listed" = "${#debs[@]}" ]
check "$TC: --publish all puts the packages into the APT repository (lists ${listed:-?})" $? \
  "$(tail -n 5 "$work/publish.yaml.err")"
repo="$s3/sf-apt/site/apt"
curl -fsS "$repo/dists/$TC/InRelease" -o "$work/InRelease" &&
  curl -fsS "$repo/dists/$TC/Release" -o "$work/Release" &&
  curl -fsS "$repo/dists/$TC/Release.gpg" -o "$work/Release.gpg"
check "$TC: InRelease, Release and Release.gpg over HTTP" $?
gpg --dearmor < "$work/key.asc" > "$work/key.gpg"
gpgv --keyring "$work/key.gpg" "$work/Release.gpg" "$work/Release" >/dev/null 2>&1 &&
  gpgv --keyring "$work/key.gpg" "$work/InRelease" >/dev/null 2>&1
check "$TC: Release.gpg and InRelease verify with the exported key (gpgv)" $?
old_version=${SF_E2E_UPGRADE_FROM:-}
if [ -n "$old_version" ]; then
  cp "$work/publish.yaml" "$work/old.yaml"
  start=$(date +%s)
  publish "$work/old.yaml" "$old_version" "$work/old"
  rc=$?
  listed=$(jq -r 'select(.event=="publish" and .kind=="repository-done") | .data.listed' "$work/old.yaml.json")
  old_deb=$(find "$work/old" -name "${prefix}common_*.deb" | head -n 1)
  old_pkg_version=$([ -n "$old_deb" ] && dpkg-deb --field "$old_deb" Version)
  [ "$rc" -eq 0 ] && [ -n "$old_pkg_version" ]
  ok=$?  # before the message's command substitutions change $?
  check "$TC: build-slurm $old_version --packager deb --publish all ($(($(date +%s) - start)) s, $listed listed)" "$ok" \
    "$(tail -n 10 "$work/old.yaml.err")"
fi
# Another package set merged into the same repository (another name prefix, as a flavour or a
# site's second build): what was listed stays listed.
{ cat "$work/publish.yaml"; printf 'packagers:\n  deb: {name_prefix: site-}\n'; } > "$work/site.yaml"
rm -f "$dir"/*.deb
publish "$work/site.yaml"
listed2=$(jq -r 'select(.event=="publish" and .kind=="repository-done") | .data.listed' "$work/site.yaml.json")
[ "$listed2" = "$(( listed + ${#debs[@]} ))" ]
check "$TC: a second package set merges into the index (${listed2:-?} listed)" $? \
  "$(tail -n 5 "$work/site.yaml.err")"

# --- install on a clean machine, from the repository ---------------------------------------------
clean_container deb || { summary "deb e2e"; exit 1; }
"$ENGINE" exec "$container" mkdir -p /etc/apt/keyrings
"$ENGINE" cp "$work/key.asc" "$container:/etc/apt/keyrings/slurm-factory.asc"
echo "deb [signed-by=/etc/apt/keyrings/slurm-factory.asc] $repo $TC main" |
  "$ENGINE" exec -i "$container" sh -c 'cat > /etc/apt/sources.list.d/slurm-factory.list'
out=$(run 'apt-get update 2>&1')
rc=$?
[ "$rc" -eq 0 ] && ! echo "$out" | grep -qE '^(W|E):'
check "$TC: apt-get update with signed-by, no warning" $? "$(echo "$out" | tail -n 8)"
if [ -n "$old_version" ]; then
  pins="${prefix}common=$old_pkg_version ${prefix}client=$old_pkg_version"
  pins="$pins ${prefix}slurmctld=$old_pkg_version ${prefix}slurmd=$old_pkg_version"
  out=$(run "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pins" 2>&1)
  check "$TC: apt-get install the $old_version packages ($old_pkg_version)" $? "$(echo "$out" | tail -n 10)"
  start_cluster ""
  out=$(login 'sinfo --version' 2>&1)
  [ "$out" = "slurm $old_version" ]
  check "$TC: sinfo --version says $old_version" $? "$out"
  jobs_run
  run 'pkill -x slurmd; pkill -x slurmctld; sleep 2' >/dev/null 2>&1
fi
out=$(run "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  ${prefix}slurmctld ${prefix}slurmd ${prefix}client" 2>&1)
check "$TC: apt-get install ${prefix}slurmctld ${prefix}slurmd ${prefix}client${old_version:+ (an upgrade from $old_version)}" $? \
  "$(echo "$out" | tail -n 15)"
installed=$(run "dpkg-query -W -f '\${Version}' ${prefix}common ${prefix}slurmd" 2>&1)
[ "$installed" = "$version$version" ]
check "$TC: $version installed" $? "$installed"
out=$(run 'set -e; getent passwd slurm; test -s /etc/slurm/slurm.conf; test -s /etc/munge/munge.key
  test -f /usr/lib/systemd/system/slurmctld.service; test -f /usr/lib/systemd/system/slurmd.service
  grep -q "^ExecStart=/opt/slurm/view/sbin/slurmd " /usr/lib/systemd/system/slurmd.service' 2>&1)
check "$TC: the slurm user, /etc/slurm/slurm.conf, the munge key and the units are there" $? "$out"

# No systemd in a container: the daemons as an admin without it starts them. Slurm reads the
# state of the two major releases before it only: after an upgrade from further back (22.05 to
# 24.11) slurmctld starts with -i, dropping what it cannot read (SchedMD's upgrade guide).
if [ -n "$old_version" ]; then start_cluster -i; else start_cluster ""; fi
jobs_run
out=$(run "dpkg --verify ${prefix}common ${prefix}client ${prefix}slurmctld ${prefix}slurmd" 2>&1)
[ -z "$out" ]
check "$TC: dpkg --verify: every installed file as packaged" $? "$(echo "$out" | head -n 5)"

# Remove, then purge: the daemons stop first (what prerm does through systemd).
run 'pkill -x slurmd; pkill -x slurmctld; sleep 1' >/dev/null 2>&1
out=$(run "DEBIAN_FRONTEND=noninteractive apt-get remove -y -q ${prefix}common ${prefix}client \
  ${prefix}slurmctld ${prefix}slurmd" 2>&1)
check "$TC: apt-get remove" $? "$(echo "$out" | tail -n 5)"
left=$(run 'find /opt/slurm /usr/lib/systemd/system/slurm*.service 2>/dev/null' 2>&1)
[ -z "$left" ]
check "$TC: remove leaves no program or unit (configuration stays until purge)" $? "$left"
out=$(run "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q ${prefix}common ${prefix}client \
  ${prefix}slurmctld ${prefix}slurmd" 2>&1)
check "$TC: apt-get purge" $? "$(echo "$out" | tail -n 5)"
left=$(run "ls -d /opt/slurm /etc/slurm /var/lib/${prefix}common /var/spool/slurmctld \
  /var/spool/slurmd /var/log/slurm /usr/share/doc/${prefix}common /etc/profile.d/${prefix}* \
  2>/dev/null;
  dpkg -l | awk '\$2 ~ /^${prefix}/ {print}'" 2>&1)
[ -z "$left" ]
check "$TC: purge leaves no file of ours" $? "$left"

# A tampered index: Packages (and its .gz) changed on the server after signing.
printf 'Package: evil\nVersion: 1\nArchitecture: %s\nFilename: pool/evil.deb\nSize: 1\n' "$arch" > "$work/evil"
curl -fsS "$repo/dists/$TC/main/binary-$arch/Packages" > "$work/Packages.tampered" &&
  printf '\n' >> "$work/Packages.tampered" && cat "$work/evil" >> "$work/Packages.tampered" &&
  gzip -9n < "$work/Packages.tampered" > "$work/Packages.tampered.gz" &&
  curl -fsS -X PUT -T "$work/Packages.tampered" "$s3/sf-apt/site/apt/dists/$TC/main/binary-$arch/Packages" >/dev/null &&
  curl -fsS -X PUT -T "$work/Packages.tampered.gz" "$s3/sf-apt/site/apt/dists/$TC/main/binary-$arch/Packages.gz" >/dev/null
check "$TC: tamper with Packages on the server" $?
out=$(run 'rm -rf /var/lib/apt/lists/*; apt-get update 2>&1')
rc=$?
[ "$rc" -ne 0 ] && echo "$out" | grep -qiE 'hash sum mismatch|unexpected size|mismatch'
check "$TC: apt-get update refuses the tampered Packages (exit $rc)" $? "$(echo "$out" | tail -n 5)"

summary "deb e2e"
