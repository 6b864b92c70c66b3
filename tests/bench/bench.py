#!/usr/bin/env python3
"""bench.py: what tcpstate costs in tshark, and the tracker alone.

usage: tests/bench/bench.py [--sizes 250000,500000,1000000] [--reps 3] [--keep DIR]
(after scripts/test.sh or a build in build/; run by hand, not in CI)

Generates captures (tests/bench/gen_capture.py): full lifecycles with 10,000
connections open at once at three sizes, and a SYN flood of 1,000,000
half-open connections. For each, alternating runs of tshark without the plugin
(an empty plugin folder) and with it (only tcpstate.so), in the same run:
  (a) a display filter: tcp.flags.fin == 1 without, tcpstate.server == LAST_ACK with
  (b) printing the summary lines
  (c) two passes (-2), summary lines
and prints the median time ratios (with / without) and the peak memory added
per frame and per connection. Then the tracker alone (bench_tracker), and the
cost per frame at the three sizes, to show it is linear.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def tshark_version():
    out = subprocess.run(["tshark", "--version"], stdout=subprocess.PIPE, text=True).stdout
    return out.split()[2].rsplit(".", 1)[0] if out.startswith("TShark") else "?"


def setup_dirs(tmp, plugin):
    ver = tshark_version()
    dirs = {}
    for name, so in (("without", None), ("with", plugin)):
        d = os.path.join(tmp, name)
        epan = os.path.join(d, "plugins", ver, "epan")
        os.makedirs(epan)
        if so:
            shutil.copy(so, os.path.join(epan, "tcpstate.so"))
        dirs[name] = d
    subprocess.run(["chmod", "-R", "a+rX", tmp])
    return dirs


def run(home, args):
    """(seconds, peak RSS in KiB) of one tshark run, as nobody when root."""
    env = ["env", "HOME=" + home, "WIRESHARK_PLUGIN_DIR=" + os.path.join(home, "plugins")]
    cmd = env + ["tshark"] + args
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "nobody", "--"] + cmd
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    dt = time.monotonic() - t0
    if status != 0:
        sys.exit("tshark failed: %s\n%s" % (" ".join(cmd), p.stderr.read().decode()))
    return dt, ru.ru_maxrss


MODES = [
    ("(a) filter", ["-Y", "tcp.flags.fin == 1"], ["-Y", "tcpstate.server == LAST_ACK"]),
    ("(b) summary lines", [], []),
    ("(c) two passes", ["-2"], ["-2"]),
]


def measure(dirs, pcap, reps, frames, conns):
    rows = []
    for label, without_args, with_args in MODES:
        times = {"without": [], "with": []}
        rss = {"without": [], "with": []}
        for r in range(reps):
            order = ("without", "with") if r % 2 == 0 else ("with", "without")
            for name in order:
                extra = without_args if name == "without" else with_args
                dt, kb = run(dirs[name], ["-r", pcap] + extra)
                times[name].append(dt)
                rss[name].append(kb)
        tw, tp = statistics.median(times["without"]), statistics.median(times["with"])
        added = (max(rss["with"]) - max(rss["without"])) * 1024
        rows.append((label, tw, tp, tp / tw, added))
        print("  %-18s without %6.2f s  with %6.2f s  ratio %.3f  memory added %6.1f MB"
              " = %5.1f B/frame or %6.1f B/connection"
              % (label, tw, tp, tp / tw, added / 1e6, added / frames, added / max(conns, 1)),
              flush=True)
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="250000,500000,1000000",
                    help="frames of the lifecycle captures (approximate)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--keep", help="keep the captures in this folder")
    args = ap.parse_args()
    plugin = os.path.join(args.build, "plugin", "tcpstate.so")
    bench = os.path.join(args.build, "tests", "bench", "bench_tracker")
    for f in (plugin, bench):
        if not os.path.exists(f):
            sys.exit("%s missing: build first (scripts/test.sh)" % f)
    tmp = tempfile.mkdtemp(prefix="tcpstate-bench.")
    try:
        dirs = setup_dirs(tmp, plugin)
        capdir = args.keep or tmp
        os.makedirs(capdir, exist_ok=True)
        cpu = [l for l in open("/proc/cpuinfo") if l.startswith("model name")]
        print("machine: %s x %d; tshark %s" % (cpu[0].split(":")[1].strip() if cpu else "?",
                                                os.cpu_count(), tshark_version()))
        caps = []
        for n in [int(x) for x in args.sizes.split(",")]:
            conns = max(n // 9, 1)  # about 9.4 frames per connection
            caps.append(("lifecycles", conns, ["lifecycles", str(conns), "10000"]))
        caps.append(("synflood", 1000000, ["synflood", "1000000"]))
        per_frame = []
        for kind, conns, gen in caps:
            pcap = os.path.join(capdir, "%s_%d.pcap" % (kind, conns))
            out = subprocess.run([sys.executable, os.path.join(HERE, "gen_capture.py"), pcap] + gen,
                                 stdout=subprocess.PIPE, text=True, check=True).stdout
            frames = int(out.split()[1])
            subprocess.run(["chmod", "a+r", pcap])
            print("%s: %d frames, %d connections (10,000 open at once)" % (kind, frames, conns)
                  if kind == "lifecycles" else "%s: %d frames, %d half-open connections"
                  % (kind, frames, conns), flush=True)
            rows = measure(dirs, pcap, args.reps, frames, conns)
            tb = subprocess.run([bench, pcap], stdout=subprocess.PIPE, text=True).stdout
            for line in tb.splitlines():
                print("  " + line)
            if kind == "lifecycles":
                per_frame.append((frames, rows[1][2] / frames * 1e6))
        print("linearity: tshark with the plugin, summary lines, microseconds per frame:",
              ", ".join("%d frames %.2f" % pf for pf in per_frame))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
