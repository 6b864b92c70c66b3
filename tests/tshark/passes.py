#!/usr/bin/env python3
"""passes.py: one-pass and two-pass (-2) tshark must show the same TCP states.

usage: passes.py WRAPPER PLUGIN_SO CAPTURE

Compares, between `tshark -r CAPTURE` and `tshark -2 -r CAPTURE`:
  1. -T fields with every registered tcpstate field (from tshark -G fields);
  2. the "TCP State" subtrees of the -V output;
  3. the text the plugin appends to the Info column ("[C:... S:...]").
And, in each pass, that a tree nobody shows has the same fields as a shown one:
summary lines with a custom column for every tcpstate field, printed alone (the
tree is built but not shown, as for a display filter) and with -V (shown).
The plugin computes on the first pass and redraws from stored records on every
pass, so any difference is a bug. Also fails when the capture has TCP frames
but no frame has a tcpstate record.

Hindsight (tcpstate.hindsight.*, the "Hindsight:" subtree) is by design only
there once the whole file was read: it is left out of the comparison, and
checked to be absent in one pass and present on every tracked frame in two.
The states shown (tcpstate.best.*, the "TCP State" profile's) are left out too:
they must be the causal states (tcpstate.states) in one pass and the hindsight
ones (tcpstate.hindsight.states) in two.
"""

import difflib
import re
import sys

from uitest import tshark


def tcpstate_fields(wrapper, plugin):
    fields = []
    for line in tshark(wrapper, plugin, ["-G", "fields"]).splitlines():
        cols = line.split("\t")
        if len(cols) > 4 and cols[0] == "F" and cols[4] == "tcpstate":
            fields.append(cols[2])
    if not fields:
        sys.exit("FAIL: tshark -G fields lists no tcpstate field")
    return fields


def indent(line):
    return len(line) - len(line.lstrip(" "))


def tree_text(verbose):
    """The TCP State subtrees of -V output, each under its frame's first line,
    without the Hindsight subtree."""
    out = []
    inside = False
    skip_below = None
    for line in verbose.splitlines():
        if skip_below is not None and line.startswith(" ") and indent(line) > skip_below:
            continue
        skip_below = None
        if line.startswith("Frame "):
            out.append(line.split(":")[0])
            inside = False
        elif line.startswith("TCP State"):
            inside = True
            out.append(line)
        elif inside and line.lstrip().startswith("Hindsight:"):
            skip_below = indent(line)
        elif inside and line.startswith(" "):
            out.append(line)
        else:
            inside = False
    return out


def check_hindsight(table_one, table_two):
    """Hindsight: absent in one pass, present wherever a state is in two.
    table_*: rows of (tcpstate.states, tcpstate.hindsight.states)."""
    ok = True
    for rows, want in ((table_two, True), (table_one, False)):
        for n, (causal, hindsight) in enumerate(rows, 1):
            if want and causal and hindsight.count(",") != causal.count(","):
                print("FAIL frame %d: two passes, states %r but hindsight %r" % (n, causal, hindsight))
                ok = False
                break
            if not want and hindsight:
                print("FAIL frame %d: hindsight %r in one pass" % (n, hindsight))
                ok = False
                break
    if ok:
        print("ok   hindsight only in two passes, on every tracked frame")
    return ok


def check_best(table_one, table_two):
    """tcpstate.best.pair: the causal states in one pass, the hindsight ones in two.
    table_*: rows of (tcpstate.states, tcpstate.hindsight.states, tcpstate.best.pair)."""
    ok = True
    for rows, col, what in ((table_one, 0, "one pass: causal"),
                            (table_two, 1, "two passes: hindsight")):
        for n, row in enumerate(rows, 1):
            if row[2].replace(" / ", "/") != row[col]:
                print("FAIL frame %d: %s states %r, but tcpstate.best.pair %r"
                      % (n, what, row[col], row[2]))
                ok = False
                break
        if ok:
            print("ok   tcpstate.best.pair is the %s states" % what)
    return ok


FRAME_RE = re.compile(r"^Frame \d+:")


def split_summary(verbose_summary):
    """-V -P output: (summary lines, details). A summary line is the line just
    before each "Frame N:" line."""
    lines = verbose_summary.splitlines()
    summary, details = [], []
    for i, line in enumerate(lines):
        if i + 1 < len(lines) and FRAME_RE.match(lines[i + 1]):
            summary.append(line)
        else:
            details.append(line)
    return summary, "\n".join(details)


INFO_RE = re.compile(r"\[C:[^\]]*\]")


def info_text(summary):
    return ["%d %s" % (i + 1, " ".join(INFO_RE.findall(line)))
            for i, line in enumerate(summary.splitlines())]


def compare(what, one, two):
    if one == two:
        print("ok   %s: one pass == two passes (%d lines)" % (what, len(one)))
        return True
    print("FAIL %s differs between one pass and two passes:" % what)
    for line in difflib.unified_diff(one, two, "one-pass", "two-pass", lineterm="", n=2):
        print("     " + line)
    return False


def compare_hidden(what, shown, hidden):
    if shown == hidden:
        print("ok   %s: custom columns of every field, tree shown == not shown (%d lines)"
              % (what, len(shown)))
        return True
    print("FAIL %s: custom columns differ between a shown tree (-V) and one nobody sees:" % what)
    for line in difflib.unified_diff(shown, hidden, "shown", "not shown", lineterm="", n=1):
        print("     " + line)
    return False


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    wrapper, plugin, capture = argv[1:4]
    ok = True

    # Per pass, two tshark runs: every field (with tcp.srcport, to tell whether the
    # capture has TCP, and the hindsight fields), and -V -P (tree and summary lines).
    names = ["frame.number", "tcp.srcport"] + tcpstate_fields(wrapper, plugin)
    fargs = ["-r", capture, "-T", "fields", "-E", "header=y", "-E", "separator=/t",
             "-E", "occurrence=a", "-E", "aggregator=,"]
    for f in names:
        fargs += ["-e", f]
    shown = [i for i, f in enumerate(names)
             if not f.startswith(("tcpstate.hindsight.", "tcpstate.best."))]
    states, hstates = names.index("tcpstate.states"), names.index("tcpstate.hindsight.states")
    best = names.index("tcpstate.best.pair")
    columns = "gui.column.format:" + ",".join(
        '"%s","%s"' % c for c in [("No.", "%m"), ("Info", "%i")] +
        [(f, "%Cus:" + f) for f in names[2:]])
    tables, trees, infos = [], [], []
    for passes in ([], ["-2"]):
        rows = [line.split("\t") for line in tshark(wrapper, plugin, passes + fargs).splitlines()]
        rows = [row + [""] * (len(names) - len(row)) for row in rows]
        tables.append(rows)
        summary, details = split_summary(tshark(wrapper, plugin, passes + [
            "-r", capture, "-V", "-P", "-T", "tabs", "-o", columns]))
        trees.append(tree_text(details))
        infos.append(info_text("\n".join(summary)))
        hidden = tshark(wrapper, plugin, passes + ["-r", capture, "-T", "tabs", "-o", columns])
        ok &= compare_hidden("-2" if passes else "one pass", summary, hidden.splitlines())

    one, two = (["\t".join(row[i] for i in shown) for row in t] for t in tables)
    ok &= compare("-T fields tcpstate.*", one, two)
    ok &= compare("-V TCP State tree", trees[0], trees[1])
    has_tcp = any(row[1] for row in tables[0][1:])
    if has_tcp and not any(line.startswith("TCP State") for line in trees[0]):
        print("FAIL the capture has TCP but no frame has a TCP State tree")
        ok = False
    ok &= check_hindsight([(r[states], r[hstates]) for r in tables[0][1:]],
                          [(r[states], r[hstates]) for r in tables[1][1:]])
    ok &= check_best([(r[states], r[hstates], r[best]) for r in tables[0][1:]],
                     [(r[states], r[hstates], r[best]) for r in tables[1][1:]])
    ok &= compare("Info column text", infos[0], infos[1])

    print("passed" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
