#!/bin/sh
# gui_conntable.sh PLUGIN_SO CAPTURE [SHOT_DIR]
#
# Wireshark-Qt under Xvfb with the plugin under test (only it: WIRESHARK_PLUGIN_DIR, a
# throwaway HOME, as "nobody" when root) opens CAPTURE with -z tcpstate,connections: the
# connection table window (Statistics > TCP State Connections, Wireshark's stat-table
# dialog) must open; its screenshot is saved as SHOT_DIR/gui-conns.png if given, at the
# window's default size. (Its cells are tshark's -z tcpstate,connections, which
# tests/tshark/ui_conntable.py checks.) Exit 77 (skipped) when Xvfb, wireshark, xdotool
# or ImageMagick is missing or no display can be had.
set -eu
[ $# -ge 2 ] || { echo "usage: gui_conntable.sh PLUGIN_SO CAPTURE [SHOT_DIR]" >&2; exit 2; }
plugin=$1 capture=$2 shots=${3:-}
for tool in Xvfb wireshark xdotool import convert; do
    command -v $tool >/dev/null 2>&1 || { echo "skipped: $tool not installed"; exit 77; }
done
version=$(wireshark --version 2>/dev/null | head -n 1 | sed -n -E 's/^Wireshark ([0-9]+)\.([0-9]+)\..*/\1.\2/p')
[ -z "$shots" ] || shots=$(cd "$shots" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gui-conntable.XXXXXX")
xpid= wpid=
cleanup() {
    [ -n "$wpid" ] && kill "$wpid" 2>/dev/null || true
    [ -n "$xpid" ] && kill "$xpid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/plugins/$version/epan" "$tmp/.config"
cp "$plugin" "$tmp/plugins/$version/epan/tcpstate.so"
cp "$capture" "$tmp/capture.pcap"
chmod -R a+rX "$tmp"
run() {
    if [ "$(id -u)" = 0 ]; then
        chown -R nobody "$tmp"
        runuser -u nobody -- env "$@"
    else
        env "$@"
    fi
}
: >"$tmp/display"
Xvfb -displayfd 3 -screen 0 1280x860x24 -ac -nolisten tcp 3>"$tmp/display" >"$tmp/xvfb.log" 2>&1 &
xpid=$!
for _ in $(seq 1 40); do [ -s "$tmp/display" ] && break; sleep 0.5; done
[ -s "$tmp/display" ] || { echo "skipped: Xvfb did not start"; exit 77; }
disp=:$(head -n 1 "$tmp/display")
export DISPLAY=$disp
run DISPLAY=$disp WIRESHARK_PLUGIN_DIR="$tmp/plugins" HOME="$tmp" XDG_CONFIG_HOME="$tmp/.config" \
    QT_QPA_PLATFORM=xcb wireshark -r "$tmp/capture.pcap" -z tcpstate,connections \
    >"$tmp/wireshark.log" 2>&1 &
wpid=$!
win=
for _ in $(seq 1 120); do
    win=$(xdotool search --name 'TCP State Connections' 2>/dev/null | tail -n 1) && [ -n "$win" ] && break
    kill -0 "$wpid" 2>/dev/null || break
    sleep 0.5
done
if [ -z "$win" ]; then
    if grep -q 'could not connect to display' "$tmp/wireshark.log"; then
        echo "skipped: the display went away under Wireshark"; exit 77
    fi
    import -window root "$tmp/failed.png" 2>/dev/null || true
    [ -z "$shots" ] || cp "$tmp/failed.png" "$shots/gui-conns-failed.png" 2>/dev/null || true
    echo "FAIL: no \"TCP State Connections\" window" >&2
    cat "$tmp/wireshark.log" >&2
    exit 1
fi
sleep 3
echo "ok   the connection table window opened: \"$(xdotool getwindowname "$win")\""
if [ -n "$shots" ]; then
    import -window "$win" "$tmp/gui-conns.png"
    convert "$tmp/gui-conns.png" -colors 64 "PNG8:$shots/gui-conns.png"
    echo "ok   screenshot $shots/gui-conns.png"
fi
exit 0
