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
ctest --output-on-failure -j"$(nproc)" "$@"
