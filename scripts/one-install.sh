#!/bin/sh
# one-install.sh DEST GLOBAL PERSONAL: before scripts/setup.sh installs tcpstate.so as
# DEST, checks that Wireshark will find one copy only. GLOBAL is tcpstate.so in the global
# plugin folder (the package wireshark-plugin-tcpstate's, or setup.sh's as root), PERSONAL
# the one in the user's personal folder: with both, Wireshark reports "found in multiple
# directories" at every start. Exit 1 with the clean way on stderr when DEST would be a
# second copy, or would overwrite the package's file; 0 otherwise (with a note on stdout
# when a personal copy stays beside a global DEST).
set -eu
[ $# -eq 3 ] || { echo "usage: one-install.sh DEST GLOBAL PERSONAL" >&2; exit 2; }
dest=$1 global=$2 personal=$3
owner=$(dpkg-query -S "$global" 2>/dev/null | cut -d: -f1) || owner=
if [ "$dest" != "$global" ] && [ -e "$global" ]; then
    echo "tcpstate: $global is already installed${owner:+ (package $owner)};" >&2
    echo "a personal copy as well makes Wireshark report \"found in multiple directories\"." >&2
    if [ -n "$owner" ]; then
        echo "Keep one: use the package (nothing to do), or remove it first" \
            "(sudo apt remove $owner) and run setup.sh again." >&2
    else
        echo "Keep one: use that one (nothing to do), or remove it first" \
            "(sudo rm $global) and run setup.sh again." >&2
    fi
    exit 1
fi
if [ "$dest" = "$global" ] && [ -n "$owner" ]; then
    echo "tcpstate: $global belongs to the package $owner; setup.sh does not overwrite it." >&2
    echo "Update the package (cpack -G DEB in build/, then apt install it), or remove it" \
        "(apt remove $owner) and run setup.sh again." >&2
    exit 1
fi
if [ "$dest" = "$global" ] && [ -e "$personal" ]; then
    echo "tcpstate: note: $personal exists too; Wireshark run by that user reports" \
        "\"found in multiple directories\": remove it (rm, or cmake --build build --target uninstall-user)."
fi
exit 0
