#!/usr/bin/env bash
# Sets up, builds and launches the Kura desktop app on its default vault
# (~/.local/share/kura, or $KURA_HOME).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run build
cargo build --release -p kura-desktop -p kura-cli --features kura-desktop/custom-protocol
echo "The command line is at $PWD/target/release/kura (try: target/release/kura --help)"
if [[ -z "${DISPLAY:-}" && -z "${WAYLAND_DISPLAY:-}" ]]; then
    echo "No display found: starting Kura under Xvfb (it runs, but you cannot see it)."
    exec xvfb-run -a target/release/kura-desktop
fi
exec target/release/kura-desktop
