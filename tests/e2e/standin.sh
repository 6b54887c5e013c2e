# shellcheck shell=sh
# Stand-in recipes for pipeline tests and benches (sourced, POSIX sh), as in
# tests/integration/pipeline_test.cpp: two shared source libraries, fakea and fakeb, and a "slurm"
# in the versions asked for that links both; each builds with plain make in the real build image in
# seconds. A version listed in STANDIN_BROKEN (e.g. "23.11.1") does not compile; one listed in
# STANDIN_SLOW sleeps 10 minutes in its build (for tests that interrupt a build).
#
#   standin_recipes DIR V1 [V2 ...]  sources in DIR/sources, recipes in DIR/recipes,
#                                    SLURM_FACTORY_RECIPE_DIR exported
#   standin_sources CACHE_DIR        copies the sources into CACHE_DIR/sourcecache (pre-verified:
#                                    the mirrors in the recipes are unreachable on purpose)

standin_add_source() { # standin_add_source DIR NAME -> sha256 of DIR/sources/NAME.tar.gz
  tar -C "$1/src" -czf "$1/sources/$2.tar.gz" "$2"
  sha256sum "$1/sources/$2.tar.gz" | cut -d' ' -f1
}
standin_version_entry() { # standin_version_entry VERSION SHA DIRNAME
  printf '  - version: "%s"\n    sha256: %s\n    file: %s.tar.gz\n    strip_dir: %s\n    mirrors:\n      - http://127.0.0.1:9/%s.tar.gz\n' \
    "$1" "$2" "$3" "$3" "$3"
}
standin_recipes() {
  sd=$1
  shift
  mkdir -p "$sd/src" "$sd/sources" "$sd/recipes"
  for lib in fakea fakeb; do
    d="$sd/src/$lib-1.0"
    mkdir -p "$d"
    echo "int $lib(void) { return 1; }" > "$d/$lib.c"
    echo "int $lib(void);" > "$d/$lib.h"
    # shellcheck disable=SC2016  # make and recipe variables, not the shell's
    printf 'PREFIX ?= /opt/slurm/view\nall: lib%s.so\nlib%s.so: %s.c\n\t$(CC) -O2 -shared -fPIC -Wl,-soname,lib%s.so -o $@ %s.c\ninstall: all\n\tinstall -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include\n\tinstall -m 755 lib%s.so $(DESTDIR)$(PREFIX)/lib/\n\tinstall -m 644 %s.h $(DESTDIR)$(PREFIX)/include/\n' \
      "$lib" "$lib" "$lib" "$lib" "$lib" "$lib" "$lib" > "$d/Makefile"
    sha=$(standin_add_source "$sd" "$lib-1.0")
    { printf 'name: %s\ndescription: stand-in\nhomepage: https://example.invalid\nlicense: MIT\nbuild_system: make\nfrom: source\nversions:\n' "$lib"
      standin_version_entry 1.0 "$sha" "$lib-1.0"
      # shellcheck disable=SC2016  # make and recipe variables, not the shell's
      printf 'build:\n  - PREFIX=${prefix}\ninstall:\n  - install\n  - PREFIX=${prefix}\n'
    } > "$sd/recipes/$lib.yaml"
  done
  versions=""
  for v in "$@"; do
    d="$sd/src/slurm-fake-$v"
    mkdir -p "$d"
    broken=""
    case " ${STANDIN_BROKEN:-} " in *" $v "*) broken='this is not C;\n' ;; esac
    slow=""
    case " ${STANDIN_SLOW:-} " in *" $v "*) slow='\tsleep 600\n' ;; esac
    # shellcheck disable=SC2059  # the format holds the broken line on purpose
    printf "$broken"'#include <fakea.h>\n#include <fakeb.h>\n#include <stdio.h>\nint main(void) { printf("%%d\\n", fakea() + fakeb()); return 0; }\n' > "$d/sinfo.c"
    # shellcheck disable=SC2016,SC2059  # make's variables; the format holds the sleep on purpose
    printf 'PREFIX ?= /opt/slurm/view\nall: sinfo\nsinfo: sinfo.c\n'"$slow"'\t$(CC) -O2 -I$(PREFIX)/include -o $@ sinfo.c -L$(PREFIX)/lib -lfakea -lfakeb\ninstall: all\n\tinstall -d $(DESTDIR)$(PREFIX)/bin\n\tinstall -m 755 sinfo $(DESTDIR)$(PREFIX)/bin/sinfo\n' > "$d/Makefile"
    sha=$(standin_add_source "$sd" "slurm-fake-$v")
    versions="$versions$(standin_version_entry "$v" "$sha" "slurm-fake-$v")
"
  done
  { printf 'name: slurm\ndescription: stand-in\nhomepage: https://example.invalid\nlicense: MIT\nbuild_system: make\nfrom: source\nversions:\n'
    printf '%s' "$versions"
    # shellcheck disable=SC2016  # make and recipe variables, not the shell's
    printf 'dependencies:\n  - fakea\n  - fakeb\nbuild:\n  - PREFIX=${prefix}\ninstall:\n  - install\n  - PREFIX=${prefix}\n'
  } > "$sd/recipes/slurm.yaml"
  STANDIN_SOURCES="$sd/sources"
  export SLURM_FACTORY_RECIPE_DIR="$sd/recipes"
}
standin_sources() {
  mkdir -p "$1"
  for f in "$STANDIN_SOURCES"/*.tar.gz; do
    [ -e "$f" ] || continue
    sha=$(sha256sum "$f" | cut -d' ' -f1)
    mkdir -p "$1/sourcecache/$sha" && cp "$f" "$1/sourcecache/$sha/"
  done
}
