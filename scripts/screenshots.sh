#!/usr/bin/env bash
# Builds a demo vault with real projects and versions (through the kura CLI), opens the real app
# on it under Xvfb, and saves the screenshots of the README and the book to docs/screenshots/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npm run build
cargo build -p kura-cli -p kura-desktop --features kura-desktop/custom-protocol

demo=$(mktemp -d /tmp/kura-demo.XXXXXX)
trap 'rm -rf "$demo"' EXIT
export KURA_HOME="$demo/vault"
kura() { target/debug/kura "$@" >/dev/null; }

kura workspace create clients
kura project create storefront --template frontend --description "Shop front for the spring sale" --tag web --tag client-a
kura project create billing-api --template backend --description "Invoices and payments" --tag api
kura project create admin-console --template fullstack --tag internal
site="$demo/vault/projects/storefront"
printf '<!doctype html>\n<html lang="en">\n  <head>\n    <meta charset="utf-8" />\n    <title>Spring sale</title>\n    <link rel="stylesheet" href="/src/style.css" />\n  </head>\n  <body>\n    <main id="app"></main>\n    <script type="module" src="/src/main.js"></script>\n  </body>\n</html>\n' > "$site/index.html"
kura snapshot storefront -m "Title for the spring sale"
printf "const app = document.querySelector('#app');\napp.innerHTML = '<h1>Spring sale</h1><p>Everything 20%% off until May.</p>';\n" > "$site/src/main.js"
kura snapshot storefront -m "Sale banner"
sed -i 's/20%% off/25%% off/; s/20% off/25% off/' "$site/src/main.js"
kura snapshot storefront -m "Sale goes to 25%"
# A real code base with some history: a crate from the cargo registry, in two versions.
crate=$(ls -d ~/.cargo/registry/src/*/serde_json-1.* 2>/dev/null | sort -V | tail -1 || true)
if [[ -n "$crate" ]]; then
    kura project import "$crate" --name serde-json-fork --workspace clients
fi
kura project create scratchpad
kura project delete scratchpad
kura workspace switch default
# An archived project, two backups to a folder target, a cleanup preview.
kura project create old-landing --template frontend --description "Last year's landing page"
kura archive old-landing
mkdir -p "$demo/usb-drive"
kura backup target add usb-drive --folder "$demo/usb-drive" --schedule "daily at 02:00"
kura backup retention usb-drive --keep-last 3 --daily 7 --weekly 4
kura backup run usb-drive
printf '\nfooter { color: #555; }\n' >> "$site/src/style.css"
kura snapshot storefront -m "Footer colour"
kura backup run usb-drive
kura cleanup --dry-run

KURA_E2E_VAULT="$KURA_HOME" xvfb-run -a -s "-screen 0 1400x900x24" npx wdio run tests/e2e/screenshots.conf.mjs
ls -la docs/screenshots
