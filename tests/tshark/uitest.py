"""uitest.py: shared helpers of the ui_*.py tests (tshark through tshark-plugin.sh,
truth files, check lines). Expectations never come from the plugin's own output."""

import glob
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import truth as truthfile  # noqa: E402  (tests/lib/truth.py: the one truth file reader)
UNKNOWABLE_FILE = os.path.join(HERE, "..", "kernel", "causal_unknowable.txt")


class Checker:
    def __init__(self):
        self.errors = []

    def check(self, ok, what):
        print("%s %s" % ("ok  " if ok else "FAIL", what))
        if not ok:
            self.errors.append(what)

    def equal(self, got, want, what):
        ok = got == want
        self.check(ok, what if ok else "%s: got %r, want %r" % (what, got, want))

    def done(self):
        print("FAILED (%d)" % len(self.errors) if self.errors else "passed")
        return 1 if self.errors else 0


def tshark(wrapper, plugin, args, env=None):
    cmd = ["sh", wrapper, plugin, "--"] + args
    res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True, check=False,
                         env=dict(os.environ, **(env or {})))
    if res.returncode != 0:
        sys.exit("FAIL: %s exited %d\n%s" % (" ".join(cmd), res.returncode, res.stderr))
    return res.stdout


def read_truth(path):
    """{'conns': [{'n', 'client', 'server', 'states': [cl, sv], 'end': [cl, sv]}], 'vantage',
    'crafted', 'name'}, from tests/lib/truth.py's reading of the file."""
    t = truthfile.read(path)
    conns = []
    for tc in t["conns"].values():
        c = {"n": tc["n"], "client": tc["client"], "server": tc["server"],
             "states": [tc["states"][r] for r in truthfile.ROLES],
             "end": [tc["end"][r] for r in truthfile.ROLES]}
        for who in (0, 1):
            # The documented normalisation of tests/kernel/compare.py: a
            # connect() that times out in SYN_SENT goes to CLOSED without a
            # segment, which no capture shows (pcaps/README.md).
            if c["states"][who][-2:] == ["SYN_SENT", "CLOSED"] and c["end"][who] == "CLOSED":
                c["states"][who] = c["states"][who][:-1]
                c["end"][who] = "SYN_SENT"
        conns.append(c)
    return {"vantage": t["vantage"], "crafted": t["crafted"], "name": t["name"], "conns": conns}


def truths(pcap_dir):
    """(pcap, truth) for every capture that has a truth file."""
    out = []
    for t in sorted(glob.glob(os.path.join(pcap_dir, "*.truth"))):
        pcap = t[:-len(".truth")] + ".pcap"
        if os.path.exists(pcap):
            out.append((pcap, read_truth(t)))
    return out


def unknowable():
    """Scenarios whose causal states cannot match the kernel (tests/kernel)."""
    names = set()
    with open(UNKNOWABLE_FILE) as f:
        for line in f:
            words = line.split("#", 1)[0].split()
            if words:
                names.add(words[0])
    return names


def causal_may_differ(truth, unknowable_names):
    """Where a causal end result may differ from the kernel's without a defect: the
    scenarios of causal_unknowable.txt, crafted captures (no kernel log) and captures
    taken at an endpoint (name with "_at_"): there the test notes the difference."""
    name = truth["name"]
    return name in unknowable_names or truth["crafted"] or "_at_" in name


def role_states(values):
    """Distinct consecutive states of a role, a leading CLOSED dropped unless the only one
    (as tests/kernel/compare.py reads the plugin's states)."""
    seq = []
    for v in values:
        if not seq or seq[-1] != v:
            seq.append(v)
    return seq[1:] if len(seq) > 1 and seq[0] == "CLOSED" else seq


def subsequence(seq, of):
    """Whether seq's items are in of, in the same order."""
    it = iter(of)
    return all(s in it for s in seq)


def match_steps(frames, steps, kind_tests):
    """Frame numbers of textbook steps (sender, kind, states), found by direction and
    TCP flags only (frames from textbook.read_frames); the client sent the first SYN."""
    syn = next((f for f in frames if kind_tests["SYN"](f["flags"])), None)
    if syn is None:
        return []
    picked, pos = [], 0
    for who, kind, _states in steps:
        while pos < len(frames):
            f = frames[pos]
            pos += 1
            side = "client" if f["endpoint"] == syn["endpoint"] else "server"
            if side == who and kind_tests[kind](f["flags"]):
                picked.append(f["num"])
                break
    return picked
