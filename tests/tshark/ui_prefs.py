#!/usr/bin/env python3
"""ui_prefs.py: changing a tcpstate preference re-dissects correctly.

usage: ui_prefs.py WRAPPER PLUGIN_SO PCAP_DIR REDISSECT

REDISSECT (tcpstate_redissect, redissect.c) does what Wireshark's GUI does on a
preference change: frees and re-creates the dissection session, resets every frame and
dissects them all again, then a second (visited) pass. Run as in tshark-plugin.sh
(only this plugin, a throwaway HOME; as "nobody" when root). For each change:
  1. the states (pass 1), hindsight states (pass 2) and Info text after the change
     equal a fresh tshark run started with that preference (-o; -2 for hindsight);
  2. RFC/Linux expectations: on lost_last_ack with the server's retransmitted FIN
     moved 61 s later (editcap, mergecap), the client has left TIME_WAIT at that FIN
     with time_wait linux (2 MSL = 60 s), not with rfc (240 s) nor off; with
     info_column FALSE no " [C:" text; with the handshake cut off (editcap),
     midstream FALSE tracks nothing and TRUE tracks every frame; on client_close, with
     vantage client the server is still ESTABLISHED at the client's FIN (it has not
     arrived) and CLOSE_WAIT at the server's ACK of it, with vantage unknown CLOSE_WAIT
     at both.
"""

import os
import shutil
import subprocess
import sys
import tempfile

import uitest


def run_redissect(tool, plugin, capture, changes, version):
    out = {}
    for line in run_redissect_raw(tool, plugin, capture, changes, version).splitlines():
        step, npass, frame, states, hind, info = line.split(" ")
        out.setdefault((step, int(npass)), []).append((int(frame), states, hind, info))
    return out


def run_redissect_raw(tool, plugin, capture, args, version):
    """REDISSECT CAPTURE ARGS... with the plugin under test (only it), as nobody when
    root; its standard output."""
    tmp = tempfile.mkdtemp(prefix="redissect.")
    try:
        plugdir = os.path.join(tmp, "plugins", version, "epan")
        os.makedirs(plugdir)
        os.makedirs(os.path.join(tmp, ".config"))
        shutil.copy(plugin, os.path.join(plugdir, "tcpstate.so"))
        shutil.copy(tool, os.path.join(tmp, "redissect"))
        shutil.copy(capture, os.path.join(tmp, "capture.pcap"))
        env = ["env", "WIRESHARK_PLUGIN_DIR=" + os.path.join(tmp, "plugins"), "HOME=" + tmp,
               "XDG_CONFIG_HOME=" + os.path.join(tmp, ".config")]
        cmd = env + [os.path.join(tmp, "redissect"), os.path.join(tmp, "capture.pcap")] + args
        if os.getuid() == 0:
            subprocess.run(["chmod", "-R", "a+rX", tmp], check=True)
            subprocess.run(["chown", "-R", "nobody", tmp], check=True)
            cmd = ["runuser", "-u", "nobody", "--"] + cmd
        res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True, check=False, cwd=tmp)
        if res.returncode != 0:
            sys.exit("FAIL: %s exited %d\n%s" % (" ".join(cmd), res.returncode, res.stderr))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return res.stdout


def fresh(wrapper, plugin, capture, opts):
    """Per frame (states, hindsight, info flag) from fresh tshark runs with opts."""
    o = []
    for opt in opts:
        o += ["-o", opt]
    one = uitest.tshark(wrapper, plugin, o + ["-r", capture, "-T", "fields", "-E",
                                              "occurrence=a", "-e", "frame.number", "-e",
                                              "tcpstate.states"])
    # Info as the summary line shows it: from Wireshark 4.4 on, -e _ws.col.Info is filled
    # before postdissectors run and lacks the text tcpstate appends.
    lines = uitest.tshark(wrapper, plugin, o + ["-r", capture, "-o",
                                                'gui.column.format:"No.","%m","Info","%i"'])
    infos = {}
    for line in lines.splitlines():
        words = line.split(None, 1)
        if words and words[0].isdigit():
            infos[int(words[0])] = words[1] if len(words) > 1 else ""
    two = uitest.tshark(wrapper, plugin, o + ["-2", "-r", capture, "-T", "fields", "-E",
                                              "occurrence=a", "-e", "frame.number", "-e",
                                              "tcpstate.hindsight.states"])
    hind = {}
    for line in two.splitlines():
        num, h = (line.split("\t") + [""])[:2]
        hind[int(num)] = h or "-"
    rows = []
    for line in one.splitlines():
        num, states = (line.split("\t") + [""])[:2]
        rows.append((int(num), states or "-", hind.get(int(num), "-"),
                     "1" if " [C:" in infos.get(int(num), "") else "0"))
    return rows


def tshark_version():
    out = subprocess.run([os.environ.get("TSHARK", "tshark"), "--version"],
                         stdout=subprocess.PIPE, universal_newlines=True, check=True).stdout
    return ".".join(out.split()[2].split(".")[:2])


def shifted_lost_last_ack(pcap_dir, tmp, wrapper, plugin):
    """lost_last_ack with the server's second FIN (the retransmission) and what follows
    moved 61 s later. Returns (capture, frame number of that FIN)."""
    src = os.path.join(pcap_dir, "lost_last_ack.pcap")
    out = uitest.tshark(wrapper, plugin, ["-r", src, "-T", "fields", "-e", "frame.number",
                                          "-e", "tcp.srcport", "-e", "tcp.flags"])
    nframes = len(out.splitlines())
    fins = [int(l.split("\t")[0]) for l in out.splitlines()
            if l.split("\t")[1] == "8080" and int(l.split("\t")[2], 0) & 0x01]
    k = fins[1]
    a, b, b2 = (os.path.join(tmp, n) for n in ("a.pcap", "b.pcap", "b2.pcap"))
    dst = os.path.join(tmp, "lost_last_ack_61s.pcap")
    subprocess.run(["editcap", "-F", "pcap", "-r", src, a, "1-%d" % (k - 1)], check=True)
    subprocess.run(["editcap", "-F", "pcap", "-r", src, b, "%d-%d" % (k, nframes)], check=True)
    subprocess.run(["editcap", "-F", "pcap", "-t", "61", b, b2], check=True)
    subprocess.run(["mergecap", "-a", "-F", "pcap", "-w", dst, a, b2], check=True)
    return dst, k


def main(argv):
    if len(argv) != 5:
        sys.exit(__doc__)
    wrapper, plugin, pcap_dir, tool = argv[1:5]
    ck = uitest.Checker()
    if not shutil.which("editcap") or not shutil.which("mergecap"):
        print("editcap/mergecap not found: skipped")
        return 77
    version = tshark_version()
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        capture, fin = shifted_lost_last_ack(pcap_dir, tmp, wrapper, plugin)
        cut = os.path.join(tmp, "midstream.pcap")
        subprocess.run(["editcap", os.path.join(pcap_dir, "client_close.pcap"), cut, "1-3"],
                       check=True)
        # client_close: the client's FIN is frame 8, the server's ACK of it frame 9.
        close = os.path.join(pcap_dir, "client_close.pcap")
        plans = [
            (capture, ["tcpstate.time_wait:linux", "tcpstate.time_wait:rfc",
                       "tcpstate.time_wait:off", "tcpstate.vantage:server",
                       "tcpstate.vantage:unknown", "tcpstate.info_column:FALSE",
                       "tcpstate.info_column:TRUE"]),
            (cut, ["tcpstate.midstream:FALSE", "tcpstate.midstream:TRUE"]),
            (close, ["tcpstate.vantage:client", "tcpstate.vantage:unknown"]),
        ]
        for cap, changes in plans:
            got = run_redissect(tool, plugin, cap, changes, version)
            opts = []
            for step in ["initial"] + changes:
                if step != "initial":
                    opts = [o for o in opts if o.split(":")[0] != step.split(":")[0]] + [step]
                want = fresh(wrapper, plugin, cap, opts)
                name = os.path.basename(cap)
                p1 = got.get((step, 1), [])
                ck.equal([(r[0], r[1], r[3]) for r in p1], [(r[0], r[1], r[3]) for r in want],
                         "%s after %s: states and Info = fresh tshark -o" % (name, step))
                if step != "initial":
                    p2 = got.get((step, 2), [])
                    ck.equal([(r[0], r[1], r[2]) for r in p2],
                             [(r[0], r[1], r[2]) for r in want],
                             "%s after %s: second pass, hindsight = fresh tshark -2" %
                             (name, step))
                    p1_by = {r[0]: r for r in p1}
                    if cap == capture and step.startswith("tcpstate.time_wait"):
                        client = p1_by[fin][1].split("/")[0]
                        left = step.endswith(":linux")
                        ck.check((client != "TIME_WAIT") == left,
                                 "%s: at the FIN 61 s after TIME_WAIT the client is %s" %
                                 (step, client))
                    if cap == close and step.startswith("tcpstate.vantage"):
                        # Near the client its FIN reaches the server when the server's
                        # ACK shows it; with the vantage unknown, when it is captured.
                        at_fin = p1_by[8][1].split("/")[1]
                        at_ack = p1_by[9][1].split("/")[1]
                        want_fin = "ESTABLISHED" if step.endswith(":client") else "CLOSE_WAIT"
                        ck.check((at_fin, at_ack) == (want_fin, "CLOSE_WAIT"),
                                 "%s: server at the client's FIN %s, at its ACK %s" %
                                 (step, at_fin, at_ack))
                    if step == "tcpstate.info_column:FALSE":
                        ck.check(all(r[3] == "0" for r in p1), "info_column FALSE: no Info text")
                    if step == "tcpstate.info_column:TRUE":
                        ck.check(all(r[3] == "1" for r in p1), "info_column TRUE: Info text")
                    if step == "tcpstate.midstream:FALSE":
                        ck.check(all(r[1] == "-" for r in p1), "midstream FALSE: nothing tracked")
                    if step == "tcpstate.midstream:TRUE":
                        ck.check(p1 and all(r[1] != "-" for r in p1),
                                 "midstream TRUE: every frame tracked")
    return ck.done()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
