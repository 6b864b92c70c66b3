#!/bin/sh
# Compare tcpstate's states with the kernel truth of every bundled capture.
#   tests/kernel/run_all.sh [--hindsight] [scenario ...]
# Needs tshark with the tcpstate plugin loadable: either installed where
# tshark finds it, or TCPSTATE_PLUGIN=path/to/tcpstate.so (then loaded through
# tests/tshark/tshark-plugin.sh; COMPARE_TSHARK overrides the command).  Prints compare.py's lines per scenario and
# a closing "N passed, N failed" line; exits 1 if any failed.
here=$(cd "$(dirname "$0")" && pwd)
pcaps="$here/../../pcaps"
if [ -n "${TCPSTATE_PLUGIN:-}" ] && [ -z "${COMPARE_TSHARK:-}" ]; then
    COMPARE_TSHARK="sh $here/../tshark/tshark-plugin.sh $TCPSTATE_PLUGIN --"
    export COMPARE_TSHARK
fi
opt=""
if [ "$1" = "--hindsight" ]; then opt="--hindsight"; shift; fi
if [ $# -eq 0 ]; then
    set -- $(cd "$pcaps" && ls *.truth | sed 's/\.truth$//')
fi
pass=0; fail=0
for s in "$@"; do
    if python3 "$here/compare.py" $opt "$pcaps/$s.truth" "$pcaps/$s.pcap"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
    fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
