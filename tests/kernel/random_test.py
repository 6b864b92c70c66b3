#!/usr/bin/env python3
"""random_test.py: tcpstate against the kernel on random scenarios, endpoint by endpoint.

usage: random_test.py [--strict] [--min=PERCENT] [--list] WRAPPER PLUGIN_SO DIR

DIR holds random-N.pcap and random-N.truth pairs from pcaps/gen/randomgen.py (the
committed sample is pcaps/random/).  Each capture is read twice by tshark with the
plugin: one pass (causal states) and two passes (hindsight).  Each endpoint of each
connection is compared with the kernel's states (compare.py: the sequence of
distinct states and the end state).  Prints agreement over all endpoints and per
class (capture point, wire faults, the kernel's end state), then every hindsight
disagreement with the rule of unknowable.py that explains it, if one does.

With --strict the exit status is 1 when hindsight disagrees with the kernel on an
endpoint that no rule of unknowable.py explains (the capture could know it); with
--min=PERCENT when hindsight agrees on fewer than PERCENT % of the endpoints the
capture can know (the committed sample's ctest: a floor that only rises).
"""
import collections
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import compare  # noqa: E402
import truth as truthfile  # noqa: E402
import unknowable  # noqa: E402


def endpoint_diffs(t, conns):
    """{(conn n, role): [difference lines]} for every endpoint of the truth."""
    out = {(n, role): [] for n in t["order"] for role in truthfile.ROLES}
    for d in compare.compare(t, conns, ignore_extra=True):
        head = d.split(":", 1)[0].split()
        if head[0] != "conn":
            continue
        n = int(head[1])
        roles = [head[2]] if len(head) > 2 else list(truthfile.ROLES)
        for role in roles:
            out[(n, role)].append(d)
    return out


def fault_kinds(t):
    for note in t["notes"]:
        if note.startswith("faults: "):
            rules = json.loads(note[len("faults: "):]) or []
            kinds = sorted({r["action"] if r["action"] != "drop" else
                            ("loss " + r["set"] if "set" in r else "loss") for r in rules})
            return ",".join(kinds) or "none"
    return "none"


def states_of(conns, t, n, role, hindsight_conns):
    """(kernel states, hindsight states) of one endpoint, as compare.py builds them."""
    want = t["conns"][n]["states"][role]
    got = None
    for d in compare.compare(t, hindsight_conns, ignore_extra=True):
        if d.startswith("conn %d %s: states differ" % (n, role)):
            got = d.split(", plugin ", 1)[1].split()
    return want, got if got is not None else want


def run_case(pcap, tpath):
    t = truthfile.read(tpath)
    res = {}
    for mode in ("causal", "hindsight"):
        hs = mode == "hindsight"
        names = compare.available_fields(hs)
        text = compare.run_tshark(pcap, names, hs)
        conns = compare.read_fields(text, compare.field_names(hs))
        res[mode] = endpoint_diffs(t, conns)
        res[mode + "_conns"] = conns
    return t, res


def main(argv):
    strict = "--strict" in argv
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 3:
        sys.exit(__doc__)
    wrapper, plugin, d = args
    os.environ["COMPARE_TSHARK"] = "sh %s %s --" % (wrapper, plugin)
    names = sorted((f[:-6] for f in os.listdir(d) if f.endswith(".truth")),
                   key=lambda s: (len(s), s))
    if not names:
        print("no truth files in %s" % d)
        return 1
    total = collections.Counter()
    per_class = collections.defaultdict(collections.Counter)
    unexplained, explained = [], collections.Counter()
    for name in names:
        tpath = os.path.join(d, name + ".truth")
        t, res = run_case(os.path.join(d, name + ".pcap"), tpath)
        vantage = t["vantage"]
        faults = fault_kinds(t)
        segs = unknowable.conn_segs(os.path.join(d, name + ".pcap"))
        for (n, role), hd in sorted(res["hindsight"].items()):
            cd = res["causal"][(n, role)]
            end = t["conns"][n]["end"][role]
            why = None
            if hd:
                want, got = states_of(None, t, n, role, res["hindsight_conns"])
                k = t["order"].index(n)
                why = unknowable.why(t, n, role, want, got, segs[k]["segs"] if k < len(segs) else [])
            for cls in ("all", "capture at " + vantage, "faults " + faults, "kernel end " + end):
                c = per_class[cls]
                c["n"] += 1
                c["causal"] += not cd
                c["hindsight"] += not hd
                c["knowable"] += not why
                c["hindsight_knowable"] += not hd
            total["n"] += 1
            if hd and why:
                explained[why] += 1
            elif hd:
                unexplained.append((name, n, role, hd))
            if "--list" in argv and (hd or cd):
                print("%s conn %d %s: causal %s; hindsight %s" % (name, n, role, "; ".join(cd) or "agrees",
                                                                  "; ".join(hd) or "agrees"))
    print("random kernel scenarios: %d captures, %d endpoints" % (len(names), total["n"]))
    print("%-34s %9s %18s %18s" % ("class", "endpoints", "causal agrees", "hindsight agrees"))
    order = sorted(per_class, key=lambda k: (k != "all", k))
    for cls in order:
        c = per_class[cls]
        print("%-34s %9d %10d %6.1f%% %10d %6.1f%%" % (cls, c["n"], c["causal"], 100.0 * c["causal"] / c["n"],
                                                      c["hindsight"], 100.0 * c["hindsight"] / c["n"]))
    for why, k in sorted(explained.items()):
        print("hindsight differs, unknowable from the capture (%d): %s" % (k, why))
    for name, n, role, hd in unexplained:
        print("UNEXPLAINED %s conn %d %s: %s" % (name, n, role, "; ".join(hd)))
    knowable = total["n"] - sum(explained.values())
    print("hindsight agrees on %d/%d endpoints the capture can know"
          % (knowable - len(unexplained), knowable))
    floor = float(next((a[len("--min="):] for a in argv if a.startswith("--min=")), "0"))
    pct = 100.0 * (knowable - len(unexplained)) / knowable if knowable else 100.0
    if pct < floor:
        print("FAIL: %.1f%% is below the floor of %.1f%%" % (pct, floor))
        return 1
    return 1 if strict and unexplained else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
