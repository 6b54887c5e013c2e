# slurm-factory build script, common part (templates/build/common.sh). The executor prepends the
# package's variables (SF_NAME, SF_VERSION, SF_PREFIX, SF_JOBS, SF_SOURCE, SF_STRIP_DIR,
# SF_AUTORECONF, SF_CONFIGURE_COMMAND, SF_CONFIGURE_ARGS, SF_BUILD_ARGS, SF_INSTALL_ARGS,
# SF_EXTRA_INSTALL, SF_PATCHES and the recipe's environment) and appends the build system's part
# (templates/build/<system>.sh), which defines sf_configure, sf_build and sf_install.
#
# Layout inside the container: the source archive is mounted read-only under /sources, the
# dependencies' staged trees read-only at $SF_PREFIX, /work is the writable work directory:
#   /work/src     unpacked (and patched) sources
#   /work/build   out-of-tree build directory (cmake, meson); autotools and make build in-tree
#   /work/stage   DESTDIR of the install step
#   /work/.stage  the step running now (read by the executor when a step fails)
#
# SF_ONLY_STAGE=<step> reruns one step (configure, build or install) on the state left in /work,
# which is what the debug bundle's rerun command does.
set -eu
umask 022

SF_WORK=/work
SF_SRC=$SF_WORK/src
SF_BUILD=$SF_WORK/build
SF_DESTDIR=$SF_WORK/stage

SF_T0=$(date +%s)
sf_stage() {
  printf '%s\n' "$1" > "$SF_WORK/.stage"
  # seconds since the script started: where a build spends its time, read from its log
  printf '==> [%s %s] %s (at %s s)\n' "$SF_NAME" "$SF_VERSION" "$1" "$(($(date +%s) - SF_T0))"
}

# The dependencies under the prefix are what this build links against, before the system's.
export PKG_CONFIG_PATH="$SF_PREFIX/lib/pkgconfig:$SF_PREFIX/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export CPPFLAGS="-I$SF_PREFIX/include${SF_ENV_CPPFLAGS:+ $SF_ENV_CPPFLAGS}"
export CFLAGS="${SF_ENV_CFLAGS:--O2 -g}"
export CXXFLAGS="${SF_ENV_CXXFLAGS:--O2 -g}"
export LDFLAGS="-L$SF_PREFIX/lib -Wl,-rpath-link,$SF_PREFIX/lib${SF_ENV_LDFLAGS:+ $SF_ENV_LDFLAGS}"
export CMAKE_PREFIX_PATH="$SF_PREFIX"
# Configure tests run programs linked against the dependencies.
export LD_LIBRARY_PATH="$SF_PREFIX/lib"
export HOME=/work/home
mkdir -p "$HOME"

# --- Reproducible builds (issue 19): the same inputs give the same bytes. -----------------------
# SOURCE_DATE_EPOCH comes from the source archive's newest file (set by the executor; packages such
# as OpenSSL compile it in instead of the clock), a fixed time zone and locale (the umask is set above), and the build
# folder mapped to "." in __FILE__ and debug info.
if [ -n "${SF_SOURCE_DATE_EPOCH:-}" ]; then
  export SOURCE_DATE_EPOCH="$SF_SOURCE_DATE_EPOCH"
fi
export TZ=UTC
if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
  export LC_ALL=C.UTF-8
else
  export LC_ALL=C
fi
CFLAGS="$CFLAGS -ffile-prefix-map=$SF_WORK=."
CXXFLAGS="$CXXFLAGS -ffile-prefix-map=$SF_WORK=."
export CFLAGS CXXFLAGS
# --- end of reproducible builds -----------------------------------------------------------------

sf_unpack() {
  sf_stage unpack
  rm -rf "$SF_WORK/extract" "$SF_SRC" "$SF_BUILD" "$SF_DESTDIR"
  mkdir -p "$SF_WORK/extract"
  tar -xf "$SF_SOURCE" -C "$SF_WORK/extract" --no-same-owner
  if [ -n "$SF_STRIP_DIR" ] && [ -d "$SF_WORK/extract/$SF_STRIP_DIR" ]; then
    mv "$SF_WORK/extract/$SF_STRIP_DIR" "$SF_SRC"
  else
    # No top folder named: take the only one there is, else the archive's root.
    set -- "$SF_WORK"/extract/*
    if [ "$#" -eq 1 ] && [ -d "$1" ]; then
      mv "$1" "$SF_SRC"
    else
      mv "$SF_WORK/extract" "$SF_SRC"
    fi
  fi
  rm -rf "$SF_WORK/extract"
  mkdir -p "$SF_BUILD" "$SF_DESTDIR"
}

sf_patch() {
  [ -n "$SF_PATCHES" ] || return 0
  sf_stage patch
  cd "$SF_SRC"
  # One "strip file" pair per line.
  printf '%s\n' "$SF_PATCHES" | while read -r strip file; do
    [ -n "$file" ] || continue
    echo "applying $file (-p$strip)"
    patch -p"$strip" -N -i "/work/patches/$file"
  done
}

# The recipe's extra_install: one more `make DESTDIR=... ARGS` per line of SF_EXTRA_INSTALL (each
# line a shell-quoted argument list), in the source tree, after the install step.
sf_extra_install() {
  [ -n "${SF_EXTRA_INSTALL:-}" ] || return 0
  cd "$SF_SRC"
  printf '%s' "$SF_EXTRA_INSTALL" | while IFS= read -r line; do
    [ -n "$line" ] || continue
    eval "set -- $line"
    echo "make DESTDIR=$SF_DESTDIR $*"
    make DESTDIR="$SF_DESTDIR" "$@"
  done
}

sf_autoreconf() {
  [ "$SF_AUTORECONF" = 1 ] || return 0
  sf_stage autoreconf
  cd "$SF_SRC"
  autoreconf -fi
}

sf_run_stage() {
  case "$1" in
    configure) sf_stage configure; sf_configure ;;
    build) sf_stage build; sf_build ;;
    install) sf_stage install; sf_install ;;
    *) echo "unknown step '$1' (configure, build or install)" >&2; exit 2 ;;
  esac
}

sf_main() {
  if [ -n "${SF_ONLY_STAGE:-}" ]; then
    sf_run_stage "$SF_ONLY_STAGE"
    return
  fi
  sf_unpack
  sf_patch
  sf_autoreconf
  sf_run_stage configure
  sf_run_stage build
  sf_run_stage install
  sf_ccache_stats
  sf_stage "done"
}

# --- compiler cache (build.ccache; docs/containers.md "Compiler cache") ---------------------------
# The executor mounts <cache_dir>/ccache/<image hash> at $SF_CCACHE_DIR, shared by every package
# build of this toolchain image. ccache keys each object on the preprocessed source (or the source
# and every header it reads), the compiler and the complete command line, so a hit is the object
# the compiler would have produced: the cache changes how long a build takes, never what it builds.
# Every build unpacks under the same /work, so paths are relative to it (CCACHE_BASEDIR) and the
# working directory is not hashed (CCACHE_NOHASHDIR): two builds of one source tree share hits.
# A missing, unwritable or corrupt cache only costs misses (ccache checks what it reads).
sf_ccache_setup() {
  [ -n "${SF_CCACHE_DIR:-}" ] && [ -d "$SF_CCACHE_DIR" ] && [ -w "$SF_CCACHE_DIR" ] || return 0
  command -v ccache >/dev/null 2>&1 || return 0
  for sf_ccache_wrappers in /usr/lib/ccache /usr/lib64/ccache ""; do
    [ -z "$sf_ccache_wrappers" ] || [ -x "$sf_ccache_wrappers/gcc" ] && break
  done
  [ -n "$sf_ccache_wrappers" ] || return 0
  export CCACHE_DIR="$SF_CCACHE_DIR"
  export CCACHE_MAXSIZE="${SF_CCACHE_MAXSIZE:-5G}"
  export CCACHE_BASEDIR="$SF_WORK"
  export CCACHE_NOHASHDIR=1
  # Each build's sources and generated headers are fresh files of an unpack a moment ago: their
  # times say nothing (their contents are hashed), so they must not turn direct mode off.
  export CCACHE_SLOPPINESS=include_file_mtime,include_file_ctime
  # ccache maps its inode cache file into memory: a truncated one (a full disk, a copy cut short)
  # kills the compiler with SIGBUS. Without it every file ccache reads is checked as it is read.
  export CCACHE_NOINODECACHE=1
  # This build's own counters, read back by sf_ccache_stats (the cache's are shared).
  export CCACHE_STATSLOG="$SF_WORK/ccache-stats.log"
  # Debian's and Fedora's wrapper folders have gcc and g++ but no cc or c++, the names make's
  # built-in rules and many Makefiles call: links of our own for those, in front.
  sf_ccache_own="$SF_WORK/.sf-ccache-bin"
  mkdir -p "$sf_ccache_own" || return 0
  for sf_ccache_name in cc c++; do
    [ -e "$sf_ccache_wrappers/$sf_ccache_name" ] || [ -e "$sf_ccache_own/$sf_ccache_name" ] ||
      ln -s "$(command -v ccache)" "$sf_ccache_own/$sf_ccache_name"
  done
  export PATH="$sf_ccache_own:$sf_ccache_wrappers:$PATH"
  SF_CCACHE_ON=1
}

sf_ccache_stats() {
  [ "${SF_CCACHE_ON:-0}" = 1 ] || return 0
  sf_stage ccache-stats
  echo "ccache $CCACHE_DIR ($(ccache --version | head -n 1))"
  ccache --show-log-stats -v 2>/dev/null || ccache -s || true
}

SF_CCACHE_ON=0
sf_ccache_setup
# --- end of compiler cache ---------------------------------------------------------------------
