"""The three network namespaces of a capture scenario: client -- router -- server.

Their names (tsg<pid>c|r|s), addresses and MACs, running commands (in them), and
Netns, which makes them with their veth pairs and the router's kernel bridge or
fwd.py, and always deletes them.  Part of pcaps/gen/gen.py (pcaps/README.md).
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = sys.executable or "python3"

MAC = {"c0": "02:99:00:00:00:01", "s0": "02:99:00:00:00:02",
       "r1": "02:99:00:00:01:01", "r2": "02:99:00:00:01:02"}
ADDR = {4: {"c": "10.99.1.1", "s": "10.99.2.2", "plen": 16},
        6: {"c": "fd99::1", "s": "fd99::2", "plen": 64}}


def log(*a):
    print("gen:", *a, file=sys.stderr, flush=True)


def sh(cmd, check=True, quiet=False):
    r = subprocess.run(cmd, shell=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("command failed (%d): %s\n%s" % (r.returncode, cmd, r.stderr))
    return r.stdout


def side_of(ip, fam):
    """"c" for the client namespace's address, "s" for the server's."""
    return "c" if ip == ADDR[fam]["c"] else "s"


class Netns:
    """Three namespaces: client -- router -- server, joined by two veth pairs.
    The router has no address: a kernel bridge or fwd.py joins its ports."""

    def __init__(self, sc):
        self.sc = sc
        p = "tsg%d" % os.getpid()
        self.ns = {"c": p + "c", "r": p + "r", "s": p + "s"}
        self.procs = []
        self.holders = {}

    def exec_prefix(self, side):
        return ["ip", "netns", "exec", self.ns[side]]

    def nsh(self, side, cmd, check=True):
        return sh("ip netns exec %s %s" % (self.ns[side], cmd), check=check)

    def up(self):
        fam = self.sc.family
        a = ADDR[fam]
        for side in "crs":
            sh("ip netns add %s" % self.ns[side])
        # no IPv6 chatter from the router; no DAD delays at the ends
        self.nsh("r", "sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1")
        for side in "cs":
            self.nsh(side, "sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0")
            for k, v in self.sc.sysctls.get(side, {}).items():
                self.nsh(side, "sysctl -qw %s=%s" % (k, v))
        sh("ip link add c0 netns %s address %s type veth peer name r1 netns %s address %s"
           % (self.ns["c"], MAC["c0"], self.ns["r"], MAC["r1"]))
        sh("ip link add s0 netns %s address %s type veth peer name r2 netns %s address %s"
           % (self.ns["s"], MAC["s0"], self.ns["r"], MAC["r2"]))
        for side, ifn in (("c", "c0"), ("s", "s0"), ("r", "r1"), ("r", "r2")):
            # wire-sized segments, real checksums (fwd.py copies frames verbatim)
            self.nsh(side, "ethtool -K %s tso off gso off gro off tx off rx off" % ifn)
            self.nsh(side, "ip link set %s mtu 1500" % ifn)
        for side, ifn, me, peer, peermac in (("c", "c0", a["c"], a["s"], MAC["s0"]),
                                             ("s", "s0", a["s"], a["c"], MAC["c0"])):
            fl = "-6" if fam == 6 else "-4"
            extra = " nodad" if fam == 6 else ""
            self.nsh(side, "ip %s addr add %s/%d dev %s%s" % (fl, me, a["plen"], ifn, extra))
            self.nsh(side, "ip link set lo up")
            self.nsh(side, "ip link set %s up" % ifn)
            self.nsh(side, "ip %s neigh replace %s lladdr %s dev %s nud permanent" % (fl, peer, peermac, ifn))
        self.nsh("r", "ip link set r1 up")
        self.nsh("r", "ip link set r2 up")
        if self.sc.rules is None:
            self.nsh("r", "ip link add br0 address 02:99:00:00:01:00 type bridge stp_state 0 forward_delay 0")
            self.nsh("r", "ip link set r1 master br0")
            self.nsh("r", "ip link set r2 master br0")
            self.nsh("r", "ip link set br0 up")
        else:
            p = subprocess.Popen(self.exec_prefix("r") + [PY, os.path.join(HERE, "fwd.py"), "r1", "r2",
                                                          json.dumps(self.sc.rules)],
                                 stdout=subprocess.PIPE, stderr=None, text=True)
            self.procs.append(p)
            if p.stdout.readline().strip() != "ready":
                raise RuntimeError("forwarder did not start")
        for side in "cs":
            h = subprocess.Popen(self.exec_prefix(side) + ["sleep", "600"])
            self.procs.append(h)
            self.holders[side] = h.pid
        # wait for links and the holders to be in place
        time.sleep(0.3)

    def spawn(self, side, args, **kw):
        p = subprocess.Popen(self.exec_prefix(side) + args, **kw)
        self.procs.append(p)
        return p

    def down(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    p.kill()
                except OSError:
                    pass
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        for side in "crs":
            sh("ip netns del %s" % self.ns[side], check=False)
