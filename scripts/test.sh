#!/usr/bin/env bash
# Sets up and runs every check and test: formatting, clippy, the bindings drift check, unit,
# integration and doc tests, the UI's type check, unit and page tests, and the end-to-end tests
# of the real app window under Xvfb, the packages (built from the test build, linted, installed
# and used), and the manual (built, its links checked).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Where setup.sh's pip or pipx put rclone.
export PATH="$HOME/.local/bin:$PATH"
# Tests commit with the real git CLI; give it an identity if the machine has none.
git config --global user.name >/dev/null 2>&1 || git config --global user.name "Kura tests"
git config --global user.email >/dev/null 2>&1 || git config --global user.email "tests@kura.invalid"

echo "== UI build (the desktop crate embeds ui/dist)"
npm run build
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== no module of a crate imports another in a circle"
python3 scripts/module-cycles.py
echo "== the engine's SQL is in its catalog room"
python3 scripts/sql-in-catalog.py
echo "== every door reaches a declared operation through its call"
python3 scripts/doors-call-the-service.py
echo "== the book: mdbook build docs (into target/book), its links and #anchors checked offline"
# A warning (an HTML tag left open swallows the text after it) fails the build as an error does.
book_log=$(mdbook build docs 2>&1) || { echo "$book_log"; exit 1; }
if grep -q WARN <<<"$book_log"; then echo "$book_log"; echo "the book: mdbook warned (above)" >&2; exit 1; fi
lychee --offline --include-fragments --no-progress --root-dir "$PWD/target/book" target/book
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked --features kura-desktop/custom-protocol -- -D warnings
echo "== cargo test (includes the TypeScript bindings drift check)"
sh scripts/with-keyring.sh cargo test --workspace --locked --features kura-desktop/custom-protocol
echo "== the manual's command-line examples, run as written against a fresh vault"
bash scripts/test-book-examples.sh
echo "== the published API contract: two OpenAPI validators, generated Python and TypeScript clients against kura serve"
bash scripts/test-clients.sh
echo "== svelte-check"
npm run check
echo "== UI unit tests"
npm run test:unit
echo "== UI page tests (headless Chromium)"
npm run test:pages
echo "== end-to-end tests of the real app window (Xvfb, tauri-driver, WebKitWebDriver)"
npm run test:e2e
echo "== packages: build the .deb and .rpm, lint them, install the .deb and use it with a fresh HOME"
# (From the build `cargo test` made: the release build would compile everything a third time.)
KURA_PACKAGE_SKIP_SETUP=1 KURA_PACKAGE_PROFILE=debug bash scripts/test-package.sh
