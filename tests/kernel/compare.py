#!/usr/bin/env python3
"""Compare tcpstate's per-frame states with a kernel truth file.

usage: compare.py [--hindsight] [--ignore-extra] [--verbose] TRUTH FIELDS
       compare.py --fields [--hindsight]

TRUTH  is a pcaps/<scenario>.truth file (format: pcaps/README.md).
FIELDS is the output of

  tshark -r X.pcap -T fields -E separator=/t -E occurrence=a \\
    -e frame.number -e tcpstate.conn -e tcpstate.client.endpoint \\
    -e tcpstate.server.endpoint -e tcpstate.prev_states -e tcpstate.states

(with --hindsight: the tcpstate.hindsight.* fields), or "-" for standard
input, or a .pcap/.pcapng file, which is then run through tshark with those
fields (the environment variable COMPARE_TSHARK, if set, is the command used
instead of "tshark", e.g. "sh tests/tshark/tshark-plugin.sh PLUGIN.so --"; and
COMPARE_TSHARK_OPTS more options for the run, e.g. "-o tcpstate.vantage:client").  `compare.py --fields` prints the -e arguments.  A first line naming
the columns (tshark -E header=y) is accepted; columns are then found by name.

A frame with several TCP layers has comma-separated values in each column.
Frames the plugin did not track (empty fields) are skipped.

For each truth connection the plugin's connection with the same client and
server endpoints is taken (the n-th one with that pair for the truth's n-th
connection with it).  Each endpoint's sequence of distinct states is built
from the plugin's frames (previous then current state of each frame,
consecutive duplicates collapsed, the states a change must have passed when it is
not one arc of RFC 9293's diagram and the diagram has one shortest path for it
(forced_path), a leading CLOSED dropped unless it is the only state) and compared with the truth's `states`; the last frame's current
state is compared with `end`.  One line is printed per difference, then
`PASS <scenario>` or `FAIL <scenario>`; the exit status is 0 or 1 (2 for a
usage or input error).  Plugin connections that match no truth connection
are differences too, unless --ignore-extra.
"""
import os
import shlex
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import truth as truthfile  # noqa: E402  (tests/lib/truth.py: the one truth file reader)
from truth import norm_ep, norm_state  # noqa: E402

FIELDS = ["frame.number", "tcpstate.conn", "tcpstate.client.endpoint",
          "tcpstate.server.endpoint", "tcpstate.prev_states", "tcpstate.states"]


def field_names(hindsight):
    if not hindsight:
        return list(FIELDS)
    return [FIELDS[0]] + [f.replace("tcpstate.", "tcpstate.hindsight.", 1) for f in FIELDS[1:]]


class InputError(Exception):
    pass


def tshark_cmd():
    # COMPARE_TSHARK: a command to use instead of "tshark", e.g.
    # "sh tests/tshark/tshark-plugin.sh build/plugin/tcpstate.so --"
    return shlex.split(os.environ.get("COMPARE_TSHARK", "tshark"))


def available_fields(hindsight):
    """With --hindsight, the hindsight columns tshark knows, falling back to
    the plain tcpstate.conn / endpoint fields where the plugin has no
    hindsight variant of them (they do not depend on the mode)."""
    names = field_names(hindsight)
    if not hindsight:
        return names
    r = subprocess.run(tshark_cmd() + ["-G", "fields"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    known = set()
    for line in r.stdout.splitlines():
        p = line.split("\t")
        if len(p) > 2 and p[0] == "F":
            known.add(p[2])
    if not known:
        return names
    out = []
    for n in names:
        plain = n.replace("tcpstate.hindsight.", "tcpstate.", 1)
        if n not in known and plain in known and not n.endswith("states"):
            n = plain
        out.append(n)
    return out


def run_tshark(pcap, names, hindsight=False):
    """One pass for the causal states; two passes (-2) for hindsight, which
    the plugin fills in only once the whole file was read."""
    cmd = tshark_cmd() + (["-2"] if hindsight else [])
    # COMPARE_TSHARK_OPTS: more tshark options for this run, e.g. "-o tcpstate.vantage:client"
    cmd += shlex.split(os.environ.get("COMPARE_TSHARK_OPTS", ""))
    cmd += ["-r", pcap, "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a"]
    for n in names:
        cmd += ["-e", n]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise InputError("tshark failed: %s" % r.stderr.strip())
    return r.stdout


def read_fields(text, names):
    """-> {conn id: {"client", "server", "frames": [(frame, prev, cur)], "first": frame}}"""
    lines = text.splitlines()
    idx = list(range(len(names)))
    if lines and lines[0].split("\t")[0].strip() == "frame.number":
        header = [h.strip() for h in lines[0].split("\t")]
        idx = []
        for n in names:
            if n in header:
                idx.append(header.index(n))
            elif n.replace("hindsight.", "") in header:  # conn/endpoints may be shared
                idx.append(header.index(n.replace("hindsight.", "")))
            else:
                raise InputError("column %s not in the header" % n)
        lines = lines[1:]
    conns = {}
    for ln_no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        cols += [""] * (max(idx) + 1 - len(cols))
        frame, conn, cep, sep, prev, cur = (cols[i].strip() for i in idx)
        try:
            frame_no = int(frame.split(",")[0])
        except ValueError:
            raise InputError("fields line %d: bad frame number %r" % (ln_no, frame))
        parts = [c.split(",") if c else [] for c in (conn, cep, sep, prev, cur)]
        n = max(len(p) for p in parts)
        for k in range(n):
            vals = [p[k].strip() if k < len(p) else "" for p in parts]
            cid, ce, se, pv, cu = vals
            if not cid:
                continue
            c = conns.setdefault(cid, {"client": "", "server": "", "frames": [], "first": frame_no})
            if ce and not c["client"]:
                c["client"] = norm_ep(ce)
            if se and not c["server"]:
                c["server"] = norm_ep(se)
            c["frames"].append((frame_no, split_states(pv), split_states(cu)))
    return conns


def split_states(v):
    if not v or "/" not in v:
        return None
    a, b = v.split("/", 1)
    return (norm_state(a), norm_state(b))


# RFC 9293 figure 5 (section 3.3.2), written from the RFC: the arcs of the diagram.
# Any state also goes to CLOSED by a reset or an abort (3.10.7.4, 3.10.5), and a
# passively opened SYN-RECEIVED back to LISTEN (3.10.7.3 first).
ARCS = {
    "CLOSED": {"LISTEN", "SYN_SENT"},
    "LISTEN": {"SYN_RECEIVED", "SYN_SENT", "CLOSED"},
    "SYN_SENT": {"SYN_RECEIVED", "ESTABLISHED", "CLOSED"},
    "SYN_RECEIVED": {"ESTABLISHED", "FIN_WAIT_1", "LISTEN"},
    "ESTABLISHED": {"FIN_WAIT_1", "CLOSE_WAIT"},
    "FIN_WAIT_1": {"FIN_WAIT_2", "CLOSING"},
    "FIN_WAIT_2": {"TIME_WAIT"},
    "CLOSING": {"TIME_WAIT"},
    "CLOSE_WAIT": {"LAST_ACK"},
    "LAST_ACK": {"CLOSED"},
    "TIME_WAIT": {"CLOSED"},
}


def forced_path(a, b):
    """The states between a and b when a frame shows a -> b, which is not one arc of
    the diagram, and the diagram has exactly one shortest path from a to b (e.g.
    SYN_RECEIVED -> CLOSE_WAIT on a FIN that also acknowledges the SYN-ACK passes
    ESTABLISHED, as the kernel's log shows); [] otherwise (FIN_WAIT_1 -> TIME_WAIT has
    two, by FIN_WAIT_2 or CLOSING, and the truth files follow the RFC's text there:
    pcaps/gen/derive.py)."""
    if b == "CLOSED" or b in ARCS.get(a, ()):
        return []
    paths = [[a]]
    while paths:
        done = [p for p in paths if p[-1] == b]
        if done:
            return done[0][1:-1] if len(done) == 1 else []
        paths = [p + [n] for p in paths for n in sorted(ARCS.get(p[-1], ())) if n not in p]
    return []


def distinct(seq):
    out = []
    for s in seq:
        if s and (not out or out[-1] != s):
            if out:
                out.extend(forced_path(out[-1], s))
            out.append(s)
    if len(out) > 1 and out[0] == "CLOSED":
        out = out[1:]
    return out


def reused_later(conns, cid, role):
    """True if a later plugin connection on the same address/port pair ends this
    endpoint's TIME_WAIT: its SYN came to this endpoint (RFC 1122 4.2.2.13), or
    this endpoint, the old connection's client, sent it (a connect() reusing the
    tuple).  A SYN sent from the old server's port leaves its TIME_WAIT alone."""
    me = conns[cid]
    pair = {me["client"], me["server"]}
    ep = me[role]
    return any(c is not me and c["first"] > me["first"] and {c["client"], c["server"]} == pair
               and (c["server"] == ep or role == "client")
               for c in conns.values())


def compare(truth, conns, ignore_extra=False, verbose=False):
    diffs = []
    plugin_order = sorted(conns, key=lambda cid: conns[cid]["first"])
    used = set()
    occ = {}
    for i in truth["order"]:
        tc = truth["conns"][i]
        key = (tc["client"], tc["server"])
        k = occ.get(key, 0)
        occ[key] = k + 1
        same = [cid for cid in plugin_order if (conns[cid]["client"], conns[cid]["server"]) == key]
        if k >= len(same):
            swapped = [cid for cid in plugin_order if (conns[cid]["server"], conns[cid]["client"]) == key]
            why = " (the plugin has it with client and server swapped: conn %s)" % swapped[0] if swapped else ""
            diffs.append("conn %d: no plugin connection with client %s server %s%s"
                         % (i, tc["client"], tc["server"], why))
            continue
        cid = same[k]
        used.add(cid)
        frames = [f for f in conns[cid]["frames"] if f[2] is not None]
        if not frames:
            diffs.append("conn %d: plugin connection %s has no states" % (i, cid))
            continue
        for r, role in enumerate(("client", "server")):
            reused = reused_later(conns, cid, role)
            seq = []
            for _, prev, cur in frames:
                if prev is not None:
                    seq.append(prev[r])
                seq.append(cur[r])
            want = tc["states"][role]
            if (len(want) >= 2 and want[-2:] == ["SYN_SENT", "CLOSED"] and seq and
                    seq[-1] == "SYN_SENT" and tc["end"][role] == "CLOSED"):
                # Normalisation (pcaps/README.md): a connect() that times out
                # in SYN_SENT goes to CLOSED without sending anything: no
                # capture can show it. Its last segment is its last SYN.
                seq.append("CLOSED")
            if reused and seq[-1] == "TIME_WAIT":
                # A later connection on the same address/port pair ended this
                # TIME_WAIT (RFC 1122 4.2.2.13); it has no frame of its own to
                # show it on: the tracker closes it when the new SYN comes.
                seq.append("CLOSED")
            got = distinct(seq)
            want = tc["states"][role]
            if got != want:
                diffs.append("conn %d %s: states differ: truth %s, plugin %s"
                             % (i, role, " ".join(want), " ".join(got)))
            elif verbose:
                print("conn %d %s: states %s" % (i, role, " ".join(got)))
            end = seq[-1]
            if end != tc["end"][role]:
                diffs.append("conn %d %s: end differs: truth %s, plugin %s (frame %d)"
                             % (i, role, tc["end"][role], end, frames[-1][0]))
    if not ignore_extra:
        for cid in plugin_order:
            if cid not in used:
                c = conns[cid]
                diffs.append("plugin connection %s (client %s server %s, first frame %d) is not in the truth"
                             % (cid, c["client"] or "?", c["server"] or "?", c["first"]))
    return diffs


def main(argv):
    hindsight = "--hindsight" in argv
    ignore_extra = "--ignore-extra" in argv
    verbose = "--verbose" in argv or "-v" in argv
    args = [a for a in argv if not a.startswith("-") or a == "-"]
    names = field_names(hindsight)
    if "--fields" in argv:
        print(" ".join("-e " + n for n in names))
        return 0
    if len(args) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        print("       compare.py --fields [--hindsight]", file=sys.stderr)
        return 2
    try:
        truth = truthfile.read(args[0])
        src = args[1]
        if src == "-":
            text = sys.stdin.read()
        elif src.endswith((".pcap", ".pcapng")):
            text = run_tshark(src, available_fields(hindsight), hindsight)
        else:
            with open(src) as f:
                text = f.read()
        conns = read_fields(text, names)
    except (InputError, truthfile.TruthError, OSError) as e:
        print("compare.py: %s" % e, file=sys.stderr)
        return 2
    diffs = compare(truth, conns, ignore_extra, verbose)
    for d in diffs:
        print(d)
    print("%s %s" % ("FAIL" if diffs else "PASS", truth["scenario"]))
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
