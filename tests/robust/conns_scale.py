#!/usr/bin/env python3
"""conns_scale.py: the connection table's since-times over many connections, and
tshark's peak memory with the plugin (issue #16: "10M connections in one file").

usage: conns_scale.py WRAPPER PLUGIN N [--without] [--pcap FILE] [--max-conn B]

Writes gen_captures.py's halfopen capture of N connections (or reads --pcap,
written by it): connection k (1-based) is a SYN at frame k, 10 us after the
previous one. Runs tshark with the plugin (WRAPPER: tests/tshark/tshark-plugin.sh)
in one pass, -q -z tcpstate,conns, and reads the whole table as it comes:
there must be N rows, row k the kth connection, SYN_SENT/LISTEN, both since
cells "(k-1)*0.00001 #k" (the time of the state's frame since the first frame,
and that frame). With --without, tshark without the plugin reads the same
capture first (-q -z io,stat,0: a tap of constant size, so that every frame
is dissected) for its peak memory. Prints peak resident memory, time and
mismatches; fails on a mismatch, or when the plugin adds more than --max-conn
bytes per connection (default 1024; only with --without).
"""
import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_captures  # noqa: E402


def run(cmd, env, check_rows=None):
    """(peak RSS bytes of the biggest process, wall s, rows checked, mismatches)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env,
                         text=True, bufsize=1 << 20)
    rows = bad = 0
    for line in p.stdout:
        if check_rows is None or not line[:1].isdigit():
            continue
        f = line.split()
        rows += 1
        k = rows
        want = ["%d" % k, "SYN_SENT", "LISTEN"]
        since = "%d.%06d" % divmod((k - 1) * 10, 1000000)
        ok = (f[:3] == want and f[5:9] == [since, "#%d" % k, since, "#%d" % k])
        if not ok:
            bad += 1
            if bad <= 5:
                print("row %d: %s" % (k, line.rstrip()))
    status = p.wait()
    if status != 0:
        sys.exit("conns_scale.py: %s exited with %d" % (cmd[0], status))
    maxrss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    return maxrss, time.monotonic() - t0, rows, bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("wrapper")
    ap.add_argument("plugin")
    ap.add_argument("n", type=int)
    ap.add_argument("--without", action="store_true")
    ap.add_argument("--pcap")
    ap.add_argument("--max-conn", type=float, default=1024.0)
    args = ap.parse_args()
    tshark = os.environ.get("TSHARK", "tshark")
    with tempfile.TemporaryDirectory(prefix="tcps-conns.") as tmp:
        os.chmod(tmp, 0o755)
        pcap = args.pcap
        if pcap is None:
            pcap = os.path.join(tmp, "halfopen.pcap")
            gen_captures.write_halfopen(pcap, args.n)
            os.chmod(pcap, 0o644)
        without = None
        if args.without:  # first: RUSAGE_CHILDREN keeps the biggest child so far
            home = os.path.join(tmp, "home")
            os.makedirs(os.path.join(home, ".config"))
            os.makedirs(os.path.join(tmp, "noplugins"))
            subprocess.run(["chmod", "-R", "a+rwX", tmp], check=True)
            cmd = ["env", "-i", "PATH=/usr/bin:/bin", "HOME=" + home, "LC_ALL=C.UTF-8",
                   "XDG_CONFIG_HOME=" + os.path.join(home, ".config"),
                   "WIRESHARK_PLUGIN_DIR=" + os.path.join(tmp, "noplugins"), tshark, "-r",
                   pcap, "-q", "-z", "io,stat,0"]
            if os.getuid() == 0:
                cmd = ["runuser", "-u", "nobody", "--"] + cmd
            without = run(cmd, None)
            print("tshark without the plugin (-q -z io,stat,0): %.0f MB peak, %.0f s"
                  % (without[0] / 1e6, without[1]))
        env = dict(os.environ, TSHARK=tshark)
        rss, wall, rows, bad = run(["sh", args.wrapper, args.plugin, "--", "-r", pcap, "-q",
                                    "-z", "tcpstate,conns"], env, True)
    print("tshark with the plugin (-q -z tcpstate,conns): %.0f MB peak, %.0f s; %d rows, "
          "%d with wrong states or since-times (of %d connections)"
          % (rss / 1e6, wall, rows, bad, args.n))
    failed = bad or rows != args.n
    if without is not None:
        if rss < without[0]:
            print("(the run with the plugin peaked lower than the one without)")
        per = (rss - without[0]) / args.n
        print("added by the plugin: %.0f B per connection (limit %.0f)" % (per, args.max_conn))
        failed = failed or per > args.max_conn
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
