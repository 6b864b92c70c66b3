#!/usr/bin/env python3
"""compare_plugins.py: two builds of the plugin must print the same thing.

usage: compare_plugins.py WRAPPER OLD_SO NEW_SO CAPTURE...

For a change that should only make the plugin cheaper (labels built without
printf, fewer items where nobody can see them), runs tshark with OLD_SO and
with NEW_SO on each CAPTURE in the modes scripts use and compares the outputs
byte for byte:
  -T fields with every registered tcpstate field, one pass and -2;
  -Y on a tcpstate field with -T fields;
  -T ek; -T json -j tcpstate; -V and -2 -V; summary lines (the Info text).
Run by hand (e.g. main's build against yours), not in ctest: it needs two
builds. Exit status 1 and a diff excerpt on the first difference of a mode.
"""

import difflib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from uitest import tshark  # noqa: E402
from passes import tcpstate_fields  # noqa: E402


def modes(fields):
    every = []
    for f in fields:
        every += ["-e", f]
    fopts = ["-T", "fields", "-E", "header=y", "-E", "occurrence=a", "-e", "frame.number"]
    return [
        ("fields", fopts + every),
        ("fields -2", ["-2"] + fopts + every),
        ("filter", ["-Y", "tcpstate.server == LAST_ACK || tcpstate.event == refused",
                    "-T", "fields", "-e", "frame.number", "-e", "tcpstate.states"]),
        ("ek", ["-T", "ek"]),
        ("json -j tcpstate", ["-T", "json", "-j", "tcpstate"]),
        ("-V", ["-V"]),
        ("-2 -V", ["-2", "-V"]),
        ("summary", []),
    ]


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    wrapper, old, new = sys.argv[1:4]
    fields = tcpstate_fields(wrapper, new)
    bad = 0
    for cap in sys.argv[4:]:
        for name, args in modes(fields):
            a = tshark(wrapper, old, ["-r", cap] + args)
            b = tshark(wrapper, new, ["-r", cap] + args)
            if a != b:
                bad += 1
                print("FAIL: %s, %s differs:" % (os.path.basename(cap), name))
                diff = difflib.unified_diff(a.splitlines(), b.splitlines(), "old", "new",
                                            lineterm="", n=1)
                print("\n".join(l[:300] for l in list(diff)[:20]))
    print("%s: %d captures, %d modes, %d differences"
          % ("FAIL" if bad else "ok", len(sys.argv) - 4, len(modes(fields)), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
