#!/usr/bin/env python3
"""ui_conntable.py: the connection table in Wireshark (Statistics > TCP State Connections).

usage: ui_conntable.py WRAPPER PLUGIN_SO PCAP_DIR

The table is Wireshark's stat-table UI, which tshark prints too: -z tcpstate,connections
[,FILTER]. It is kept current packet by packet; at the end of the capture its rows must
be, cell for cell, those of -z tcpstate,conns (checked against the kernel's truth and
RFC 9293 by ui_conns.py):
  1. at the end of every bundled capture (port reuse, midstream, IPv6, simultaneous
     open and close, ...), and with the TIME_WAIT timer (time_wait linux, client_close
     with its last ACK again 70 s later: the timer runs out between two segments);
  2. with the display filter frame.time_relative <= T, as -z tcpstate,conns,T: on
     client_close between its segments, and on time_wait_reuse before the port is reused.
"""

import glob
import os
import re
import sys
import tempfile

import ui_conns
import uitest


def table_rows(wrapper, plugin, pcap, arg="tcpstate,connections", extra=()):
    out = uitest.tshark(wrapper, plugin, list(extra) + ["-q", "-r", pcap, "-z", arg])
    if "Client-State |" not in out:
        sys.exit("FAIL: no table in:\n" + out)
    rows = []
    for line in out.splitlines():
        if re.match(r"^\d+ \|", line):
            rows.append([cell.strip() for cell in line.split("|")[:-1]])
    return rows


def cli_rows(wrapper, plugin, pcap, arg="tcpstate,conns", extra=()):
    return [[str(r["conn"]), r["client_state"], r["server_state"], r["client"], r["server"],
             r["since"][0], r["since"][1], ",".join(r["events"])]
            for r in ui_conns.table(wrapper, plugin, pcap, arg, extra)]


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    wrapper, plugin, pcap_dir = argv[1:4]
    ck = uitest.Checker()
    for pcap in sorted(glob.glob(os.path.join(pcap_dir, "*.pcap"))):
        name = os.path.basename(pcap)[:-5]
        want = cli_rows(wrapper, plugin, pcap)
        ck.equal(table_rows(wrapper, plugin, pcap), want,
                 "%s: the table at the end = -z tcpstate,conns (%d rows)" % (name, len(want)))
    cc = os.path.join(pcap_dir, "client_close.pcap")
    with tempfile.TemporaryDirectory() as tmp:
        late = os.path.join(tmp, "late_ack.pcap")
        ui_conns.append_copy_of_last(cc, late, 70)
        os.chmod(tmp, 0o755)
        os.chmod(late, 0o644)
        for pcap in (cc, late):
            opt = ["-o", "tcpstate.time_wait:linux"]
            want = cli_rows(wrapper, plugin, pcap, extra=opt)
            ck.equal(table_rows(wrapper, plugin, pcap, extra=opt), want,
                     "%s, time_wait linux: the table = -z tcpstate,conns" %
                     os.path.basename(pcap))
    for name, times in (("client_close", (0.0001, 0.1, 0.21, 0.3, 0.41)),
                        ("time_wait_reuse", (0.3, 0.4977, 0.65))):
        pcap = os.path.join(pcap_dir, name + ".pcap")
        for t in times:
            want = cli_rows(wrapper, plugin, pcap, "tcpstate,conns,%.6f" % t)
            got = table_rows(wrapper, plugin, pcap,
                             "tcpstate,connections,frame.time_relative <= %.6f" % t)
            ck.equal(got, want, "%s at %.6f s: the table filtered by time = "
                     "-z tcpstate,conns,TIME" % (name, t))
    return ck.done()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
