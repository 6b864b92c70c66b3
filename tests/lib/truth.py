"""truth.py: the one reader and writer of truth files (pcaps/<name>.truth, format v1:
pcaps/README.md "Truth file format").

Imported by path (no package): tests/*/ and pcaps/gen/ put this folder on sys.path.

    t = truth.read(path)      # raises truth.TruthError on a file that is not truth v1
    t["name"]                 # the file name without .truth
    t["scenario"], t["vantage"], t["generator"]   # None when the file has no such line
    t["crafted"]              # made by pcaps/gen/craft.py (RFC truth, no kernel log)
    t["order"]                # connection numbers in file order
    t["conns"][n]             # {"n", "client", "server", "states": {"client": [...],
                              #  "server": [...]}, "end": {"client": S, "server": S}}
    t["notes"]                # the note lines' text

    truth.text(scenario, vantage, generator, conns, notes)   # a truth file's text
    truth.endpoint(ip, port)  # "10.99.1.1:40001", "[fd99::1]:40001"

States are normalised to RFC 9293 names (kernel spellings such as SYN_RECV or FIN_WAIT2
are accepted), endpoints to lower case. Unknown keywords are ignored.
"""
import collections
import os

HEADER = "# tcpstate truth v1"
ROLES = ("client", "server")
STATE_ALIASES = {"SYN_RCVD": "SYN_RECEIVED", "SYN_RECV": "SYN_RECEIVED", "FIN_WAIT1": "FIN_WAIT_1",
                 "FIN_WAIT2": "FIN_WAIT_2", "CLOSE": "CLOSED", "TIMEWAIT": "TIME_WAIT"}


class TruthError(Exception):
    pass


def norm_state(s):
    s = s.strip().upper().replace("-", "_").replace(" ", "_")
    return STATE_ALIASES.get(s, s)


def norm_ep(s):
    return s.strip().lower()


def endpoint(ip, port):
    return "[%s]:%d" % (ip, port) if ":" in ip else "%s:%d" % (ip, port)


def strip_comment(line):
    i = line.find("#")
    return line if i < 0 else line[:i]


def read(path):
    name = os.path.basename(path)
    name = name[:-len(".truth")] if name.endswith(".truth") else name.rsplit(".", 1)[0]
    t = {"name": name, "scenario": name, "vantage": None, "generator": None, "crafted": False,
         "conns": collections.OrderedDict(), "order": [], "notes": []}
    with open(path) as f:
        lines = f.read().splitlines()
    if not lines or not lines[0].startswith(HEADER):
        raise TruthError("%s: not a tcpstate truth v1 file" % path)
    for n, raw in enumerate(lines[1:], 2):
        if raw.startswith("note "):
            t["notes"].append(raw[len("note "):])
            continue
        words = strip_comment(raw).split()
        if not words:
            continue
        try:
            read_line(t, words)
        except (ValueError, IndexError, KeyError):
            raise TruthError("%s:%d: cannot parse: %s" % (path, n, raw))
    for i, c in t["conns"].items():
        for role in ROLES:
            if role not in c["states"] or role not in c["end"]:
                raise TruthError("%s: conn %d lacks states/end for the %s" % (path, i, role))
    return t


def read_line(t, words):
    """One line (comment stripped, split in words) into t; raises ValueError, IndexError or
    KeyError on a malformed line."""
    kw = words[0]
    if kw == "scenario":
        t["scenario"] = words[1]
    elif kw in ("vantage", "generator"):
        t[kw] = " ".join(words[1:])
        if kw == "generator":
            t["crafted"] = any(w.endswith("craft.py") for w in words[1:])
    elif kw == "conn":
        i = int(words[1])
        if words[2] != "client" or words[4] != "server":
            raise ValueError
        t["conns"][i] = {"n": i, "client": norm_ep(words[3]), "server": norm_ep(words[5]),
                         "states": {}, "end": {}}
        t["order"].append(i)
    elif kw in ("states", "end"):
        i, role = int(words[1]), words[2]
        if role not in ROLES:
            raise ValueError
        vals = [norm_state(s) for s in words[3:]]
        if kw == "end":
            if len(vals) != 1:
                raise ValueError
            vals = vals[0]
        t["conns"][i][kw][role] = vals


def text(scenario, vantage, generator, conns, notes=()):
    """The text of a truth file. conns: (client endpoint, server endpoint, client states,
    server states) per connection, numbered from 1; each end state is the last state."""
    lines = [HEADER, "scenario " + scenario, "vantage " + vantage, "generator " + generator]
    for n, (cep, sep, cstates, sstates) in enumerate(conns, 1):
        lines += ["conn %d client %s server %s" % (n, cep, sep),
                  "states %d client %s" % (n, " ".join(cstates)),
                  "states %d server %s" % (n, " ".join(sstates)),
                  "end %d client %s" % (n, cstates[-1]),
                  "end %d server %s" % (n, sstates[-1])]
    lines += ["note " + n for n in notes]
    return "\n".join(lines) + "\n"
