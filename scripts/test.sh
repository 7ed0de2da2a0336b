#!/usr/bin/env bash
# The whole test suite: unit tests, real-kernel tests as root (cgroup v1 or v2, whichever this
# host has), then the same real-kernel tests inside a pure cgroup v2 kernel. Under CI=true a
# test that would skip for lack of root or the VM fails instead.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
rootfs/build.sh >/dev/null
swift build --build-tests
# The VM test runs on its own: QEMU takes both cores, which would skew the CPU-limit test.
swift test --skip-build --skip CgroupV2VMTests
swift test --skip-build --filter CgroupV2VMTests
