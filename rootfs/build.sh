#!/usr/bin/env bash
# Build the minimal root filesystems used by Berth's tests and examples.
#
# Usage: rootfs/build.sh [OUT_DIR]      (default OUT_DIR: <repo>/rootfs/out)
#
# Produces OUT_DIR/busybox/: Debian's static busybox with a symlink per
# applet, a few /etc files, and /bin/probe (built from rootfs/probe/probe.c).
# The tree is rebuilt only when its inputs change (stamp file
# OUT_DIR/busybox.stamp), and is built in a temporary directory and renamed
# into place, so an interrupted build never leaves a half-built tree.
# On success, prints the absolute path of OUT_DIR/busybox on stdout.
set -euo pipefail
umask 022

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
repo_root=$(cd -- "$script_dir/.." && pwd -P)
probe_dir=$script_dir/probe
out_dir=${1:-$repo_root/rootfs/out}

log() { printf 'rootfs/build.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

[[ $# -le 1 ]] || die "usage: rootfs/build.sh [OUT_DIR]"

# ------------------------------------------------------------ dependencies

find_busybox() {
    local p
    for p in /bin/busybox /usr/bin/busybox; do
        if [[ -x $p ]]; then
            printf '%s\n' "$p"
            return 0
        fi
    done
    return 1
}

have_deb() {
    command -v dpkg-query >/dev/null 2>&1 &&
        [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

# Prints the packages that are missing (one per line).
missing_packages() {
    if command -v dpkg-query >/dev/null 2>&1; then
        # The dynamic `busybox` package also ships /bin/busybox: insist on
        # the static build, which runs in an otherwise empty root.
        have_deb busybox-static || echo busybox-static
    else
        find_busybox >/dev/null || echo busybox-static
    fi
    command -v gcc >/dev/null 2>&1 || echo gcc
    # libc.a is what -static links against (libc6-dev on Debian).
    if ! command -v gcc >/dev/null 2>&1 ||
        [[ $(gcc -print-file-name=libc.a) != /* ]]; then
        echo libc6-dev
    fi
}

ensure_dependencies() {
    local -a missing
    mapfile -t missing < <(missing_packages)
    ((${#missing[@]} == 0)) && return 0

    local install_cmd="apt-get install -y --no-install-recommends ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
        die "missing packages: ${missing[*]}; install them as root: $install_cmd"
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die "missing packages: ${missing[*]} (and apt-get is not available)"
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
        log "install failed; running apt-get update and retrying"
        apt-get update >&2
        apt-get install -y --no-install-recommends "${missing[@]}" >&2
    fi
    mapfile -t missing < <(missing_packages)
    ((${#missing[@]} == 0)) || die "still missing after install: ${missing[*]}"
}

# ------------------------------------------------------------------ stamp

# Hash of everything the tree is built from: this script, the probe sources,
# the busybox binary and the compiler version.
compute_stamp() {
    local bb=$1
    {
        sha256sum -- "$script_dir/build.sh"
        find "$probe_dir" -type f -print0 | LC_ALL=C sort -z |
            xargs -0 sha256sum --
        sha256sum -- "$bb"
        gcc --version 2>/dev/null | head -n 1 || true
        id -u
    } | sha256sum | cut -d' ' -f1
}

# ------------------------------------------------------------------ build

build_tree() {
    local root=$1 bb=$2 d

    chmod 0755 "$root"
    for d in proc sys dev etc tmp root home home/app var run \
        bin sbin usr usr/bin usr/sbin usr/local usr/local/bin; do
        mkdir -p -- "$root/$d"
        chmod 0755 -- "$root/$d"
    done
    chmod 1777 "$root/tmp"
    chmod 0700 "$root/root"

    # busybox: a plain copy, never setuid.
    cp -- "$bb" "$root/bin/busybox"
    chmod 0755 "$root/bin/busybox"

    local applet
    while IFS= read -r applet; do
        applet=${applet#/}
        case $applet in
        "" | bin/busybox | linuxrc) continue ;;
        esac
        mkdir -p -- "$root/$(dirname -- "$applet")"
        [[ -e $root/$applet || -L $root/$applet ]] ||
            ln -s /bin/busybox "$root/$applet"
    done < <("$bb" --list-full)

    # The probe.
    gcc -static -O2 -Wall -Wextra -Werror -s \
        -o "$root/bin/probe" "$probe_dir/probe.c"
    chmod 0755 "$root/bin/probe"

    # /etc.
    cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
    cat >"$root/etc/group" <<'EOF'
root:x:0:
app:x:1000:
users:x:100:app
nogroup:x:65534:
EOF
    # Placeholders: the runtime bind-mounts over these.
    : >"$root/etc/hostname"
    : >"$root/etc/hosts"
    : >"$root/etc/resolv.conf"
    cat >"$root/etc/os-release" <<'EOF'
NAME="Berth test rootfs"
PRETTY_NAME="Berth test rootfs (busybox)"
ID=berth-test
VERSION_ID=1
HOME_URL="https://example.invalid/berth"
EOF
    chmod 0644 "$root"/etc/{passwd,group,hostname,hosts,resolv.conf,os-release}

    # Ownership: root:root everywhere except /home/app.
    if [[ $(id -u) -eq 0 ]]; then
        chown -R -h 0:0 -- "$root"
        chown 1000:1000 -- "$root/home/app"
    else
        log "warning: not root; the tree is owned by $(id -un), not root:root"
    fi
}

main() {
    mkdir -p -- "$out_dir"
    out_dir=$(cd -- "$out_dir" && pwd -P)
    local target=$out_dir/busybox
    local stamp_file=$out_dir/busybox.stamp

    # Serialize concurrent builds into the same OUT_DIR.
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$out_dir/.busybox.lock"
        flock 9
    fi

    # Fast path: nothing changed since the last build.
    local bb stamp
    if bb=$(find_busybox) && [[ -d $target && -f $stamp_file ]]; then
        stamp=$(compute_stamp "$bb")
        if [[ $(<"$stamp_file") == "$stamp" ]]; then
            printf '%s\n' "$target"
            return 0
        fi
    fi

    ensure_dependencies
    bb=$(find_busybox) || die "busybox not found after installing busybox-static"
    stamp=$(compute_stamp "$bb")

    # Leftovers of interrupted builds.
    rm -rf -- "$out_dir"/.busybox.tmp.* "$out_dir"/.busybox.old.*

    local started=$SECONDS tmp
    tmp=$(mktemp -d -- "$out_dir/.busybox.tmp.XXXXXX")
    trap "rm -rf -- $(printf '%q' "$tmp")" EXIT
    build_tree "$tmp" "$bb"

    rm -f -- "$stamp_file"
    if [[ -e $target ]]; then
        local old=$out_dir/.busybox.old.$$
        mv -- "$target" "$old"
        mv -- "$tmp" "$target"
        rm -rf -- "$old"
    else
        mv -- "$tmp" "$target"
    fi
    trap - EXIT
    printf '%s\n' "$stamp" >"$stamp_file"
    log "built $target in $((SECONDS - started))s"
    printf '%s\n' "$target"
}

main
