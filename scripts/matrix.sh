#!/usr/bin/env bash
# scripts/matrix.sh [--only X.Y[,X.Y...]] [--refresh] [--no-werror] [--no-deb] [--out DIR]
#                   [--prepare] [--host-build DIR --host-log LOG]
#
# Builds tcpstate and runs the whole test suite against each Wireshark version
# Debian ships, each in a Debian chroot with its own Wireshark packages:
#   Wireshark 4.0: Debian 12 bookworm    4.4: Debian 13 trixie    4.6: sid
# For each: build with warnings as errors, ctest (unit, tshark, kernel truth; the
# tests labelled "slow" only with TCPS_SLOW=1, as scripts/test.sh), check that
# tshark -G plugins lists tcpstate with its version and type, make the .deb with
# cpack, and install it, run it and remove it in a fresh chroot of the same suite
# (packaging/test-deb.sh). Prints, last:
#   wireshark 4.0: N/N, 4.4: N/N, 4.6: N/N
#   matrix: N passed, N failed
# where each N/N counts the ctest tests, the plugin-listing check and the .deb check.
#
# The chroots are made once by debootstrap from the host's Debian mirror and
# cached outside the repository in /var/cache/tcpstate-matrix
# (TCPS_MATRIX_CACHE; see scripts/matrix/chroot.sh); each run builds in a
# throwaway overlay on top of them, so reruns download nothing and start from the
# same state. --refresh upgrades the cached chroots first (done anyway when they
# are older than 7 days). Logs and the .debs go to build/matrix/X.Y/ (--out).
#
# --prepare    only make (or refresh) the chroots, then exit: CI runs it in the
#              background while the host runs its own tests.
# --host-build DIR --host-log LOG
#              this host is the Debian release of one of the versions (Debian 12
#              and 4.0 in CI), and DIR is a build of this tree whose whole ctest
#              suite already ran here with its output in LOG (scripts/test.sh):
#              that version is not built and tested again in a chroot; its N/N is
#              LOG's ctest result plus the tshark -G plugins check of DIR's plugin
#              and the .deb check of the package cpack makes in DIR, in a fresh
#              chroot as for the others. The output says so.
# Needs root. Exit status 0 when every version passed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=matrix/chroot.sh
. "$repo/scripts/matrix/chroot.sh"
# shellcheck source=matrix/ctest-count.sh
. "$repo/scripts/matrix/ctest-count.sh"

# Wireshark major.minor and the Debian suite that ships it.
matrix=("4.0 bookworm" "4.4 trixie" "4.6 sid")

only=""
out="$repo/build/matrix"
werror=ON
deb_check=1
prepare_only=0
host_build=""
host_log=""
while [ $# -gt 0 ]; do
    case $1 in
    --only) only=",$2,"; shift 2 ;;
    --refresh) export TCPS_FORCE_REFRESH=1; shift ;;
    --no-werror) werror=OFF; shift ;;
    --no-deb) deb_check=0; shift ;;
    --out) out=$2; shift 2 ;;
    --prepare) prepare_only=1; shift ;;
    --host-build) host_build=$2; shift 2 ;;
    --host-log) host_log=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "matrix.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

tcps_need_root
command -v debootstrap >/dev/null || tcps_install_host_tools

selected=()
for entry in "${matrix[@]}"; do
    set -- $entry
    if [ -z "$only" ] || [[ $only == *",$1,"* ]]; then
        selected+=("$entry")
    fi
done
[ ${#selected[@]} -gt 0 ] || tcps_die "--only matches none of 4.0, 4.4, 4.6"

# The host's own result stands for the version it has (--host-build).
host_ver=""
if [ -n "$host_build$host_log" ]; then
    [ -n "$host_build" ] && [ -n "$host_log" ] || tcps_die "--host-build and --host-log go together"
    host_ver=$(pkg-config --modversion wireshark 2>/dev/null | cut -d. -f1,2)
    host_suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
    host_name=$(. /etc/os-release && echo "${PRETTY_NAME:-}")
    match=""
    for entry in "${matrix[@]}"; do
        set -- $entry
        [ "$1" = "$host_ver" ] && match=$2
    done
    [ -n "$match" ] && [ "$match" = "$host_suite" ] ||
        tcps_die "--host-build: this host ($host_name, Wireshark ${host_ver:-?}) is not the Debian release of a matrix version"
fi

t_start=$(date +%s)
elapsed() { echo "$(($(date +%s) - $1))s"; }

# 1. The chroots: made in parallel when missing (mostly downloading and unpacking).
# The host's version needs only the minimal one, for the .deb check.
pids=()
for entry in "${selected[@]}"; do
    set -- $entry
    if [ "$1" = "$host_ver" ]; then
        [ $deb_check -eq 0 ] || { tcps_ensure_base "$2" >/dev/null & pids+=($!); }
    else
        tcps_ensure_ready "$2" >/dev/null &
        pids+=($!)
    fi
done
status=0
for pid in "${pids[@]}"; do
    wait "$pid" || status=1
done
[ $status -eq 0 ] || tcps_die "could not make the chroots (logs in $TCPS_CACHE)"
tcps_log "chroots ready in $(elapsed "$t_start")"
[ $prepare_only -eq 0 ] || exit 0
if [ -n "$host_ver" ]; then
    # A missing plugin or log (the host's build or tests did not get far) counts as failed below.
    host_build=$(cd "$host_build" 2>/dev/null && pwd || echo "$host_build")
fi

# The host's version: its ctest log, tshark -G plugins, and the .deb from cpack.
host_result() { # DIR: writes DIR/result "PASSED TOTAL"
    local dir=$1 total passed version line deb
    cp "$host_log" "$dir/ctest.log" 2>/dev/null || echo "== no log $host_log" >"$dir/ctest.log"
    tcps_ctest_count "$dir/ctest.log"
    echo "== ctest, as run on this host by scripts/test.sh (log: $dir/ctest.log): ${ctest_summary:-no ctest summary}"
    total=$ctest_total
    passed=$ctest_passed
    [ "$passed" -eq "$total" ] || sed -n '/^The following tests FAILED:/,/^Errors while/p' "$dir/ctest.log"

    version=$(sed -n -E 's/^#define TCPS_VERSION "([^"]+)".*/\1/p' "$repo/tracker/tcpstate.h")
    total=$((total + 1))
    sh "$repo/tests/tshark/tshark-plugin.sh" "$host_build/plugin/tcpstate.so" -- -G plugins \
        >"$dir/plugins.txt" 2>&1 || true
    line=$(grep '^tcpstate\.so' "$dir/plugins.txt" || true)
    echo "== tshark -G plugins: $line"
    if printf '%s\n' "$line" | grep -qE "^tcpstate\.so[[:space:]]+${version}[[:space:]]+dissector[[:space:]]"; then
        passed=$((passed + 1))
    else
        echo "== FAILED: tshark -G plugins does not list tcpstate.so $version as a dissector"
        cat "$dir/plugins.txt"
    fi

    if (cd "$host_build" && cpack -G DEB) >"$dir/cpack.log" 2>&1 &&
        deb=$(sed -n -E 's/.*package: (.*\.deb) generated.*/\1/p' "$dir/cpack.log" | tail -n 1) &&
        [ -f "$deb" ]; then
        cp "$deb" "$dir/"
        echo "== $(basename "$deb"): $(dpkg-deb -f "$deb" Depends)"
    else
        cat "$dir/cpack.log"
        echo "== FAILED: cpack -G DEB in $host_build"
        total=$((total + 1))
    fi
    echo "$passed $total" >"$dir/result"
}

# 2. Build and test against each version, one after the other (each uses every core).
results=()
pass_all=0
fail_all=0
for entry in "${selected[@]}"; do
    set -- $entry
    ver=$1
    suite=$2
    root="$TCPS_CACHE/$suite"
    dir="$out/$ver"
    t0=$(date +%s)
    rm -rf "$dir"
    mkdir -p "$dir"
    echo
    if [ "$ver" = "$host_ver" ]; then
        echo "=== Wireshark $ver: this host ($host_name: tshark $(dpkg-query -W -f='${Version}' tshark 2>/dev/null)), not re-run in a chroot"
        host_result "$dir"
    else
        echo "=== Wireshark $ver (Debian $suite: tshark $(tcps_pkg_version "$root" tshark))"
        binds=(--bind "$repo:/src:ro" --bind "$dir:/out")
        # ../shared beside the repository (corpus of the slow tests) at /shared = /src/../shared.
        if [ -d "$repo/../shared" ]; then
            binds+=(--bind "$(cd "$repo/../shared" && pwd):/shared:ro")
        fi
        TCPS_WERROR=$werror "$TCPS_ENTER" --overlay "${binds[@]}" \
            "$root" -- sh /src/scripts/matrix/build-test.sh /src /out || true
    fi
    read -r passed total <"$dir/result" || { passed=0; total=1; }
    if [ $deb_check -eq 1 ]; then
        total=$((total + 1))
        debs=("$dir"/*.deb)
        if [ -f "${debs[0]}" ] &&
            bash "$repo/packaging/test-deb.sh" --suite "$suite" "${debs[0]}" >"$dir/deb-check.log" 2>&1; then
            passed=$((passed + 1))
            echo "== .deb check in a fresh $suite: PASSED (log: $dir/deb-check.log)"
        else
            cat "$dir/deb-check.log" 2>/dev/null || echo "== no .deb was made"
            echo "== .deb check in a fresh $suite: FAILED"
        fi
    fi
    echo "=== Wireshark $ver: $passed/$total in $(elapsed "$t0")"
    results+=("$ver: $passed/$total")
    pass_all=$((pass_all + passed))
    fail_all=$((fail_all + total - passed))
done

echo
echo "matrix finished in $(elapsed "$t_start"); logs and packages in $out"
if [ -n "$host_ver" ]; then
    echo "(wireshark $host_ver: the tests this $host_name host ran itself with scripts/test.sh, not again in a chroot;"
    echo " its plugin listed by tshark -G plugins, and its .deb checked in a fresh Debian $host_suite chroot)"
fi
line="wireshark ${results[0]}"
for r in "${results[@]:1}"; do line="$line, $r"; done
echo "$line"
echo "matrix: $pass_all passed, $fail_all failed"
[ "$fail_all" -eq 0 ]
