#!/bin/sh
# tshark-plugin.sh PLUGIN_SO -- [tshark args...]
#
# Runs tshark with the given tcpstate plugin loaded, and only that one: the
# plugin goes into a throwaway folder $tmp/plugins/X.Y/epan/ named by
# WIRESHARK_PLUGIN_DIR, which replaces the global plugin folder (so a
# tcpstate.so installed there cannot shadow the one under test), with
# HOME=$tmp (an empty personal folder). As root, tshark ignores
# WIRESHARK_PLUGIN_DIR, so tshark then runs as "nobody". Capture files given with -r are copied into $tmp so
# that nobody can read them. Before running, checks that "tshark -G plugins"
# lists the plugin: a refused plugin is only a line on stderr and tshark still
# exits 0 (once per plugin file and tshark binary: a stamp in $TMPDIR/tshark-plugin.checked
# remembers a plugin that loaded). Exit status: tshark's, or 2 on a usage or loading error.
#
# Environment: TSHARK (default: tshark from PATH); TCPS_PROFILE_DIR, if set, a
# configuration profile folder (e.g. "profiles/TCP State") copied into the personal
# profiles folder $tmp/.config/wireshark/profiles/ under its own name, for -C NAME.
set -eu

die() {
    echo "tshark-plugin.sh: $*" >&2
    exit 2
}

[ $# -ge 2 ] && [ "$2" = "--" ] || die "usage: tshark-plugin.sh PLUGIN_SO -- [tshark args...]"
plugin=$1
shift 2
[ -r "$plugin" ] || die "plugin not readable: $plugin"

tshark=${TSHARK:-tshark}
tshark=$(command -v "$tshark") || die "tshark not found"
# The version names the plugin folder. "tshark --version" costs half a tshark run, so
# it is asked once per tshark binary and kept beside the load stamps (below).
stamps=${TMPDIR:-/tmp}/tshark-plugin.checked
tshark_key=$(cksum <"$tshark" | tr ' ' '-')
version=$(cat "$stamps/version-$tshark_key" 2>/dev/null) || version=
if [ -z "$version" ]; then
    version=$("$tshark" --version 2>/dev/null | head -n 1 |
        sed -n -E 's/^TShark \(Wireshark\) ([0-9]+)\.([0-9]+)\..*/\1.\2/p')
    [ -n "$version" ] || die "cannot read the tshark version"
    mkdir -p "$stamps" 2>/dev/null &&
        printf '%s\n' "$version" >"$stamps/version-$tshark_key.$$" 2>/dev/null &&
        mv -f "$stamps/version-$tshark_key.$$" "$stamps/version-$tshark_key" 2>/dev/null || true
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tshark-plugin.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
plugdir=$tmp/plugins/$version/epan
mkdir -p "$plugdir" "$tmp/.config" "$tmp/captures"
cp "$plugin" "$plugdir/tcpstate.so"
if [ -n "${TCPS_PROFILE_DIR:-}" ]; then
    [ -d "$TCPS_PROFILE_DIR" ] || die "profile folder not found: $TCPS_PROFILE_DIR"
    mkdir -p "$tmp/.config/wireshark/profiles"
    cp -R "$TCPS_PROFILE_DIR" "$tmp/.config/wireshark/profiles/$(basename "$TCPS_PROFILE_DIR")"
fi

# Copy capture files given with -r FILE or -rFILE; keep every other argument.
n=$#
i=0
next_is_capture=0
while [ $i -lt $n ]; do
    arg=$1
    shift
    i=$((i + 1))
    if [ $next_is_capture = 1 ]; then
        next_is_capture=0
        [ -r "$arg" ] || die "capture not readable: $arg"
        dest=$tmp/captures/$i-$(basename "$arg")
        cp "$arg" "$dest"
        arg=$dest
    else
        case $arg in
        -r) next_is_capture=1 ;;
        -r?*)
            file=${arg#-r}
            [ -r "$file" ] || die "capture not readable: $file"
            dest=$tmp/captures/$i-$(basename "$file")
            cp "$file" "$dest"
            arg=-r$dest
            ;;
        esac
    fi
    set -- "$@" "$arg"
done

chmod -R a+rX "$tmp"

run_tshark() {
    if [ "$(id -u)" = 0 ]; then
        chown -R nobody "$tmp"
        (cd "$tmp" && runuser -u nobody -- env WIRESHARK_PLUGIN_DIR="$tmp/plugins" HOME="$tmp" \
            XDG_CONFIG_HOME="$tmp/.config" "$tshark" "$@")
    else
        (cd "$tmp" && env WIRESHARK_PLUGIN_DIR="$tmp/plugins" HOME="$tmp" \
            XDG_CONFIG_HOME="$tmp/.config" "$tshark" "$@")
    fi
}

# Loaded, and from our folder (not a copy installed elsewhere). Checked once per plugin
# file and tshark: a stamp named by both (the .so's checksum) is left when it loaded.
key=$(cksum <"$plugin" | tr ' ' '-')-$tshark_key-$(id -u)
if [ ! -e "$stamps/$key" ]; then
    if ! run_tshark -G plugins >"$tmp/plugins.txt" 2>"$tmp/plugins.err" ||
        ! grep '^tcpstate\.so[[:space:]]' "$tmp/plugins.txt" | grep -qF "$plugdir/tcpstate.so"; then
        echo "tshark-plugin.sh: $plugdir/tcpstate.so is not loaded by $tshark $version" >&2
        grep '^tcpstate' "$tmp/plugins.txt" >&2 || true
        cat "$tmp/plugins.err" >&2
        exit 2
    fi
    mkdir -p "$stamps" 2>/dev/null && : >"$stamps/$key" 2>/dev/null || true
fi

status=0
run_tshark "$@" || status=$?
exit $status
