#!/usr/bin/env python3
"""Generate the bundled captures of tcpstate and their truth files.

    sudo python3 pcaps/gen/gen.py [--list] [--keep-tmp] [--out=DIR] [scenario ...]

Each scenario runs real Linux TCP between network namespaces that this program
creates (and always deletes), captures it with tcpdump, records the kernel's
own socket states (tracefs sock:inet_sock_set_state plus polling of the
namespaces' /proc/net/tcp{,6} for timewait sockets, which the tracepoint does
not report), and writes pcaps/<scenario>.pcap and pcaps/<scenario>.truth.
See pcaps/README.md.  Needs root, tcpdump, ethtool, iproute2 and a kernel with
tracefs and the sock:inet_sock_set_state event.  Python 3 standard library only.

This file runs scenarios; the other files here are, by concern: scenarios.py (what
each scenario does), checks.py (what its capture must show), netns.py (the
namespaces), tracing.py (the kernel's socket states), segments.py (the capture's
segments and connections), derive.py (the truth), peer.py (the programs in the
namespaces), fwd.py (the impairing forwarder); tests/lib/pcapfile.py and
tests/lib/truth.py read the capture and write the truth file.
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from checks import check_end_states, check_listener_first
from derive import derive, write_truth
from netns import ADDR, HERE, PY, Netns, log
from scenarios import SCENARIOS
from segments import pcap_conns, read_pcap, seg_str
from testlib import truth
from tracing import Poller, Tracer, tracefs_ready

PCAPS = os.path.dirname(HERE)
OUT = PCAPS   # --out=DIR writes the captures and truth files there instead


def start_tcpdump(net, sc, pcap):
    """tcpdump at the scenario's vantage point, once it listens."""
    cap_side, cap_if = {"client": ("c", "c0"), "server": ("s", "s0"),
                        "middle": ("r", sc.middle_if)}[sc.vantage]
    td = net.spawn(cap_side, ["tcpdump", "-i", cap_if, "-w", pcap, "-U", "-s", "0", "-n",
                              "--immediate-mode", "tcp"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    line = td.stderr.readline()
    if "listening" not in line:
        raise RuntimeError("tcpdump did not start: %s" % line)
    return td


def start_peers(net, sc, tmp):
    """peer.py for the server and the client, each loaded and waiting for T0."""
    hold = sc.duration + 3.0
    peers = []
    for side, role, code in (("s", "server", sc.server), ("c", "client", sc.client)):
        cf = os.path.join(tmp, role + ".py")
        with open(cf, "w") as f:
            f.write(code)
        peers.append(net.spawn(side, [PY, os.path.join(HERE, "peer.py"), role, "-", str(sc.family),
                                      str(hold), cf],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True))
    return peers


def play(sc, peers, td):
    """Runs the timeline: T0 to both peers, the capture stopped at T0 + duration.
    Returns the end of the capture (CLOCK_MONOTONIC)."""
    # both peers loaded (a busy machine can take long to start Python):
    # only now fix the shared T0, so the server listens before the client
    # connects at T0 + 0.1
    for p in peers:
        if p.stdout.readline().strip() != "up":
            raise RuntimeError("a peer did not start")
    t0 = time.time() + 0.2
    for p in peers:
        p.stdin.write(repr(t0) + "\n")
        p.stdin.close()
    d = t0 + sc.duration - time.time()
    if d > 0:
        time.sleep(d)
    td.send_signal(signal.SIGINT)
    t_end = time.monotonic()
    try:
        td.wait(timeout=5)
    except subprocess.TimeoutExpired:
        td.kill()
    return t_end


def report(sc, problems, events, ss, conns):
    """The problems of a run, and what the kernel and the capture showed."""
    for p in problems:
        log("PROBLEM %s: %s" % (sc.name, p))
    log("trace events:")
    for e in events:
        log("  %.6f %s %s %s->%s" % (e["t"], truth.endpoint(*e["local"]), truth.endpoint(*e["remote"]),
                                     e["kold"], e["knew"]))
    log("ss:\n" + ss["c"] + ss["s"])
    for c in conns:
        for s in c["segs"]:
            log("  %d %s" % (s["frame"], seg_str(s)))


def run(sc, keep_tmp=False):
    """One run of a scenario; writes its capture and truth file unless a check fails."""
    log("=== %s" % sc.name)
    tmp = tempfile.mkdtemp(prefix="tsgen-")
    net = Netns(sc)
    tracer = Tracer()
    poller = None
    try:
        net.up()
        pcap_tmp = os.path.join(tmp, "cap.pcap")
        td = start_tcpdump(net, sc, pcap_tmp)
        tracer.start()
        poller = Poller(net.holders, sc.family)
        poller.start()
        peers = start_peers(net, sc, tmp)
        t_end = play(sc, peers, td)
        poller.stop()
        events = tracer.stop()
        ss = {s: net.nsh(s, "ss -tanH", check=False) for s in "cs"}
        for p in peers:
            if p.poll() is None:
                p.kill()
        frames = read_pcap(pcap_tmp)
        conns = pcap_conns(frames)
        problems = []
        for chk in sc.checks:
            problems += chk(conns)
        ours = {ADDR[sc.family]["c"], ADDR[sc.family]["s"]}
        events = [e for e in events if e["local"][0] in ours]
        problems += check_listener_first(sc, events)
        rows = derive(sc, conns, events, poller, t_end)
        problems += check_end_states(sc, rows, ss)
        if not conns:
            problems.append("no TCP connection in the capture")
        if problems:
            report(sc, problems, events, ss, conns)
            return False
        shutil.copyfile(pcap_tmp, os.path.join(OUT, sc.name + ".pcap"))
        write_truth(sc, rows, os.path.join(OUT, sc.name + ".truth"))
        log("wrote %s/%s.pcap (%d TCP frames, %d connections) and %s.truth"
            % (OUT, sc.name, len(frames), len(conns), sc.name))
        return True
    finally:
        if poller is not None and poller.is_alive():
            poller.stop()
        tracer.remove()
        net.down()
        if not keep_tmp:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv):
    global OUT
    keep = "--keep-tmp" in argv
    for a in argv:
        if a.startswith("--out="):
            OUT = os.path.abspath(a[len("--out="):])
            os.makedirs(OUT, exist_ok=True)
    args = [a for a in argv if not a.startswith("--")]
    if "--list" in argv:
        for sc in SCENARIOS:
            print("%-28s %-7s %s" % (sc.name, sc.vantage, sc.desc))
        return 0
    if os.geteuid() != 0:
        sys.exit("gen: must run as root (network namespaces, tcpdump, tracefs)")
    for tool in ("tcpdump", "ethtool", "ip", "ss"):
        if not shutil.which(tool):
            sys.exit("gen: %s not found" % tool)
    tracefs_ready()
    byname = {sc.name: sc for sc in SCENARIOS}
    todo = [byname[a] for a in args] if args else SCENARIOS
    for a in args:
        if a not in byname:
            sys.exit("gen: unknown scenario %s (see --list)" % a)
    failed = []

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    for sc in todo:
        ok = False
        for attempt in range(3):
            if run(sc, keep):
                ok = True
                break
            if attempt < 2:
                log("%s: retrying (%d)" % (sc.name, attempt + 2))
        if not ok:
            failed.append(sc.name)
    if failed:
        log("FAILED: %s" % " ".join(failed))
        return 1
    log("all %d scenario(s) written" % len(todo))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
