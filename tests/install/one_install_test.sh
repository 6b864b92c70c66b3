#!/bin/sh
# one_install_test.sh SRC_DIR POSTINST: one copy of tcpstate.so for Wireshark.
#   1. scripts/one-install.sh (scripts/setup.sh's check): a personal install beside a
#      global copy is refused with the way out; a global install beside a personal copy
#      installs with a note; one copy alone installs silently;
#   2. the package's postinst (built from packaging/postinst.in) names each personal copy
#      of tcpstate.so it finds, says "found in multiple directories", exits 0; says
#      nothing without one.
set -eu
src=$1 postinst=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/one-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # check WHAT COMMAND...: the command succeeds
    what=$1
    shift
    if "$@"; then echo "ok   $what"; else echo "FAIL $what"; fails=$((fails + 1)); fi
}
ver=$(sed -n 's/.*plugins\/\([0-9.]*\)\/epan.*/\1/p' "$postinst" | head -n 1)
g=$tmp/global/tcpstate.so p=$tmp/home/u/.local/lib/wireshark/plugins/$ver/epan/tcpstate.so
mkdir -p "$(dirname "$g")" "$(dirname "$p")"

: >"$g"
st=0; sh "$src/scripts/one-install.sh" "$p" "$g" "$p" >"$tmp/out" 2>"$tmp/err" || st=$?
check "personal install beside a global copy: refused" [ $st = 1 ]
check "... and says so" grep -q "found in multiple directories" "$tmp/err"
check "... and the way out" grep -q "rm $g" "$tmp/err"
: >"$p"
st=0; sh "$src/scripts/one-install.sh" "$g" "$g" "$p" >"$tmp/out" 2>"$tmp/err" || st=$?
check "global install beside a personal copy: installs" [ $st = 0 ]
check "... with a note naming it" grep -q "$p exists too" "$tmp/out"
rm -f "$g"
st=0; sh "$src/scripts/one-install.sh" "$p" "$g" "$p" >"$tmp/out" 2>&1 || st=$?
check "one copy: installs, silently" [ $st = 0 ] && [ ! -s "$tmp/out" ]

st=0; TCPS_ROOT=$tmp sh "$postinst" configure >"$tmp/out" 2>&1 || st=$?
check "postinst with a personal copy: exits 0" [ $st = 0 ]
check "... names it" grep -q "^  /home/u/.local/lib/wireshark/plugins/$ver/epan/tcpstate.so$" "$tmp/out"
check "... says why" grep -q "found in multiple directories" "$tmp/out"
rm -f "$p"
st=0; TCPS_ROOT=$tmp sh "$postinst" configure >"$tmp/out" 2>&1 || st=$?
check "postinst without one: exits 0, silently" [ $st = 0 ] && [ ! -s "$tmp/out" ]
[ $fails = 0 ] && echo passed || { echo "FAILED ($fails)"; exit 1; }
