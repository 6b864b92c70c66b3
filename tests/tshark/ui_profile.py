#!/usr/bin/env python3
"""ui_profile.py: the "TCP State" configuration profile (profiles/TCP State).

usage: ui_profile.py WRAPPER PLUGIN_SO PCAP_DIR     (env TCPS_PROFILE_DIR_SRC: the profile)

With the profile copied into the personal profiles folder (tshark-plugin.sh,
TCPS_PROFILE_DIR) and tshark -C "TCP State":
  1. the columns "TCP state", "Client" and "Server" are printed, and on client_close
     the steps of RFC 9293 figure 12 (textbook.py, frames found by direction and flags)
     show "CLIENT / SERVER", CLIENT and SERVER, other frames the previous step's states;
  2. the coloring rules: handshake, established, closing, TIME_WAIT frames of
     client_close by the figure's states; the RST of abort_client is "reset".
"""

import os
import sys

import textbook
import uitest

PROFILE = "TCP State"


def rule_for(client, server, rst=False):
    """The rule the profile's colorfilters must pick for these (RFC) states."""
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
    ck.check('"TCP state", "%Cus:tcpstate.pair:0:R"' in prefs.replace("\n", " ").replace(
        "\t", ""), "profile sets the TCP state column")

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
        ok = want in cols and cols.index(want) + 2 < len(cols) and \
            cols[cols.index(want) + 1:cols.index(want) + 3] == [client, server]
        ck.check(ok, "frame %d: columns TCP state, Client, Server = %s, %s, %s (row %r)"
                 % (f["num"], want, client, server, cols[7:10]))
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
    return ck.done()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
