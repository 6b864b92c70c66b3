#!/usr/bin/env bash
# enter.sh [--overlay] [--bind SRC:DST[:ro]]... ROOT -- COMMAND [ARGS...]
#
# Runs COMMAND chrooted into ROOT, in a private mount and PID namespace of its
# own (unshare): /proc, /dev, /dev/pts, /dev/shm and the bind mounts exist only
# in that namespace and vanish with it, so nothing stays mounted when the
# command ends, fails or is killed (the trap unmounts too, in reverse order).
# Every process left in the chroot dies with it.
#
# --overlay   ROOT is not changed: the chroot is an overlay on top of it whose
#             writable layer is a tmpfs, thrown away at the end. Without it,
#             changes persist in ROOT (used to build the cached chroots).
# --bind      bind-mounts the host folder SRC at DST inside the chroot
#             (created if missing), read-only with :ro.
#
# The command runs with a clean environment: PATH, HOME=/root, LANG=C.UTF-8,
# DEBIAN_FRONTEND=noninteractive, plus TCPS_* variables passed through.
# Needs root. Exit status: the command's.
set -euo pipefail

die() {
    echo "enter.sh: $*" >&2
    exit 2
}

[ "$(id -u)" -eq 0 ] || die "needs root"

if [ -z "${TCPS_ENTER_INSIDE:-}" ]; then
    # Private mount namespace (mounts made in it never reach the host) and PID
    # namespace (its processes die with it).
    exec env TCPS_ENTER_INSIDE=1 unshare --mount --propagation private --pid --fork \
        --kill-child -- "$0" "$@"
fi

overlay=0
binds=()
while [ $# -gt 0 ]; do
    case $1 in
    --overlay) overlay=1; shift ;;
    --bind) binds+=("$2"); shift 2 ;;
    --) die "ROOT missing" ;;
    *) break ;;
    esac
done
[ $# -ge 3 ] && [ "$2" = "--" ] || die "usage: enter.sh [--overlay] [--bind SRC:DST[:ro]]... ROOT -- COMMAND..."
lower=$1
shift 2
[ -x "$lower/bin/sh" ] || die "not a chroot: $lower"

mounted=()
cleanup() {
    local i
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" 2>/dev/null || true
    done
    [ -z "${scratch:-}" ] || rmdir "$scratch" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

mnt() { # mnt TARGET mount-args...
    local target=$1
    shift
    mount "$@" "$target"
    mounted+=("$target")
}

if [ $overlay -eq 1 ]; then
    scratch=$(mktemp -d /tmp/tcps-chroot.XXXXXX)
    mnt "$scratch" -t tmpfs -o mode=0755 tcps-scratch
    mkdir -p "$scratch/upper" "$scratch/work" "$scratch/root"
    mnt "$scratch/root" -t overlay tcps-overlay \
        -o "lowerdir=$lower,upperdir=$scratch/upper,workdir=$scratch/work"
    root=$scratch/root
else
    root=$lower
fi

mnt "$root/proc" -t proc proc
mnt "$root/dev" --bind /dev
mnt "$root/dev/pts" --bind /dev/pts
mnt "$root/dev/shm" -t tmpfs -o mode=1777,nosuid,nodev tmpfs
mnt "$root/tmp" -t tmpfs -o mode=1777,nosuid,nodev tmpfs
cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true

for b in "${binds[@]}"; do
    IFS=: read -r src dst opt <<<"$b"
    [ -d "$src" ] || die "bind source is not a folder: $src"
    mkdir -p "$root$dst"
    mnt "$root$dst" --bind "$src"
    if [ "${opt:-}" = ro ]; then
        mount -o remount,bind,ro "$root$dst"
    fi
done

passthrough=()
while IFS='=' read -r name _; do
    case $name in TCPS_ENTER_INSIDE) ;; TCPS_*) passthrough+=("$name=${!name}") ;; esac
done < <(env)

status=0
chroot "$root" /usr/bin/env -i \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive TERM=dumb \
    "${passthrough[@]}" "$@" || status=$?
exit $status
