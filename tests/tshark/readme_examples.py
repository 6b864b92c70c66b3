#!/usr/bin/env python3
"""readme_examples.py: README.md's tshark examples do what the README says.

usage: readme_examples.py WRAPPER PLUGIN_SO PCAP_DIR

  1. `tshark -q -z expert | grep -e '^[A-Z]' -e ' TCP State '` (the README's command for
     tcpstate's expert infos only) keeps every tcpstate expert info and no TCP one, and
     `-z expert,tcpstate` (the one it warns about) does list TCP's too;
  2. `tshark -G decodes` has no ip.proto 6 entry (the README says it leaves it out);
  3. `--color` colors rows on a terminal with COLORTERM=truecolor and not without it
     (run on a pseudo-terminal);
  4. with --disable-protocol tcpstate, -z tcpstate,conns says the protocol is disabled
     and lists no connection; enabled, it does not say so.
"""

import os
import pty
import re
import subprocess
import sys

import uitest


def expert(ck, wrapper, plugin, pcap):
    full = uitest.tshark(wrapper, plugin, ["-q", "-r", pcap, "-z", "expert"])
    lines = full.splitlines()
    kept = [ln for ln in lines if re.match(r"^[A-Z]", ln) or " TCP State " in ln]
    ours = [ln for ln in lines if re.match(r"^\s+\d+\s+\S+\s+TCP State\s", ln)]
    ck.check(bool(ours) and all(ln in kept for ln in ours),
             "grep example keeps every tcpstate expert info (%d)" % len(ours))
    ck.check(not any(re.match(r"^\s+\d+\s+\S+\s+TCP\s+(?!State\s)", ln) for ln in kept),
             "grep example keeps no TCP expert info")
    filt = uitest.tshark(wrapper, plugin, ["-q", "-r", pcap, "-z", "expert,tcpstate"])
    ck.check(any(re.match(r"^\s+\d+\s+\S+\s+TCP\s+(?!State\s)", ln) for ln in filt.splitlines()),
             "-z expert,tcpstate lists TCP's expert infos too, as the README warns")


def decodes(ck, wrapper, plugin):
    out = uitest.tshark(wrapper, plugin, ["-G", "decodes"])
    ck.check(out.count("\n") > 100, "tshark -G decodes lists the tables")
    ck.check(not any(ln.split("\t")[:2] == ["ip.proto", "6"] for ln in out.splitlines()),
             "tshark -G decodes leaves ip.proto 6 out")


def on_pty(wrapper, plugin, args, env):
    """tshark's output, its standard output a pseudo-terminal."""
    master, slave = pty.openpty()
    os.chmod(os.ttyname(slave), 0o666)  # tshark may run as nobody
    p = subprocess.Popen(["sh", wrapper, plugin, "--"] + args, stdout=slave,
                         stderr=subprocess.DEVNULL, env=dict(os.environ, **env))
    os.close(slave)
    data = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    p.wait()
    os.close(master)
    return data


def color(ck, wrapper, plugin, pcap):
    args = ["-C", "TCP State", "--color", "-r", pcap]
    env = {"TCPS_PROFILE_DIR": os.environ["TCPS_PROFILE_DIR_SRC"]}
    esc = re.compile(rb"\x1b\[(38|48);2;")
    env.pop("COLORTERM", None)
    plain = on_pty(wrapper, plugin, args, dict(env, COLORTERM=""))
    colored = on_pty(wrapper, plugin, args, dict(env, COLORTERM="truecolor"))
    ck.check(b"SYN_SENT" in plain and not esc.search(plain),
             "--color on a terminal without COLORTERM: no colors")
    ck.check(esc.search(colored) is not None, "--color with COLORTERM=truecolor: colors")


def disabled(ck, wrapper, plugin, pcap):
    off = uitest.tshark(wrapper, plugin, ["--disable-protocol", "tcpstate", "-q", "-r", pcap,
                                          "-z", "tcpstate,conns"])
    on = uitest.tshark(wrapper, plugin, ["-q", "-r", pcap, "-z", "tcpstate,conns"])
    ck.check("is disabled" in off and ": 0\n" in off,
             "--disable-protocol tcpstate: the table says why it is empty")
    ck.check("is disabled" not in on and ": 1\n" in on, "enabled: no such line, 1 connection")


def main(argv):
    if len(argv) != 4:
        sys.exit(__doc__)
    wrapper, plugin, pcap_dir = argv[1:4]
    ck = uitest.Checker()
    expert(ck, wrapper, plugin, os.path.join(pcap_dir, "refused.pcap"))
    decodes(ck, wrapper, plugin)
    color(ck, wrapper, plugin, os.path.join(pcap_dir, "refused.pcap"))
    disabled(ck, wrapper, plugin, os.path.join(pcap_dir, "refused.pcap"))
    return ck.done()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
