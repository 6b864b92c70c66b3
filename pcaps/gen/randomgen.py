#!/usr/bin/env python3
"""Random kernel scenarios: the differential test of tcpstate against Linux.

    sudo python3 pcaps/gen/randomgen.py --seed=N [--cases=K] [--out=DIR] [--keep-tmp] [--print]

Case i of a batch (seed N + i) is one capture of several connections between the
client and server namespaces (gen.py's machinery: netns.py, tracing.py, derive.py),
each connection with a random program of socket calls on both ends (connect,
non-blocking connect, accept, send, recv, shutdown, close, SO_LINGER 0, sleeps), a
random listener (backlog, late accept(), closed while connections wait, a port with
no listener), random kernel settings (tcp_fin_timeout, tcp_abort_on_overflow), random
wire faults between the two (loss, reordering, duplication, forged RST/SYN/ACK in and
out of the window, from fwd.py) and a random capture point (client, server, either
side of the router).  The kernel's own state log is the truth, written as
DIR/random-N.truth beside DIR/random-N.pcap; a case whose truth cannot be derived
(gen.py's checks against `ss` fail) is reported and skipped.

Everything is drawn from random.Random(seed): the same seed gives the same programs,
faults and capture point (the kernel's timing still varies).  `--print` shows a case's
programs and rules without running it.  tests/kernel/random_test.py compares tcpstate
with the truth files and prints agreement per class.
"""
import json
import os
import random
import signal
import sys

import gen
from netns import log
from scenarios import Scenario
from tracing import tracefs_ready

SPORT, CLOSED_PORT, CPORT = 8080, 8081, 40001

# The interpreter of a random program, run by peer.py on both ends (threads).
RUNTIME = r'''
import threading
KEEP = []

def run_ops(s, ops, who):
    for op in ops:
        k = op[0]
        try:
            if k == "send":
                s.sendall(b"r" * op[1])
            elif k == "recv":
                s.settimeout(op[1])
                try:
                    s.recv(65536)
                except socket.timeout:
                    pass
                s.settimeout(None)
            elif k == "eof":
                s.settimeout(op[1])
                try:
                    while s.recv(65536):
                        pass
                except socket.timeout:
                    pass
                s.settimeout(None)
            elif k == "sleep":
                time.sleep(op[1])
            elif k == "shutwr":
                s.shutdown(socket.SHUT_WR)
            elif k == "shutrd":
                s.shutdown(socket.SHUT_RD)
            elif k == "linger0":
                linger0(s)
            elif k == "close":
                s.close()
                return
        except Exception as e:
            log(who, k, type(e).__name__, e)
            s.settimeout(None)
    KEEP.append(s)
'''

CLIENT = r'''
def one(port, p):
    at(p["start"])
    s = sock()
    s.bind((CADDR, port))
    KEEP.append(s)
    try:
        if p["nb"] is not None:
            s.setblocking(False)
            try:
                s.connect((SADDR, p["dport"]))
            except BlockingIOError:
                pass
            time.sleep(p["nb"])
            s.setblocking(True)
        else:
            s.settimeout(p["timeout"])
            s.connect((SADDR, p["dport"]))
            s.settimeout(None)
    except Exception as e:
        log(port, "connect", type(e).__name__, e)
        if not p["close_failed"]:
            return
    run_ops(s, p["ops"], port)

ts = [threading.Thread(target=one, args=(port, p)) for port, p in sorted(PROGS.items())]
for t in ts:
    t.start()
for t in ts:
    t.join()
'''

SERVER = r'''
l = listen(SPORT, backlog=CFG["backlog"])

def acceptor():
    at(CFG["accept_at"])
    l.settimeout(0.1)
    while time.time() < T0 + CFG["end"]:
        try:
            c, a = l.accept()
        except socket.timeout:
            continue
        except OSError:
            return
        threading.Thread(target=run_ops, args=(c, PROGS.get(a[1], []), a[1])).start()

threading.Thread(target=acceptor, daemon=True).start()
if CFG["close_listener_at"] is not None:
    at(CFG["close_listener_at"])
    l.close()
'''


def middle_ops(r, n):
    ops = []
    for _ in range(n):
        k = r.choice(["send", "send", "recv", "sleep", "shutwr", "shutrd"])
        if k == "send":
            ops.append(("send", r.choice([1, 100, 1000, 3000])))
        elif k == "recv":
            ops.append(("recv", r.choice([0.05, 0.2])))
        elif k == "sleep":
            ops.append(("sleep", r.choice([0.01, 0.05, 0.2, 0.4])))
        else:
            ops.append((k,))
    return ops


def ending(r):
    return r.choice([[("close",)], [("close",)], [("eof", 0.5), ("close",)],
                     [("eof", 0.5), ("close",)], [("shutwr",), ("eof", 0.6), ("close",)],
                     [("linger0",), ("close",)], [("sleep", 0.3), ("close",)], []])


def program(r):
    return middle_ops(r, r.randint(0, 3)) + ending(r)


def faults(r, seed):
    """fwd.py rules (None: a plain bridge) and a short description of each."""
    rules, what = [], []
    for k in range(r.choice([0, 0, 1, 1, 2, 3])):
        kind = r.choice(["loss", "loss", "flagloss", "reorder", "dup", "inject"])
        d = {"dir": r.choice(["c2s", "s2c", "both"]), "seed": seed * 10 + k}
        if kind == "loss":
            d.update({"loss": r.choice([0.05, 0.1, 0.2]), "action": "drop"})
        elif kind == "flagloss":
            d.update({"set": r.choice(["S", "F", "R", "SA"]), "loss": r.choice([0.3, 0.5]),
                      "action": "drop"})
        elif kind == "reorder":
            d.update({"loss": r.choice([0.1, 0.3]), "action": "delay", "ms": r.choice([2, 10, 40])})
        elif kind == "dup":
            d.update({"loss": r.choice([0.1, 0.3]), "action": "dup", "ms": r.choice([0, 5, 30])})
        else:
            d.update({"loss": r.choice([0.05, 0.15]), "action": "inject",
                      "set": r.choice(["A", "A", "F", "S", "R"]),
                      "inject": r.choice(["R", "R", "RA", "S", "SA", "A"]),
                      "back": r.random() < 0.5,
                      "off": r.choice([0, 0, 1, 1000, 100000, 0x40000000, -1])})
        rules.append(d)
        what.append(kind)
    return (rules or None), what


def case(seed):
    """The Scenario of one random case."""
    r = random.Random(seed)
    n = r.randint(3, 7)
    progs_c, progs_s = {}, {}
    for i in range(n):
        port = CPORT + i
        nb = r.choice([None, None, None, 0.0, 0.05])
        progs_c[port] = {"start": round(0.1 + 0.08 * i + r.random() * 0.2, 3),
                         "dport": CLOSED_PORT if r.random() < 0.08 else SPORT,
                         "nb": nb, "timeout": r.choice([0.5, 2.0]),
                         "close_failed": r.random() < 0.5, "ops": program(r)}
        progs_s[port] = program(r)
    cfg = {"backlog": r.choice([1, 2, 64, 64]), "accept_at": r.choice([0.0, 0.0, 0.3, 1.0]),
           "close_listener_at": r.choice([None, None, None, 0.8, 1.5]), "end": 2.6}
    rules, what = faults(r, seed)
    vantage = r.choice(["client", "server", "middle", "middle"])
    middle_if = r.choice(["r1", "r2"])
    sysctls = {"s": {"net.ipv4.tcp_abort_on_overflow": r.choice([0, 0, 1])}}
    for side in "cs":
        sysctls.setdefault(side, {})["net.ipv4.tcp_fin_timeout"] = r.choice([60, 60, 1])
    family = 6 if r.random() < 0.2 else 4
    client = "PROGS = %r\n%s%s" % (progs_c, RUNTIME, CLIENT)
    server = "PROGS = %r\nCFG = %r\nSPORT = %d\n%s%s" % (progs_s, cfg, SPORT, RUNTIME, SERVER)
    desc = "random case %d: %d connections, faults %s" % (seed, n, ",".join(what) or "none")
    sc = Scenario("random-%d" % seed, desc, vantage, client, server, duration=3.0, family=family,
                  rules=rules, sysctls=sysctls, middle_if=middle_if,
                  notes=("random case %d (pcaps/gen/randomgen.py): %s" % (seed, desc),
                         "faults: %s" % json.dumps(rules)))
    sc.generator = "sudo python3 pcaps/gen/randomgen.py --seed=%d --cases=1" % seed
    sc.progs = (progs_c, progs_s, cfg)
    return sc


def main(argv):
    known = ("--seed=", "--cases=", "--out=", "--print", "--keep-tmp")
    if any(a in ("-h", "--help") or not a.startswith(known) for a in argv):
        print(__doc__.strip())
        return 0 if any(a in ("-h", "--help") for a in argv) else 2
    opts = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
    seed, cases = int(opts.get("seed", "1")), int(opts.get("cases", "1"))
    if "--print" in argv:
        for i in range(cases):
            sc = case(seed + i)
            print(sc.name, sc.vantage, sc.middle_if, sc.family, sc.desc)
            print("  client", sc.progs[0])
            print("  server", sc.progs[1], sc.progs[2])
            print("  rules", json.dumps(sc.rules), sc.sysctls)
        return 0
    if os.geteuid() != 0:
        sys.exit("randomgen: must run as root (network namespaces, tcpdump, tracefs)")
    if "out" in opts:
        gen.OUT = os.path.abspath(opts["out"])
        os.makedirs(gen.OUT, exist_ok=True)
    tracefs_ready()

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)
    failed = []
    for i in range(cases):
        sc = case(seed + i)
        if not gen.run(sc, "--keep-tmp" in argv):
            failed.append(sc.name)
    log("random: %d case(s) written, %d without a derivable truth%s"
        % (cases - len(failed), len(failed), (": " + " ".join(failed)) if failed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
