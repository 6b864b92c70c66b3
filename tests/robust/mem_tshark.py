#!/usr/bin/env python3
"""mem_tshark.py PLUGIN_SO: tshark's peak memory with the plugin and without.

Writes (gen_captures.py, into a temporary folder) captures of N half-open
connections (one SYN each) for each N in --sizes, and of one connection
whose sequence numbers wrap past 2^32 --wraps times, then reads each with
tshark in one pass, printing the summary lines (so every frame is dissected),
once with no plugin and once with only PLUGIN_SO, as "nobody" when root (see
tests/tshark/tshark-plugin.sh). Reports the peak resident memory of both and
what the plugin adds per connection and per frame.

Fails when the plugin adds more than --max-conn bytes per half-open
connection or --max-frame bytes per frame of the long connection, when the
cost per connection grows with N by more than 25% (it must be linear), or
when the plugin did not annotate every frame. With --enforce-target it also
fails above the project's target (--target-frame bytes per frame plus
--target-conn bytes per connection); otherwise it prints whether it is met.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gen_captures  # noqa: E402


def tshark_version(tshark):
    out = subprocess.run([tshark, "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True).stdout
    m = re.match(r"TShark \(Wireshark\) (\d+)\.(\d+)\.", out)
    if not m:
        sys.exit("mem_tshark.py: cannot read the tshark version")
    return "%s.%s" % m.groups()


def run(tshark, tmp, plugin_dir, pcap):
    """(peak RSS bytes, CPU seconds, wall seconds, frames annotated by the plugin)."""
    home = os.path.join(tmp, "home")
    cmd = ["env", "-i", "PATH=/usr/bin:/bin", "HOME=" + home, "LC_ALL=C.UTF-8",
           "XDG_CONFIG_HOME=" + os.path.join(home, ".config"),
           "WIRESHARK_PLUGIN_DIR=" + plugin_dir, tshark, "-r", pcap]
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "nobody", "--"] + cmd
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=tmp)
    n, tail, mark = 0, b"", b" [C:"
    for chunk in iter(lambda: p.stdout.read(1 << 16), b""):
        buf = tail + chunk
        n += buf.count(mark)
        tail = buf[-(len(mark) - 1):]
    _, status, ru = os.wait4(p.pid, 0)
    if status != 0:
        sys.exit("mem_tshark.py: tshark failed on %s (status %d)" % (pcap, status))
    return ru.ru_maxrss * 1024, ru.ru_utime + ru.ru_stime, time.monotonic() - t0, n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("plugin")
    ap.add_argument("--tshark", default=os.environ.get("TSHARK", "tshark"))
    ap.add_argument("--sizes", default="250000,1000000")
    ap.add_argument("--wraps", type=int, default=5)
    ap.add_argument("--max-conn", type=float, default=1024.0)
    ap.add_argument("--max-frame", type=float, default=128.0)
    ap.add_argument("--target-conn", type=float, default=256.0)
    ap.add_argument("--target-frame", type=float, default=16.0)
    ap.add_argument("--enforce-target", action="store_true")
    args = ap.parse_args()
    tshark = shutil.which(args.tshark) or sys.exit("mem_tshark.py: tshark not found")
    sizes = [int(x) for x in args.sizes.split(",")]
    bad = []
    with tempfile.TemporaryDirectory(prefix="tcps-mem.") as tmp:
        ver = tshark_version(tshark)
        dirs = {}
        for name in ("without", "with"):
            d = os.path.join(tmp, name)
            os.makedirs(os.path.join(d, ver, "epan"))
            dirs[name] = d
        shutil.copy(args.plugin, os.path.join(dirs["with"], ver, "epan", "tcpstate.so"))
        os.makedirs(os.path.join(tmp, "home", ".config"))
        caps = [("halfopen", n, os.path.join(tmp, "halfopen-%d.pcap" % n)) for n in sizes]
        caps.append(("wrap", args.wraps, os.path.join(tmp, "wrap-%d.pcap" % args.wraps)))
        frames = {}
        for kind, n, path in caps:
            if kind == "halfopen":
                frames[path] = gen_captures.write_halfopen(path, n)
            else:
                frames[path] = gen_captures.write_wrap(path, n)
        subprocess.run(["chmod", "-R", "a+rwX", tmp], check=True)

        per_conn = []
        for kind, n, path in caps:
            r0, c0, w0, _ = run(tshark, tmp, dirs["without"], path)
            r1, c1, w1, annotated = run(tshark, tmp, dirs["with"], path)
            nf = frames[path]
            added = r1 - r0
            if annotated != nf:
                bad.append("%s: the plugin annotated %d of %d frames" % (path, annotated, nf))
            if kind == "halfopen":
                per = added / n
                per_conn.append(per)
                target = args.target_conn + args.target_frame  # one frame per connection
                print("tshark, %d half-open connections (%d frames): %.0f MB without the plugin, "
                      "%.0f MB with: %.0f bytes per connection (target %.0f: %s); "
                      "CPU %.1f s without, %.1f s with" %
                      (n, nf, r0 / 1e6, r1 / 1e6, per, target,
                       "met" if per <= target else "NOT met", c0, c1))
                if per > args.max_conn:
                    bad.append("%.0f bytes per connection > %.0f" % (per, args.max_conn))
                if args.enforce_target and per > target:
                    bad.append("%.0f bytes per connection > target %.0f" % (per, target))
            else:
                per = added / nf
                print("tshark, one connection wrapping 2^32 %d times (%d frames): %.0f MB "
                      "without the plugin, %.0f MB with: %.1f bytes per frame (target %.0f: %s); "
                      "CPU %.1f s without, %.1f s with" %
                      (n, nf, r0 / 1e6, r1 / 1e6, per, args.target_frame,
                       "met" if per <= args.target_frame else "NOT met", c0, c1))
                if per > args.max_frame:
                    bad.append("%.1f bytes per frame > %.0f" % (per, args.max_frame))
                if args.enforce_target and per > args.target_frame:
                    bad.append("%.1f bytes per frame > target %.0f" % (per, args.target_frame))
        if len(per_conn) > 1 and per_conn[-1] > 1.25 * per_conn[0] + 16:
            bad.append("not linear: %.0f bytes per connection at %d, %.0f at %d" %
                       (per_conn[-1], sizes[-1], per_conn[0], sizes[0]))
    for b in bad:
        print("FAIL: " + b)
    print("mem_tshark: %s" % ("bounded and linear" if not bad else "%d failures" % len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
