"""The modules tests/lib shares with the capture generators, imported by path:
pcapfile (the one pcap reader and writer) and truth (the one truth file reader and
writer).  `from testlib import pcapfile, truth`."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests",
                                "lib"))
import pcapfile  # noqa: E402,F401
import truth  # noqa: E402,F401

__all__ = ["pcapfile", "truth"]
