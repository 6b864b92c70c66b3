#!/bin/sh
# gui_test.sh PLUGIN_SO PROFILE_DIR CAPTURE [SHOT_DIR]
#
# Wireshark-Qt under Xvfb with the plugin under test (only it: WIRESHARK_PLUGIN_DIR,
# a throwaway HOME, as "nobody" when root) and the "TCP State" profile, at Wireshark's
# default window size (750 x 550; dialogs as Wireshark sizes them): opens CAPTURE
# (client_close.pcap) at frame 10, expands the tree, then opens Statistics > TCP State >
# States and Events and Statistics > Flow Graph with flow type "TCP state". Checks
#   - the plugin is loaded (the GUI's -z list names tcpstate,conns) and the window
#     opened the capture with the profile;
#   - the packet list's rows 1-9 have the background of the coloring rule that
#     `tshark -2` picks for their frames (hindsight), and say where one pass differs;
#   - the statistics window opened;
#   - the Flow Graph dialog opened, and with flow type "TCP state" its Export > ASCII
#     is the same text as `tshark -2 -q -z flow,tcpstate,standard` (same capture, same
#     profile): the GUI drew the plugin's flow, not another flow type, with the states
#     known once the file is read (hindsight), as tshark's second pass; where one-pass
#     tshark differs (simultaneous_close.pcap), it says so;
# and saves screenshots (PNG) into SHOT_DIR if given:
#   gui-packets.png   packet list with the profile's state columns, the TCP state tree
#   gui-stats.png     the statistics tree window
#   gui-flow.png      the flow graph dialog, flow type "TCP state"
# The keyboard and mouse steps are made for Wireshark 4.0's menus and dialogs (Debian 12);
# a screenshot named *-failed.png is kept in SHOT_DIR (or reported) when a step fails.
# Exit 77 (skipped) when Xvfb, wireshark, xdotool or import (ImageMagick) is missing.
set -eu

[ $# -ge 3 ] || { echo "usage: gui_test.sh PLUGIN_SO PROFILE_DIR CAPTURE [SHOT_DIR]" >&2; exit 2; }
plugin=$1 profile=$2 capture=$3 shots=${4:-}
for tool in Xvfb wireshark tshark xdotool import convert; do
    command -v $tool >/dev/null 2>&1 || { echo "skipped: $tool not installed"; exit 77; }
done
version=$(wireshark --version 2>/dev/null | head -n 1 | sed -n -E 's/^Wireshark ([0-9]+)\.([0-9]+)\..*/\1.\2/p')
[ -n "$version" ] || { echo "cannot read the wireshark version" >&2; exit 2; }
[ -z "$shots" ] || shots=$(cd "$shots" && pwd)

tmp=$(mktemp -d "${TMPDIR:-/tmp}/gui-test.XXXXXX")
xpid= wpid=
cleanup() {
    [ -n "$wpid" ] && kill "$wpid" 2>/dev/null || true
    [ -n "$xpid" ] && kill "$xpid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
mkdir -p "$tmp/plugins/$version/epan" "$tmp/.config/wireshark/profiles" "$tmp/shots" "$tmp/out"
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

# Xvfb picks a free display number and writes it to fd 3. A display the GUI cannot
# connect to (a busy machine, a server that died) is the environment's failure, not
# the plugin's: one more try with a new server, then skipped.
start_display() {
    : >"$tmp/display"
    Xvfb -displayfd 3 -screen 0 1280x860x24 -ac -nolisten tcp 3>"$tmp/display" >"$tmp/xvfb.log" 2>&1 &
    xpid=$!
    for _ in $(seq 1 40); do
        [ -s "$tmp/display" ] && break
        kill -0 "$xpid" 2>/dev/null || break
        sleep 0.5
    done
    [ -s "$tmp/display" ] || return 1
    disp=:$(head -n 1 "$tmp/display")
    export DISPLAY=$disp
    # The unprivileged user the GUI runs as must reach the display.
    for _ in $(seq 1 20); do
        run DISPLAY=$disp xdotool getdisplaygeometry >/dev/null 2>&1 && return 0
        sleep 0.5
    done
    return 1
}
stop_display() {
    kill "$xpid" 2>/dev/null || true
    wait "$xpid" 2>/dev/null || true
}
tries=0
until start_display; do
    stop_display
    tries=$((tries + 1))
    if [ $tries -ge 2 ]; then
        echo "skipped: no usable X display (Xvfb did not start or cannot be reached)"
        cat "$tmp/xvfb.log"
        exit 77
    fi
done
# The plugin is loaded by the GUI: its -z list names tcpstate,conns.
if ! run DISPLAY=$disp $envs wireshark -z help 2>&1 | grep -q 'tcpstate,conns'; then
    echo "FAIL: wireshark does not list tcpstate,conns: plugin not loaded" >&2
    exit 1
fi
run DISPLAY=$disp $envs wireshark -C "TCP State" -r "$tmp/capture.pcap" -g 10 \
    >"$tmp/wireshark.log" 2>&1 &
wpid=$!

shot() { # name [window]: screenshot of the window (default: the whole screen)
    import -window "${2:-root}" "$tmp/shots/$1.png"
    [ -z "$shots" ] || convert "$tmp/shots/$1.png" -colors 64 "PNG8:$shots/$1.png"
}
fail() { # name message: keep a screenshot, report, exit 1
    shot "$1-failed" || true
    echo "FAIL: $2" >&2
    [ -z "$shots" ] || echo "     screenshot: $shots/$1-failed.png" >&2
    exit 1
}
wait_window() { # title-regex [tries]: id of the newest window whose title matches
    _w=
    for _ in $(seq 1 "${2:-40}"); do
        _w=$(xdotool search --name "$1" 2>/dev/null | tail -n 1) && [ -n "$_w" ] && break
        sleep 0.5
    done
    echo "$_w"
}
geometry() { # window: sets X Y W H
    eval "$(xdotool getwindowgeometry --shell "$1" | sed -n -E 's/^(X|Y|WIDTH|HEIGHT)=([0-9]+)$/\1=\2/p')"
    W=$WIDTH H=$HEIGHT
}

win=$(wait_window 'capture.pcap' 120)
if [ -z "$win" ] && grep -q 'could not connect to display' "$tmp/wireshark.log"; then
    echo "skipped: the display went away under Wireshark (environment):" >&2
    cat "$tmp/wireshark.log" >&2
    exit 77
fi
[ -n "$win" ] || { echo "FAIL: no Wireshark window" >&2; cat "$tmp/wireshark.log" >&2; exit 1; }
sleep 3
xdotool windowmove "$win" 0 0
sleep 1
geometry "$win"
[ "$W" = 750 ] && [ "$H" = 550 ] || echo "note: the main window is ${W}x${H}, not Wireshark's default 750x550"
# The details pane: click the "TCP state" line (last top-level item), expand it.
xdotool mousemove 100 388 click 1
sleep 0.5
xdotool key shift+Right
sleep 1
shot gui-packets "$win"

# The packet list's colors: each row shown but the selected one (frames 1-9) has the
# background of the coloring rule `tshark -2` picks for its frame (the states known once
# the file is read), read from the screenshot (rows 17 px high from y = 120 at 750x550).
run $envs tshark -2 -C "TCP State" --color -r "$tmp/capture.pcap" -T fields -e frame.number \
    -e frame.coloring_rule.name >"$tmp/rules-2.txt" 2>"$tmp/tshark.err" || { cat "$tmp/tshark.err" >&2; exit 1; }
run $envs tshark -C "TCP State" --color -r "$tmp/capture.pcap" -T fields -e frame.number \
    -e frame.coloring_rule.name >"$tmp/rules-1.txt" 2>"$tmp/tshark.err" || { cat "$tmp/tshark.err" >&2; exit 1; }
row_color() { # frame: the most common color of its row, "R G B"
    convert "$tmp/shots/gui-packets.png" -crop 560x1+140+$((120 + 17 * ($1 - 1))) +repage \
        -format %c histogram:info:- | sort -rn | head -n 1 |
        sed -n -E 's/.*\(([0-9]+),([0-9]+),([0-9]+)\).*/\1 \2 \3/p'
}
rule_color() { # rule name: its background, "R G B" (8 bits)
    awk -F@ -v n="$1" '$2 == n { print $4 }' "$tmp/.config/wireshark/profiles/TCP State/colorfilters" |
        sed -n -E 's/^\[([0-9]+),([0-9]+),([0-9]+)\].*/\1 \2 \3/p' |
        awk '{ printf "%d %d %d\n", $1 / 257, $2 / 257, $3 / 257 }'
}
for n in 1 2 3 4 5 6 7 8 9; do
    rule=$(awk -F'\t' -v n=$n '$1 == n { print $2 }' "$tmp/rules-2.txt")
    [ -n "$rule" ] || continue
    want=$(rule_color "$rule") got=$(row_color $n)
    if ! echo "$want $got" | awk '{ for (i = 1; i <= 3; i++) { d = $i - $(i + 3); if (d > 3 || d < -3) exit 1 } }'; then
        fail gui-packets "frame $n: row color ($got) is not that of rule \"$rule\" ($want), which tshark -2 picks"
    fi
    one=$(awk -F'\t' -v n=$n '$1 == n { print $2 }' "$tmp/rules-1.txt")
    [ "$one" = "$rule" ] || echo "ok   frame $n colored \"$rule\" as tshark -2 (hindsight), not \"$one\" as one-pass tshark"
done
echo "ok   packet list rows 1-9 colored as tshark -2 colors them"

# Statistics > TCP State > States and Events (menu by keyboard: the plugin's group is
# the last entry of the Statistics menu).
xdotool key alt+s
sleep 1
xdotool key Up Right
sleep 1
xdotool key Return
stats=$(wait_window 'States and Events' 20)
[ -n "$stats" ] || fail gui-stats "no statistics window"
xdotool windowmove "$stats" 0 0
sleep 2
shot gui-stats "$stats"
xdotool windowclose "$stats" 2>/dev/null || xdotool key --window "$stats" Escape
sleep 1
echo "ok   GUI opened the capture with the TCP State profile; statistics window opened"

# Statistics > Flow Graph: the 18th entry of the Statistics menu in Wireshark 4.0
# (Capture File Properties ... Service Response Time, DHCP (BOOTP) Statistics, NetPerfMeter
# Statistics, ONC-RPC Programs, TCP State Connections (this plugin's connection table,
# sorted among them), 29West, ANCP, BACnet, Collectd, DNS, Flow Graph).
xdotool mousemove 300 273 click 1   # focus the main window (frame 10 stays selected)
sleep 0.5
xdotool key alt+s
sleep 1
for _ in $(seq 1 17); do xdotool key Down; done
sleep 0.5
xdotool key Return
flow=$(wait_window ' Flow · ' 40)
[ -n "$flow" ] || fail gui-flow "Statistics > Flow Graph did not open a Flow window"
echo "ok   Statistics > Flow Graph opened \"$(xdotool getwindowname "$flow")\""
# Flow type: the combo box sits left of the dialog's middle, 55 px above its bottom edge
# (Wireshark 4.0, the dialog as wide as the main window and 4/5 of its height: 750x440);
# type the entry's name in its list and take it.
xdotool windowmove "$flow" 0 0
sleep 2
geometry "$flow"
xdotool mousemove $((W * 410 / 750)) $((H - 55)) click 1
sleep 1
xdotool type --delay 80 "TCP state"
sleep 0.5
xdotool key Return
sleep 3
shot gui-flow "$flow"

# Export > "ASCII (*.txt)" into $tmp/out/flow.txt, then compare with tshark.
xdotool mousemove $((W * 526 / 750)) $((H - 24)) click 1
save=$(wait_window 'Save Graph As' 20)
[ -n "$save" ] || fail gui-flow-export "the flow graph's Export did not open a file dialog"
sleep 1
geometry "$save"
# Qt's file dialog: "Files of type" combo box centred, 24 px above the bottom edge.
xdotool mousemove $((X + W / 2)) $((Y + H - 24)) click 1
sleep 1
xdotool type --delay 60 "ASCII"
xdotool key Return
sleep 0.5
xdotool key alt+n
xdotool type --delay 20 "$tmp/out/flow.txt"
for _ in 1 2 3; do
    xdotool key Return
    sleep 2
    [ -s "$tmp/out/flow.txt" ] && break
done
[ -s "$tmp/out/flow.txt" ] || fail gui-flow-export "no ASCII export of the flow graph"
run $envs tshark -2 -C "TCP State" -q -r "$tmp/capture.pcap" -z flow,tcpstate,standard \
    >"$tmp/tshark-flow.txt" 2>"$tmp/tshark.err" || { cat "$tmp/tshark.err" >&2; exit 1; }
run $envs tshark -C "TCP State" -q -r "$tmp/capture.pcap" -z flow,tcpstate,standard \
    >"$tmp/tshark-flow-1.txt" 2>"$tmp/tshark.err" || { cat "$tmp/tshark.err" >&2; exit 1; }
grep -q 'SYN_SENT' "$tmp/tshark-flow.txt" || { echo "FAIL: tshark's flow has no states" >&2; cat "$tmp/tshark-flow.txt" >&2; exit 1; }
if ! diff "$tmp/tshark-flow.txt" "$tmp/out/flow.txt" >"$tmp/flow.diff"; then
    echo "FAIL: the GUI's flow graph (Export, ASCII) differs from tshark -2 -z flow,tcpstate,standard:" >&2
    cat "$tmp/flow.diff" >&2
    exit 1
fi
echo "ok   Flow Graph, flow type \"TCP state\": its ASCII export is tshark -2 -z flow,tcpstate,standard ($(grep -c -- '--' "$tmp/out/flow.txt") arrows)"
if ! cmp -s "$tmp/tshark-flow-1.txt" "$tmp/out/flow.txt"; then
    echo "ok   and not one-pass tshark's: the GUI shows the states known once the file is read (hindsight):"
    diff "$tmp/tshark-flow-1.txt" "$tmp/out/flow.txt" | sed -n 's/^[<>]/     &/p'
fi
exit 0
