# shellcheck shell=sh
# What the e2e and bench scripts share (sourced, POSIX sh): the binary, the PASS/FAIL lines, a
# throwaway signing key and the config that signs with it, the kept source cache. The caller sets
# `here` to its own folder (tests/e2e or tests/bench) before sourcing:
#   here=$(cd "$(dirname "$0")" && pwd)
#   . "$here/../e2e/lib.sh"

SF_BIN=${SF_BIN:-$here/../../build/bin/slurm-factory}

passed=0
failed=0
check() { # check NAME STATUS [DETAIL]
  if [ "$2" -eq 0 ]; then
    passed=$((passed + 1)); echo "PASS $1"
  else
    failed=$((failed + 1)); echo "FAIL $1${3:+: $3}"
  fi
}
summary() { # summary NAME [NOTE] -> the final "NAME: PASS (N checks NOTE)" or FAIL line; 0 on PASS
  if [ "$failed" -eq 0 ]; then
    echo "$1: PASS ($passed checks${2:-})"
  else
    echo "$1: FAIL ($failed failed, $passed passed)"
  fi
  [ "$failed" -eq 0 ]
}
need_binary() { # need_binary NAME -> the final FAIL line and exit 1 when SF_BIN is not executable
  [ -x "$SF_BIN" ] && return 0
  echo "$1: FAIL (no slurm-factory binary at $SF_BIN; set SF_BIN)"
  exit 1
}

# shellcheck disable=SC2034  # used by the scripts that source this
e2e_setup() { # e2e_setup NAME: VERSION, JOBS, BACKEND from SF_E2E_*; a work folder
  # /tmp/sf-e2e-NAME.*; CACHE, SF_E2E_CACHE (kept) or one in the work folder.
  VERSION=${SF_E2E_VERSION:-24.11.5}
  JOBS=${SF_E2E_JOBS:-2}
  BACKEND=${SF_E2E_BACKEND:-docker}
  work=$(mktemp -d "/tmp/sf-e2e-$1.XXXXXX")
  CACHE=${SF_E2E_CACHE:-$work/cache}
  mkdir -p "$CACHE"
}

# signing_key DIR UID: exports GNUPGHOME=DIR (made, 0700) and sets fpr to its signing key, an
# ed25519 key UID made there unless it holds one already (a kept cache keeps its key beside it, so
# its entries stay trusted between runs).
signing_key() {
  export GNUPGHOME="$1"
  mkdir -p "$GNUPGHOME" && chmod 700 "$GNUPGHOME"
  if ! gpg --batch --list-secret-keys 2>/dev/null | grep -q -F "$2"; then
    gpg --batch --quiet --passphrase '' --quick-gen-key "$2" ed25519 sign never 2>/dev/null
  fi
  fpr=$(gpg --batch --with-colons --list-secret-keys 2>/dev/null | awk -F: '/^fpr:/ {print $10; exit}')
}
# shellcheck disable=SC2034  # used by the scripts that source this
E2E_KEY='slurm-factory e2e <e2e@slurm-factory.invalid>'  # the key build-slurm.sh keeps beside a cache
stop_gpg_agent() { # the agent of GNUPGHOME, if any (for the EXIT trap)
  [ -z "${GNUPGHOME:-}" ] || gpgconf --homedir "$GNUPGHOME" --kill all >/dev/null 2>&1
}

# sf_config CACHE_DIR [MORE_PLUGINS] [SEARCH_PATHS]: prints the head of a config (the cache, the
# plugins, signing with $fpr from $GNUPGHOME); the caller appends its own sections.
sf_config() {
  printf 'cache_dir: %s\nplugins:\n' "$1"
  [ -z "${3:-}" ] || printf '  search_paths: [%s]\n' "$3"
  printf '  load: [toolchain-debian, backend-docker, backend-podman, cache-local, packager-tarball%s]\n' \
    "${2:+, $2}"
  printf 'signing:\n  key_id: "%s"\n  keyring: "%s"\n' "$fpr" "$GNUPGHOME"
}

# site_recipes_from_system DIR: DIR/recipes is a copy of the shipped recipes in which every
# dependency that has a `system_package:` comes from the release's -dev packages (`from: system`),
# and SLURM_FACTORY_RECIPE_DIR points at it, so that in a new toolchain image only Slurm builds.
site_recipes_from_system() {
  rm -rf "$1/recipes"
  cp -r "$here/../../configs/recipes" "$1/recipes"
  for r in "$1"/recipes/*.yaml; do
    case $(basename "$r") in slurm.yaml) continue ;; esac
    if grep -q '^system_package:' "$r"; then sed -i 's/^from: source$/from: system/' "$r"; fi
  done
  export SLURM_FACTORY_RECIPE_DIR="$1/recipes"
}

# bench_settings: VERSION, JOBS, BACKEND and SOURCES of the bench scripts (from SF_BENCH_*).
# shellcheck disable=SC2034  # used by the scripts that source this
bench_settings() {
  VERSION=${SF_BENCH_VERSION:-24.11.5}
  JOBS=${SF_BENCH_JOBS:-$(nproc)}
  BACKEND=${SF_BENCH_BACKEND:-docker}
  SOURCES=${SF_BENCH_SOURCES:-$HOME/.slurm-factory}
}
# link_sources CACHE_DIR: CACHE_DIR/sourcecache is $SOURCES/sourcecache (kept, reused by all runs).
link_sources() {
  mkdir -p "$1" "$SOURCES/sourcecache"
  ln -s "$SOURCES/sourcecache" "$1/sourcecache"
}
