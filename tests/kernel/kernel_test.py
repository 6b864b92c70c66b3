#!/usr/bin/env python3
"""kernel_test.py: one bundled capture against its kernel truth, as a ctest.

usage: kernel_test.py WRAPPER PLUGIN_SO PCAP_DIR NAME RESULT_DIR
       kernel_test.py --summary PCAP_DIR RESULT_DIR

Runs compare.py on PCAP_DIR/NAME.pcap with its .truth twice: causal (one
pass) and hindsight (two passes). Hindsight must agree with the kernel;
causal too, unless NAME is in causal_unknowable.txt (where the capture point
cannot know yet; the reason is given there). A capture taken at an endpoint
(truth "vantage client" or "vantage server") is compared twice more, causal
and hindsight with the preference tcpstate.vantage set to that endpoint; both
must agree with the kernel, causal unless NAME is in vantage_unknowable.txt.
Writes RESULT_DIR/NAME.result. --summary reads every result and prints
"kernel agreement: N/M scenarios (causal), V/E (causal, vantage set), K/M (hindsight)".
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import truth as truthfile  # noqa: E402  (tests/lib/truth.py)


def unknowable(listing="causal_unknowable.txt"):
    names = {}
    with open(os.path.join(HERE, listing)) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                name, _, why = line.strip().partition(" ")
                names[name] = why.strip()
    return names


def one(wrapper, plugin, pcap_dir, name, result_dir):
    truth = os.path.join(pcap_dir, name + ".truth")
    pcap = os.path.join(pcap_dir, name + ".pcap")
    vantage = truthfile.read(truth)["vantage"] or "middle"
    runs = [("causal", [], []), ("hindsight", ["--hindsight"], [])]
    if vantage in ("client", "server"):
        pref = ["-o", "tcpstate.vantage:" + vantage]
        runs += [("vantage", [], pref), ("vantage_hindsight", ["--hindsight"], pref)]
    verdict = {"vantage": "-", "vantage_hindsight": "-"}
    for mode, opt, prefs in runs:
        env = dict(os.environ, COMPARE_TSHARK="sh %s %s --" % (wrapper, plugin),
                   COMPARE_TSHARK_OPTS=" ".join(prefs))
        r = subprocess.run([sys.executable, os.path.join(HERE, "compare.py")] + opt + [truth, pcap],
                           env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True)
        verdict[mode] = "PASS" if r.returncode == 0 else "FAIL"
        print("%s%s: %s" % (mode, " (tcpstate.vantage:%s)" % vantage if prefs else "",
                            verdict[mode]))
        for line in r.stdout.splitlines():
            print("    " + line)
    os.makedirs(result_dir, exist_ok=True)
    with open(os.path.join(result_dir, name + ".result"), "w") as f:
        f.write("causal=%s hindsight=%s vantage=%s vantage_hindsight=%s\n" %
                (verdict["causal"], verdict["hindsight"], verdict["vantage"],
                 verdict["vantage_hindsight"]))
    ok = verdict["hindsight"] == "PASS" and verdict["vantage_hindsight"] != "FAIL"
    for mode, listing in (("causal", "causal_unknowable.txt"),
                          ("vantage", "vantage_unknowable.txt")):
        why = unknowable(listing).get(name)
        if verdict[mode] == "FAIL":
            if why:
                print("%s differs as documented: %s" % (mode, why))
            else:
                ok = False
        elif verdict[mode] == "PASS" and why:
            print("note: %s now agrees; %s lists %s" % (mode, listing, name))
    return 0 if ok else 1


def summary(pcap_dir, result_dir):
    names = sorted(f[:-6] for f in os.listdir(pcap_dir) if f.endswith(".truth"))
    causal = hindsight = vantage = at_end = 0
    missing = []
    for name in names:
        path = os.path.join(result_dir, name + ".result")
        if not os.path.exists(path):
            missing.append(name)
            continue
        text = open(path).read()
        causal += "causal=PASS" in text
        hindsight += " hindsight=PASS" in text
        at_end += "vantage=-" not in text
        vantage += "vantage=PASS" in text
    m = len(names)
    print("kernel agreement: %d/%d scenarios (causal), %d/%d (causal, vantage set), %d/%d (hindsight)"
          % (causal, m, vantage, at_end, hindsight, m))
    print("causal differs only where the capture point cannot know: %d documented in "
          "tests/kernel/causal_unknowable.txt, %d with the vantage set in "
          "tests/kernel/vantage_unknowable.txt" % (len(unknowable()),
                                                   len(unknowable("vantage_unknowable.txt"))))
    if missing:
        print("no result for: " + " ".join(missing))
    return 0 if not missing and hindsight == m and m > 0 else 1


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--summary":
        sys.exit(summary(sys.argv[2], sys.argv[3]))
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    sys.exit(one(*sys.argv[1:6]))
