#!/usr/bin/env bash
# Sets tcpstate up on Debian 12 or later: installs the dependencies, builds,
# installs the Wireshark plugin for you (your personal plugin folder; as root,
# which Wireshark denies personal plugins, the global folder), checks that
# tshark loads it, and prints the states of a bundled capture.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target tcpstate

ver=$(pkg-config --modversion wireshark | cut -d. -f1,2)
if [ "$(id -u)" -eq 0 ]; then
  dest=$(pkg-config --variable=plugindir wireshark)/epan
else
  dest=$HOME/.local/lib/wireshark/plugins/$ver/epan
fi
# One copy only: Wireshark reports "found in multiple directories" at every start when
# tcpstate.so is both in the global folder and in a personal one (scripts/one-install.sh).
global=$(pkg-config --variable=plugindir wireshark)/epan/tcpstate.so
sh scripts/one-install.sh "$dest/tcpstate.so" "$global" \
  "$HOME/.local/lib/wireshark/plugins/$ver/epan/tcpstate.so"
mkdir -p "$dest"
install -m 0644 build/plugin/tcpstate.so "$dest/tcpstate.so"
echo "tcpstate: plugin installed as $dest/tcpstate.so"

# The "TCP State" configuration profile: personal profiles folder (global as root).
if [ "$(id -u)" -eq 0 ]; then
  profiles=/usr/share/wireshark/profiles
else
  profiles=${XDG_CONFIG_HOME:-$HOME/.config}/wireshark/profiles
fi
mkdir -p "$profiles/TCP State"
install -m 0644 "profiles/TCP State/preferences" "profiles/TCP State/colorfilters" "$profiles/TCP State/"
# recent: the profile's column widths; a user's own (Wireshark rewrites it) stays.
if [ "$(id -u)" -eq 0 ] || [ ! -e "$profiles/TCP State/recent" ]; then
  install -m 0644 "profiles/TCP State/recent" "$profiles/TCP State/"
fi
echo "tcpstate: profile installed as $profiles/TCP State (use: -C \"TCP State\")"

if ! tshark -G plugins 2>/dev/null | grep -q '^tcpstate\.so'; then
  echo "tcpstate: tshark does not list the plugin; see 'tshark -G plugins'" >&2
  exit 1
fi
tshark -G plugins 2>/dev/null | grep '^tcpstate\.so'

echo
echo "States of pcaps/client_close.pcap (a Linux connection, client closes first):"
tshark -r pcaps/client_close.pcap -o tcpstate.info_column:FALSE \
  -o 'gui.column.format:"No.","%m","Source","%s","Destination","%d","Flags","%Cus:tcp.flags.str:0:R","Client","%Cus:tcpstate.client:0:R","Server","%Cus:tcpstate.server:0:R"' \
  2>/dev/null
