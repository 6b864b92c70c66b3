#!/usr/bin/env python3
"""pcap2frames.py [--windows=N] OUT_DIR CAPTURE_OR_FOLDER...: seeds for fuzz_plugin.c from captures.

Empties OUT_DIR, then writes for each capture (pcap or pcapng, read by tests/lib/pcapfile.py;
folders are searched for *.pcap, *.pcapng, *.cap) with an Ethernet, raw IP, raw IPv4 or raw
IPv6 link type, its frames in the input format of fuzz_plugin.c (see its header comment):
up to WINDOWS seeds per capture, each of consecutive frames up to MAX_BYTES bytes and
MAX_FRAMES frames, frames cut at 2047 bytes, times rounded to the unit that holds the
step. Prints the number of seeds; exit status 1 if none was written.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import pcapfile  # noqa: E402

ENCAP = {1: 0, 101: 1, 12: 1, 14: 1, 228: 2, 229: 3}  # link type -> fuzz_plugin.c's bits 0-1
MAX_BYTES, MAX_FRAMES, WINDOWS = 16000, 200, 3
DEEP = 8  # every DEEP-th seed asks for both re-dissections
UNITS = [10**6, 10**9, 3600 * 10**9, 31536000 * 10**9]


def step(dt):
    """The DT byte nearest to a time step of dt ns."""
    for u, unit in enumerate(UNITS):
        n = round(dt / unit)
        if -32 <= n <= 31 and (u == 3 or abs(n) < 31):
            return u << 6 | (n & 0x3F)
    return 3 << 6 | (31 if dt > 0 else 0x20)


def seeds(packets):
    """The seeds' bytes from one capture's packets."""
    out, cur, last, n = [], None, None, 0
    for p in packets:
        if p.linktype not in ENCAP:
            return out
        data = p.data[:2047]
        rec = bytes([len(data) >> 8, len(data) & 0xFF,
                     step(p.time_ns - last if last is not None else 0)]) + data
        if cur is None or len(cur) + len(rec) > MAX_BYTES or n >= MAX_FRAMES:
            if cur is not None:
                out.append(cur)
                if len(out) == WINDOWS:
                    return out
            cur, n = bytearray([ENCAP[p.linktype], 0]), 0
        cur += rec
        last = p.time_ns
        n += 1
    if cur is not None:
        out.append(cur)
    return out


def captures(args):
    for a in args:
        if os.path.isdir(a):
            for root, _, names in sorted(os.walk(a)):
                for name in sorted(names):
                    if name.endswith((".pcap", ".pcapng", ".cap")):
                        yield os.path.join(root, name)
        else:
            yield a


def main(argv):
    global WINDOWS
    if len(argv) > 1 and argv[1].startswith("--windows="):
        WINDOWS = int(argv[1].split("=", 1)[1])
        argv = argv[:1] + argv[2:]
    if len(argv) < 3:
        sys.exit(__doc__)
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        os.remove(os.path.join(out, name))
    written = 0
    for path in captures(argv[2:]):
        try:
            found = seeds(pcapfile.read(path))
        except (OSError, ValueError, IndexError) as e:
            print(f"pcap2frames.py: {path}: {e}", file=sys.stderr)
            continue
        base = os.path.relpath(path, os.path.dirname(os.path.dirname(path))).replace("/", "_")
        for i, s in enumerate(found):
            if (written + i) % DEEP == 0:
                s[1] = 3  # both re-dissections
            with open(os.path.join(out, f"{base}.{i}"), "wb") as f:
                f.write(s)
            written += 1
    print(f"pcap2frames.py: {written} seeds in {out}")
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
