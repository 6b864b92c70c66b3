#!/bin/sh
# compare-rev.sh: does the working tree's tracker answer exactly what the tracker of
# git revision REV answers? Byte for byte, on every input the harness has.
#
# usage: tests/equiv/compare-rev.sh [options] REV
#   e.g. tests/equiv/compare-rev.sh 7b9b79c          (after a refactoring of tracker/)
# options:
#   --random N       random segments (default 2000000)
#   --seed S         their seed (default 1)
#   --corpus DIR     third-party captures (default: shared/corpus next to the main
#                    checkout, i.e. ../shared/corpus from its root, when present)
#   --seeds DIR      fuzz seeds (default: build/tests/fuzz/seeds when present, else
#                    written by tests/fuzz/pcap2seed.py from pcaps/ into the temporary folder)
#   --new-tracker DIR  the folder of the "new" side's tracker sources (default: the
#                    working tree's tracker/); to test the harness on a modified copy
#   --timeout S      give up after S seconds (default 1800; a tracker change that loops)
#   --cc CC          compiler (default: $CC, else cc)
#   --keep           keep the temporary folder (its path is printed)
#
# It builds the working tree's dump tool (tests/equiv/tcps_dump.c and its helpers,
# tests/common/pcapread.c, tests/fuzz/fuzz_decode.c) twice with the same flags: once
# with every tracker/*.c of REV (git archive REV tracker/, so REV may have one or
# several .c files and internal headers; its own tcpstate.h is used), once with every
# tracker/*.c of the working tree (uncommitted changes included). Then equiv_cmp runs
# both over the same inputs: the bundled pcaps/, the corpus, the fuzz inputs
# (tests/fuzz/regress/ and the seeds) and the random segments, each input under every
# configuration of tcps_dump, and compares the two outputs as they stream.
#
# Prints "IDENTICAL: ..." and exits 0 when the outputs are the same; else prints the
# input, configuration and differing lines of both ("DIFFERENT at line ...") and exits
# 1. Exit status 2: usage, REV unknown, or a build failed.
set -eu

usage() {
  sed -n '4,18p' "$0" >&2
  exit 2
}

here=$(cd "$(dirname "$0")" && pwd)
root=$(git -C "$here" rev-parse --show-toplevel)
random=2000000
seed=1
corpus=
seeds=
new_tracker="$root/tracker"
cc=${CC:-cc}
keep=0
timeout=1800
while [ $# -gt 1 ]; do
  case $1 in
    --random) random=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    --corpus) corpus=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --new-tracker) new_tracker=$(cd "$2" && pwd); shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --cc) cc=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    *) usage ;;
  esac
done
[ $# -eq 1 ] || usage
case $1 in -*) usage ;; esac
rev=$(git -C "$root" rev-parse --verify --quiet "$1^{commit}") || {
  echo "compare-rev: unknown revision $1" >&2
  exit 2
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/compare-rev.XXXXXX")
if [ "$keep" = 1 ]; then
  echo "compare-rev: temporary folder $tmp (kept)"
else
  trap 'rm -rf "$tmp"' EXIT INT TERM
fi

# The corpus: next to this checkout's root, or next to the main checkout's root (from a
# git worktree elsewhere).
if [ -z "$corpus" ]; then
  common=$(cd "$root" && cd "$(git rev-parse --git-common-dir)" && pwd)
  for c in "$root/../shared/corpus" "$(dirname "$common")/../shared/corpus"; do
    if [ -d "$c" ]; then corpus=$(cd "$c" && pwd); break; fi
  done
fi
if [ -z "$seeds" ] && [ -d "$root/build/tests/fuzz/seeds" ]; then
  seeds="$root/build/tests/fuzz/seeds"
fi
if [ -z "$seeds" ] && command -v python3 >/dev/null 2>&1; then
  seeds="$tmp/seeds"
  python3 "$root/tests/fuzz/pcap2seed.py" "$seeds" "$root"/pcaps/*.pcap >/dev/null
fi

# The two dumps and the comparator, with the same flags.
cflags="-std=c11 -O2 -g -DNDEBUG -Wall -Wextra"
mkdir -p "$tmp/old"
git -C "$root" archive "$rev" tracker/ | tar -x -C "$tmp/old"
build() { # build OUTPUT TRACKER_DIR
  set -- "$1" "$2" "$2"/*.c
  if [ ! -f "$3" ]; then
    echo "compare-rev: no .c file in $2" >&2
    exit 2
  fi
  out=$1 trk=$2
  shift 2
  echo "compare-rev: building $(basename "$out") with $trk: $(cd "$trk" && echo *.c)"
  # shellcheck disable=SC2086
  $cc $cflags -I "$trk" -I "$root/tests/common" -I "$root/tests/fuzz" \
    "$here/tcps_dump.c" "$here/dump_out.c" "$here/dump_random.c" \
    "$root/tests/common/pcapread.c" "$root/tests/fuzz/fuzz_decode.c" "$@" \
    -o "$out" || { echo "compare-rev: build failed" >&2; exit 2; }
}
build "$tmp/dump_old" "$tmp/old/tracker"
build "$tmp/dump_new" "$new_tracker"
# shellcheck disable=SC2086
$cc $cflags "$here/equiv_cmp.c" -o "$tmp/equiv_cmp" || exit 2

set -- "$root/pcaps"
[ -n "$corpus" ] && set -- "$@" "$corpus"
set -- "$@" --fuzz "$root/tests/fuzz/regress"
[ -n "$seeds" ] && set -- "$@" "$seeds"
set -- "$@" --random "$random" "$seed"
echo "compare-rev: inputs: $*"
short=$(git -C "$root" rev-parse --short "$rev")
rc=0
"$tmp/equiv_cmp" --timeout "$timeout" \
  --label-a "tracker of $short" --label-b "tracker of $new_tracker" \
  "$tmp/dump_old" "$tmp/dump_new" -- "$@" || rc=$?
if [ "$rc" != 0 ] && [ "$keep" = 0 ]; then
  echo "compare-rev: (run again with --keep to keep the two dump programs)"
fi
exit $rc
