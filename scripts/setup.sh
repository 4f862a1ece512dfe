#!/usr/bin/env bash
# Installs what building and testing Kura needs on a fresh Debian/Ubuntu machine.
# Safe to run again: it only installs what is missing.
set -euo pipefail

need=()
for pkg in build-essential pkg-config git util-linux ca-certificates; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if ((${#need[@]})); then
    sudo_cmd=()
    [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
    echo "setup: installing ${need[*]}"
    "${sudo_cmd[@]}" apt-get update -qq
    # This image sometimes deletes downloaded packages between dpkg passes; a second try works.
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" ||
        "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi

if ! command -v cargo >/dev/null; then
    echo "setup: cargo is missing; install Rust with rustup (https://rustup.rs) and run this again" >&2
    exit 1
fi
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt clippy
