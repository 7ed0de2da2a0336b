#!/usr/bin/env bash
# Installs what is missing, builds Berth, builds the example root filesystem and runs a
# container in it with CPU, memory and process limits. Run as root from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product berth >&2
berth=$(swift build -c release --show-bin-path)/berth
rootfs=$(rootfs/build.sh)
echo "+ berth run --rootfs $rootfs --cpus 0.5 --memory 64m --pids 32 --hostname demo -- /bin/sh -c ..." >&2
exec "$berth" run --rootfs "$rootfs" --cpus 0.5 --memory 64m --pids 32 --hostname demo -- /bin/sh -c '
  echo "hello from $(hostname), pid $$ in my own namespace"
  echo "processes I can see: $(ls /proc | grep -c "^[0-9]")"
  /bin/probe spin 1
  /bin/probe alloc 100 | tail -n 1
  echo "that allocation ended when it hit the 64 MiB limit"
'
