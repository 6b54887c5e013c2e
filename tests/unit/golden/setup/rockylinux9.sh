#!/bin/sh
# Build image setup for toolchain rockylinux9 (family rocky): Rocky Linux 9, GCC 11.5, glibc 2.34.
# Rendered by slurm-factory from the release data: run once as root on top of the base
# image (the RUN step of the image build). The same data renders the same bytes.
set -eu

# Repositories.
dnf -y --setopt=install_weak_deps=False install \
    epel-release \
    dnf-plugins-core
dnf config-manager --set-enabled crb

# Build tools and the -dev packages of Slurm's features.
dnf -y --setopt=install_weak_deps=False --setopt=tsflags=nodocs install \
    autoconf \
    automake \
    bzip2 \
    ca-certificates \
    ccache \
    cmake \
    dbus-devel \
    diffutils \
    file \
    findutils \
    freeipmi-devel \
    gcc \
    gcc-c++ \
    glibc-devel \
    gzip \
    hdf5-devel \
    http-parser-devel \
    hwloc-devel \
    json-c-devel \
    kernel-headers \
    libcurl-devel \
    libjwt-devel \
    librdkafka-devel \
    libtool \
    libyaml-devel \
    lua-devel \
    lz4-devel \
    m4 \
    make \
    mariadb-connector-c-devel \
    munge-devel \
    numactl-devel \
    openssl-devel \
    pam-devel \
    patch \
    patchelf \
    perl \
    pkgconf-pkg-config \
    pmix-devel \
    procps-ng \
    python3 \
    readline-devel \
    shadow-utils \
    tar \
    which \
    xz \
    zlib-devel \
    zstd

# Clean the package caches: they are not part of the image.
dnf clean all
rm -rf /var/cache/dnf

# The unprivileged user every build runs as (fixed uid/gid 10001).
groupadd --gid 10001 builder
useradd --uid 10001 --gid 10001 --no-log-init --create-home --home-dir /home/builder --shell /bin/sh builder

# Compare the installed compiler and C library with the release data.
sf_gcc=$(gcc -dumpfullversion)
sf_glibc=$(getconf GNU_LIBC_VERSION | sed 's/^glibc //')
echo "slurm-factory: rockylinux9 has gcc $sf_gcc, glibc $sf_glibc"
case "$sf_gcc" in
  11.5 | 11.5.*) ;;
  *) echo "slurm-factory: warning: release data says gcc 11.5" >&2 ;;
esac
case "$sf_glibc" in
  2.34 | 2.34.*) ;;
  *) echo "slurm-factory: warning: release data says glibc 2.34" >&2 ;;
esac
