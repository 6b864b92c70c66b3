#!/usr/bin/env bash
# Installs what tcpstate needs to build and test on Debian 12 (bookworm) or later.
# Uses sudo when not root. Safe to run again.
set -euo pipefail

pkgs=(build-essential cmake pkg-config python3 libglib2.0-dev
      libwireshark-dev wireshark-dev tshark
      clang libclang-rt-dev) # libFuzzer, for the fuzz.libfuzzer test (tests/fuzz)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "tcpstate: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
