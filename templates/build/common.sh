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

# --- Cross builds (issue 17; docs/arm64.md) ---------------------------------------------------------
# SF_CROSS_HOST (the target's GNU triplet, e.g. aarch64-linux-gnu) and SF_CROSS_BUILD (the image's):
# the image runs natively and compiles for the target with the triplet's tools (Debian's
# crossbuild-essential-<arch>); libraries and pkg-config data of the target come from its multiarch
# folders (/usr/lib/<triplet>), the -dev packages installed as NAME:<arch>. autotools configure
# gets --host/--build, CMake a toolchain file; a recipe that configures otherwise (OpenSSL's
# ./Configure) names the target itself (`when: {arch: ...}`).
SF_CONFIGURE_HOST_ARGS=
SF_CMAKE_TOOLCHAIN=
if [ -n "${SF_CROSS_HOST:-}" ]; then
  for sf_tool in gcc g++ ar ranlib nm strip objdump objcopy readelf ld; do
    if ! command -v "$SF_CROSS_HOST-$sf_tool" >/dev/null 2>&1; then
      echo "slurm-factory: the cross tool $SF_CROSS_HOST-$sf_tool is not in the image" \
        "(its setup installs crossbuild-essential for a cross build)" >&2
      exit 1
    fi
  done
  export CC="$SF_CROSS_HOST-gcc" CXX="$SF_CROSS_HOST-g++" CPP="$SF_CROSS_HOST-gcc -E"
  export AR="$SF_CROSS_HOST-ar" RANLIB="$SF_CROSS_HOST-ranlib" NM="$SF_CROSS_HOST-nm"
  export STRIP="$SF_CROSS_HOST-strip" OBJDUMP="$SF_CROSS_HOST-objdump"
  export OBJCOPY="$SF_CROSS_HOST-objcopy" READELF="$SF_CROSS_HOST-readelf" LD="$SF_CROSS_HOST-ld"
  # HDF5's h5cc (hdf5-helpers of the target) names the compiler that configure tests link with.
  export HDF5_CC="$CC" HDF5_CLINKER="$CC"
  # pkg-config reads the target's .pc files only (the prefix's come first, PKG_CONFIG_PATH)
  export PKG_CONFIG=pkg-config
  export PKG_CONFIG_LIBDIR="/usr/lib/$SF_CROSS_HOST/pkgconfig:/usr/share/pkgconfig"
  # The prefix's libraries are the target's: no native program can load them.
  unset LD_LIBRARY_PATH
  SF_CONFIGURE_HOST_ARGS="--host=$SF_CROSS_HOST --build=$SF_CROSS_BUILD"
  SF_CMAKE_TOOLCHAIN=$SF_WORK/cross-toolchain.cmake
  cat > "$SF_CMAKE_TOOLCHAIN" <<SF_CMAKE_EOF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${SF_CROSS_HOST%%-*})
set(CMAKE_C_COMPILER $SF_CROSS_HOST-gcc)
set(CMAKE_CXX_COMPILER $SF_CROSS_HOST-g++)
set(CMAKE_LIBRARY_ARCHITECTURE $SF_CROSS_HOST)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
SF_CMAKE_EOF
  # mysql_config/mariadb_config of the target's libmariadb-dev is a target program: a stand-in
  # answers what configure asks (version, include flags, libraries) from the target's pkg-config
  # data and headers, first on PATH.
  if pkg-config --exists libmariadb 2>/dev/null; then
    sf_cross_bin=$SF_WORK/.sf-cross-bin
    mkdir -p "$sf_cross_bin"
    cat > "$sf_cross_bin/mariadb_config" <<'SF_MYSQL_EOF'
#!/bin/sh
# slurm-factory: mariadb_config of the cross build's target, from pkg-config (templates/build/common.sh)
case "${1:-}" in
  --version)
    for d in $(pkg-config --cflags-only-I libmariadb | sed 's/-I//g') /usr/include/mariadb; do
      if [ -f "$d/mariadb_version.h" ]; then
        sed -n 's/^#define[[:space:]]*MARIADB_CLIENT_VERSION_STR[[:space:]]*"\(.*\)"/\1/p' \
          "$d/mariadb_version.h"
        exit 0
      fi
    done
    pkg-config --modversion libmariadb ;;
  --include | --cflags) pkg-config --cflags libmariadb ;;
  --libs | --libs_r | --libs_sys) pkg-config --libs libmariadb ;;
  *) echo "usage: mariadb_config --version|--include|--cflags|--libs|--libs_r" >&2; exit 1 ;;
esac
SF_MYSQL_EOF
    chmod +x "$sf_cross_bin/mariadb_config"
    ln -sf mariadb_config "$sf_cross_bin/mysql_config"
    export PATH="$sf_cross_bin:$PATH"
  fi
  echo "cross build: $SF_CROSS_BUILD image, $SF_CROSS_HOST target ($CC)"
fi
# --- end of cross builds ---------------------------------------------------------------------------

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
    sf_make DESTDIR="$SF_DESTDIR" "$@"
  done
}

sf_autoreconf() {
  [ "$SF_AUTORECONF" = 1 ] || return 0
  sf_stage autoreconf
  cd "$SF_SRC"
  autoreconf -fi
}

# make, with the recipe's make_shell (SF_MAKE_SHELL) for its recipes and libtool when the image
# has it: libtool is a shell script that runs hundreds of times in a Slurm build and starts far
# faster under dash than under bash (configure's usual choice). The commands are the same.
sf_make() {
  if [ -n "${SF_MAKE_SHELL:-}" ] && [ -x "/bin/$SF_MAKE_SHELL" ]; then
    make SHELL="/bin/$SF_MAKE_SHELL" "$@"
  else
    make "$@"
  fi
}

# --- incremental rebuilds (the recipe's `incremental: true`; core/.../build_tree_store.hpp) ------
# SF_SOURCE_LIST=1: the list of the pristine (unpacked and patched) sources, one
# "<sha256 or link:TARGET><TAB><path>" line each, goes to /work/source.sha256; the host keeps it
# with the build tree for the next build. None when a name or link target holds a tab, a newline
# or a backslash (then the tree is not kept).
sf_source_list() {
  rm -f "$SF_WORK/source.sha256"
  [ "${SF_SOURCE_LIST:-0}" = 1 ] || return 0
  cd "$SF_SRC"
  tab=$(printf '\t')
  nl='
'
  if [ -n "$(find . \( -name "*$tab*" -o -name "*$nl*" -o -name '*\\*' -o -lname "*$tab*" \
      -o -lname "*$nl*" -o -lname '*\\*' \) -print | head -n 1)" ]; then
    echo "a source file name holds a tab, a newline or a backslash: no incremental rebuild"
    return 0
  fi
  {
    find . -type f -print0 | xargs -0 -r sha256sum | sed "s/  /$tab/"
    find . -type l -printf "link:%l$tab%p\n"
  } | LC_ALL=C sort -t "$tab" -k 2 > "$SF_WORK/source.sha256.new"
  mv "$SF_WORK/source.sha256.new" "$SF_WORK/source.sha256"
}

# SF_PREV_TREE: the previous build's tree (src/ and source.sha256), taken over by the host because
# every input of this build but the source is the same. The new sources' files that differ from
# the previous sources go into it (with the time of now, so make redoes what depends on them), the
# files the new sources no longer have go, and it becomes /work/src. configure is skipped when
# only C/C++ sources and headers changed (SF_SKIP_CONFIGURE=1) and reruns in the tree otherwise;
# when an autotools input changed (configure.ac, Makefile.am, *.m4: make would want to rerun
# autoconf or automake) or anything fails, the build goes on from the fresh sources, as a cold one.
SF_SKIP_CONFIGURE=0
sf_reuse_tree() {
  [ -n "${SF_PREV_TREE:-}" ] || return 0
  sf_stage reuse
  if [ ! -f "$SF_WORK/source.sha256" ] || ! sf_reuse_into "$SF_PREV_TREE"; then
    echo "the previous build tree is not reused: building from the fresh sources"
    rm -rf "$SF_PREV_TREE"
    return 0
  fi
  rm -rf "$SF_SRC"
  mv "$SF_PREV_TREE/src" "$SF_SRC"
  rm -rf "$SF_PREV_TREE"
  [ ! -e "$SF_WORK/reuse.skip-configure" ] || SF_SKIP_CONFIGURE=1
}

sf_reuse_into() ( # sf_reuse_into PREV: merge the fresh sources into PREV/src; 1 when it cannot
  # Every step is checked by hand: set -e does not hold in a function called from an if.
  prev=$1
  tab=$(printf '\t')
  autotools_input='(^|/)(configure\.(ac|in)|Makefile\.am|[^/]*\.m4)$'
  [ -d "$prev/src" ] && [ -f "$prev/source.sha256" ] || exit 1
  # changed or new: lines of the new list that the old one does not have
  awk 'NR == FNR { old[$0] = 1; next } !($0 in old)' "$prev/source.sha256" \
    "$SF_WORK/source.sha256" > "$SF_WORK/reuse.lines" || exit 1
  cut -f 2- "$SF_WORK/reuse.lines" > "$SF_WORK/reuse.changed" || exit 1
  # gone: paths of the old list that the new one does not have
  awk -F "$tab" 'NR == FNR { now[$2] = 1; next } !($2 in now) { print $2 }' \
    "$SF_WORK/source.sha256" "$prev/source.sha256" > "$SF_WORK/reuse.gone" || exit 1
  if grep -Eh "$autotools_input" "$SF_WORK/reuse.changed" "$SF_WORK/reuse.gone" > "$SF_WORK/reuse.am"
  then
    echo "autotools inputs changed (make would rerun autoconf or automake):"
    head -n 5 "$SF_WORK/reuse.am"
    exit 1
  fi
  echo "reusing the build tree of the previous build: $(wc -l < "$SF_WORK/reuse.changed")" \
    "source file(s) changed or new, $(wc -l < "$SF_WORK/reuse.gone") gone"
  head -n 20 "$SF_WORK/reuse.changed"
  while IFS= read -r f; do
    rm -f "$prev/src/$f" || exit 1
  done < "$SF_WORK/reuse.gone"
  if [ -s "$SF_WORK/reuse.changed" ]; then
    (cd "$SF_SRC" && tar -cf "$SF_WORK/reuse.tar" --no-recursion --verbatim-files-from \
      -T "$SF_WORK/reuse.changed") || exit 1
    # -m: extracted with the time of now, newer than every object of the previous build
    (cd "$prev/src" && tar -xmf "$SF_WORK/reuse.tar" --no-same-owner) || exit 1
    rm -f "$SF_WORK/reuse.tar"
  fi
  if ! grep -Evq '\.(c|h|cc|cpp|cxx|hh|hpp)$' "$SF_WORK/reuse.changed" &&
     [ ! -s "$SF_WORK/reuse.gone" ] && [ -f "$prev/src/config.status" ]; then
    echo "only C/C++ sources changed: configure is not rerun"
    : > "$SF_WORK/reuse.skip-configure" || exit 1
  fi
  exit 0
)
# The tree for the next build (SF_KEEP_TREE=1: the host keeps it): /work/keep (the builder's own
# folder, so that the next build's container can move things out of it) with src/ and the source
# list, renamed by the host.
sf_keep_tree() {
  [ "${SF_KEEP_TREE:-0}" = 1 ] && [ -f "$SF_WORK/source.sha256" ] || return 0
  rm -rf "$SF_WORK/keep"
  mkdir "$SF_WORK/keep"
  mv "$SF_SRC" "$SF_WORK/keep/src"
  mv "$SF_WORK/source.sha256" "$SF_WORK/keep/source.sha256"
}
# --- end of incremental rebuilds -----------------------------------------------------------------

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
  sf_source_list
  sf_reuse_tree
  if [ "$SF_SKIP_CONFIGURE" = 1 ]; then
    sf_stage "configure (skipped: only C/C++ sources changed since the reused build)"
  else
    sf_run_stage configure
  fi
  sf_run_stage build
  sf_run_stage install
  sf_ccache_stats
  sf_keep_tree
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
