#!/usr/bin/env bash
# packaging/test-deb.sh [--suite SUITE] [DEB]
#
# Acceptance check of the Debian package, as a user would meet it: in a fresh
# Debian SUITE (default bookworm, Wireshark 4.0) it
#   1. installs DEB with apt-get (which brings libwireshark and, as recommended,
#      tshark),
#   2. checks that tshark -G plugins lists tcpstate from the global plugin folder,
#      run as nobody and as root (root ignores only the personal folder),
#   3. opens pcaps/client_close.pcap with tshark and shows the states per frame,
#      then with the installed profile (tshark -C "TCP State"),
#   4. removes the package and checks that every file dpkg -L listed is gone
#      (what is left must be a folder of another package).
# Without DEB, builds the package for the host's Wireshark first (build/, cpack).
#
# The fresh Debian is a throwaway overlay on the cached minimal chroot
# /var/cache/tcpstate-matrix/SUITE-base (made by debootstrap when missing, see
# scripts/matrix/chroot.sh): nothing is left behind. Needs root. Prints
# "deb check: PASSED" or "deb check: FAILED" last; exit status 0 when passed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
pkg=wireshark-plugin-tcpstate

# ---- Inside the chroot ---------------------------------------------------------------------

inside() { # DEB PCAP_DIR
    local deb=$1 pcaps=$2 fail=0 list so line states left profile=0 cols out
    set +e +o pipefail # every check reports itself through bad()
    export DEBIAN_FRONTEND=noninteractive
    note() { echo "-- $*"; }
    bad() { echo "-- FAILED: $*"; fail=1; }

    note "apt-get install $(basename "$deb") (into a fresh $(. /etc/os-release && echo "$PRETTY_NAME"))"
    # Once more after apt-get update when the cached package lists are out of date.
    if ! apt-get install -y -q "$deb" >/tmp/apt-install.log 2>&1 &&
        ! { apt-get update -q >>/tmp/apt-install.log 2>&1 &&
            apt-get install -y -q "$deb" >>/tmp/apt-install.log 2>&1; }; then
        tail -n 30 /tmp/apt-install.log
        echo "deb check: FAILED (apt-get install)"
        return 1
    fi
    grep -E '^(Setting up|Unpacking) (tshark|libwireshark[0-9]+|wireshark-plugin)' /tmp/apt-install.log |
        sed 's/^/   /'
    list=$(dpkg -L "$pkg")
    note "dpkg -L $pkg: $(echo "$list" | wc -l) paths, files:"
    while IFS= read -r p; do
        [ -f "$p" ] && echo "   $p"
    done <<<"$list"

    so=$(echo "$list" | grep -E '/wireshark/plugins/[0-9]+\.[0-9]+/epan/tcpstate\.so$' || true)
    [ -n "$so" ] && [ -f "$so" ] || bad "no tcpstate.so in a global plugin folder"
    if echo "$list" | grep -q '^/usr/share/wireshark/profiles/TCP State/preferences$'; then
        profile=1
    fi
    for f in /usr/share/doc/$pkg/copyright /usr/share/doc/$pkg/changelog.Debian.gz; do
        [ -f "$f" ] || bad "missing $f"
    done

    # Loaded from the global folder, as nobody and as root.
    mkdir -p /tmp/home && chown nobody /tmp/home
    cp "$pcaps/client_close.pcap" /tmp/client_close.pcap && chmod a+r /tmp/client_close.pcap
    as_nobody() { runuser -u nobody -- env HOME=/tmp/home "$@"; }
    for who in nobody root; do
        if [ $who = nobody ]; then out=$(as_nobody tshark -G plugins 2>&1); else out=$(tshark -G plugins 2>&1); fi
        line=$(echo "$out" | grep "^tcpstate\.so" || true)
        echo "   tshark -G plugins as $who: $line"
        echo "$line" | grep -qE "^tcpstate\.so[[:space:]]+[0-9][^[:space:]]*[[:space:]]+dissector[[:space:]]+$so\$" ||
            bad "tshark as $who does not list $so"
    done

    # The states of a bundled capture, as the README shows them.
    cols='gui.column.format:"No.","%m","Source","%s","Destination","%d","Flags","%Cus:tcp.flags.str:0:R","Client","%Cus:tcpstate.client:0:R","Server","%Cus:tcpstate.server:0:R"'
    note "tshark -r client_close.pcap (as nobody):"
    if out=$(as_nobody tshark -r /tmp/client_close.pcap -o tcpstate.info_column:FALSE -o "$cols" 2>&1); then
        echo "$out" | sed 's/^/   /'
    else
        echo "$out"
        bad "tshark -r failed"
    fi
    states=$(as_nobody tshark -r /tmp/client_close.pcap -T fields -e tcpstate.states 2>/dev/null | tr '\n' ' ')
    case $states in
    "SYN_SENT/LISTEN ESTABLISHED/SYN_RECEIVED ESTABLISHED/ESTABLISHED "*"FIN_WAIT_1/CLOSE_WAIT FIN_WAIT_2/CLOSE_WAIT TIME_WAIT/LAST_ACK TIME_WAIT/CLOSED ") ;;
    *) bad "unexpected states: $states" ;;
    esac
    if [ $profile = 1 ]; then
        note "tshark -C \"TCP State\" -r client_close.pcap -c 3 (the installed profile):"
        if out=$(as_nobody tshark -C "TCP State" -r /tmp/client_close.pcap -c 3 2>&1); then
            echo "$out" | sed 's/^/   /'
        else
            echo "$out"
            bad "tshark -C \"TCP State\" failed"
        fi
    fi

    # Removal: every file gone; what is left is a folder another package owns.
    note "apt-get remove $pkg"
    apt-get remove -y -q "$pkg" >/tmp/apt-remove.log 2>&1 || { tail -n 20 /tmp/apt-remove.log; bad "apt-get remove failed"; }
    left=0
    while IFS= read -r p; do
        [ "$p" = /. ] && continue
        [ -e "$p" ] || [ -L "$p" ] || continue
        if [ -d "$p" ] && [ ! -L "$p" ] && dpkg -S "$p" >/dev/null 2>&1; then
            continue
        fi
        bad "left after removal: $p"
        left=$((left + 1))
    done <<<"$list"
    dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed' && bad "$pkg still installed"
    if tshark -G plugins 2>/dev/null | grep -q '^tcpstate\.so'; then bad "tshark still lists tcpstate"; fi
    [ $left -eq 0 ] && note "removed: none of the $(echo "$list" | wc -l) paths is left (except folders of other packages)"
    apt-get purge -y -q "$pkg" >/dev/null 2>&1 || true

    if [ $fail -eq 0 ]; then echo "deb check: PASSED"; else echo "deb check: FAILED"; fi
    return $fail
}

if [ "${1:-}" = --inside ]; then
    shift
    inside "$@"
    exit
fi

# ---- On the host ---------------------------------------------------------------------------

suite=bookworm
while [ $# -gt 0 ]; do
    case $1 in
    --suite) suite=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "test-deb.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
    esac
done
deb=${1:-}

# shellcheck source=../scripts/matrix/chroot.sh
. "$repo/scripts/matrix/chroot.sh"
tcps_need_root

if [ -z "$deb" ]; then
    echo "test-deb.sh: building the package (build/, cpack -G DEB)"
    cmake -S "$repo" -B "$repo/build" >/dev/null
    cmake --build "$repo/build" -j"$(nproc)" >/dev/null
    deb=$(cd "$repo/build" && cpack -G DEB | sed -n -E 's/.*package: (.*\.deb) generated.*/\1/p' | tail -n 1)
    [ -n "$deb" ] || tcps_die "cpack made no .deb"
fi
[ -f "$deb" ] || tcps_die "no such package: $deb"
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")

base=$(tcps_ensure_base "$suite")
stage=$(mktemp -d /tmp/tcps-deb.XXXXXX)
trap 'rm -rf "$stage"' EXIT
cp "$deb" "$stage/"
chmod -R a+rX "$stage"
echo "== .deb check: $(basename "$deb") in a fresh Debian $suite"
"$TCPS_ENTER" --overlay \
    --bind "$stage:/debs:ro" --bind "$repo/pcaps:/pcaps:ro" --bind "$here:/packaging:ro" \
    --bind "$(tcps_debs "$suite"):/var/cache/apt/archives" \
    "$base" -- bash /packaging/test-deb.sh --inside "/debs/$(basename "$deb")" /pcaps
