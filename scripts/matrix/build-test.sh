#!/bin/sh
# build-test.sh SRC OUT   (runs inside a matrix chroot, see scripts/matrix.sh)
#
# Builds tcpstate from SRC (read-only) in /build against the chroot's Wireshark,
# with warnings as errors, runs the whole ctest suite (unit, tshark, kernel
# truth; as scripts/test.sh, the "slow" ones only with TCPS_SLOW=1), checks that
# "tshark -G plugins" lists tcpstate with its version and type, and makes the
# .deb with cpack. Writes into OUT: ctest.log, plugins.txt,
# the .deb, and result ("PASSED TOTAL" counting the ctest tests and the
# plugin-listing check). Exit status 0 when everything passed.
set -u
src=$1
out=$2
build=/build
jobs=$(nproc)
werror=${TCPS_WERROR:-ON}

echo "== $(tshark --version 2>/dev/null | head -n 1); $(cmake --version | head -n 1); $(gcc --version | head -n 1)"

rm -rf "$build"
if ! cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTCPS_WERROR="$werror" \
    >"$out/configure.log" 2>&1; then
    cat "$out/configure.log"
    echo "0 1" >"$out/result"
    exit 1
fi
grep -E 'Wireshark .* found' "$out/configure.log"
# Keep going past a target that fails (make -k), so one broken test program does
# not hide how the plugin and the other tests fare; the failure counts as one.
build_failed=0
if ! cmake --build "$build" -j"$jobs" -- -k >"$out/build.log" 2>&1; then
    build_failed=1
    grep -E -A3 'error:' "$out/build.log" | head -n 80
    echo "== FAILED: build (full log: $out/build.log); failed targets:"
    grep -E '^(g?make)\[[0-9]+\]: \*\*\* \[' "$out/build.log" | grep -v Makefile2 | sed 's/^/   /'
fi
if [ ! -f "$build/plugin/tcpstate.so" ]; then
    echo "== the plugin was not built"
    echo "0 1" >"$out/result"
    exit 1
fi

cd "$build" || exit 1
# As scripts/test.sh: tests labelled "slow" only with TCPS_SLOW=1.
if [ "${TCPS_SLOW:-0}" = 1 ]; then
    ctest --output-on-failure -j"$jobs" >"$out/ctest.log" 2>&1
else
    ctest --output-on-failure -j"$jobs" -LE slow >"$out/ctest.log" 2>&1
fi
ctest_status=$?
# Failed tests with their output, then ctest's closing lines.
if [ $ctest_status -ne 0 ]; then
    sed -n '/^The following tests FAILED:/,$p' "$out/ctest.log"
    grep -E -A30 '\*\*\*Failed|\(Failed\)' "$out/ctest.log" | head -n 120
fi
. "$src/scripts/matrix/ctest-count.sh"
tcps_ctest_count "$out/ctest.log"
echo "== ctest: $ctest_summary"
total=$ctest_total
passed=$ctest_passed

# tshark -G plugins: tcpstate.so, our version, type "dissector" (4.0 reports
# every epan plugin as a dissector; 4.4+ asks plugin_describe()).
version=$(sed -n -E 's/^#define TCPS_VERSION "([^"]+)".*/\1/p' "$src/tracker/tcpstate.h")
total=$((total + 1))
sh "$src/tests/tshark/tshark-plugin.sh" "$build/plugin/tcpstate.so" -- -G plugins \
    >"$out/plugins.txt" 2>&1
line=$(grep '^tcpstate\.so' "$out/plugins.txt")
echo "== tshark -G plugins: $line"
if printf '%s\n' "$line" | grep -qE "^tcpstate\.so[[:space:]]+${version}[[:space:]]+dissector[[:space:]]"; then
    passed=$((passed + 1))
else
    echo "== FAILED: tshark -G plugins does not list tcpstate.so $version as a dissector"
    cat "$out/plugins.txt"
fi

# The package for this Wireshark version.
if cpack -G DEB >"$out/cpack.log" 2>&1; then
    cp ./*.deb "$out/"
    for deb in ./*.deb; do
        echo "== $(basename "$deb"): $(dpkg-deb -f "$deb" Depends)"
    done
else
    cat "$out/cpack.log"
    echo "== FAILED: cpack -G DEB"
    total=$((total + 1))
fi

if [ $build_failed -eq 1 ]; then
    total=$((total + 1))
fi
echo "$passed $total" >"$out/result"
[ "$passed" -eq "$total" ]
