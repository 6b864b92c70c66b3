#!/bin/sh
# live_test.sh PLUGIN_SO: live capture shows the same states as reading the saved file.
#
# Makes two network namespaces joined by a veth pair (10.199.77.1 and .2), captures on
# the server's end (dumpcap in the server's namespace, its packets piped to tshark -i -,
# tshark's live capture path, run as "nobody" with only the plugin under test, as
# tests/tshark/tshark-plugin.sh does; the same bytes saved by tee), while a kernel TCP
# connection runs between the namespaces (python3 sockets: connect, request, reply, the
# client closes first). Checks
#   - live tshark (one pass, as it comes) printed tcpstate's states for the connection;
#   - its lines (frame, states, events) are those of tshark -r on the saved file, and
#     so are those of the live monitor command (-Y "tcpstate.changed == 1") the README shows;
#   - the client's final state is TIME_WAIT and the server's CLOSED, as the client's
#     kernel shows (ss lists the socket in TIME-WAIT) after an active close;
#   - each endpoint's live states are the kernel's own state log of the connection
#     (tracefs sock:inet_sock_set_state, kernel_states.py).
# Needs root (namespaces), ip, dumpcap, tshark, python3: exit 77 (skipped) otherwise.
set -eu
plugin=$1
[ "$(id -u)" = 0 ] || { echo "skipped: needs root (network namespaces)"; exit 77; }
for tool in ip dumpcap tshark python3 tee runuser ss; do
    command -v $tool >/dev/null 2>&1 || { echo "skipped: $tool not found"; exit 77; }
done
version=$(tshark --version 2>/dev/null | head -n 1 | sed -n -E 's/^TShark \(Wireshark\) ([0-9]+)\.([0-9]+)\..*/\1.\2/p')
ns=tcps-live-$$
cli=$ns-c srv=$ns-s
tmp=$(mktemp -d "${TMPDIR:-/tmp}/live-test.XXXXXX")
dpid= tpid=
cleanup() {
    [ -n "$dpid" ] && kill "$dpid" 2>/dev/null || true
    [ -n "$tpid" ] && kill "$tpid" 2>/dev/null || true
    ip netns del "$cli" 2>/dev/null || true
    ip netns del "$srv" 2>/dev/null || true
    rmdir "/sys/kernel/tracing/instances/$ns" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM

ip netns add "$cli" && ip netns add "$srv" ||
    { echo "skipped: cannot make network namespaces"; exit 77; }
ip link add tcpsl0 netns "$cli" type veth peer name tcpsl1 netns "$srv"
ip -n "$cli" addr add 10.199.77.1/24 dev tcpsl0
ip -n "$srv" addr add 10.199.77.2/24 dev tcpsl1
for n in "$cli" "$srv"; do ip -n "$n" link set lo up; done
ip -n "$cli" link set tcpsl0 up
ip -n "$srv" link set tcpsl1 up

mkdir -p "$tmp/plugins/$version/epan" "$tmp/.config"
cp "$plugin" "$tmp/plugins/$version/epan/tcpstate.so"
chmod -R a+rX "$tmp"
chown -R nobody "$tmp"
as_nobody() {
    (cd "$tmp" && runuser -u nobody -- env WIRESHARK_PLUGIN_DIR="$tmp/plugins" HOME="$tmp" \
        XDG_CONFIG_HOME="$tmp/.config" "$@")
}
fields="-T fields -e frame.number -e tcpstate.states -e tcpstate.events"

# dumpcap (root, in the server's namespace) | tee live.pcap | tshark -i - (nobody).
mkfifo "$tmp/pipe"
ip netns exec "$srv" dumpcap -q -i tcpsl1 -f "tcp port 8080" -w - >"$tmp/pipe" 2>"$tmp/dumpcap.err" &
dpid=$!
tee "$tmp/live.pcap" <"$tmp/pipe" |
    as_nobody tshark -i - -l $fields >"$tmp/live.txt" 2>"$tmp/tshark.err" &
tpid=$!
for _ in $(seq 1 50); do
    grep -q "Capturing on" "$tmp/tshark.err" 2>/dev/null && [ -s "$tmp/live.pcap" ] && break
    sleep 0.2
done
sleep 1

# The kernel connection: the server answers one request; the client closes first.
here=$(dirname "$0")
python3 "$here/kernel_states.py" start "$ns" || { echo "skipped: no tracefs sock:inet_sock_set_state"; exit 77; }
ip netns exec "$srv" python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.199.77.2", 8080)); s.listen(1); s.settimeout(20)
c, _ = s.accept(); c.recv(100); c.sendall(b"reply\n")
c.settimeout(20); c.recv(100); c.close()
' &
spid=$!
sleep 1
ip netns exec "$cli" python3 -c '
import socket, time
c = socket.create_connection(("10.199.77.2", 8080), timeout=20, source_address=("10.199.77.1", 40777))
c.sendall(b"request\n"); c.recv(100); time.sleep(0.2); c.close(); time.sleep(0.5)
'
wait "$spid"
sleep 1
kernel=$(ip netns exec "$cli" ss -Htan state time-wait dst 10.199.77.2)
tw=0
echo "$kernel" | grep -q '10.199.77.2:8080' && tw=1
kill -INT "$dpid"
wait "$dpid" 2>/dev/null || true
dpid=
wait "$tpid" || { echo "FAIL: live tshark failed:" >&2; cat "$tmp/tshark.err" >&2; exit 1; }
tpid=

fails=0
check() {
    if [ "$1" = 0 ]; then echo "ok   $2"; else echo "FAIL $2"; fails=$((fails + 1)); fi
}
n=$(grep -c '/' "$tmp/live.txt" || true)
check $([ "$n" -ge 8 ]; echo $?) "live tshark -i showed the states of $n segments"
as_nobody tshark -r "$tmp/live.pcap" $fields >"$tmp/reread.txt" 2>"$tmp/reread.err"
diff "$tmp/live.txt" "$tmp/reread.txt" >"$tmp/diff" 2>&1; st=$?
check $st "live output = tshark -r of the saved file (frame, states, events)"
[ $st = 0 ] || cat "$tmp/diff"
# The README's live monitor: -Y "tcpstate.changed == 1", one pass, live and from the file.
as_nobody sh -c "tshark -i - -l -Y 'tcpstate.changed == 1' $fields" <"$tmp/live.pcap" \
    >"$tmp/live-changed.txt" 2>/dev/null
as_nobody tshark -r "$tmp/live.pcap" -Y "tcpstate.changed == 1" $fields >"$tmp/reread-changed.txt" 2>/dev/null
cmp -s "$tmp/live-changed.txt" "$tmp/reread-changed.txt"; st=$?
c=$(wc -l <"$tmp/live-changed.txt")
check $st "-Y 'tcpstate.changed == 1': live = re-read ($c lines)"
check $([ "$c" -ge 5 ] && [ "$c" -lt "$n" ]; echo $?) "-Y 'tcpstate.changed == 1' keeps the changes only"
last=$(grep '/' "$tmp/live.txt" | tail -n 1 | cut -f2)
check $([ "$last" = "TIME_WAIT/CLOSED" ]; echo $?) "final states $last: client TIME_WAIT, server CLOSED"
check $(echo "$kernel" | grep -q '10.199.77.2:8080'; echo $?) \
    "the client's kernel has the socket in TIME-WAIT (ss: ${kernel:-none})"
python3 "$here/kernel_states.py" stop "$ns" 10.199.77.1:40777 10.199.77.2:8080 "$tw" "$tmp/live.txt"
check $? "live states = the kernel's state log, both endpoints"
[ $fails = 0 ] && echo passed || { echo "FAILED ($fails)"; cat "$tmp/live.txt"; exit 1; }
