# ctest-count.sh: sourced by scripts/matrix.sh, scripts/matrix/build-test.sh (POSIX sh,
# inside the chroots) and .ci/run.
#
# tcps_ctest_count LOG: from ctest's closing line in LOG ("N% tests passed, F tests
# failed out of T"), sets ctest_summary (that line, empty if none), ctest_total and
# ctest_passed. A log without that line counts as one test, failed.
tcps_ctest_count() {
    ctest_summary=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" 2>/dev/null | tail -n 1)
    ctest_total=$(echo "$ctest_summary" | sed -n -E 's/.* out of ([0-9]+).*/\1/p')
    ctest_failed=$(echo "$ctest_summary" | sed -n -E 's/.*, ([0-9]+) tests? failed.*/\1/p')
    [ -n "$ctest_total" ] || { ctest_total=1; ctest_failed=1; }
    ctest_passed=$((ctest_total - ctest_failed))
}
