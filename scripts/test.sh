#!/usr/bin/env bash
# Sets up and runs every check and test: formatting, clippy, the bindings drift check, unit,
# integration and doc tests, the UI's type check, unit and page tests, and the end-to-end tests
# of the real app window under Xvfb, the packages (built from the test build, linted, installed
# and used), and the manual (built, its links checked).
set -euo pipefail
cd "$(dirname "$0")/.."
# Each stage's heading says how long the run has taken so far (the CI limit is on the whole).
stage() { printf '== %s   [%dm%02ds]\n' "$*" $((SECONDS / 60)) $((SECONDS % 60)); }
bash scripts/setup.sh
# Where setup.sh's pip or pipx put rclone.
export PATH="$HOME/.local/bin:$PATH"
# Tests commit with the real git CLI; give it an identity if the machine has none.
git config --global user.name >/dev/null 2>&1 || git config --global user.name "Kura tests"
git config --global user.email >/dev/null 2>&1 || git config --global user.email "tests@kura.invalid"

stage "UI build (the desktop crate embeds ui/dist)"
npm run build
stage "cargo fmt --check"
cargo fmt --all -- --check
stage "no module of a crate imports another in a circle"
python3 scripts/module-cycles.py
stage "the engine's SQL is in its catalog room"
python3 scripts/sql-in-catalog.py
stage "every door reaches a declared operation through its call"
python3 scripts/doors-call-the-service.py
stage "the book: mdbook build docs (into target/book), its links and #anchors checked offline"
# A warning (an HTML tag left open swallows the text after it) fails the build as an error does.
book_log=$(mdbook build docs 2>&1) || { echo "$book_log"; exit 1; }
if grep -q WARN <<<"$book_log"; then echo "$book_log"; echo "the book: mdbook warned (above)" >&2; exit 1; fi
lychee --offline --include-fragments --no-progress --root-dir "$PWD/target/book" target/book
stage "cargo test, compiled by clippy with its lints denied (includes the TypeScript bindings drift check)"
# `cargo clippy` is `cargo check` with clippy-driver as the workspace's compiler. The test build
# uses it the same way, so one compile both lints and builds (a separate `cargo clippy` compiled
# every crate a second time: 10 of this run's minutes). `cargo test` builds every target
# `--all-targets` names here (libraries, binaries, tests, examples; the workspace has no
# benches), and a lint fails the build as an error does. The later stages build with the same
# compiler, so they find this build as it is.
clippy_driver=$(command -v clippy-driver) || { echo "test: clippy-driver is missing (rustup component add clippy)" >&2; exit 1; }
export RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
sh scripts/with-keyring.sh cargo test --workspace --locked --features kura-desktop/custom-protocol
stage "the manual's command-line examples, run as written against a fresh vault"
bash scripts/test-book-examples.sh
stage "the published API contract: two OpenAPI validators, generated Python and TypeScript clients against kura serve"
bash scripts/test-clients.sh
stage "svelte-check"
npm run check
stage "UI unit tests"
npm run test:unit
stage "UI page tests (headless Chromium)"
npm run test:pages
stage "end-to-end tests of the real app window (Xvfb, tauri-driver, WebKitWebDriver)"
npm run test:e2e
stage "packages: build the .deb and .rpm, lint them, install the .deb and use it with a fresh HOME"
# (From the build `cargo test` made: the release build would compile everything a third time.)
KURA_PACKAGE_SKIP_SETUP=1 KURA_PACKAGE_PROFILE=debug bash scripts/test-package.sh
stage "all checks and tests passed"
