#!/usr/bin/env python3
"""prefs.py: the tcpstate preferences are registered and take effect.

usage: prefs.py WRAPPER PLUGIN_SO CAPTURE

CAPTURE must be a capture whose first segment is a SYN (client_close.pcap).
  1. tshark -G currentprefs lists tcpstate.time_wait, .midstream, .vantage,
     .info_column, and every enum value is accepted with -o;
  2. -o tcpstate.info_column:FALSE removes the "[C:... S:...]" text from Info;
  3. with the handshake cut off (editcap), the connection is tracked with
     roles assumed by default and not at all with -o tcpstate.midstream:FALSE;
  4. the protocol's names as Wireshark's convention has them: long name "TCP State"
     (the tree), short name "TCP State" (Edit > Preferences > Protocols > TCP State,
     Expert Info's Protocol column, Enabled Protocols), filter name "tcpstate".
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

from uitest import tshark

PREFS = ["tcpstate.time_wait", "tcpstate.midstream", "tcpstate.vantage",
         "tcpstate.info_column"]
ENUMS = {"tcpstate.time_wait": ["off", "linux", "rfc"],
         "tcpstate.vantage": ["unknown", "client", "server"]}


def check(ok, what, errors):
    print("%s %s" % ("ok  " if ok else "FAIL", what))
    if not ok:
        errors.append(what)


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    wrapper, plugin, capture = argv[1:4]
    errors = []

    protocols = [line.split("\t") for line in
                 tshark(wrapper, plugin, ["-G", "protocols"]).splitlines()]
    # 4.0 prints three columns; later versions add more after the filter name
    ours = [p[:3] for p in protocols if len(p) >= 3 and p[2] == "tcpstate"]
    check(ours == [["TCP State", "TCP State", "tcpstate"]],
          "tshark -G protocols: long name, short name, filter name = %r" % ours, errors)
    experts = tshark(wrapper, plugin, ["-q", "-r", capture, "-z", "expert,tcpstate"])
    check(re.search(r"\d+\s+Sequence\s+TCP State\s+\S", experts) is not None,
          "Expert Info's Protocol column says TCP State", errors)
    check(re.search(r"Sequence\s+tcpstate\s", experts) is None,
          "Expert Info's Protocol column never says tcpstate", errors)
    tree = tshark(wrapper, plugin, ["-r", capture, "-V", "-c", "1"])
    check(re.search(r"^TCP State: ", tree, re.M) is not None, "the tree says TCP State",
          errors)

    current = tshark(wrapper, plugin, ["-G", "currentprefs"])
    for pref in PREFS:
        check("#%s:" % pref in current, "preference %s registered" % pref, errors)
    for pref, values in ENUMS.items():
        for value in values:
            out = tshark(wrapper, plugin, ["-r", capture, "-o", "%s:%s" % (pref, value),
                                           "-T", "fields", "-e", "tcpstate.states"])
            check(out.strip() != "", "-o %s:%s runs, states shown" % (pref, value), errors)

    on = tshark(wrapper, plugin, ["-r", capture])
    off = tshark(wrapper, plugin, ["-r", capture, "-o", "tcpstate.info_column:FALSE"])
    check("[C:" in on, "Info column text shown by default", errors)
    check("[C:" not in off, "-o tcpstate.info_column:FALSE removes the Info text", errors)

    editcap = shutil.which("editcap")
    if editcap is None:
        print("skip midstream check: editcap not found")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            mid = os.path.join(tmp, "midstream.pcap")
            subprocess.run([editcap, capture, mid, "1-3"], check=True)
            fields = ["-r", mid, "-T", "fields", "-e", "tcpstate.states",
                      "-e", "tcpstate.roles_assumed"]
            rows = [r.split("\t") for r in tshark(wrapper, plugin, fields).splitlines()]
            check(bool(rows) and all(r[0] for r in rows),
                  "midstream on (default): every frame after the handshake has states", errors)
            check(bool(rows) and rows[0][-1] in ("1", "True"),
                  "midstream on: roles assumed on the first frame", errors)
            rows = tshark(wrapper, plugin,
                          ["-o", "tcpstate.midstream:FALSE"] + fields).split()
            check(rows == [] or set(rows) <= {""},
                  "-o tcpstate.midstream:FALSE: no states without the handshake", errors)

    print("FAILED" if errors else "passed")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
