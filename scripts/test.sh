#!/usr/bin/env bash
# Runs the whole test suite: builds in build/ (warnings as errors) and runs ctest:
# tracker unit tests (plain and ASan/UBSan), perturbations, and tshark tests of
# the plugin on every bundled capture against its kernel truth.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTCPS_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
cd build
# Tests labelled "slow" (1M-connection memory runs, the ASan sweep of
# ../shared/corpus, timed fuzzing) run with TCPS_SLOW=1.
if [ "${TCPS_SLOW:-0}" = 1 ]; then
  ctest --output-on-failure -j"$(nproc)" "$@"
else
  ctest --output-on-failure -j"$(nproc)" -LE slow "$@"
fi
