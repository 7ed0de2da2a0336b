#!/usr/bin/env bash
# Build the example OCI image from the busybox root filesystem (rootfs/build.sh).
#
# Usage: rootfs/image.sh [OUT_DIR]      (default OUT_DIR: <repo>/rootfs/out)
#
# Produces OUT_DIR/example-oci/: an OCI image layout holding `example:latest`, two layers (the
# busybox tree, then a small app layer), with an entrypoint, Cmd, Env, WorkingDir and the
# non-root User app. Rebuilt only when the busybox tree changed; built in a temporary directory
# and renamed into place. Needs root (umoci keeps file owners) and umoci.
# On success, prints the absolute path of the layout on stdout.
set -euo pipefail
umask 022
script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(cd -- "$script_dir/.." && pwd -P)
out_dir=${1:-$repo_root/rootfs/out}
log() { printf 'rootfs/image.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v umoci >/dev/null || die "umoci is missing: scripts/install-deps.sh installs it (apt-get install umoci)"
[[ $(id -u) == 0 ]] || die "run as root: umoci keeps the owners of the files it packs"
rootfs=$("$script_dir/build.sh" "$out_dir")
layout=$out_dir/example-oci
stamp=$out_dir/example-oci.stamp
inputs=$( (cat "$out_dir/busybox.stamp" 2>/dev/null; sha256sum "$0") | sha256sum | cut -d' ' -f1)
if [[ -d $layout && -f $stamp && $(cat "$stamp") == "$inputs" ]]; then
    printf '%s\n' "$layout"
    exit 0
fi

work=$(mktemp -d "$out_dir/.example-oci.XXXXXX")
trap 'rm -rf "$work"' EXIT
umoci init --layout "$work/oci"
umoci new --image "$work/oci:latest"
umoci unpack --image "$work/oci:latest" "$work/bundle" >/dev/null
cp -a "$rootfs/." "$work/bundle/rootfs/"
umoci repack --image "$work/oci:latest" "$work/bundle" >/dev/null
rm -rf "$work/bundle"

# A second layer: the "application", so that images share the busybox layer below it.
umoci unpack --image "$work/oci:latest" "$work/bundle" >/dev/null
mkdir -p "$work/bundle/rootfs/srv/app"
cat >"$work/bundle/rootfs/srv/app/hello.sh" <<'SCRIPT'
#!/bin/sh
echo "hello from $(hostname) as $(id -un) in $(pwd): $GREETING"
[ $# -gt 0 ] && echo "arguments: $*"
exit 0
SCRIPT
chmod 0755 "$work/bundle/rootfs/srv/app/hello.sh"
chown -R 1000:1000 "$work/bundle/rootfs/srv/app"
umoci repack --image "$work/oci:latest" "$work/bundle" >/dev/null
rm -rf "$work/bundle"

umoci config --image "$work/oci:latest" \
    --config.entrypoint /srv/app/hello.sh \
    --config.cmd world \
    --config.env PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin \
    --config.env GREETING=hi \
    --config.workingdir /srv/app \
    --config.user app \
    --author berth --history.created_by "rootfs/image.sh"
umoci gc --layout "$work/oci"
rm -rf "$layout"
mv "$work/oci" "$layout"
printf '%s\n' "$inputs" >"$stamp"
log "built $layout"
printf '%s\n' "$layout"
