#!/usr/bin/env bash
# Runs the manual's command-line examples as they are written: the first `sh` block of
# docs/src/cli.md, line by line, against a fresh vault in a disposable HOME, with the `kura` that
# `cargo test` built (target/debug/kura; KURA_BIN=... for another). A command that fails, or an
# example the parser no longer takes, fails this script with the line that failed.
#
# What the block cannot know is filled in before it runs: `kura=target/release/kura` names the
# binary under test, the folders it imports (~/code/api, ~/code/tool) are made first with a file
# each, /tmp/ is a scratch folder, and the example version id 3f2a9c1e stands for the project's
# first version.
set -euo pipefail
cd "$(dirname "$0")/.."
chapter=docs/src/cli.md
bin=$(realpath "${KURA_BIN:-target/debug/kura}")
[[ -x $bin ]] || { echo "test-book-examples: $bin is missing; build it (cargo build -p kura-cli)" >&2; exit 1; }

# The first ```sh block of the chapter.
block=$(awk '/^```sh$/ && !done { inside = 1; next } /^```$/ && inside { done = 1; inside = 0 } inside' "$chapter")
[[ -n $block ]] || { echo "test-book-examples: no \`\`\`sh block in $chapter" >&2; exit 1; }
grep -qx 'kura=target/release/kura' <<<"$block" ||
    { echo "test-book-examples: the block of $chapter no longer starts with kura=target/release/kura" >&2; exit 1; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/kura-book-examples.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export HOME="$scratch/home" KURA_HOME="$scratch/vault"
export XDG_CONFIG_HOME="$HOME/.config" XDG_DATA_HOME="$HOME/.local/share" XDG_STATE_HOME="$HOME/.local/state"
mkdir -p "$HOME/code/api" "$HOME/code/tool"
echo 'fn main() {}' >"$HOME/code/api/main.rs"
printf '[package]\nname = "tool"\nversion = "0.1.0"\n' >"$HOME/code/tool/Cargo.toml"
first_version() { "$bin" --json history "$1" | grep -o '"short_id": *"[0-9a-f]*"' | tail -n 1 | grep -o '[0-9a-f]*"$' | tr -d '"'; }

ran=0
while IFS= read -r line; do
    [[ -n $line ]] || continue
    if [[ $line == 'kura=target/release/kura' ]]; then
        kura=$bin
        continue
    fi
    line=${line//\/tmp\//$scratch/}
    if [[ $line == *3f2a9c1e* ]]; then
        line=${line//3f2a9c1e/$(first_version site)}
    fi
    echo "\$ $line"
    # Each line as the shell reads it, with $kura set; its output goes to the log.
    if ! (set -o pipefail; eval "$line") >"$scratch/out" 2>&1; then
        cat "$scratch/out"
        echo "test-book-examples: this line of $chapter failed: $line" >&2
        exit 1
    fi
    ran=$((ran + 1))
done <<<"$block"
echo "$ran passed, 0 failed (the command-line examples of $chapter)"
