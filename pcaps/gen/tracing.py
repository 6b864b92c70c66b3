"""The kernel's own socket states during a capture scenario.

Tracer: a private tracefs instance recording sock:inet_sock_set_state (every state
change of every full socket).  Poller: the end namespaces' socket tables
(/proc/<pid>/net/tcp{,6}, what `ss -tan` lists), for what the tracepoint does not
report (timewait and request sockets).  Kernel state names and their RFC 9293
names.  Part of pcaps/gen/gen.py (pcaps/README.md).
"""
import ipaddress
import os
import re
import sys
import threading
import time

from netns import sh

TRACEFS = "/sys/kernel/tracing"
INSTANCE = "tcpstate_gen_%d" % os.getpid()

# kernel state names (tracepoint and /proc) -> RFC 9293 names
KSTATE = {"TCP_ESTABLISHED": "ESTABLISHED", "TCP_SYN_SENT": "SYN_SENT",
          "TCP_SYN_RECV": "SYN_RECEIVED", "TCP_FIN_WAIT1": "FIN_WAIT_1",
          "TCP_FIN_WAIT2": "FIN_WAIT_2", "TCP_TIME_WAIT": "TIME_WAIT",
          "TCP_CLOSE": "CLOSED", "TCP_CLOSE_WAIT": "CLOSE_WAIT",
          "TCP_LAST_ACK": "LAST_ACK", "TCP_LISTEN": "LISTEN",
          "TCP_CLOSING": "CLOSING", "TCP_NEW_SYN_RECV": "SYN_RECEIVED"}
SS_NAME = {"ESTABLISHED": "ESTAB", "SYN_RECEIVED": "SYN-RECV"}
PROCSTATE = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECEIVED", 4: "FIN_WAIT_1",
             5: "FIN_WAIT_2", 6: "TIME_WAIT", 7: "CLOSED", 8: "CLOSE_WAIT",
             9: "LAST_ACK", 10: "LISTEN", 11: "CLOSING", 12: "SYN_RECEIVED"}


def kname(rfc):
    for k, v in KSTATE.items():
        if v == rfc and k != "TCP_NEW_SYN_RECV":
            return k[4:]
    return rfc


def tracefs_ready():
    if not os.path.isdir(os.path.join(TRACEFS, "events")):
        sh("mount -t tracefs nodev %s" % TRACEFS, check=False)
    ev = os.path.join(TRACEFS, "events/sock/inet_sock_set_state")
    if not os.path.isdir(ev):
        sys.exit("gen: tracefs event sock/inet_sock_set_state is not available on this kernel")


class Tracer:
    """A private tracefs instance recording sock:inet_sock_set_state with the
    CLOCK_MONOTONIC clock (the same as time.monotonic())."""

    LINE = re.compile(r"\s(\d+\.\d+): inet_sock_set_state: family=(\S+) protocol=(\S+) sport=(\d+) dport=(\d+) "
                      r"saddr=(\S+) daddr=(\S+) saddrv6=(\S+) daddrv6=(\S+) oldstate=(\S+) newstate=(\S+)")

    def __init__(self):
        self.dir = os.path.join(TRACEFS, "instances", INSTANCE)

    def w(self, rel, val):
        with open(os.path.join(self.dir, rel), "w") as f:
            f.write(val)

    def start(self):
        if not os.path.isdir(self.dir):
            os.mkdir(self.dir)
        self.w("tracing_on", "0")
        self.w("trace_clock", "mono")
        self.w("buffer_size_kb", "4096")
        self.w("trace", "")
        self.w("events/sock/inet_sock_set_state/enable", "1")
        self.w("tracing_on", "1")

    def stop(self):
        self.w("tracing_on", "0")
        self.w("events/sock/inet_sock_set_state/enable", "0")
        with open(os.path.join(self.dir, "trace")) as f:
            text = f.read()
        evs = []
        for line in text.splitlines():
            m = self.LINE.search(line)
            if not m or m.group(3) != "IPPROTO_TCP":
                continue
            t, fam, _, sport, dport, sa, da, sa6, da6, old, new = m.groups()
            if fam == "AF_INET6":
                sa, da = sa6, da6
            evs.append({"t": float(t), "local": (norm_ip(sa), int(sport)), "remote": (norm_ip(da), int(dport)),
                        "old": KSTATE.get(old, old), "new": KSTATE.get(new, new),
                        "kold": old, "knew": new})
        return evs

    def remove(self):
        try:
            self.w("tracing_on", "0")
            self.w("events/sock/inet_sock_set_state/enable", "0")
            os.rmdir(self.dir)
        except OSError:
            pass


def norm_ip(s):
    try:
        ip = ipaddress.ip_address(s)
        if ip.version == 6 and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        return str(ip)
    except ValueError:
        return s


def parse_proc_addr(h):
    ip, port = h.split(":")
    raw = bytes.fromhex(ip)
    if len(raw) == 4:
        addr = ipaddress.IPv4Address(raw[::-1])
    else:
        addr = ipaddress.IPv6Address(b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
        if addr.ipv4_mapped:
            addr = addr.ipv4_mapped
    return (str(addr), int(port, 16))


class Poller(threading.Thread):
    """Polls /proc/<pid>/net/tcp{,6} of a process in each end namespace (what
    `ss -tan` shows) every ~1 ms and records every change: the tracepoint does
    not report timewait sockets (TIME_WAIT, and FIN_WAIT_2 of an orphaned
    socket) nor request sockets (SYN_RECEIVED before the child exists)."""

    def __init__(self, holders, family):
        super().__init__(daemon=True)
        self.holders = holders
        self.files = ("tcp6",) if family == 6 else ("tcp",)
        self.stop_ev = threading.Event()
        self.changes = {s: [] for s in holders}  # side -> [(t, {(local, remote): (state, tw)})]
        # time.time() - time.monotonic(): pcap (wall-clock) times to CLOCK_MONOTONIC
        self.wall_offset = time.time() - time.monotonic()

    def snap(self, pid):
        d = {}
        for fn in self.files:
            try:
                with open("/proc/%d/net/%s" % (pid, fn)) as f:
                    lines = f.read().splitlines()[1:]
            except OSError:
                continue
            for ln in lines:
                p = ln.split()
                if len(p) < 10:
                    continue
                st = int(p[3], 16)
                tr = int(p[5].split(":")[0], 16)
                d[(parse_proc_addr(p[1]), parse_proc_addr(p[2]))] = (PROCSTATE.get(st, str(st)), tr == 3)
        return d

    def run(self):
        last = {s: None for s in self.holders}
        while not self.stop_ev.is_set():
            for side, pid in self.holders.items():
                d = self.snap(pid)
                # the time after the read: what it saw was there at this time
                # or earlier (a read of the global socket hash takes ms)
                t = time.monotonic()
                if d != last[side]:
                    self.changes[side].append((t, d))
                    last[side] = d
            time.sleep(0.001)

    def stop(self):
        self.stop_ev.set()
        self.join()

    def timeline(self, side, local, remote):
        """[(t, (state, tw) or None)] for one socket tuple, on changes."""
        out = []
        prev = "unset"
        for t, d in self.changes.get(side, []):
            v = d.get((local, remote))
            if v != prev:
                out.append((t, v))
                prev = v
        return out
