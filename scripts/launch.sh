#!/usr/bin/env bash
# Sets up, builds and launches Kura on its default vault (~/.local/share/kura, or $KURA_HOME).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release -p kura-cli
kura=target/release/kura
"$kura" status
echo
echo "Kura is ready: $PWD/$kura"
echo "Try:  $kura project create demo --template fullstack && $kura history demo"
echo "      $kura --help"
