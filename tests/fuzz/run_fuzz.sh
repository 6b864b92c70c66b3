#!/bin/sh
# run_fuzz.sh FUZZER SECONDS WORKDIR CORPUS_DIR...
#
# Runs the libFuzzer target for SECONDS seconds from the given corpus folders
# (read only: new inputs go to WORKDIR/corpus, crashes to WORKDIR/artifacts),
# then prints libFuzzer's final statistics. Exit status: libFuzzer's (0 when
# no crash, leak, timeout or invariant failure was found). TCPS_FUZZ_MAX_LEN: the
# longest input (8192 bytes unless set); TCPS_FUZZ_RSS_MB: the memory limit (2048).
set -eu
[ $# -ge 3 ] || { echo "usage: run_fuzz.sh FUZZER SECONDS WORKDIR CORPUS_DIR..." >&2; exit 2; }
fuzzer=$1
seconds=$2
work=$3
shift 3
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
corpora=""
for d in "$@"; do
    [ -d "$d" ] && corpora="$corpora $d"
done
status=0
# shellcheck disable=SC2086 # corpora is a list of folders without spaces
"$fuzzer" -max_total_time="$seconds" -max_len="${TCPS_FUZZ_MAX_LEN:-8192}" -timeout=10 -rss_limit_mb="${TCPS_FUZZ_RSS_MB:-2048}" \
    -use_value_profile=1 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
    "$work/corpus" $corpora >"$work/log" 2>&1 || status=$?
grep -E '^(INFO: seed corpus|#[0-9]+[[:space:]]+(INITED|DONE))|^stat::' "$work/log" || true
if [ "$status" -ne 0 ]; then
    echo "run_fuzz.sh: libFuzzer exited with $status; last lines of $work/log:" >&2
    tail -n 80 "$work/log" >&2
    for a in "$work"/artifacts/*; do
        [ -f "$a" ] && { echo "artifact: $a" >&2; od -A d -t x1 "$a" | head -n 40 >&2; }
    done
fi
exit "$status"
