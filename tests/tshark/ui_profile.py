#!/usr/bin/env python3
"""ui_profile.py: the "TCP State" configuration profile (profiles/TCP State).

usage: ui_profile.py WRAPPER PLUGIN_SO PCAP_DIR     (env TCPS_PROFILE_DIR_SRC: the profile)

With the profile copied into the personal profiles folder (tshark-plugin.sh,
TCPS_PROFILE_DIR) and tshark -C "TCP State":
  1. the columns "TCP state", "Client" and "Server" are printed, and on client_close
     the steps of RFC 9293 figure 12 (textbook.py, frames found by direction and flags)
     show "CLIENT / SERVER", CLIENT and SERVER, other frames the previous step's states;
  2. the coloring rules: handshake, established, closing, TIME_WAIT frames of
     client_close by the figure's states; the RST of abort_client is "reset";
  3. which states the columns and colors show: on refused, simultaneous_close and
     simultaneous_open, whose causal states cannot match the kernel
     (tests/kernel/causal_unknowable.txt), and on lost_third_ack, with tshark -2 (as the GUI,
     once the file is read) the Client and Server columns walk the kernel's states
     (pcaps/*.truth: each role's distinct states are in order among the truth's and end
     in its end state), while one pass shows the causal ones (tcpstate.client and
     .server), which on the unknowable captures are not the kernel's; in both, each
     frame's color is the rule of the states its columns show;
  4. Wireshark's default coloring rules (the installed /usr/share/wireshark/colorfilters):
     Bad TCP, Checksum Errors and Broadcast are in the profile as in the default, every
     default rule the profile has is identical and in the default's order (but for TCP RST,
     moved below the state rules), and Bad TCP
     and Checksum Errors come before the state rules; frames Wireshark's TCP analysis
     flags (the Bad TCP filter, run by tshark) are colored "Bad TCP"; a frame whose TCP
     checksum is made wrong is colored "Checksum Errors" (tcp.check_checksum on).
"""

import os
import struct
import sys
import tempfile

import textbook
import uitest

PROFILE = "TCP State"


def state_columns(cols):
    """TCP state, Client and Server of a -T tabs row of the profile: No., Time, TCP state,
    Source, the arrow tshark puts between Source and Destination, Destination, Protocol,
    Length, Client, Server, Info."""
    return [cols[i] if i < len(cols) else None for i in (2, 8, 9)]


def rule_for(client, server, rst=False, bad_tcp=False):
    """The rule the profile's colorfilters must pick for these (RFC) states."""
    if bad_tcp:
        return "Bad TCP"
    if rst:
        return "TCP state: reset"
    if "TIME_WAIT" in (client, server):
        return "TCP state: TIME_WAIT"
    closing = {"FIN_WAIT_1", "FIN_WAIT_2", "CLOSING", "CLOSE_WAIT", "LAST_ACK"}
    if client in closing or server in closing:
        return "TCP state: closing"
    if {"SYN_SENT", "SYN_RECEIVED"} & {client, server}:
        return "TCP state: handshake"
    if client == server == "ESTABLISHED":
        return "TCP state: established"
    return None


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    wrapper, plugin, pcap_dir = argv[1:4]
    env = {"TCPS_PROFILE_DIR": os.environ.get("TCPS_PROFILE_DIR_SRC") or
           os.path.join(uitest.HERE, "..", "..", "profiles", PROFILE)}
    ck = uitest.Checker()
    pcap = os.path.join(pcap_dir, "client_close.pcap")

    prefs = uitest.tshark(wrapper, plugin, ["-G", "currentprefs", "-C", PROFILE], env)
    flat = prefs.replace("\n", " ").replace("\t", "")
    for title, field in (("TCP state", "pair"), ("Client", "client"), ("Server", "server")):
        ck.check('"%s", "%%Cus:tcpstate.best.%s:0:R"' % (title, field) in flat,
                 "profile sets the %s column (tcpstate.best.%s)" % (title, field))

    out = uitest.tshark(wrapper, plugin, ["-C", PROFILE, "-r", pcap, "-T", "tabs"], env)
    rows = {}
    for line in out.splitlines():
        cols = [c.strip() for c in line.split("\t")]
        if cols and cols[0].isdigit():
            rows[int(cols[0])] = cols
    frames = textbook.read_frames(wrapper, plugin, pcap)
    steps, _ = textbook.SCENARIOS["client_close"]
    picked = uitest.match_steps(frames, steps, textbook.KIND_TESTS)
    ck.equal(len(picked), len(steps), "client_close: RFC steps found by flags")
    colors = {}
    for line in uitest.tshark(wrapper, plugin, ["-C", PROFILE, "--color", "-r", pcap, "-T",
                                                "fields", "-e", "frame.number", "-e",
                                                "frame.coloring_rule.name"], env).splitlines():
        num, _, rule = line.partition("\t")
        colors[int(num)] = rule
    current = None
    for f in frames:
        if f["num"] in picked:
            current = steps[picked.index(f["num"])][2]
        if current is None:
            continue
        client, server = current.split("/")
        cols = rows.get(f["num"], [])
        want = "%s / %s" % (client, server)
        ck.equal(state_columns(cols), [want, client, server],
                 "frame %d: columns TCP state, Client, Server" % f["num"])
        ck.equal(colors.get(f["num"]), rule_for(client, server),
                 "frame %d: coloring rule" % f["num"])

    # The RST of an abort: the "reset" rule.
    pcap = os.path.join(pcap_dir, "abort_client.pcap")
    flags = {}
    for line in uitest.tshark(wrapper, plugin, ["-r", pcap, "-T", "fields", "-e",
                                                "frame.number", "-e", "tcp.flags"]).splitlines():
        num, fl = line.split("\t")
        flags[int(num)] = int(fl, 0)
    for line in uitest.tshark(wrapper, plugin, ["-C", PROFILE, "--color", "-r", pcap, "-T",
                                                "fields", "-e", "frame.number", "-e",
                                                "frame.coloring_rule.name"], env).splitlines():
        num, _, rule = line.partition("\t")
        if flags[int(num)] & 0x04:
            ck.equal(rule, "TCP state: reset", "abort_client frame %s (RST): coloring rule" % num)
    check_best_states(ck, wrapper, plugin, pcap_dir, env)
    check_default_rules(ck, wrapper, plugin, pcap_dir, env)
    return ck.done()


def profile_view(wrapper, plugin, pcap, env, passes):
    """{frame: (TCP state, Client, Server, coloring rule)} with the profile."""
    rows = {}
    for line in uitest.tshark(wrapper, plugin, passes + ["-C", PROFILE, "-r", pcap, "-T",
                                                         "tabs"], env).splitlines():
        cols = [c.strip() for c in line.split("\t")]
        if cols and cols[0].isdigit() and len(cols) > 9:
            rows[int(cols[0])] = state_columns(cols)
    for line in uitest.tshark(wrapper, plugin, passes + [
            "-C", PROFILE, "--color", "-r", pcap, "-T", "fields", "-e", "frame.number", "-e",
            "frame.coloring_rule.name"], env).splitlines():
        num, _, rule = line.partition("\t")
        if int(num) in rows:
            rows[int(num)].append(rule)
    return rows


def check_best_states(ck, wrapper, plugin, pcap_dir, env):
    unknowable = uitest.unknowable()
    for name in ("refused", "simultaneous_close", "simultaneous_open", "lost_third_ack"):
        pcap = os.path.join(pcap_dir, name + ".pcap")
        truth_file = os.path.join(pcap_dir, name + ".truth")
        if not os.path.exists(pcap) or not os.path.exists(truth_file):
            continue
        conns = list(uitest.truthfile.read(truth_file)["conns"].values())
        ck.equal(len(conns), 1, "%s: one connection in the truth" % name)
        truth = {"states": [conns[0]["states"][r] for r in uitest.truthfile.ROLES],
                 "end": [conns[0]["end"][r] for r in uitest.truthfile.ROLES]}
        causal = {}
        for line in uitest.tshark(wrapper, plugin, [
                "-r", pcap, "-T", "fields", "-e", "frame.number", "-e", "tcpstate.states",
                "-e", "tcp.flags.reset"]).splitlines():
            num, states, rst = line.split("\t")
            if states:
                causal[int(num)] = (states.split("/"), rst in ("1", "True"),
                                    int(num) in bad_tcp_frames(wrapper, plugin, pcap))
        for passes in ([], ["-2"]):
            what = "%s, %s" % (name, "tshark -2 (as the GUI)" if passes else "one pass")
            view = profile_view(wrapper, plugin, pcap, env, passes)
            ck.equal(sorted(view), sorted(causal), what + ": a state on every tracked frame")
            walks = []
            for who in (0, 1):
                seq = uitest.role_states(view[n][1 + who] for n in sorted(view))
                walks.append(uitest.subsequence(seq, truth["states"][who]) and
                             seq[-1:] == [truth["end"][who]])
                if passes:
                    ck.check(walks[-1], "%s: %s column walks the kernel's %s (%s)" % (
                        what, ("Client", "Server")[who], truth["states"][who], seq))
            if not passes:
                ck.check(all(view[n][1:3] == causal[n][0] for n in view),
                         what + ": Client and Server columns are the causal states")
                if name in unknowable:
                    ck.check(not all(walks), what + ": the causal columns are not the kernel's")
            for n in sorted(view):
                client, server = view[n][1:3]
                ck.equal(view[n][0], "%s / %s" % (client, server),
                         "%s: frame %d: TCP state column" % (what, n))
                rst, bad = causal[n][1:]
                want = rule_for(client, server, rst, bad)
                if want is None:
                    want = "TCP state: closed" if client == server == "CLOSED" else view[n][3]
                ck.equal(view[n][3], want, "%s: frame %d: coloring rule" % (what, n))


BAD_TCP = ("tcp.analysis.flags && !tcp.analysis.window_update && !tcp.analysis.keep_alive && "
           "!tcp.analysis.keep_alive_ack")  # Wireshark 4.0's default rule "Bad TCP"
_bad_tcp = {}


def bad_tcp_frames(wrapper, plugin, pcap):
    """The frames Wireshark's Bad TCP rule (its TCP analysis) matches, by tshark."""
    if pcap not in _bad_tcp:
        _bad_tcp[pcap] = {int(n) for n in uitest.tshark(wrapper, plugin, [
            "-r", pcap, "-Y", BAD_TCP, "-T", "fields", "-e", "frame.number"]).split()}
    return _bad_tcp[pcap]


def read_rules(path):
    rules = []
    with open(path) as f:
        for line in f:
            if line.startswith("@"):
                name, expr, colors = line.rstrip("\n")[1:].split("@")
                rules.append((name, expr, colors))
    return rules


def check_default_rules(ck, wrapper, plugin, pcap_dir, env):
    default_file = "/usr/share/wireshark/colorfilters"
    if not os.path.exists(default_file):
        print("note: %s not found: default rules not compared" % default_file)
        return
    default = read_rules(default_file)
    profile = read_rules(os.path.join(env["TCPS_PROFILE_DIR"], "colorfilters"))
    names = [r[0] for r in profile]
    first_state = min(i for i, n in enumerate(names) if n.startswith("TCP state:"))
    for must in ("Bad TCP", "Checksum Errors", "Broadcast"):
        ck.check(must in names and profile[names.index(must)] in default,
                 "profile keeps Wireshark's default rule %r" % must)
    for above in ("Bad TCP", "Checksum Errors"):
        ck.check(above in names and names.index(above) < first_state,
                 "%r comes before the state rules" % above)
    kept = [r for r in default if r[0] in names and r[0] != "TCP RST"]
    ck.equal([r for r in profile if r[0] in {d[0] for d in default} and r[0] != "TCP RST"],
             kept, "the default rules the profile has: identical, in the default's order")
    ck.check("TCP RST" in names and names.index("TCP RST") > first_state and
             profile[names.index("TCP RST")] in default, "TCP RST, as in the default, below the"
             " state rules")
    for r in default:
        if r[0] not in names:
            print("note: this Wireshark's default rule %r is not in the profile" % r[0])

    # Wireshark's TCP analysis flags: "Bad TCP" wins over the states.
    ck.equal(next((r[1] for r in default if r[0] == "Bad TCP"), None), BAD_TCP,
             "this Wireshark's Bad TCP rule is the one the test uses")
    for name in ("lost_last_ack", "lost_third_ack", "duplicate_frames"):
        pcap = os.path.join(pcap_dir, name + ".pcap")
        if not os.path.exists(pcap):
            continue
        bad = bad_tcp_frames(wrapper, plugin, pcap)
        ck.check(bool(bad), "%s: Wireshark flags some frames (Bad TCP filter)" % name)
        for passes in ([], ["-2"]):
            view = profile_view(wrapper, plugin, pcap, env, passes)
            for n in sorted(bad):
                ck.equal(view.get(n, [None] * 4)[3], "Bad TCP",
                         "%s %s: frame %d (TCP analysis flags): coloring rule"
                         % (name, " ".join(passes) or "one pass", n))

    # A wrong TCP checksum: "Checksum Errors" wins over the states.
    src = os.path.join(pcap_dir, "client_close.pcap")
    with open(src, "rb") as f:
        data = bytearray(f.read())
    # Frame 5: the 16-byte pcap header of each record, then Ethernet (14), IPv4 (20) and
    # the TCP checksum at offset 16 of the TCP header.
    off = 24
    for _ in range(4):
        off += 16 + struct.unpack("<I", data[off + 8:off + 12])[0]
    data[off + 16 + 14 + 20 + 16] ^= 0xff
    with tempfile.TemporaryDirectory() as tmp:
        bad_pcap = os.path.join(tmp, "bad_checksum.pcap")
        with open(bad_pcap, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o755)
        os.chmod(bad_pcap, 0o644)
        out = uitest.tshark(wrapper, plugin, [
            "-C", PROFILE, "--color", "-o", "tcp.check_checksum:TRUE", "-r", bad_pcap, "-T",
            "fields", "-e", "frame.number", "-e", "tcp.checksum.status", "-e",
            "frame.coloring_rule.name"], env)
    rows = {int(line.split("\t")[0]): line.split("\t")[1:] for line in out.splitlines()}
    ck.equal(rows.get(5, [None, None])[0], "0", "client_close, checksum made wrong: frame 5 "
             "is Bad (tcp.checksum.status 0)")
    ck.equal(rows.get(5, [None, None])[1], "Checksum Errors",
             "client_close, checksum made wrong: frame 5 coloring rule")
    ck.check(all(r[1].startswith("TCP state:") for n, r in rows.items() if n != 5),
             "client_close, checksum made wrong: the other frames keep the state colors")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
