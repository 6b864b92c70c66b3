#!/usr/bin/env python3
"""sweep.py: tshark with the ASan/UBSan-built plugin over many captures.

usage: sweep.py --plugin tcpstate_asan.so [options] PATH...

Every capture (PATH: files, or folders searched recursively for *.pcap,
*.pcapng, *.cap) is read twice:
  with:    tshark -r F -2 -V (summary lines instead of -V above --big bytes),
           plus the plugin's statistics taps when it registers them, with
           only the sanitized plugin loaded (LD_PRELOAD of the ASan runtime
           it links, since tshark is not instrumented);
  without: the same without the taps, with no plugin at all;
and a capture passes when the run with the plugin has no sanitizer report
on stderr, ends within --timeout seconds (no hang), and exits with the same
status as the run without it.

--variants N first writes N corrupted variants of the given captures with
editcap -E (bytes changed at random with probabilities PROBS, seeded,
reproducible; every other variant spares the 14-byte Ethernet header; every
eighth is also cut short in the middle of a record, which tshark reports as
an error) into a temporary folder, and sweeps those instead.

--epan SWEEP_EPAN also runs the in-process sweep (sweep_epan.c) over the same
captures: it must pass, and the exit status it reports for each (wiretap's read
status) must be the one tshark without the plugin gave.

As root, tshark runs as "nobody" (root ignores WIRESHARK_PLUGIN_DIR).
WIRESHARK_EXTCAP_DIR points to an empty folder: extcap helpers started by
tshark inherit LD_PRELOAD, and androiddump hangs under the ASan runtime.

Exit status: 0 pass, 1 fail, 2 usage or setup error, 77 (skip) when a PATH
is missing and --skip-missing is given.
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time

SAN_PATTERNS = re.compile(
    rb"ERROR: AddressSanitizer|ERROR: LeakSanitizer|AddressSanitizer:DEADLYSIGNAL|"
    rb"runtime error:|UndefinedBehaviorSanitizer|ASan runtime does not come first")
CAPTURE_EXT = (".pcap", ".pcapng", ".cap")
# Probability that editcap -E changes a byte, one per variant in turn.
PROBS = ["0.002", "0.01", "0.03", "0.08", "0.2"]
ASAN_OPTIONS = "detect_leaks=0:malloc_context_size=5:exitcode=99:abort_on_error=0"
UBSAN_OPTIONS = "print_stacktrace=1:halt_on_error=1:exitcode=98"


def die(msg, code=2):
    sys.stderr.write("sweep.py: %s\n" % msg)
    sys.exit(code)


def tshark_version(tshark):
    out = subprocess.run([tshark, "--version"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True).stdout
    m = re.match(r"TShark \(Wireshark\) (\d+)\.(\d+)\.", out)
    if not m:
        die("cannot read the version of %s" % tshark)
    return "%s.%s" % m.groups()


def asan_runtime(plugin):
    """Path of the ASan runtime the plugin links (ldd), for LD_PRELOAD."""
    out = subprocess.run(["ldd", plugin], stdout=subprocess.PIPE, text=True).stdout
    m = re.search(r"libasan\.so\.\d+ => (\S+)", out)
    if not m:
        die("%s does not link libasan (not a sanitized build?)" % plugin)
    return m.group(1)


def world_readable(path):
    p = os.path.abspath(path)
    if not os.stat(p).st_mode & stat.S_IROTH:
        return False
    d = os.path.dirname(p)
    while True:
        if not os.stat(d).st_mode & stat.S_IXOTH:
            return False
        parent = os.path.dirname(d)
        if parent == d:
            return True
        d = parent


def find_captures(paths):
    files = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, names in os.walk(p):
                dirs.sort()
                files += [os.path.join(root, n) for n in sorted(names)
                          if n.lower().endswith(CAPTURE_EXT)]
        else:
            files.append(p)
    return files


class Runner:
    def __init__(self, args, tmp):
        self.tshark = shutil.which(args.tshark) or die("tshark not found: %s" % args.tshark)
        self.tmp = tmp
        ver = tshark_version(self.tshark)
        self.with_dir = os.path.join(tmp, "with")
        self.without_dir = os.path.join(tmp, "without")
        os.makedirs(os.path.join(self.with_dir, ver, "epan"))
        os.makedirs(os.path.join(self.without_dir, ver, "epan"))
        os.makedirs(os.path.join(tmp, "noextcap"))
        os.makedirs(os.path.join(tmp, "home", ".config"))
        shutil.copy(args.plugin, os.path.join(self.with_dir, ver, "epan", "tcpstate.so"))
        self.asan = asan_runtime(args.plugin)
        self.timeout = args.timeout
        self.big = args.big
        subprocess.run(["chmod", "-R", "a+rwX", tmp], check=True)
        self.taps = []

    def env(self, plugin):
        home = os.path.join(self.tmp, "home")
        e = ["HOME=" + home, "XDG_CONFIG_HOME=" + os.path.join(home, ".config"),
             "WIRESHARK_EXTCAP_DIR=" + os.path.join(self.tmp, "noextcap"), "LC_ALL=C.UTF-8"]
        if plugin:
            e += ["WIRESHARK_PLUGIN_DIR=" + self.with_dir, "LD_PRELOAD=" + self.asan,
                  "ASAN_OPTIONS=" + ASAN_OPTIONS, "UBSAN_OPTIONS=" + UBSAN_OPTIONS]
        else:
            e += ["WIRESHARK_PLUGIN_DIR=" + self.without_dir]
        return e

    def cmd(self, plugin, args):
        cmd = ["env", "-i", "PATH=/usr/bin:/bin"] + self.env(plugin) + [self.tshark] + args
        if os.getuid() == 0:
            cmd = ["runuser", "-u", "nobody", "--"] + cmd
        return cmd

    def run(self, plugin, args, count=b"TCP State: "):
        """(status, stderr bytes, wall s, occurrences of count in stdout); status None
        on timeout. stdout is read as it comes (-V output can be large)."""
        t0 = time.monotonic()
        with tempfile.TemporaryFile() as err:
            p = subprocess.Popen(self.cmd(plugin, args), stdout=subprocess.PIPE, stderr=err,
                                 cwd=self.tmp, start_new_session=True)
            killed = threading.Event()

            def kill():
                killed.set()
                os.killpg(p.pid, signal.SIGKILL)

            timer = threading.Timer(self.timeout, kill)
            timer.start()
            n, tail = 0, b""
            for chunk in iter(lambda: p.stdout.read(1 << 16), b""):
                buf = tail + chunk
                n += buf.count(count)
                tail = buf[-(len(count) - 1):]
            p.wait()
            timer.cancel()
            timed_out = killed.is_set()
            err.seek(0)
            errb = err.read(1 << 20)
        return (None if timed_out else p.returncode), errb, time.monotonic() - t0, n

    def check_loaded(self):
        r = subprocess.run(self.cmd(True, ["-G", "plugins"]), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, cwd=self.tmp, timeout=120)
        line = [l for l in r.stdout.decode(errors="replace").splitlines()
                if l.startswith("tcpstate.so")]
        if r.returncode != 0 or not line or self.with_dir not in line[0]:
            die("the sanitized plugin is not loaded:\n%s\n%s" %
                ("\n".join(line), r.stderr.decode(errors="replace")))
        r = subprocess.run(self.cmd(True, ["-z", "help"]), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, cwd=self.tmp, timeout=120)
        self.taps = [t.strip() for t in r.stdout.decode(errors="replace").splitlines()
                     if t.strip().startswith("tcpstate,") or t.strip() == "flow,tcpstate"]
        return line[0]

    def tap_args(self, small):
        """The plugin's statistics taps; the flow graph only for small captures
        (Wireshark's own text rendering of flow graphs with many nodes floods
        stderr with GLib criticals, with or without the plugin)."""
        out = []
        for t in self.taps:
            if t.startswith("flow,"):
                if small:
                    out += ["-z", t + ",standard"]
            else:
                out += ["-z", t]
        return out

    def sweep_one(self, path):
        small = os.path.getsize(path) <= self.big
        # -V for small captures; summary lines (not -q, with which tshark would
        # not dissect at all without a tap) for big ones.
        args = ["-r", path, "-2"] + (["-V"] if small else [])
        w_status, w_err, w_wall, w_trees = self.run(True, args + self.tap_args(small))
        o_status, _, o_wall, _ = self.run(False, args)
        problems = []
        if w_status is None:
            problems.append("hang: no exit within %d s" % self.timeout)
        if SAN_PATTERNS.search(w_err):
            problems.append("sanitizer report")
        if w_status != o_status:
            problems.append("exit status %s with the plugin, %s without" % (w_status, o_status))
        return {"path": path, "with": w_status, "without": o_status, "problems": problems,
                "stderr": w_err, "wall_with": w_wall, "wall_without": o_wall,
                "trees": w_trees if small else 0, "small": small}


def variant(src, i, n_sources, seed, outdir):
    """Corrupted variant i of src (one of n_sources): editcap -E with PROBS[(i //
    n_sources) mod 5] and seed + i; every other one spares the Ethernet header, every
    eighth is also cut short in a record (a read error)."""
    prob = PROBS[(i // n_sources) % len(PROBS)]
    base = os.path.splitext(os.path.basename(src))[0]
    out = os.path.join(outdir, "%05d-%s-E%s.pcap" % (i, base, prob))
    cmd = ["editcap", "-E", prob, "--seed", str(seed + i)]
    if i % 2:
        cmd += ["-o", "14"]  # spare the Ethernet header: corrupt IP and TCP
    r = subprocess.run(cmd + ["-F", "pcap", src, out], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    if r.returncode != 0:  # pcapng with several link types: keep its format
        out = out[:-len(".pcap")] + ".pcapng"
        r = subprocess.run(cmd + [src, out], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode != 0 or not os.path.exists(out):
        die("editcap -E failed on %s: %s" % (src, r.stderr.decode(errors="replace")))
    if i % 8 == 7:  # also cut short in a record: tshark reports a read error
        size = os.path.getsize(out)
        if size > 64:
            os.truncate(out, 24 + (size - 24) * 3 // 4 + 5)
    return out


def make_variants(sources, n, seed, outdir):
    shutil.which("editcap") or die("editcap not found")
    return [variant(sources[i % len(sources)], i, len(sources), seed, outdir) for i in range(n)]


def epan_check(program, results, jobs):
    """--epan: the in-process sweep (sweep_epan.c, run as sweep_epan.py runs it) over the
    same captures must pass, and report for each the exit status tshark without the
    plugin gave it."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import sweep_epan
    epan, failures = sweep_epan.sweep(program, [r["path"] for r in results], jobs, 40, 60)
    failed = {f: why for f, why, _ in failures}
    same = 0
    for r in results:
        if r["path"] in failed:
            problem = failed[r["path"]]
        elif r["path"] not in epan:
            problem = "no result"
        elif epan[r["path"]][0] != r["without"]:
            problem = "status %d, tshark without the plugin %s" % (epan[r["path"]][0],
                                                                   r["without"])
        else:
            same += 1
            continue
        r["problems"].append("in-process sweep: " + problem)
        print("FAIL %s: in-process sweep: %s" % (r["path"], problem))
    for f, _, err in failures:
        sys.stdout.write(err)
    print("in-process sweep (%s): the same exit status as tshark without the plugin for %d "
          "of %d captures" % (os.path.basename(program), same, len(results)))


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plugin", required=True, help="the sanitized plugin (tcpstate_asan.so)")
    ap.add_argument("--tshark", default=os.environ.get("TSHARK", "tshark"))
    ap.add_argument("--name", default="sweep", help="label for the summary line")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--timeout", type=int, default=300, help="seconds before a run is a hang")
    ap.add_argument("--big", type=int, default=2_000_000,
                    help="captures above this many bytes are read with -q instead of -V")
    ap.add_argument("--variants", type=int, default=0, help="sweep N editcap -E variants instead")
    ap.add_argument("--seed", type=int, default=20240)
    ap.add_argument("--skip-missing", action="store_true")
    ap.add_argument("--keep", help="keep failing captures in this folder")
    ap.add_argument("--epan", help="also run this sweep_epan over the captures (see epan_check)")
    ap.add_argument("--require-trees", action="store_true",
                    help="fail a capture read with -V where the plugin drew no TCP state tree")
    ap.add_argument("paths", nargs="+")
    return ap.parse_args()


def main():
    args = parse_args()
    missing = [p for p in args.paths if not os.path.exists(p)]
    if missing:
        if args.skip_missing:
            print("sweep.py: %s not found: skipped" % ", ".join(missing))
            sys.exit(77)
        die("not found: %s" % ", ".join(missing))
    files = find_captures(args.paths)
    if not files:
        die("no capture found in %s" % " ".join(args.paths))

    t_start = time.monotonic()
    cpu0 = os.times()
    with tempfile.TemporaryDirectory(prefix="tcps-sweep.") as tmp:
        runner = Runner(args, tmp)
        loaded = runner.check_loaded()
        caps = os.path.join(tmp, "captures")
        os.makedirs(caps)
        if args.variants:
            sources = files
            files = make_variants(sources, args.variants, args.seed, caps)
            print("%d variants of %d captures (editcap -E %s, seeds %d..%d)" %
                  (len(files), len(sources), "/".join(PROBS), args.seed,
                   args.seed + args.variants - 1))
        readable = []
        for i, f in enumerate(files):
            if world_readable(f):
                readable.append(f)
            else:
                dst = os.path.join(caps, "%05d-%s" % (i, os.path.basename(f)))
                shutil.copy(f, dst)
                readable.append(dst)
        subprocess.run(["chmod", "-R", "a+rX", caps], check=True)
        print("plugin: %s" % loaded.split("\t")[-1].strip())
        print("taps exercised: %s" % (" ".join(runner.taps) or "none"))

        results = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for r in pool.map(runner.sweep_one, readable):
                if args.require_trees and r["small"] and not r["trees"]:
                    r["problems"].append("no TCP state tree drawn: plugin inactive?")
                results.append(r)
                if r["problems"]:
                    print("FAIL %s: %s" % (r["path"], "; ".join(r["problems"])))
                    sys.stdout.write(r["stderr"].decode(errors="replace")[-4000:])
                    if args.keep:
                        os.makedirs(args.keep, exist_ok=True)
                        shutil.copy(r["path"], args.keep)
        if args.epan:
            epan_check(args.epan, results, args.jobs)
        cpu1 = os.times()

    statuses = {}
    for r in results:
        key = "%s/%s" % (r["with"], r["without"])
        statuses[key] = statuses.get(key, 0) + 1
    bad = [r for r in results if r["problems"]]
    slow = max(results, key=lambda r: r["wall_with"])
    frames = sum(r["trees"] for r in results)
    cpu = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    print("exit status with/without plugin: %s" %
          ", ".join("%s x%d" % kv for kv in sorted(statuses.items())))
    print("TCP state trees drawn (-V runs): %d" % frames)
    print("slowest with the plugin: %s %.1f s (%.1f s without)" %
          (os.path.basename(slow["path"]), slow["wall_with"], slow["wall_without"]))
    print("%s: %d captures, %d failed; %.0f s wall, %.0f s CPU (tshark runs, %d jobs)" %
          (args.name, len(results), len(bad), time.monotonic() - t_start, cpu, args.jobs))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
