#!/bin/sh
# Build image setup for toolchain bookworm (family debian): Debian GNU/Linux 12 (bookworm), GCC 12.2, glibc 2.36.
# Rendered by slurm-factory from the release data: run once as root on top of the base
# image (the RUN step of the image build). The same data renders the same bytes.
set -eu

# Cross build: amd64 host and image, arm64 target.
dpkg --add-architecture arm64

export DEBIAN_FRONTEND=noninteractive

# Build tools and the -dev packages of Slurm's features.
apt-get update
apt-get install -y --no-install-recommends \
    autoconf \
    automake \
    bzip2 \
    ca-certificates \
    ccache \
    cmake \
    crossbuild-essential-arm64 \
    file \
    g++ \
    gcc \
    gzip \
    libc6-dev \
    libcurl4-openssl-dev:arm64 \
    libdbus-1-dev:arm64 \
    libfreeipmi-dev:arm64 \
    libhdf5-dev:arm64 \
    libhttp-parser-dev:arm64 \
    libhwloc-dev:arm64 \
    libipmimonitoring-dev:arm64 \
    libjson-c-dev:arm64 \
    libjwt-dev:arm64 \
    liblua5.4-dev:arm64 \
    liblz4-dev:arm64 \
    libmariadb-dev-compat:arm64 \
    libmariadb-dev:arm64 \
    libmunge-dev:arm64 \
    libnuma-dev:arm64 \
    libpam0g-dev:arm64 \
    libpmix-dev:arm64 \
    librdkafka-dev:arm64 \
    libreadline-dev:arm64 \
    libssl-dev:arm64 \
    libtool \
    libyaml-dev:arm64 \
    linux-libc-dev:arm64 \
    m4 \
    make \
    patch \
    patchelf \
    perl \
    pkgconf \
    python3 \
    tar \
    xz-utils \
    zlib1g-dev:arm64 \
    zstd

# Clean the package caches: they are not part of the image.
apt-get clean
rm -rf /var/lib/apt/lists/*

# The unprivileged user every build runs as (fixed uid/gid 10001).
groupadd --gid 10001 builder
useradd --uid 10001 --gid 10001 --no-log-init --create-home --home-dir /home/builder --shell /bin/sh builder

# Compare the installed compiler and C library with the release data.
sf_gcc=$(gcc -dumpfullversion)
sf_glibc=$(getconf GNU_LIBC_VERSION | sed 's/^glibc //')
echo "slurm-factory: bookworm has gcc $sf_gcc, glibc $sf_glibc"
case "$sf_gcc" in
  12.2 | 12.2.*) ;;
  *) echo "slurm-factory: warning: release data says gcc 12.2" >&2 ;;
esac
case "$sf_glibc" in
  2.36 | 2.36.*) ;;
  *) echo "slurm-factory: warning: release data says glibc 2.36" >&2 ;;
esac
