# CMake: out-of-tree configure in /work/build, build, install with DESTDIR.
sf_configure() {
  cd "$SF_BUILD"
  eval "set -- $SF_CONFIGURE_ARGS"
  ${SF_CONFIGURE_COMMAND:-cmake} -S "$SF_SRC" -B "$SF_BUILD" \
    -DCMAKE_INSTALL_RPATH_USE_LINK_PATH=OFF -DCMAKE_SKIP_INSTALL_RPATH=ON \
    ${SF_CMAKE_TOOLCHAIN:+"-DCMAKE_TOOLCHAIN_FILE=$SF_CMAKE_TOOLCHAIN"} "$@"
}

sf_build() {
  cd "$SF_BUILD"
  eval "set -- $SF_BUILD_ARGS"
  cmake --build "$SF_BUILD" -- "$@"
}

sf_install() {
  cd "$SF_BUILD"
  eval "set -- $SF_INSTALL_ARGS"
  [ "$#" -gt 0 ] || set -- install
  DESTDIR="$SF_DESTDIR" cmake --build "$SF_BUILD" --target "$@"
}
