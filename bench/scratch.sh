# Sourced by the shell benchmarks, from the repository's root: `$kura` is KURA_BIN or a release
# build made now, and `$w` a temporary folder removed when the script exits.
kura="${KURA_BIN:-}"
if [[ -z "$kura" ]]; then
  cargo build --quiet --release -p kura-cli
  kura="$PWD/target/release/kura"
fi
w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
