# Meson: setup in /work/build, compile, install with DESTDIR.
sf_configure() {
  cd "$SF_SRC"
  eval "set -- $SF_CONFIGURE_ARGS"
  ${SF_CONFIGURE_COMMAND:-meson setup} "$SF_BUILD" "$SF_SRC" "$@"
}

sf_build() {
  eval "set -- $SF_BUILD_ARGS"
  meson compile -C "$SF_BUILD" "$@"
}

sf_install() {
  eval "set -- $SF_INSTALL_ARGS"
  DESTDIR="$SF_DESTDIR" meson install -C "$SF_BUILD" --no-rebuild "$@"
}
