#!/usr/bin/env python3
"""Self-test of compare.py on hand-written tshark output (no plugin needed).
    python3 tests/kernel/test_compare.py"""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
COMPARE = os.path.join(HERE, "compare.py")

TRUTH = """# tcpstate truth v1
scenario client_close
vantage middle            # client | server | middle
generator python3 pcaps/gen/gen.py client_close
conn 1 client 10.99.1.1:40001 server 10.99.2.2:8080
states 1 client SYN_SENT ESTABLISHED FIN_WAIT_1 FIN_WAIT_2 TIME_WAIT
states 1 server LISTEN SYN_RECEIVED ESTABLISHED CLOSE_WAIT LAST_ACK CLOSED
end 1 client TIME_WAIT
end 1 server CLOSED
note something
"""

EP = "10.99.1.1:40001\t10.99.2.2:8080"
GOOD = "\n".join([
    "1\t7\t%s\tCLOSED/LISTEN\tSYN_SENT/LISTEN" % EP,
    "2\t7\t%s\tSYN_SENT/LISTEN\tSYN_SENT/SYN_RECEIVED" % EP,
    "3\t7\t%s\tSYN_SENT/SYN_RECEIVED\tESTABLISHED/ESTABLISHED" % EP,
    "4\t\t\t\t\t",
    "5\t7\t%s\tESTABLISHED/ESTABLISHED\tFIN_WAIT_1/CLOSE_WAIT" % EP,
    "6\t7\t%s\tFIN_WAIT_1/CLOSE_WAIT\tFIN_WAIT_2/CLOSE_WAIT" % EP,
    "7\t7\t%s\tFIN_WAIT_2/CLOSE_WAIT\tFIN_WAIT_2/LAST_ACK" % EP,
    "8\t7\t%s\tFIN_WAIT_2/LAST_ACK\tTIME_WAIT/CLOSED" % EP,
]) + "\n"

V6TRUTH = """# tcpstate truth v1
scenario v6
conn 1 client [fd99::1]:40001 server [fd99::2]:8080
states 1 client SYN_SENT CLOSED
states 1 server CLOSED
end 1 client CLOSED
end 1 server CLOSED
conn 2 client [fd99::1]:40001 server [fd99::2]:8080
states 2 client SYN_SENT CLOSED
states 2 server CLOSED
end 2 client CLOSED
end 2 server CLOSED
"""
V6EP = "[fd99::1]:40001\t[fd99::2]:8080"
V6 = "\n".join([
    "1\ta\t%s\tCLOSED/CLOSED\tSYN_SENT/CLOSED" % V6EP,
    "2\ta\t%s\tSYN_SENT/CLOSED\tCLOSED/CLOSED" % V6EP,
    "3\tb\t%s\tCLOSED/CLOSED\tSYN_SENT/CLOSED" % V6EP,
    "4\tb\t%s\tSYN_SENT/CLOSED\tCLOSED/CLOSED" % V6EP,
]) + "\n"


def run(truth, fields, *opts):
    with tempfile.TemporaryDirectory() as d:
        tp, fp = os.path.join(d, "t.truth"), os.path.join(d, "f.tsv")
        open(tp, "w").write(truth)
        open(fp, "w").write(fields)
        r = subprocess.run([sys.executable, COMPARE, *opts, tp, fp], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        return r.returncode, r.stdout, r.stderr


class CompareTest(unittest.TestCase):
    def test_pass(self):
        rc, out, _ = run(TRUTH, GOOD)
        self.assertEqual(rc, 0, out)
        self.assertEqual(out.strip().splitlines()[-1], "PASS client_close")

    def test_wrong_end(self):
        rc, out, _ = run(TRUTH, GOOD.replace("TIME_WAIT/CLOSED", "TIME_WAIT/LAST_ACK"))
        self.assertEqual(rc, 1)
        self.assertIn("conn 1 server: states differ", out)
        self.assertIn("conn 1 server: end differs", out)
        self.assertNotIn("client", out.replace("client_close", ""))
        self.assertEqual(out.strip().splitlines()[-1], "FAIL client_close")

    def test_missing_state(self):
        bad = "".join(l + "\n" for l in GOOD.splitlines() if not l.startswith("6\t"))
        bad = bad.replace("FIN_WAIT_2/CLOSE_WAIT\tFIN_WAIT_2/LAST_ACK", "FIN_WAIT_1/CLOSE_WAIT\tFIN_WAIT_1/LAST_ACK")
        bad = bad.replace("FIN_WAIT_2/LAST_ACK\tTIME_WAIT", "FIN_WAIT_1/LAST_ACK\tTIME_WAIT")
        rc, out, _ = run(TRUTH, bad)
        self.assertEqual(rc, 1)
        self.assertIn("conn 1 client: states differ", out)

    def test_swapped_roles(self):
        sw = GOOD.replace(EP, "10.99.2.2:8080\t10.99.1.1:40001")
        rc, out, _ = run(TRUTH, sw)
        self.assertEqual(rc, 1)
        self.assertIn("swapped", out)

    def test_header_and_hindsight(self):
        hdr = "\t".join(["frame.number", "tcpstate.hindsight.conn", "tcpstate.hindsight.client.endpoint",
                         "tcpstate.hindsight.server.endpoint", "tcpstate.hindsight.prev_states",
                         "tcpstate.hindsight.states"]) + "\n"
        rc, out, _ = run(TRUTH, hdr + GOOD, "--hindsight")
        self.assertEqual(rc, 0, out)

    def test_two_layers_in_a_frame(self):
        # the same connection twice in one frame (e.g. a TCP header quoted in ICMP)
        lines = GOOD.splitlines()
        lines[2] = "3\t7,7\t10.99.1.1:40001,10.99.1.1:40001\t10.99.2.2:8080,10.99.2.2:8080\t" \
                   "SYN_SENT/SYN_RECEIVED,ESTABLISHED/ESTABLISHED\tESTABLISHED/ESTABLISHED,ESTABLISHED/ESTABLISHED"
        rc, out, _ = run(TRUTH, "\n".join(lines) + "\n")
        self.assertEqual(rc, 0, out)

    def test_port_reuse_ipv6(self):
        rc, out, _ = run(V6TRUTH, V6)
        self.assertEqual(rc, 0, out)
        rc, out, _ = run(V6TRUTH, V6.split("3\t")[0])
        self.assertEqual(rc, 1)
        self.assertIn("conn 2: no plugin connection", out)

    def test_extra_connection(self):
        extra = GOOD + "9\t8\t10.99.1.1:40002\t10.99.2.2:8080\tCLOSED/LISTEN\tSYN_SENT/LISTEN\n"
        rc, out, _ = run(TRUTH, extra)
        self.assertEqual(rc, 1)
        self.assertIn("not in the truth", out)
        rc, out, _ = run(TRUTH, extra, "--ignore-extra")
        self.assertEqual(rc, 0, out)

    def test_untracked_only(self):
        rc, out, _ = run(TRUTH, "1\t\t\t\t\t\n2\t\t\t\t\t\n")
        self.assertEqual(rc, 1)
        self.assertIn("no plugin connection", out)

    def test_bad_truth(self):
        rc, _, err = run("hello\n", GOOD)
        self.assertEqual(rc, 2)

    def test_bundled_truth_files_parse(self):
        sys.path.insert(0, os.path.join(HERE, "..", "lib"))
        import truth
        pc = os.path.join(HERE, "..", "..", "pcaps")
        for fn in sorted(os.listdir(pc)):
            if fn.endswith(".truth"):
                t = truth.read(os.path.join(pc, fn))
                self.assertTrue(t["conns"], fn)
                self.assertTrue(os.path.exists(os.path.join(pc, fn[:-6] + ".pcap")), fn)
                # tests/lib/truth.py writes back what it read, as the generators wrote it
                conns = [(t["conns"][i]["client"], t["conns"][i]["server"],
                          t["conns"][i]["states"]["client"], t["conns"][i]["states"]["server"])
                         for i in t["order"]]
                with open(os.path.join(pc, fn)) as f:
                    self.assertEqual(truth.text(t["scenario"], t["vantage"], t["generator"], conns,
                                                t["notes"]), f.read(), fn)


class ForcedPathTest(unittest.TestCase):
    """A frame's change that is not one arc of RFC 9293 figure 5 is read as the
    diagram's one shortest path, and only when there is one."""

    def test_paths(self):
        sys.path.insert(0, HERE)
        import compare
        for a, b, want in [
                ("SYN_RECEIVED", "CLOSE_WAIT", ["ESTABLISHED"]),  # ACK then FIN (3.10.7.4)
                ("ESTABLISHED", "LAST_ACK", ["CLOSE_WAIT"]),
                ("ESTABLISHED", "CLOSING", ["FIN_WAIT_1"]),
                ("FIN_WAIT_1", "TIME_WAIT", []),        # by FIN_WAIT_2 or by CLOSING
                ("LISTEN", "ESTABLISHED", []),          # by SYN_RECEIVED or by SYN_SENT
                ("ESTABLISHED", "CLOSE_WAIT", []),      # one arc
                ("CLOSE_WAIT", "CLOSED", [])]:          # a reset
            self.assertEqual(compare.forced_path(a, b), want, (a, b))
        self.assertEqual(compare.distinct(["CLOSED", "LISTEN", "SYN_RECEIVED", "CLOSE_WAIT",
                                           "LAST_ACK", "CLOSED"]),
                         ["LISTEN", "SYN_RECEIVED", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK",
                          "CLOSED"])


if __name__ == "__main__":
    unittest.main()
