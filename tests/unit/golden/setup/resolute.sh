#!/bin/sh
# Build image setup for toolchain resolute (family ubuntu): Ubuntu 26.04 LTS (Resolute Raccoon), GCC 15.2, glibc 2.42.
# Rendered by slurm-factory from the release data: run once as root on top of the base
# image (the RUN step of the image build). The same data renders the same bytes.
set -eu

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
    file \
    g++ \
    gcc \
    gzip \
    libc6-dev \
    libcurl4-openssl-dev \
    libdbus-1-dev \
    libfreeipmi-dev \
    libhdf5-dev \
    libhttp-parser-dev \
    libhwloc-dev \
    libipmimonitoring-dev \
    libjson-c-dev \
    libjwt-dev \
    liblua5.4-dev \
    liblz4-dev \
    libmariadb-dev \
    libmariadb-dev-compat \
    libmunge-dev \
    libnuma-dev \
    libpam0g-dev \
    libpmix-dev \
    librdkafka-dev \
    libreadline-dev \
    libssl-dev \
    libtool \
    libxml2-16 \
    libyaml-dev \
    linux-libc-dev \
    m4 \
    make \
    patch \
    patchelf \
    perl \
    pkgconf \
    python3 \
    tar \
    xz-utils \
    zlib1g-dev \
    zstd

# Quirks of resolute.
apt-get install -y --no-install-recommends --allow-remove-essential coreutils-from-gnu
cat --version | grep -q 'GNU coreutils'
ln -sf libxml2.so.16 /usr/lib/x86_64-linux-gnu/libxml2.so.2

# Clean the package caches: they are not part of the image.
apt-get clean
rm -rf /var/lib/apt/lists/*

# The unprivileged user every build runs as (fixed uid/gid 10001).
groupadd --gid 10001 builder
useradd --uid 10001 --gid 10001 --no-log-init --create-home --home-dir /home/builder --shell /bin/sh builder

# Compare the installed compiler and C library with the release data.
sf_gcc=$(gcc -dumpfullversion)
sf_glibc=$(getconf GNU_LIBC_VERSION | sed 's/^glibc //')
echo "slurm-factory: resolute has gcc $sf_gcc, glibc $sf_glibc"
case "$sf_gcc" in
  15.2 | 15.2.*) ;;
  *) echo "slurm-factory: warning: release data says gcc 15.2" >&2 ;;
esac
case "$sf_glibc" in
  2.42 | 2.42.*) ;;
  *) echo "slurm-factory: warning: release data says glibc 2.42" >&2 ;;
esac
