#!/usr/bin/env python3
"""ui_conns.py: tshark -q -z tcpstate,conns[,TIME], the connection table.

usage: ui_conns.py WRAPPER PLUGIN_SO PCAP_DIR

Expectations, none taken from the plugin's output:
  1. every capture with a truth file: one row per truth connection, in order, with
     its client and server endpoints, and the `end` states the kernel recorded
     (scenarios of tests/kernel/causal_unknowable.txt may differ: reported, not failed);
  2. client_close at times between its segments (-z tcpstate,conns,TIME): the states
     of RFC 9293 figure 12 (textbook.py's steps), with "since" times equal to the
     capture times of the segments that entered them;
  3. the TIME_WAIT timer: at the last segment + 61 s the client is CLOSED with
     -o tcpstate.time_wait:linux (2 MSL = 60 s) and still TIME_WAIT with rfc
     (240 s), CLOSED at + 241 s with rfc; a state the timer entered shows the exact
     time it ran out (the TIME_WAIT frame's capture time + 2 MSL) and "timer", no frame;
  4. every "T #N" in every table above is frame N's capture time (since the first frame,
     from the pcap itself) to the microsecond; in time_wait_reuse, a table before the
     port is reused shows no state entered after its time.
"""

import os
import re
import sys
import tempfile

import textbook
import uitest

sys.path.insert(0, os.path.join(uitest.HERE, "..", "lib"))
import pcapfile  # noqa: E402  (tests/lib/pcapfile.py: the one pcap reader and writer)

SINCE = r"(-|[\d.]+ #\d+|#\d+|[\d.]+ timer)"
ROW = re.compile(r"^(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+" + SINCE + r"\s+" + SINCE +
                 r"\s+(\S+)$")

# Capture times of each capture's frames (since its first frame, in ns), from the pcap.
FRAME_TIMES = {}


def frame_times(pcap):
    if pcap not in FRAME_TIMES:
        with open(pcap, "rb") as f:
            pkts = list(pcapfile.packets(f.read()))
        FRAME_TIMES[pcap] = {n: p.time_ns - pkts[0].time_ns for n, p in enumerate(pkts, 1)}
    return FRAME_TIMES[pcap]


def check_since_times(pcap, rows, arg):
    """4. Every "T #N" of a table is frame N's time to the microsecond."""
    times = frame_times(pcap)
    for r in rows:
        for since in r["since"]:
            m = re.match(r"^([\d.]+) #(\d+)$", since)
            if m is None:
                continue
            t, n = m.group(1), int(m.group(2))
            want = "%.6f" % (times[n] / 1e9) if n in times else None
            if t != want:
                CHECKER.check(False, "%s -z %s: conn %d since %r, frame %d is at %s" %
                              (os.path.basename(pcap), arg, r["conn"], since, n, want))
                return
    CHECKER.checked_since += 1


class _Since(uitest.Checker):
    checked_since = 0


CHECKER = _Since()


def table(wrapper, plugin, pcap, arg="tcpstate,conns", extra=()):
    out = uitest.tshark(wrapper, plugin, list(extra) + ["-q", "-r", pcap, "-z", arg])
    rows = []
    for line in out.splitlines():
        m = ROW.match(line)
        if m:
            g = m.groups()
            rows.append({"conn": int(g[0]), "client_state": g[1], "server_state": g[2],
                         "client": g[3], "server": g[4], "since": [g[5], g[6]],
                         "events": g[7].split(",")})
    if "Client-State" not in out:
        sys.exit("FAIL: no table header in:\n" + out)
    if os.path.exists(pcap):
        check_since_times(pcap, rows, arg)
    return rows


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    wrapper, plugin, pcap_dir = argv[1:4]
    ck = CHECKER
    check_truths(ck, wrapper, plugin, pcap_dir)
    pcap = os.path.join(pcap_dir, "client_close.pcap")
    times = check_between_segments(ck, wrapper, plugin, pcap)
    check_time_wait_timer(ck, wrapper, plugin, pcap, max(times.values()))
    check_port_reuse(ck, wrapper, plugin, os.path.join(pcap_dir, "time_wait_reuse.pcap"))
    ck.check(ck.checked_since > 0 and not any("since" in e for e in ck.errors),
             "every \"T #N\" of %d tables is frame N's time" % ck.checked_since)
    return ck.done()


def check_port_reuse(ck, wrapper, plugin, pcap):
    """4. time_wait_reuse: connection 1's server leaves TIME_WAIT when the port is reused
    (frame 12's SYN): at the end, CLOSED since frame 12's time; before it, TIME_WAIT."""
    if not os.path.exists(pcap):
        return
    times = frame_times(pcap)
    reuse = min(n for n in times if times[n] > 0.3e9)
    end = table(wrapper, plugin, pcap)
    before = table(wrapper, plugin, pcap, "tcpstate,conns,%.6f" % ((times[reuse] - 1000) / 1e9))
    ck.equal(end[0]["server_state"], "CLOSED", "time_wait_reuse, end: server of conn 1")
    ck.equal(end[0]["since"][1], "%.6f #%d" % (times[reuse] / 1e9, reuse),
             "time_wait_reuse, end: conn 1's server closed by the reusing SYN")
    ck.equal([r["server_state"] for r in before], ["TIME_WAIT"],
             "time_wait_reuse, just before the reuse: server of conn 1")


def check_truths(ck, wrapper, plugin, pcap_dir):
    """1. Every capture with a truth file: its connections and their end states."""
    unknowable = uitest.unknowable()
    for pcap, truth in uitest.truths(pcap_dir):
        name = truth["name"]
        rows = table(wrapper, plugin, pcap)
        got = [(r["client"], r["server"]) for r in rows]
        want = [(c["client"], c["server"]) for c in truth["conns"]]
        ck.equal(got, want, "%s: connections and endpoints" % name)
        ends = [(r["client_state"], r["server_state"]) for r in rows]
        want_ends = [tuple(c["end"]) for c in truth["conns"]]
        if uitest.causal_may_differ(truth, unknowable) and ends != want_ends:
            print("note %s: end states %s, kernel %s (causally unknowable)" %
                  (name, ends, want_ends))
        else:
            ck.equal(ends, want_ends, "%s: end states = kernel truth" % name)


def check_between_segments(ck, wrapper, plugin, pcap):
    """2. client_close at capture times between its segments. Returns the capture time
    of each frame."""
    frames = textbook.read_frames(wrapper, plugin, pcap)
    times = {}
    for line in uitest.tshark(wrapper, plugin, ["-r", pcap, "-T", "fields", "-e",
                                                "frame.number", "-e",
                                                "frame.time_relative"]).splitlines():
        num, t = line.split("\t")
        times[int(num)] = float(t)
    steps, _ = textbook.SCENARIOS["client_close"]
    picked = uitest.match_steps(frames, steps, textbook.KIND_TESTS)
    ck.equal(len(picked), len(steps), "client_close: every RFC step found by flags")
    entered = {0: None, 1: None}
    for k, (sender, kind, states) in enumerate(steps):
        num = picked[k]
        nxt = times[picked[k + 1]] if k + 1 < len(steps) else times[num] + 1.0
        when = (times[num] + nxt) / 2
        client, server = states.split("/")
        rows = table(wrapper, plugin, pcap, "tcpstate,conns,%.6f" % when)
        got = [(r["client_state"], r["server_state"]) for r in rows]
        ck.equal(got, [(client, server)], "client_close at %.6f s (after the %s %s)" %
                 (when, sender, kind))
        prev = steps[k - 1][2].split("/") if k else ["CLOSED", "LISTEN"]
        for who, now in ((0, client), (1, server)):
            if now != prev[who]:
                entered[who] = (times[num], num)
        if rows:
            for who in (0, 1):
                if entered[who] is None:
                    continue
                since = rows[0]["since"][who]
                t, num_in = entered[who]
                ok = since.endswith("#%d" % num_in) and abs(float(since.split()[0]) - t) < 1e-6
                ck.check(ok, "client_close at %.6f s: %s since %s, want %.6f #%d" %
                         (when, "client" if who == 0 else "server", since, t, num_in))
    none = table(wrapper, plugin, pcap, "tcpstate,conns,%.6f" % -0.0)
    ck.check(len(none) <= 1, "client_close at 0 s: at most the first SYN's connection")
    return times


def check_time_wait_timer(ck, wrapper, plugin, pcap, last):
    """3. The TIME_WAIT timer after client_close's last segment (at `last` s), and 4. inside
    a connection: client_close with the client's last ACK again 70 s later (as after a
    retransmitted FIN), and tables between the two. The timer runs from the TIME_WAIT
    frame, whatever the connection does afterwards."""
    tw_at = time_wait_entered(wrapper, plugin, pcap)
    for pref, delta, want in (("linux", 61, "CLOSED"), ("rfc", 61, "TIME_WAIT"),
                              ("rfc", 241, "CLOSED"), ("off", 241, "TIME_WAIT")):
        row = client_row(wrapper, plugin, pcap, last + delta, pref)
        ck.equal(row and row["client_state"], want,
                 "client_close, time_wait %s, %d s after the last segment: client"
                 % (pref, delta))
        if row and want == "CLOSED":
            ran_out = tw_at + (60 if pref == "linux" else 240) * 10**9
            ck.equal(row["since"][0], "%.6f timer" % (ran_out / 1e9),
                     "client_close, time_wait %s: CLOSED since the timer ran out, no frame"
                     % pref)
    with tempfile.TemporaryDirectory() as tmp:
        late = os.path.join(tmp, "late_ack.pcap")
        append_copy_of_last(pcap, late, 70)
        os.chmod(tmp, 0o755)
        os.chmod(late, 0o644)
        for pref, delta, want in (("linux", 65, "CLOSED"), ("rfc", 65, "TIME_WAIT"),
                                  ("off", 65, "TIME_WAIT"), ("linux", 30, "TIME_WAIT")):
            ck.equal(client_at(wrapper, plugin, late, last + delta, pref), want,
                     "client_close + ACK 70 s later, time_wait %s, at %d s after "
                     "the FIN exchange: client" % (pref, delta))


def client_row(wrapper, plugin, pcap, when, time_wait):
    """The first connection's row in -z tcpstate,conns,WHEN with the preference
    tcpstate.time_wait set, or None without a row."""
    rows = table(wrapper, plugin, pcap, "tcpstate,conns,%.6f" % when,
                 ["-o", "tcpstate.time_wait:" + time_wait])
    return rows[0] if rows else None


def client_at(wrapper, plugin, pcap, when, time_wait):
    """The first connection's client state in that table, or None without a row."""
    row = client_row(wrapper, plugin, pcap, when, time_wait)
    return row["client_state"] if row else None


def time_wait_entered(wrapper, plugin, pcap):
    """Capture time (ns since the first frame) of the frame where client_close's client
    enters TIME_WAIT, by the RFC (textbook.py's steps: the server's FIN)."""
    frames = textbook.read_frames(wrapper, plugin, pcap)
    steps, _ = textbook.SCENARIOS["client_close"]
    picked = uitest.match_steps(frames, steps, textbook.KIND_TESTS)
    k = next(i for i, (_, _, st) in enumerate(steps) if st.split("/")[0] == "TIME_WAIT")
    return frame_times(pcap)[picked[k]]


def append_copy_of_last(src, dst, seconds):
    """Writes src (classic pcap, little-endian) with its last record appended again,
    `seconds` later."""
    with open(src, "rb") as f:
        data = f.read()
    if data[:4] != b"\xd4\xc3\xb2\xa1":
        sys.exit("FAIL: %s is not a little-endian classic pcap" % src)
    last = list(pcapfile.packets(data))[-1]
    rec = pcapfile.record(last.data, last.time_ns + seconds * 10**9, last.orig_len)
    with open(dst, "wb") as f:
        f.write(data + rec)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
