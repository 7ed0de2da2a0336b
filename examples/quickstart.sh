#!/usr/bin/env bash
# Installs what is missing, builds Berth, builds the example OCI image from rootfs/, imports it
# and runs it as a container with CPU, memory and process limits. Run as root from anywhere.
# State goes to $BERTH_HOME (default /var/lib/berth).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# The Swift runtime and Foundation linked in: a container starts ~9 ms sooner than with them
# loaded as shared libraries (docs/benchmarks.md).
swift build -c release --static-swift-stdlib --product berth >&2
berth=$(swift build -c release --static-swift-stdlib --show-bin-path)/berth
layout=$(rootfs/image.sh)
echo "+ berth image import --name example $layout" >&2
"$berth" image import --name example "$layout"
echo "+ berth run --cpus 0.5 --memory 64m --pids 32 --hostname demo example" >&2
"$berth" run --cpus 0.5 --memory 64m --pids 32 --hostname demo example
echo "+ berth run --memory 64m --hostname demo example /bin/sh -c ..." >&2
exec "$berth" run --cpus 0.5 --memory 64m --pids 32 --hostname demo --entrypoint /bin/sh example -c '
  echo "hello from $(hostname), pid $$ in my own namespace, as $(id -un)"
  echo "processes I can see: $(ls /proc | grep -c "^[0-9]")"
  /bin/probe spin 1
  /bin/probe alloc 100 | tail -n 1
  echo "that allocation ended when it hit the 64 MiB limit"
'
