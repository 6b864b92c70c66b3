# shellcheck shell=bash
# Cached Debian chroots for the Wireshark version matrix (scripts/matrix.sh) and
# the .deb check (packaging/test-deb.sh). Sourced, not run.
#
# Under $TCPS_MATRIX_CACHE (default /var/cache/tcpstate-matrix, outside the
# repository) each suite has:
#   SUITE-base/  debootstrap --variant=minbase, apt sources and lists: a fresh
#                Debian, used (through a throwaway overlay) to install the .deb
#   SUITE/       a copy of SUITE-base with the build and test dependencies
#   debs/SUITE/  every downloaded .deb (debootstrap --cache-dir and apt's
#                archives), so a chroot rebuilt later downloads nothing known
#                (one per suite: apt locks its archives folder)
# A chroot is made in SUITE.new and renamed when complete, so an interrupted
# run never leaves a half-made chroot that a later run would trust. Chroots
# older than $TCPS_MATRIX_REFRESH_DAYS (default 7) get apt-get update and
# dist-upgrade; --refresh in the callers forces it.
#
# Debian suites are fetched from the mirror the host's apt sources use
# (override: TCPS_MATRIX_MIRROR, TCPS_MATRIX_SECURITY_MIRROR).

TCPS_CACHE=${TCPS_MATRIX_CACHE:-/var/cache/tcpstate-matrix}
TCPS_REFRESH_DAYS=${TCPS_MATRIX_REFRESH_DAYS:-7}
TCPS_FORCE_REFRESH=${TCPS_FORCE_REFRESH:-0}
TCPS_MATRIX_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TCPS_ENTER="$TCPS_MATRIX_LIB/enter.sh"

# What the version matrix needs in a chroot to build and run every test.
TCPS_BUILD_DEPS=(gcc libc6-dev make cmake pkg-config dpkg-dev file libglib2.0-dev
    libwireshark-dev wireshark-dev tshark python3 util-linux passwd)

tcps_log() { echo "[$(date +%T)] $*" >&2; }

tcps_die() {
    echo "tcpstate matrix: $*" >&2
    exit 2
}

tcps_need_root() {
    [ "$(id -u)" -eq 0 ] || tcps_die "needs root (debootstrap, chroot, mounts): run with sudo"
}

# The host's Debian mirror: the first enabled apt source whose URI ends in /debian
# (or /debian-security with "security").
tcps_mirror() {
    local want=debian var=TCPS_MATRIX_MIRROR uri
    if [ "${1:-}" = security ]; then want=debian-security; var=TCPS_MATRIX_SECURITY_MIRROR; fi
    if [ -n "${!var:-}" ]; then
        echo "${!var}"
        return
    fi
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
        /etc/apt/sources.list.d/*.sources 2>/dev/null |
        grep -E '^[[:space:]]*(URIs:|deb[[:space:]])' | grep -oE 'https?://[^][[:space:]]+' |
        sed 's,/*$,,' | grep -E "/$want\$" | head -n 1) || true
    echo "${uri:-http://deb.debian.org/$want}"
}

tcps_sources_list() { # SUITE
    local suite=$1 mirror security
    mirror=$(tcps_mirror)
    security=$(tcps_mirror security)
    echo "deb $mirror $suite main"
    case $suite in
    sid | unstable) ;;
    *)
        echo "deb $mirror $suite-updates main"
        echo "deb $security $suite-security main"
        ;;
    esac
}

# The package cache of a suite.
tcps_debs() { # SUITE
    mkdir -p "$TCPS_CACHE/debs/$1"
    echo "$TCPS_CACHE/debs/$1"
}

# Runs a command in a chroot whose changes persist (package installs); ROOT is
# $TCPS_CACHE/SUITE, SUITE-base, or either with .new.
tcps_in_chroot() { # ROOT COMMAND...
    local root=$1 suite
    shift
    suite=$(basename "$root" .new)
    suite=${suite%-base}
    # stdout to stderr: callers print only paths on stdout.
    "$TCPS_ENTER" --bind "$(tcps_debs "$suite"):/var/cache/apt/archives" "$root" -- "$@" >&2
}

# apt-get install in a persistent chroot; "apt-get -f install" and a retry if
# the first try leaves a dependency unresolved (as sid sometimes does).
tcps_apt_install() { # ROOT PACKAGE...
    local root=$1
    shift
    if ! tcps_in_chroot "$root" apt-get install -y -q --no-install-recommends "$@"; then
        tcps_log "apt-get install failed; trying apt-get -f install, then again"
        tcps_in_chroot "$root" apt-get -f install -y -q --no-install-recommends
        tcps_in_chroot "$root" apt-get install -y -q --no-install-recommends "$@"
    fi
}

tcps_stamp_age_days() { # STAMPFILE
    local now made
    now=$(date +%s)
    made=$(stat -c %Y "$1" 2>/dev/null || echo 0)
    echo $(((now - made) / 86400))
}

# apt-get update and dist-upgrade when the chroot is older than the refresh age.
tcps_maybe_refresh() { # ROOT STAMP
    local root=$1 stamp=$2
    if [ "$TCPS_FORCE_REFRESH" = 1 ] ||
        [ "$(tcps_stamp_age_days "$stamp")" -ge "$TCPS_REFRESH_DAYS" ]; then
        tcps_log "refreshing $root (apt-get update, dist-upgrade)"
        tcps_in_chroot "$root" apt-get update -q
        tcps_in_chroot "$root" apt-get dist-upgrade -y -q --no-install-recommends ||
            { tcps_in_chroot "$root" apt-get -f install -y -q &&
                tcps_in_chroot "$root" apt-get dist-upgrade -y -q --no-install-recommends; }
        tcps_in_chroot "$root" apt-get autoremove -y -q >/dev/null || true
        touch "$stamp"
    fi
}

# Serialises chroot creation between concurrent runs (one lock per suite).
tcps_lock() { # SUITE
    mkdir -p "$TCPS_CACHE"
    exec {TCPS_LOCK_FD}>"$TCPS_CACHE/.lock-$1"
    flock "$TCPS_LOCK_FD"
}

tcps_unlock() {
    exec {TCPS_LOCK_FD}>&-
}

# Makes sure $TCPS_CACHE/SUITE-base exists: minbase Debian with apt lists.
# Prints its path.
tcps_ensure_base() { # SUITE
    local suite=$1 dir="$TCPS_CACHE/$1-base" mirror
    tcps_lock "$suite"
    if [ ! -f "$dir/.tcps-ready" ]; then
        command -v debootstrap >/dev/null || tcps_install_host_tools
        mirror=$(tcps_mirror)
        tcps_log "debootstrap $suite from $mirror into $dir"
        rm -rf "$dir.new"
        mkdir -p "$dir.new"
        debootstrap --variant=minbase --components=main --cache-dir="$(tcps_debs "$suite")" \
            "$suite" "$dir.new" "$mirror" >"$TCPS_CACHE/debootstrap-$suite.log" 2>&1 ||
            { tail -n 30 "$TCPS_CACHE/debootstrap-$suite.log" >&2; tcps_die "debootstrap $suite failed"; }
        tcps_sources_list "$suite" >"$dir.new/etc/apt/sources.list"
        # Keep downloaded packages (debs/SUITE/ is bind-mounted there);
        # no translations to download; as on the host, accept a mirror whose
        # Release file is past its Valid-Until (a snapshot mirror serving sid).
        printf '%s\n' 'APT::Keep-Downloaded-Packages "true";' 'Acquire::Languages "none";' \
            'Acquire::Check-Valid-Until "false";' \
            >"$dir.new/etc/apt/apt.conf.d/90tcpstate-matrix"
        rm -f "$dir.new/etc/apt/apt.conf.d/docker-clean"
        {
            tcps_in_chroot "$dir.new" apt-get update -q &&
                { tcps_in_chroot "$dir.new" apt-get -f install -y -q || true; } &&
                tcps_in_chroot "$dir.new" apt-get dist-upgrade -y -q --no-install-recommends
        } >>"$TCPS_CACHE/debootstrap-$suite.log" 2>&1 ||
            { tail -n 30 "$TCPS_CACHE/debootstrap-$suite.log" >&2; tcps_die "apt-get update/upgrade in $suite failed"; }
        date -u +%FT%TZ >"$dir.new/.tcps-ready"
        rm -rf "$dir"
        mv "$dir.new" "$dir"
    else
        tcps_maybe_refresh "$dir" "$dir/.tcps-ready"
    fi
    tcps_unlock
    echo "$dir"
}

# Makes sure $TCPS_CACHE/SUITE exists: SUITE-base plus the build and test
# dependencies. Prints its path.
tcps_ensure_ready() { # SUITE
    local suite=$1 dir="$TCPS_CACHE/$1" base want
    want="${TCPS_BUILD_DEPS[*]}"
    if [ -f "$dir/.tcps-ready" ] && [ "$(cat "$dir/.tcps-packages" 2>/dev/null)" = "$want" ]; then
        tcps_lock "$suite"
        tcps_maybe_refresh "$dir" "$dir/.tcps-ready"
        tcps_unlock
        echo "$dir"
        return
    fi
    base=$(tcps_ensure_base "$suite")
    tcps_lock "$suite"
    if [ -f "$dir/.tcps-ready" ]; then
        # Package list changed: install what is missing in place.
        tcps_log "installing build dependencies into $dir"
        tcps_apt_install "$dir" "${TCPS_BUILD_DEPS[@]}" >"$TCPS_CACHE/deps-$suite.log" 2>&1 ||
            { tail -n 30 "$TCPS_CACHE/deps-$suite.log" >&2; tcps_die "installing the build dependencies into $suite failed"; }
    else
        tcps_log "making $dir: $suite with the build dependencies"
        rm -rf "$dir.new"
        cp -a "$base" "$dir.new"
        tcps_apt_install "$dir.new" "${TCPS_BUILD_DEPS[@]}" >"$TCPS_CACHE/deps-$suite.log" 2>&1 ||
            { tail -n 30 "$TCPS_CACHE/deps-$suite.log" >&2; tcps_die "installing the build dependencies into $suite failed"; }
        date -u +%FT%TZ >"$dir.new/.tcps-ready"
        rm -rf "$dir"
        mv "$dir.new" "$dir"
    fi
    echo "$want" >"$dir/.tcps-packages"
    tcps_unlock
    echo "$dir"
}

# debootstrap on the host (Debian package).
tcps_install_host_tools() {
    tcps_log "installing debootstrap on the host"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >/dev/null; } ||
        tcps_die "cannot install debootstrap"
}

# Installed version of a package in a chroot, or empty.
tcps_pkg_version() { # ROOT PACKAGE
    chroot "$1" dpkg-query -W -f='${Version}' "$2" 2>/dev/null || true
}
