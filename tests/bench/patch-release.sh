#!/bin/sh
# A security release, as a site lives it: Slurm is built once over its dependencies, then the same
# Slurm with a one-line patch (a new package hash, as a new patch release gives) is built again;
# the second build redoes only what changed: it reuses the build tree of the first (the recipe's
# `incremental: true`, <cache_dir>/buildtrees/<image hash>/slurm) and the compiler cache of the
# toolchain image (build.ccache, <cache_dir>/ccache/<image hash>). Prints both wall times, from the command to the
# signed artifact, and their ratio; goal on 2 cores: the second build <= 60 s.
#
#   tests/bench/patch-release.sh [TOOLCHAIN]        (default: trixie)
#
# Environment: SF_BIN (default build/bin/slurm-factory), SF_BENCH_VERSION (24.11.5),
# SF_BENCH_JOBS (default: the CPU count), SF_BENCH_BACKEND (docker), SF_BENCH_SOURCES (a cache
# directory whose sourcecache/ is reused; default ~/.slurm-factory), SF_BENCH_CACHE (the cache
# directory, kept between runs, whose Slurm entries of the version and Slurm build trees are
# removed first; default a
# new one in the work folder: then the first build also
# prepares the toolchain image if needed and builds every dependency), SF_BENCH_GOAL (60 s),
# SF_BENCH_SCRATCH (1: then build the patched Slurm once more from scratch, without the build
# tree, and check that both artifacts are the same bytes; 0: skip that), SF_BENCH_RELEASE (1: then
# a fourth build adds a version bump in META over the tree of the second, as a real patch release
# gives, and prints its time; 0: skip that).
# The recipes are a copy of the shipped ones (SLURM_FACTORY_RECIPE_DIR), which is how a site
# carries its own patch or patch release (docs/patch-releases.md). One PASS/FAIL line per check, then
# "patch-release bench: PASS" or FAIL; exit status 1 on FAIL.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/../e2e/lib.sh"
bench_settings
tc=${1:-trixie}
goal=${SF_BENCH_GOAL:-60}
need_binary "patch-release bench"

work=$(mktemp -d /tmp/sf-bench-patch.XXXXXX)
CACHE=${SF_BENCH_CACHE:-$work/cache}
cleanup() {
  stop_gpg_agent
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$CACHE"
[ -e "$CACHE/sourcecache" ] || link_sources "$CACHE"
signing_key "$CACHE/bench-gnupg" "slurm-factory bench <bench@slurm-factory.invalid>"
sf_config "$CACHE" > "$work/config.yaml"
cat >> "$work/config.yaml" <<CONF
build:
  ccache: true
CONF

# The site's recipe folder: a copy of the shipped recipes.
recipes=$here/../../configs/recipes
cp -a "$recipes" "$work/recipes"
export SLURM_FACTORY_RECIPE_DIR="$work/recipes"
sf() { "$SF_BIN" --config "$work/config.yaml" "$@"; }

# build N LABEL: one timed build-slurm to a signed artifact in $work/out-N; sets secs and rc.
build() {
  rm -rf "$work/out-$1"
  start=$(date +%s)
  sf --json build-slurm --slurm-version "$VERSION" --toolchain "$tc" --backend "$BACKEND" \
    --jobs "$JOBS" --output "$work/out-$1" > "$work/events-$1.json" 2> "$work/stderr-$1"
  rc=$?
  secs=$(( $(date +%s) - start ))
  built=$(jq -r 'select(.event=="build" and .kind=="done") | .data.built' "$work/events-$1.json")
  signed=$(find "$work/out-$1" -name '*.asc' 2>/dev/null | head -n 1)
  echo "$2: ${secs} s, built ${built:-?} package(s) (exit $rc)"
  jq -r 'select(.event=="build" and .kind=="built") |
         "   built \(.package.name) \(.package.version) in \(.package.elapsed_ms/1000|floor) s"' \
    "$work/events-$1.json" 2>/dev/null
  if [ "$rc" -ne 0 ] || [ -z "$signed" ]; then
    tail -n 30 "$work/stderr-$1"
    return 1
  fi
}

# ccache_line N: the "Hits:" line of the newest Slurm build log's compiler-cache statistics.
ccache_line() {
  log=$(find "$CACHE/logs" -name slurm.log -newer "$work/stamp-$1" 2>/dev/null | head -n 1)
  [ -n "$log" ] && grep -m 1 -E '^ *Hits:' "$log" | sed 's/^ *//'
}

sf fetch --slurm-version "$VERSION" --toolchain "$tc" > /dev/null 2> "$work/fetch.err" ||
  { tail -n 20 "$work/fetch.err"; echo "patch-release bench: FAIL (fetch)"; exit 1; }

# Build 1 must build Slurm from scratch (its tree is what build 2 reuses): no Slurm entry of this
# version and no Slurm build tree in the bench's cache folder.
rm -f "$CACHE"/cache/*/*/slurm-"$VERSION"-*
rm -rf "$CACHE"/buildtrees/*/slurm
touch "$work/stamp-1"
build 1 "build 1 (Slurm $VERSION)"
check "build 1: Slurm $VERSION to a signed artifact" $?
first=$secs
echo "   slurm ccache: $(ccache_line 1 || echo 'no statistics')"

# A one-line patch to one .c file of this release, pinned in the site's slurm recipe.
archive=$(find "$CACHE/sourcecache/" -name "slurm-$VERSION.tar.*" | head -n 1)
top=$(tar -tf "$archive" | head -n 1 | cut -d/ -f1)
file=src/common/xstring.c
mkdir -p "$work/p/a" "$work/p/b" "$work/recipes/patches"
tar -xf "$archive" -C "$work/p" "$top/$file"
mkdir -p "$work/p/a/$(dirname "$file")" "$work/p/b/$(dirname "$file")"
cp "$work/p/$top/$file" "$work/p/a/$file"
{ echo "/* site security fix $(date +%s) (tests/bench/patch-release.sh) */"; cat "$work/p/a/$file"; } \
  > "$work/p/b/$file"
(cd "$work/p" && diff -u "a/$file" "b/$file") > "$work/recipes/patches/bench-security-fix.patch"
sha=$(sha256sum "$work/recipes/patches/bench-security-fix.patch" | cut -d' ' -f1)
# The patch joins the recipe's `patches:` list (made at the end when there is none), as a site
# would write it by hand.
add_patch() { # add_patch RECIPE SHA256
  if ! grep -q '^patches:' "$1"; then
    printf 'patches:\n  - file: patches/bench-security-fix.patch\n    sha256: %s\n    strip: 1\n' \
      "$2" >> "$1"
    return
  fi
  grep -q '^patches:[[:space:]]*$' "$1" || return 1  # an inline list: not written by hand
  awk -v sha="$2" '
    pending && /^[[:space:]]*- / {
      ind = $0; sub(/-.*/, "", ind)
      printf "%s- file: patches/bench-security-fix.patch\n%s  sha256: %s\n%s  strip: 1\n", ind, ind, sha, ind
      pending = 0
    }
    { print }
    /^patches:[[:space:]]*$/ { pending = 1 }
  ' "$1" > "$1.new" && mv "$1.new" "$1"
}
ok=0
if ! add_patch "$work/recipes/slurm.yaml" "$sha" ||
   ! sf --json build-slurm --slurm-version "$VERSION" --toolchain "$tc" --dry-run \
     > /dev/null 2> "$work/plan.err"; then
  ok=1; tail -n 5 "$work/plan.err"
fi
check "the site recipe carries a one-line patch to $file" "$ok"

touch "$work/stamp-2"
build 2 "build 2 (Slurm $VERSION + one-line patch)"
check "build 2: patched Slurm to a signed artifact" $?
second=$secs
hits=$(ccache_line 2 || true)
echo "   slurm ccache: ${hits:-no statistics}"
slurm_built=$(jq -r 'select(.event=="build" and .kind=="built") | .package.name' \
              "$work/events-2.json" | tr '\n' ' ')
[ "$slurm_built" = "slurm " ]
check "build 2 rebuilt Slurm only (built: ${slurm_built:-nothing})" $?
slurm_log=$(find "$CACHE/logs" -name slurm.log -newer "$work/stamp-2" 2>/dev/null | head -n 1)
grep -q '^reusing the build tree of the previous build' "${slurm_log:-/dev/null}"
check "build 2 reused the build tree of build 1 (incremental: true)" $?
grep -E '^==> \[slurm ' "${slurm_log:-/dev/null}" | sed 's/^/   /'

# The trust check: the same patched Slurm built from scratch (no build tree; the compiler cache
# stays) gives the very same artifact, byte for byte.
if [ "${SF_BENCH_SCRATCH:-1}" = 1 ]; then
  hash2=$(jq -r 'select(.event=="build" and .kind=="built" and .package.name=="slurm") |
                 .package.hash12' "$work/events-2.json")
  rm -f "$CACHE"/cache/*/*/slurm-"$VERSION"-"$hash2".*
  cp "$work/config.yaml" "$work/config-1.yaml"
  sed -i 's/^  ccache: true$/  ccache: true\n  incremental: false/' "$work/config.yaml"
  touch "$work/stamp-3"
  build 3 "build 3 (the same, from scratch)"
  check "build 3: patched Slurm from scratch to a signed artifact" $?
  a2=$(find "$work/out-2" -name '*-software.tar.zst' | head -n 1)
  a3=$(find "$work/out-3" -name '*-software.tar.zst' | head -n 1)
  s2=$(sha256sum "$a2" 2>/dev/null | cut -d' ' -f1)
  s3=$(sha256sum "$a3" 2>/dev/null | cut -d' ' -f1)
  if [ -n "$s2" ] && [ "$s2" != "$s3" ]; then
    mkdir -p "$work/x2" "$work/x3"
    tar -xf "$a2" -C "$work/x2" && tar -xf "$a3" -C "$work/x3"
    diff -rq "$work/x2" "$work/x3" | head -n 10
  fi
  [ -n "$s2" ] && [ "$s2" = "$s3" ]
  check "the incremental build's artifact is the from-scratch build's, byte for byte (${s2:-none})" $?
  mv "$work/config-1.yaml" "$work/config.yaml"
fi
# A version bump, as a real patch release gives (SF_BENCH_RELEASE=1, the default): the same fix and
# META saying the next micro version. Slurm's configure reads META, so it reruns in the tree, and
# the version in config.h makes make redo every object (compiler cache hits) and every link.
release=
if [ "${SF_BENCH_RELEASE:-1}" = 1 ]; then
  micro=${VERSION##*.}
  next="${VERSION%.*}.$((micro + 1))"
  tar -xf "$archive" -C "$work/p" "$top/META"
  cp "$work/p/$top/META" "$work/p/a/META"
  sed -E "s/^([[:space:]]*Micro:[[:space:]]*)$micro\$/\1$((micro + 1))/;
          s/^([[:space:]]*Version:[[:space:]]*)$VERSION\$/\1$next/" "$work/p/a/META" > "$work/p/b/META"
  (cd "$work/p" && diff -u a/META b/META) >> "$work/recipes/patches/bench-security-fix.patch"
  sha2=$(sha256sum "$work/recipes/patches/bench-security-fix.patch" | cut -d' ' -f1)
  sed -i "s/$sha/$sha2/" "$work/recipes/slurm.yaml"
  touch "$work/stamp-4"
  build 4 "build 4 (Slurm $VERSION + the fix + META saying $next)"
  check "build 4: version-bumped Slurm to a signed artifact" $?
  release=$secs
  slurm_log=$(find "$CACHE/logs" -name slurm.log -newer "$work/stamp-4" 2>/dev/null | head -n 1)
  grep -q '^reusing the build tree of the previous build' "${slurm_log:-/dev/null}"
  check "build 4 reused the build tree of build 2" $?
  grep -E '^==> \[slurm ' "${slurm_log:-/dev/null}" | sed 's/^/   /'
  echo "   slurm ccache: $(ccache_line 4 || echo 'no statistics')"
fi
printf 'patch-release: first %s s, second %s s, ratio %s%s\n' "$first" "$second" \
  "$(awk -v a="$first" -v b="$second" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "?" }')" \
  "${release:+, version bump $release s}"
[ "$second" -le "$goal" ]
check "build 2 in ${second} s <= ${goal} s (--jobs $JOBS)" $?
summary "patch-release bench"
