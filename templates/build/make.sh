# Plain make: no configure step (unless the recipe names a configure_command), make, make install.
sf_configure() {
  cd "$SF_SRC"
  if [ -n "$SF_CONFIGURE_COMMAND" ]; then
    eval "set -- $SF_CONFIGURE_ARGS"
    $SF_CONFIGURE_COMMAND "$@"
  else
    echo "plain make: nothing to configure"
  fi
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
