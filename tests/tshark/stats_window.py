#!/usr/bin/env python3
"""stats_window.py: Wireshark's statistics window shows Connections first.

usage: stats_window.py PLUGIN_SO PCAP_DIR REDISSECT

Wireshark's window (Statistics > TCP State > States and Events) sorts every level of
the tree, the top one included, by the column its header says (tshark prints the top
level unsorted). REDISSECT --stats-window (redissect.c) makes and taps the tree as the
window does and sorts its top level as the window's items sort, by name and by count,
each descending: in both, on captures where Transitions and Events outnumber the
connections, Connections comes first, as in tshark.
"""

import os
import sys

import ui_prefs
import uitest

CAPTURES = ("client_close", "time_wait_reuse", "refused")


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    plugin, pcap_dir, tool = argv[1:4]
    ck = uitest.Checker()
    version = ui_prefs.tshark_version()
    for name in CAPTURES:
        pcap = os.path.join(pcap_dir, name + ".pcap")
        out = ui_prefs.run_redissect_raw(tool, plugin, pcap, ["--stats-window"], version)
        orders = dict((ln.split()[0], ln.split()[1:]) for ln in out.splitlines() if ln.strip())
        for by in ("name", "count"):
            got = orders.get(by, [])
            ck.check(got[:1] == ["Connections"] and set(got) >= {"Transitions", "Events"},
                     "%s: window sorted by %s: %s" % (name, by, " ".join(got)))
    return ck.done()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
