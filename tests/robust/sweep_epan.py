#!/usr/bin/env python3
"""sweep_epan.py: thousands of corrupted captures through the plugin, in-process.

usage: sweep_epan.py --program sweep_epan --variants N [options] PATH...

Writes N corrupted variants of the captures found in PATH (files, or folders
searched recursively for *.pcap, *.pcapng, *.cap) with editcap -E, as sweep.py
does (variant i: capture i mod the number of captures, byte probability
PROBS[(i // captures) mod 5], seed SEED + i, every other one sparing the
14-byte Ethernet header, every eighth also cut short in the middle of a record),
then runs sweep_epan (sweep_epan.c: the plugin's sources under ASan and UBSan in
a real epan session, the plugin fuzz target's checks on every file) over them in
batches of --batch files per process (Wireshark 4.0 keeps about 14 MB per
session: a process is not given thousands), --jobs processes at a time.

--corpus DIR adds the captures of DIR, each cut to its first --corpus-frames
frames (editcap -r) so that variants stay small; skipped when DIR is absent.

A file fails when sweep_epan aborts on it (a broken check, a sanitizer report)
or takes more than --timeout seconds (a hang); the rest of its batch is then run
on. Prints the exit status tshark without the plugin gives each file, as
sweep_epan reports it from wiretap's read status (robust.sweep.variants checks
that claim against tshark itself on its own variants; --tshark-every K does here
for every Kth variant, as nobody when run as root), counted.

Exit status: 0 pass, 1 fail, 2 usage or setup error.
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sweep import PROBS, SAN_PATTERNS, find_captures, variant  # noqa: E402

ENV = {"ASAN_OPTIONS": "detect_leaks=0:abort_on_error=1:malloc_context_size=5",
       "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
       "WIRESHARK_EXTCAP_DIR": "/nonexistent"}


def die(msg, code=2):
    sys.stderr.write("sweep_epan.py: %s\n" % msg)
    sys.exit(code)


def editcap(args):
    r = subprocess.run(["editcap"] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return r.returncode == 0, r.stderr.decode(errors="replace")


def cut(src, frames, outdir, k):
    """The first frames of src, in its own format (pcapng stays pcapng)."""
    out = os.path.join(outdir, "c%03d-%s" % (k, os.path.basename(src)))
    ok, err = editcap(["-r", src, out, "1-%d" % frames])
    if not ok or not os.path.exists(out):
        die("editcap -r failed on %s: %s" % (src, err))
    return out


def run_batch(program, files, timeout, first=0):
    """Runs sweep_epan over files, the first being file number first of the sweep (its
    preferences: sweep_epan.c), going on after a failing one. Returns
    (results {file: (status, frames, records, cut)}, failures [(file, why, stderr)])."""
    results, failures = {}, []
    todo = list(files)
    env = dict(os.environ, **ENV)
    while todo:
        k = first + len(files) - len(todo)
        try:
            p = subprocess.run([program, "--timeout", str(timeout), "--prefs", str(k)] + todo,
                               env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=timeout * len(todo) + 120)
            out, err, rc = p.stdout.decode(errors="replace"), p.stderr, p.returncode
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode(errors="replace")
            err, rc = e.stderr or b"", None
        done = 0
        for line in out.splitlines():
            m = re.match(r"(\d+) (\d+) (\d+) (\d+) (.*)$", line)
            if m and done < len(todo) and m.group(5) == todo[done]:
                results[todo[done]] = tuple(int(x) for x in m.groups()[:4])
                done += 1
        san = SAN_PATTERNS.search(err)
        if done == len(todo) and rc == 0 and not san:
            break
        culprit = todo[done] if done < len(todo) else todo[-1]
        why = ("hang (over %d s)" % timeout if rc == 3 or rc is None else
               "sanitizer report" if san else "exit status %s" % rc)
        why += " (sweep_epan --prefs %d)" % (k + done)
        failures.append((culprit, why, err.decode(errors="replace")[-4000:]))
        results.pop(culprit, None)
        todo = todo[done + 1:] if done < len(todo) else []
    return results, failures


def tshark_status(tmp, path):
    """tshark's exit status on path without any plugin (-2 -V, as sweep.py's run without
    the plugin); as root, run as nobody (root ignores WIRESHARK_PLUGIN_DIR)."""
    cmd = ["env", "-i", "PATH=/usr/bin:/bin", "HOME=" + os.path.join(tmp, "home"),
           "XDG_CONFIG_HOME=" + os.path.join(tmp, "home", ".config"), "LC_ALL=C.UTF-8",
           "WIRESHARK_PLUGIN_DIR=" + os.path.join(tmp, "noplugins"),
           "WIRESHARK_EXTCAP_DIR=" + os.path.join(tmp, "noplugins"),
           os.environ.get("TSHARK", "tshark"), "-r", path, "-2", "-V"]
    if os.getuid() == 0:
        cmd = ["runuser", "-u", "nobody", "--"] + cmd
    return subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          cwd=tmp).returncode


def sweep(program, files, jobs, batch, timeout):
    starts = range(0, len(files), batch)
    results, failures = {}, []
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for r, f in pool.map(lambda i: run_batch(program, files[i:i + batch], timeout, i),
                             starts):
            results.update(r)
            failures += f
    return results, failures


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--program", required=True, help="sweep_epan (sweep_epan.c)")
    ap.add_argument("--variants", type=int, required=True)
    ap.add_argument("--seed", type=int, default=160000)
    ap.add_argument("--corpus", help="more captures, cut to --corpus-frames (skipped if absent)")
    ap.add_argument("--corpus-frames", type=int, default=500)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=40, help="files per sweep_epan process")
    ap.add_argument("--timeout", type=int, default=60, help="seconds per file before a hang")
    ap.add_argument("--keep", help="copy failing variants into this folder")
    ap.add_argument("--tshark-every", type=int, default=0, metavar="K",
                    help="also read every Kth variant with tshark without the plugin: the "
                    "status sweep_epan reports must be tshark's (slow: by hand)")
    ap.add_argument("paths", nargs="+")
    return ap.parse_args()


def main():
    args = parse_args()
    if not shutil.which("editcap"):
        die("editcap not found")
    for p in args.paths:
        if not os.path.exists(p):
            die("not found: %s" % p)
    t0 = time.monotonic()
    cpu0 = os.times()
    bundled, seen = [], set()
    for f in find_captures(args.paths):  # a folder and its subfolder given: once each
        if os.path.realpath(f) not in seen:
            seen.add(os.path.realpath(f))
            bundled.append(f)
    with tempfile.TemporaryDirectory(prefix="tcps-sweep-epan.") as tmp:
        corpus = []
        if args.corpus and os.path.isdir(args.corpus):
            os.makedirs(os.path.join(tmp, "cut"))
            corpus = [cut(f, args.corpus_frames, os.path.join(tmp, "cut"), k)
                      for k, f in enumerate(find_captures([args.corpus]))]
        elif args.corpus:
            print("sweep_epan.py: %s not found: corpus left out" % args.corpus)
        sources = bundled + corpus
        if not sources:
            die("no capture found")
        vdir = os.path.join(tmp, "variants")
        os.makedirs(vdir)
        with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
            files = list(pool.map(lambda i: variant(sources[i % len(sources)], i, len(sources),
                                                    args.seed, vdir), range(args.variants)))
        t_made = time.monotonic()
        print("%d variants of %d captures (%d bundled, %d from %s cut to %d frames), "
              "editcap -E %s, seeds %d..%d, written in %.0f s" %
              (len(files), len(sources), len(bundled), len(corpus), args.corpus,
               args.corpus_frames, "/".join(PROBS), args.seed, args.seed + args.variants - 1,
               t_made - t0))
        sys.stdout.flush()
        results, failures = sweep(args.program, files, args.jobs, args.batch, args.timeout)
        if args.tshark_every > 0:
            os.makedirs(os.path.join(tmp, "home", ".config"))
            os.makedirs(os.path.join(tmp, "noplugins"))
            subprocess.run(["chmod", "-R", "a+rwX", tmp], check=True)
            some = files[::args.tshark_every]
            with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
                theirs = list(pool.map(lambda f: tshark_status(tmp, f), some))
            counts, same = {}, 0
            for f, st in zip(some, theirs):
                counts[st] = counts.get(st, 0) + 1
                if f in results and results[f][0] == st:
                    same += 1
                elif f in results:
                    failures.append((f, "status %d, tshark without the plugin %d" %
                                     (results[f][0], st), ""))
            print("tshark without the plugin, 1 variant in %d: the status sweep_epan "
                  "reported for %d of %d (tshark: %s)" %
                  (args.tshark_every, same, len(some),
                   ", ".join("%s x%d" % kv for kv in sorted(counts.items()))))
        for f, why, err in failures:
            print("FAIL %s: %s" % (f, why))
            sys.stdout.write(err)
            if args.keep:
                os.makedirs(args.keep, exist_ok=True)
                shutil.copy(f, args.keep)
    cpu1 = os.times()
    statuses = {}
    for r in results.values():
        statuses[r[0]] = statuses.get(r[0], 0) + 1
    frames = sum(r[1] for r in results.values())
    records = sum(r[2] for r in results.values())
    cut_frames = sum(r[3] for r in results.values())
    cpu = (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system)
    print("exit status tshark gives them without the plugin: %s" %
          ", ".join("%s x%d" % kv for kv in sorted(statuses.items())))
    print("frames read %d, tcpstate records checked %d (first passes), frames not dissected %d"
          % (frames, records, cut_frames))
    print("variants: %d files, %d failed; %.0f s wall (%.0f s sweeping), %.0f s CPU, %d jobs"
          % (len(files), len(failures), time.monotonic() - t0, time.monotonic() - t_made, cpu,
             args.jobs))
    sys.exit(1 if failures or len(results) + len(failures) != len(files) else 0)


if __name__ == "__main__":
    main()
