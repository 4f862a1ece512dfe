#!/usr/bin/env bash
# Render times of the real Kura window on a vault of 10,000 projects and 1,000,000 files:
# generates the vault (the catalog benchmark's generator), opens it in the desktop app under
# Xvfb through WebDriver, and reports how long the dashboard and the projects list take to show.
#
#   bash bench/ui.sh            # writes bench/out/ui-timings.json and prints it
#
# The app is the debug build the end-to-end tests use (the engine unoptimized), so the numbers
# are an upper bound of what a release build shows.
set -euo pipefail
cd "$(dirname "$0")/.."
out="bench/out"
mkdir -p "$out"
vault="$(mktemp -d)/vault"
trap 'rm -rf "$(dirname "$vault")"' EXIT
npm run build >/dev/null
cargo run --quiet --release -p kura-core --example catalog_queries -- \
  --projects 10000 --files-per-project 100 --workspaces 1 --keep "$vault"
KURA_E2E_VAULT="$vault" KURA_UI_TIMINGS="$PWD/$out/ui-timings.json" \
  xvfb-run -a npx wdio run tests/e2e/scale.conf.mjs
cat "$out/ui-timings.json"
