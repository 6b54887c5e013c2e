# Autotools (and look-alikes such as OpenSSL's ./config): in-tree configure, make, make install.
sf_configure() {
  cd "$SF_SRC"
  # A tag snapshot (e.g. a Debian orig tarball) may ship configure.ac without configure.
  if [ -z "$SF_CONFIGURE_COMMAND" ] && [ ! -x ./configure ] && [ -f configure.ac ]; then
    echo "no ./configure in the sources: running autoreconf -fi (set 'autoreconf: true' in the recipe)"
    autoreconf -fi
  fi
  eval "set -- $SF_CONFIGURE_ARGS"
  # A cross build: --host/--build for configure itself (a recipe's own configure command, such as
  # OpenSSL's ./Configure, names its target in its arguments).
  # shellcheck disable=SC2086 # two words, or none
  [ -n "$SF_CONFIGURE_COMMAND" ] || set -- $SF_CONFIGURE_HOST_ARGS "$@"
  ${SF_CONFIGURE_COMMAND:-./configure} "$@"
}

sf_build() {
  cd "$SF_SRC"
  eval "set -- $SF_BUILD_ARGS"
  sf_make "$@"
}

sf_install() {
  cd "$SF_SRC"
  eval "set -- $SF_INSTALL_ARGS"
  [ "$#" -gt 0 ] || set -- install
  sf_make DESTDIR="$SF_DESTDIR" "$@"
  sf_extra_install
}
