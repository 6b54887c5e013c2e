#!/bin/sh
# Bench: what sharing buys a pipeline. Wall time of a two-cell pipeline (`slurm-factory run`,
# both cells at once, one empty cache) next to the same two cells built one after the other by
# `build-slurm`, each with its own empty cache (nothing shared), and their ratio.
#
#   tests/bench/pipeline.sh            CI-sized: stand-in recipes (plain make, as in
#                                      tests/integration/pipeline_test.cpp): "slurm" 24.11.5 and
#                                      22.05.8, both linking two shared source libraries
#   SF_BENCH_REAL=1 tests/bench/pipeline.sh
#                                      the real recipes: trixie x {22.05.8, 24.11.5} (hours on a
#                                      2-core machine: every dependency is built three times)
#
# Environment: SF_BIN (default build/bin/slurm-factory), SF_BENCH_TOOLCHAIN (trixie),
# SF_BENCH_BACKEND (docker), SF_BENCH_JOBS (2). Prints the figures and "pipeline bench: PASS" when
# every build succeeded (the ratio is reported, not judged), "pipeline bench: FAIL (...)" otherwise.
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$here/../e2e/lib.sh"
TOOLCHAIN=${SF_BENCH_TOOLCHAIN:-trixie}
BACKEND=${SF_BENCH_BACKEND:-docker}
JOBS=${SF_BENCH_JOBS:-2}
V1=24.11.5
V2=22.05.8
PLUGINS=$(cd "$(dirname "$SF_BIN")/../lib/slurm-factory/plugins" 2>/dev/null && pwd)

work=$(mktemp -d /tmp/sf-bench-pipeline.XXXXXX)
cleanup() {
  gpgconf --homedir "$work/gnupg" --kill all >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
[ -x "$SF_BIN" ] || { echo "pipeline bench: FAIL (no binary at $SF_BIN; set SF_BIN)"; exit 1; }

signing_key "$work/gnupg" "sf bench <bench@sf.invalid>"

# Stand-in sources and recipes (skipped with SF_BENCH_REAL=1).
sources="$work/sources"
mkdir -p "$sources" "$work/recipes"
add_source() { # add_source DIRNAME -> sha256 ; packs src/DIRNAME into sources/
  tar -C "$work/src" -czf "$sources/$1.tar.gz" "$1"
  sha256sum "$sources/$1.tar.gz" | cut -d' ' -f1
}
version_entry() { # version_entry VERSION SHA DIRNAME
  printf '  - version: "%s"\n    sha256: %s\n    file: %s.tar.gz\n    strip_dir: %s\n    mirrors:\n      - http://127.0.0.1:9/%s.tar.gz\n' \
    "$1" "$2" "$3" "$3" "$3"
}
if [ -z "${SF_BENCH_REAL:-}" ]; then
  for lib in fakea fakeb; do
    d="$work/src/$lib-1.0"
    mkdir -p "$d"
    echo "int $lib(void) { return 1; }" > "$d/$lib.c"
    echo "int $lib(void);" > "$d/$lib.h"
    # shellcheck disable=SC2016  # make and recipe variables, not the shell's
    printf 'PREFIX ?= /opt/slurm/view\nall: lib%s.so\nlib%s.so: %s.c\n\t$(CC) -O2 -shared -fPIC -Wl,-soname,lib%s.so -o $@ %s.c\ninstall: all\n\tinstall -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include\n\tinstall -m 755 lib%s.so $(DESTDIR)$(PREFIX)/lib/\n\tinstall -m 644 %s.h $(DESTDIR)$(PREFIX)/include/\n' \
      "$lib" "$lib" "$lib" "$lib" "$lib" "$lib" "$lib" > "$d/Makefile"
    sha=$(add_source "$lib-1.0")
    { printf 'name: %s\ndescription: stand-in\nhomepage: https://example.invalid\nlicense: MIT\nbuild_system: make\nfrom: source\nversions:\n' "$lib"
      version_entry 1.0 "$sha" "$lib-1.0"
      # shellcheck disable=SC2016  # make and recipe variables, not the shell's
      printf 'build:\n  - PREFIX=${prefix}\ninstall:\n  - install\n  - PREFIX=${prefix}\n'
    } > "$work/recipes/$lib.yaml"
  done
  versions=""
  for v in $V1 $V2; do
    d="$work/src/slurm-fake-$v"
    mkdir -p "$d"
    printf '#include <fakea.h>\n#include <fakeb.h>\n#include <stdio.h>\nint main(void) { printf("%%d\\n", fakea() + fakeb()); return 0; }\n' > "$d/sinfo.c"
    # shellcheck disable=SC2016  # make and recipe variables, not the shell's
    printf 'PREFIX ?= /opt/slurm/view\nall: sinfo\nsinfo: sinfo.c\n\t$(CC) -O2 -I$(PREFIX)/include -o $@ sinfo.c -L$(PREFIX)/lib -lfakea -lfakeb\ninstall: all\n\tinstall -d $(DESTDIR)$(PREFIX)/bin\n\tinstall -m 755 sinfo $(DESTDIR)$(PREFIX)/bin/sinfo\n' > "$d/Makefile"
    sha=$(add_source "slurm-fake-$v")
    versions="$versions$(version_entry "$v" "$sha" "slurm-fake-$v")
"
  done
  { printf 'name: slurm\ndescription: stand-in\nhomepage: https://example.invalid\nlicense: MIT\nbuild_system: make\nfrom: source\nversions:\n'
    printf '%s' "$versions"
    # shellcheck disable=SC2016  # make and recipe variables, not the shell's
    printf 'dependencies:\n  - fakea\n  - fakeb\nbuild:\n  - PREFIX=${prefix}\ninstall:\n  - install\n  - PREFIX=${prefix}\n'
  } > "$work/recipes/slurm.yaml"
  export SLURM_FACTORY_RECIPE_DIR="$work/recipes"
fi

config() { # config CACHE_DIR FILE ; a config with that empty cache, its sources pre-verified
  mkdir -p "$1"
  for f in "$sources"/*.tar.gz; do
    [ -e "$f" ] || continue
    sha=$(sha256sum "$f" | cut -d' ' -f1)
    mkdir -p "$1/sourcecache/$sha" && cp "$f" "$1/sourcecache/$sha/"
  done
  # Real sources: reuse a warm source cache when there is one (downloads are not what is measured).
  [ -n "${SF_BENCH_REAL:-}" ] && [ -d /tmp/sf-e2e-cache/sourcecache ] && \
    cp -r /tmp/sf-e2e-cache/sourcecache "$1/"
  { sf_config "$1" "" "$PLUGINS"; cat <<CONF; } > "$2"
build:
  jobs: $JOBS
pipelines:
  bench:
    matrix: {slurm_versions: ["$V1", "$V2"], toolchains: [$TOOLCHAIN]}
    backend: $BACKEND
    parallel: 2
CONF
}
now() { date +%s.%N; }
failed=""

# Sequential, nothing shared: each cell with its own empty cache.
config "$work/seq1" "$work/seq1.yaml"
config "$work/seq2" "$work/seq2.yaml"
t0=$(now)
"$SF_BIN" -q --config "$work/seq1.yaml" build-slurm --slurm-version $V1 --toolchain "$TOOLCHAIN" \
  --backend "$BACKEND" --output "$work/seq-out" > "$work/seq1.log" 2>&1 || failed="$failed seq-$V1"
t1=$(now)
"$SF_BIN" -q --config "$work/seq2.yaml" build-slurm --slurm-version $V2 --toolchain "$TOOLCHAIN" \
  --backend "$BACKEND" --output "$work/seq-out" > "$work/seq2.log" 2>&1 || failed="$failed seq-$V2"
t2=$(now)

# The pipeline: one empty cache, both cells at once, shared packages built once.
config "$work/pipe" "$work/pipe.yaml"
"$SF_BIN" --json --config "$work/pipe.yaml" run bench --output "$work/pipe-out" \
  --report "$work/report.json" > "$work/pipe.json" 2> "$work/pipe.err" || failed="$failed pipeline"
t3=$(now)

calc() { awk "BEGIN { print $1 }"; }
seq1=$(calc "$t1 - $t0")
seq2=$(calc "$t2 - $t1")
seq=$(calc "$t2 - $t0")
pipe=$(calc "$t3 - $t2")
builds=$(jq -r 'select(.event=="build" and .kind=="built") | .package.name' "$work/pipe.json" | wc -l)
reused=$(jq '[.cells[].reused_from_other_cells] | add' "$work/report.json" 2>/dev/null || echo "?")
printf 'cell %s alone (empty cache):      %8.1f s\n' "$V1" "$seq1"
printf 'cell %s alone (empty cache):      %8.1f s\n' "$V2" "$seq2"
printf 'one after the other, no sharing:     %8.1f s\n' "$seq"
printf 'pipeline, 2 cells at once, shared:   %8.1f s  (%s package builds, %s reused from the other cell)\n' \
  "$pipe" "$builds" "$reused"
printf 'ratio pipeline / sequential:         %8.2f\n' "$(calc "$pipe / $seq")"
if [ -z "$failed" ]; then
  echo "pipeline bench: PASS"
else
  echo "pipeline bench: FAIL (failed:$failed; logs in $work, kept)"
  trap - EXIT
  exit 1
fi
