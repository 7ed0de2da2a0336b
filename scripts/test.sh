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
# CgroupV2KernelTests needs a pure cgroup v2 kernel; on hybrid hosts it runs only inside the VM.
host_skip=CgroupV2VMTests
[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || host_skip="$host_skip|CgroupV2KernelTests"
# The image and agent end-to-end tests start containers too; each on its own, so that the
# host-wide leftover checks only ever see their own suite's containers.
agent_suites="AgentEndToEndTests|HealthCheckEndToEndTests|BerthUpTests|PartitionTests|TaskLogsEndToEndTests"
# The coordinator's tests time heartbeats and timeouts in fractions of a second. Tests that wait
# for containers and commands hold threads of Swift's cooperative pool (one per core) while they
# wait, which can leave simulated agents' heartbeats unanswered for seconds; so the coordinator's tests
# run on their own, first.
swift test --skip-build --filter 'BerthCoordinatorTests\.'
swift test --skip-build --skip "$host_skip|BerthCoordinatorTests\.|ImageCommandTests|$agent_suites"
swift test --skip-build --filter ImageCommandTests
for suite in ${agent_suites//|/ }; do swift test --skip-build --filter "$suite"; done
swift test --skip-build --filter CgroupV2VMTests
