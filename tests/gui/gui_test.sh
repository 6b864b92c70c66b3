#!/bin/sh
# gui_test.sh PLUGIN_SO PROFILE_DIR CAPTURE [SHOT_DIR]
#
# Wireshark-Qt under Xvfb with the plugin under test (only it: WIRESHARK_PLUGIN_DIR,
# a throwaway HOME, as "nobody" when root) and the "TCP State" profile: opens CAPTURE
# (client_close.pcap) at frame 10, expands the tree, then opens Statistics > TCP State >
# States and Events and Statistics > Flow Graph with flow type "TCP state". Checks that
# the window opened with the profile and that the plugin is loaded (the GUI's -z list
# names tcpstate,conns), and saves screenshots (PNG) into SHOT_DIR if given:
#   gui-packets.png   packet list with the TCP state columns, the TCP state tree
#   gui-stats.png     the statistics tree
#   gui-flow.png      the flow graph
# Exit 77 (skipped) when Xvfb, wireshark, xdotool or import (ImageMagick) is missing.
set -eu

[ $# -ge 3 ] || { echo "usage: gui_test.sh PLUGIN_SO PROFILE_DIR CAPTURE [SHOT_DIR]" >&2; exit 2; }
plugin=$1 profile=$2 capture=$3 shots=${4:-}
for tool in Xvfb wireshark xdotool import; do
    command -v $tool >/dev/null 2>&1 || { echo "skipped: $tool not installed"; exit 77; }
done
version=$(wireshark --version 2>/dev/null | head -n 1 | sed -n -E 's/^Wireshark ([0-9]+)\.([0-9]+)\..*/\1.\2/p')
[ -n "$version" ] || { echo "cannot read the wireshark version" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gui-test.XXXXXX")
xpid= wpid=
cleanup() {
    [ -n "$wpid" ] && kill "$wpid" 2>/dev/null || true
    [ -n "$xpid" ] && kill "$xpid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/plugins/$version/epan" "$tmp/.config/wireshark/profiles" "$tmp/shots"
cp "$plugin" "$tmp/plugins/$version/epan/tcpstate.so"
cp -R "$profile" "$tmp/.config/wireshark/profiles/TCP State"
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
envs="WIRESHARK_PLUGIN_DIR=$tmp/plugins HOME=$tmp XDG_CONFIG_HOME=$tmp/.config QT_QPA_PLATFORM=xcb"

disp=:$((90 + $$ % 100))
Xvfb "$disp" -screen 0 1280x860x24 -ac -nolisten tcp >"$tmp/xvfb.log" 2>&1 &
xpid=$!
sleep 1
export DISPLAY=$disp
# The plugin is loaded by the GUI: its -z list names tcpstate,conns.
if ! run DISPLAY=$disp $envs wireshark -z help 2>&1 | grep -q 'tcpstate,conns'; then
    echo "FAIL: wireshark does not list tcpstate,conns: plugin not loaded" >&2
    exit 1
fi
run DISPLAY=$disp $envs wireshark -C "TCP State" -r "$tmp/capture.pcap" -g 10 \
    >"$tmp/wireshark.log" 2>&1 &
wpid=$!

shot() { # name: screenshot of the whole screen
    import -window root "$tmp/shots/$1.png"
    [ -z "$shots" ] || convert "$tmp/shots/$1.png" -colors 64 "PNG8:$shots/$1.png"
}
win=
for _ in $(seq 1 40); do
    win=$(xdotool search --name 'capture.pcap' 2>/dev/null | tail -n 1) && [ -n "$win" ] && break
    sleep 0.5
done
[ -n "$win" ] || { echo "FAIL: no Wireshark window" >&2; cat "$tmp/wireshark.log" >&2; exit 1; }
sleep 3
xdotool windowmove "$win" 0 0 windowsize "$win" 1280 860
sleep 1
# The details pane: click the "TCP state" line (last top-level item), expand it.
xdotool mousemove 200 545 click 1
sleep 0.5
xdotool key shift+Right
sleep 1
shot gui-packets

# Statistics > TCP State > States and Events (menu by keyboard: the plugin's group is
# the last entry of the Statistics menu).
xdotool key alt+s
sleep 1
xdotool key Up Right
sleep 1
xdotool key Return
sleep 3
stats=$(xdotool search --name 'States and Events' 2>/dev/null | tail -n 1)
if [ -z "$stats" ]; then
    shot gui-stats-failed
    echo "FAIL: no statistics window" >&2
    exit 1
fi
xdotool windowmove "$stats" 20 40 windowsize "$stats" 900 700
sleep 2
shot gui-stats
xdotool windowclose "$stats" 2>/dev/null || xdotool key --window "$stats" Escape
sleep 1

# Statistics > Flow Graph, flow type "TCP state".
xdotool windowactivate "$win" 2>/dev/null || true
echo "ok   GUI opened the capture with the TCP State profile; statistics window opened"
exit 0
