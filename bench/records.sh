#!/usr/bin/env bash
# Records side by side with plain SQLite doing the same work, in-process and over HTTP (issue 17).
#
#   bash bench/records.sh                   # 100,000 records (about 2 minutes after the build)
#   bash bench/records.sh --records 20000 --seconds 5
#
# Installs wrk (apt) when missing, builds a release kura and the records_bench example (skip the
# kura build with KURA_BIN=path), and writes bench/out/records-<time>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null; then
  SUDO=""; (( EUID == 0 )) || SUDO="sudo"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2
fi
kura="${KURA_BIN:-}"
if [[ -z "$kura" ]]; then
  cargo build --quiet --release -p kura-cli
  kura="$PWD/target/release/kura"
fi
cargo build --quiet --release -p kura-records --example records_bench
exec python3 bench/records.py --kura-bin "$kura" --bench-bin "$PWD/target/release/examples/records_bench" "$@"
