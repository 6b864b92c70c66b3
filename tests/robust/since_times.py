#!/usr/bin/env python3
"""since_times.py WRAPPER PLUGIN: the connection table's since-times (tshark -z
tcpstate,conns) when the capture's time goes backwards and spans years (issue #16).

Writes a capture: an unrelated SYN at T (frame 1); a connection 10 s before T
(frames 2-5, its FIN at T - 9 s: times since the first frame are negative); a
connection two years after T (frames 6-9, its FIN 2 years + 1 s after T). The
Client-Since and Server-Since cells must hold those times: "-9.000000 #5" and
"63072001.000000 #9" (a negative time was shown as "#5" alone, as if unknown).
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pcapfile  # noqa: E402

SYN, ACK, FIN = 0x02, 0x10, 0x01
S = 10**9
T = 1_700_000_000 * S
YEAR = 365 * 86400 * S


def capture(path):
    frames = [("10.0.0.9", "10.0.0.8", 1234, 22, SYN, 5, 0, T)]
    for cport, base in ((40000, T - 10 * S), (40001, T + 2 * YEAR)):
        c, s = ("10.0.0.1", cport), ("10.0.0.2", 80)
        frames += [(c[0], s[0], c[1], s[1], SYN, 100, 0, base),
                   (s[0], c[0], s[1], c[1], SYN | ACK, 900, 101, base + 1000),
                   (c[0], s[0], c[1], s[1], ACK, 101, 901, base + 2000),
                   (c[0], s[0], c[1], s[1], FIN | ACK, 101, 901, base + S)]
    with pcapfile.Writer(path) as w:
        for src, dst, sp, dp, fl, seq, ack, t in frames:
            data, full = pcapfile.eth_ipv4_tcp(src, dst, sp, dp, fl, seq, ack)
            w.write(data, t, full)


def main(argv):
    if len(argv) != 3:
        sys.exit(__doc__)
    wrapper, plugin = argv[1], argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        pcap = os.path.join(tmp, "since.pcap")
        capture(pcap)
        out = subprocess.run(["sh", wrapper, plugin, "--", "-r", pcap, "-q", "-z",
                              "tcpstate,conns"], capture_output=True, text=True, check=False)
    rows = {line.split()[0]: line.split() for line in out.stdout.splitlines()
            if line[:1].isdigit()}
    want = {"2": ["-9.000000", "#5", "-9.000000", "#5"],
            "3": ["63072001.000000", "#9", "63072001.000000", "#9"]}
    failed = 0
    for conn, cells in want.items():
        got = rows.get(conn, [])[5:9]
        ok = got == cells
        failed += not ok
        print(f"{'ok' if ok else 'FAIL'} connection {conn}: since {' '.join(got)}"
              f"{'' if ok else ' (want ' + ' '.join(cells) + ')'}")
    if out.returncode != 0 or not rows:
        print(out.stdout + out.stderr)
        failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
