# Meson: setup in /work/build, compile, install with DESTDIR.
sf_configure() {
  cd "$SF_SRC"
  eval "set -- $SF_CONFIGURE_ARGS"
  if [ -n "${SF_CROSS_HOST:-}" ]; then
    # A cross build: meson's cross file from common.sh's cross tools.
    cat > "$SF_WORK/cross.ini" <<SF_MESON_EOF
[binaries]
c = '$SF_CROSS_HOST-gcc'
cpp = '$SF_CROSS_HOST-g++'
ar = '$SF_CROSS_HOST-ar'
strip = '$SF_CROSS_HOST-strip'
pkg-config = 'pkg-config'

[host_machine]
system = 'linux'
cpu_family = '${SF_CROSS_HOST%%-*}'
cpu = '${SF_CROSS_HOST%%-*}'
endian = 'little'
SF_MESON_EOF
    set -- --cross-file "$SF_WORK/cross.ini" "$@"
  fi
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
