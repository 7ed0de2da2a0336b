#!/usr/bin/env bash
# A single-node Berth and a first task, as root on Debian 12: installs what is missing, builds
# Berth, builds the example OCI image from rootfs/, starts `berth up` (coordinator, agent and
# image store in one process) with that image imported, runs a task through the coordinator with
# `berth task run`, shows where things are, and stops. State goes to $BERTH_HOME (default
# /var/lib/berth); a second run takes up where this one left off.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# The Swift runtime and Foundation linked in: a container starts ~9 ms sooner than with them
# loaded as shared libraries (docs/benchmarks.md). berth runs `berth run --rootfs` itself and
# hands every other command to berth-full beside it. berth-supervise is C and links nothing of Swift.
swift build -c release --static-swift-stdlib --product berth >&2
swift build -c release --static-swift-stdlib --product berth-full >&2
swift build -c release --product berth-supervise >&2
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
cp "$(swift build -c release --show-bin-path)/berth-supervise" "$bin/berth-supervise"
berth=$bin/berth
layout=$(rootfs/image.sh)

log=$(mktemp)
echo "+ berth up --import example=$layout" >&2
"$berth" up --import "example=$layout" >"$log" 2>&1 &
up=$!
trap 'kill -TERM $up 2>/dev/null; wait $up 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 100); do grep -q "berth up: ready" "$log" && break; kill -0 $up 2>/dev/null || break; sleep 0.2; done
cat "$log" >&2
grep -q "berth up: ready" "$log" || { echo "quickstart: berth up did not start; its output is above" >&2; exit 1; }

echo "+ berth task run --image example --cpus 0.5 --mem 64 -- /bin/sh -c ..." >&2
status=0
"$berth" task run --image example --cpus 0.5 --mem 64 -- /bin/sh -c '
  echo "hello from task $MESOS_TASK_ID on $HOST, pid $$ in my own namespace"
  /bin/probe spin 1
  exit 3' || status=$?
echo "the task exited with status $status (its own: exit 3); its output is in the sandbox:" >&2
cat "${BERTH_HOME:-/var/lib/berth}"/agent/sandboxes/*/task-*/stdout 2>/dev/null | tail -n 3 >&2 || true
echo "+ berth agent ls" >&2
"$berth" agent ls
