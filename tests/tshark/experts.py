#!/usr/bin/env python3
"""experts.py: every tcpstate event reaches every consumer of expert infos.

usage: experts.py WRAPPER PLUGIN_SO CAPTURE...

Each event of a frame (tcpstate.event) is also an expert info tcpstate.ev.<event>.
The plugin leaves out expert infos that nothing can see (a tree nobody shows, no
filter, column, -e or tap asking), so each way of asking is checked on its own
against the frame's events. Each runs tshark printing summary lines (-T tabs) with
custom columns, where the tree is built but not shown, as in a filtered run: -T fields
and -V show the whole tree and would ask for everything.
  0. the events come from a custom column on tcpstate.event;
  1. the Expert column (%a) is set on every frame with an event;
  2. the expert tap (-z expert,tcpstate) counts each event's description as often
     as the frames have that event;
  3. a custom column on _ws.expert.message lists each event's description on its frame;
  4. a filter on one tcpstate.ev.<event> field matches exactly the frames that
     have that event (done for each event of the capture).
Only the plugin's own expert infos are compared; TCP's are left alone. A frame the
plugin does not track (malformed TCP: tcpstate.malformed.*, or an invalid flag
combination with no connection) has no events, and its expert info is always
added: the tap must count it too.
"""

import collections
import re
import sys

from uitest import tshark


def event_names(wrapper, plugin):
    """{event number: (token, description)} from tshark -G values and -G fields."""
    tokens, descs = {}, {}
    for line in tshark(wrapper, plugin, ["-G", "values"]).splitlines():
        cols = line.split("\t")
        if len(cols) == 4 and cols[0] == "V" and cols[1] == "tcpstate.event":
            tokens[int(cols[2])] = cols[3]
    for line in tshark(wrapper, plugin, ["-G", "fields"]).splitlines():
        cols = line.split("\t")
        if len(cols) > 2 and cols[0] == "F" and cols[2].startswith("tcpstate.ev."):
            descs[cols[2][len("tcpstate.ev."):]] = cols[1]
    if not tokens or set(tokens.values()) - set(descs) or any("," in d for d in descs.values()):
        sys.exit("FAIL: event values %s and expert fields %s disagree, or a description "
                 "has a comma" % (tokens, descs))
    return {n: (t, descs[t]) for n, t in tokens.items()}


def columns(wrapper, plugin, capture, cols, extra=()):
    """{frame: [column texts]} of tshark's summary lines with these columns (title, format):
    a tree is built, but not shown, so only what the columns and filter ask for is in it."""
    fmt = ",".join('"%s","%s"' % c for c in [("No.", "%m")] + list(cols))
    out = tshark(wrapper, plugin, ["-r", capture, "-T", "tabs", "-o", "gui.column.format:" + fmt]
                 + list(extra))
    rows = {}
    for line in out.splitlines():
        parts = line.strip("\n").split("\t") + [""] * len(cols)
        rows[int(parts[0])] = parts[1:1 + len(cols)]
    return rows


def check(wrapper, plugin, capture, names):
    errors = []
    descs = {d: t for t, d in names.values()}
    tokens = {t: d for t, d in names.values()}
    # Events (a custom column on tcpstate.event), connection and the Expert column.
    events, untracked_frames = {}, set()
    for f, (expert, conn, evs) in columns(wrapper, plugin, capture, [
            ("Expert", "%a"), ("Conn", "%Cus:tcpstate.conn"),
            ("Events", "%Cus:tcpstate.event")]).items():
        events[f] = [t for t in evs.split(",") if t]
        if not conn:
            untracked_frames.add(f)
        if set(events[f]) - set(tokens):
            errors.append("frame %d: unknown events %s" % (f, events[f]))
        # 1. The Expert column.
        if events[f] and not expert:
            errors.append("frame %d: events %s, empty Expert column" % (f, events[f]))
    if not any(events.values()):
        return errors + ["no frame has an event"]

    # 3. _ws.expert.message, asked for alone (by a custom column). No description has a
    # comma: the column's occurrences split cleanly. Untracked frames' infos are kept for 2.
    untracked = collections.Counter()
    for f, (msgs,) in columns(wrapper, plugin, capture,
                              [("Msg", "%Cus:_ws.expert.message")]).items():
        got = collections.Counter(descs[m] for m in msgs.split(",") if m in descs)
        if f in untracked_frames:
            untracked.update(got)
        elif got != collections.Counter(events.get(f, [])):
            errors.append("frame %d: _ws.expert.message %s, events %s"
                          % (f, dict(got), events.get(f)))

    # 2. The expert tap.
    want = collections.Counter(tokens[t] for evs in events.values() for t in evs)
    want += collections.Counter({tokens[t]: n for t, n in untracked.items()})
    got = collections.Counter()
    for line in tshark(wrapper, plugin, ["-r", capture, "-q", "-z", "expert,tcpstate"]).splitlines():
        m = re.match(r"\s*(\d+)\s+\S+\s+TCP State\s+(.*\S)\s*$", line)
        if m and m.group(2) in descs:
            got[m.group(2)] += int(m.group(1))
    if got != want:
        errors.append("-z expert,tcpstate: %s, events say %s" % (dict(got), dict(want)))

    # 4. A filter on each event's own expert field.
    for token in sorted({t for evs in events.values() for t in evs}):
        got_frames = sorted(columns(wrapper, plugin, capture, [],
                                    ["-Y", "tcpstate.ev." + token]))
        want_frames = sorted(f for f, evs in events.items() if token in evs)
        if got_frames != want_frames:
            errors.append("-Y tcpstate.ev.%s: frames %s, events say %s"
                          % (token, got_frames, want_frames))
    return errors


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    wrapper, plugin, captures = sys.argv[1], sys.argv[2], sys.argv[3:]
    names = event_names(wrapper, plugin)
    failed = 0
    for capture in captures:
        errors = check(wrapper, plugin, capture, names)
        if errors:
            failed += 1
            print("FAIL %s:\n  %s" % (capture, "\n  ".join(errors[:10])))
        else:
            print("ok   %s" % capture)
    if failed:
        sys.exit("FAIL: %d of %d captures" % (failed, len(captures)))
    print("PASS: %d captures" % len(captures))


if __name__ == "__main__":
    main()
