#!/usr/bin/env bash
# scripts/matrix.sh [--only X.Y[,X.Y...]] [--refresh] [--no-werror] [--no-deb] [--out DIR]
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
# Needs root. Exit status 0 when every version passed.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=matrix/chroot.sh
. "$repo/scripts/matrix/chroot.sh"

# Wireshark major.minor and the Debian suite that ships it.
matrix=("4.0 bookworm" "4.4 trixie" "4.6 sid")

only=""
out="$repo/build/matrix"
werror=ON
deb_check=1
while [ $# -gt 0 ]; do
    case $1 in
    --only) only=",$2,"; shift 2 ;;
    --refresh) export TCPS_FORCE_REFRESH=1; shift ;;
    --no-werror) werror=OFF; shift ;;
    --no-deb) deb_check=0; shift ;;
    --out) out=$2; shift 2 ;;
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

t_start=$(date +%s)
elapsed() { echo "$(($(date +%s) - $1))s"; }

# 1. The chroots: made in parallel when missing (mostly downloading and unpacking).
pids=()
for entry in "${selected[@]}"; do
    set -- $entry
    tcps_ensure_ready "$2" >/dev/null &
    pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
    wait "$pid" || status=1
done
[ $status -eq 0 ] || tcps_die "could not make the chroots (logs in $TCPS_CACHE)"
tcps_log "chroots ready in $(elapsed "$t_start")"

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
    echo "=== Wireshark $ver (Debian $suite: tshark $(tcps_pkg_version "$root" tshark))"
    binds=(--bind "$repo:/src:ro" --bind "$dir:/out")
    # ../shared beside the repository (corpus of the slow tests) at /shared = /src/../shared.
    if [ -d "$repo/../shared" ]; then
        binds+=(--bind "$(cd "$repo/../shared" && pwd):/shared:ro")
    fi
    TCPS_WERROR=$werror "$TCPS_ENTER" --overlay "${binds[@]}" \
        "$root" -- sh /src/scripts/matrix/build-test.sh /src /out || true
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
line="wireshark ${results[0]}"
for r in "${results[@]:1}"; do line="$line, $r"; done
echo "$line"
echo "matrix: $pass_all passed, $fail_all failed"
[ "$fail_all" -eq 0 ]
