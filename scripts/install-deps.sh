#!/usr/bin/env bash
# Installs the Debian packages Berth builds, runs and tests with (as root). Swift itself is
# expected on PATH (swift.org toolchain); Debian 12 does not package it.
set -euo pipefail
packages=(
  libseccomp-dev libcap-dev        # linked by berth
  libsqlite3-dev                   # the coordinator's state (GRDB)
  busybox-static gcc libc6-dev     # rootfs/build.sh: the test and example root filesystem
  runc                             # berth-bench run: the reference runtime
  qemu-system-x86 linux-image-amd64 cpio  # ../shared/tools/cgroup2-vm: tests on a pure cgroup v2 kernel
  iproute2 procps util-linux
  zlib1g-dev libzstd-dev           # image layers: gzip and zstd
  docker-registry apache2-utils    # image tests: a loopback registry, htpasswd for its auth
  umoci skopeo                     # image tests and berth-bench image: fixtures and the reference unpacker
  time tar gzip zstd               # berth-bench: peak RSS (GNU time) and the tar reference
)
missing=()
for p in "${packages[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
command -v swift >/dev/null || echo "install-deps: warning: swift is not on PATH; install a Swift 6 toolchain" >&2
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
