# slurm-factory build script, common part (templates/build/common.sh). The executor prepends the
# package's variables (SF_NAME, SF_VERSION, SF_PREFIX, SF_JOBS, SF_SOURCE, SF_STRIP_DIR,
# SF_AUTORECONF, SF_CONFIGURE_COMMAND, SF_CONFIGURE_ARGS, SF_BUILD_ARGS, SF_INSTALL_ARGS,
# SF_PATCHES and the recipe's environment) and appends the build system's part
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

sf_stage() {
  printf '%s\n' "$1" > "$SF_WORK/.stage"
  printf '==> [%s %s] %s\n' "$SF_NAME" "$SF_VERSION" "$1"
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
  sf_stage done
}
