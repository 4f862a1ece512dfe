#!/usr/bin/env bash
# Sets up and runs every check and test: formatting, clippy, unit, integration and doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Tests commit with the real git CLI; give it an identity if the machine has none.
git config --global user.name >/dev/null 2>&1 || git config --global user.name "Kura tests"
git config --global user.email >/dev/null 2>&1 || git config --global user.email "tests@kura.invalid"

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
