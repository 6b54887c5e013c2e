# Autotools (and look-alikes such as OpenSSL's ./config): in-tree configure, make, make install.
sf_configure() {
  cd "$SF_SRC"
  eval "set -- $SF_CONFIGURE_ARGS"
  ${SF_CONFIGURE_COMMAND:-./configure} "$@"
}

sf_build() {
  cd "$SF_SRC"
  eval "set -- $SF_BUILD_ARGS"
  make "$@"
}

sf_install() {
  cd "$SF_SRC"
  eval "set -- $SF_INSTALL_ARGS"
  [ "$#" -gt 0 ] || set -- install
  make DESTDIR="$SF_DESTDIR" "$@"
}
