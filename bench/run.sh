#!/usr/bin/env bash
# Kura benchmark: kura side by side with restic, borg, git, cp and tar|zstd.
# Usage: bench/run.sh [--rounds N] [--quick] [--datasets docs,libs,incr,node,node-up,big] [--tools ...] [--keep]
#        (all options: bench/run.sh --help; see bench/README.md)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

die() { echo "error: $*" >&2; exit 1; }

# --- options this wrapper itself looks at (everything is passed on to bench.py) ---
KEEP=0; NO_BUILD=0; TOOLS="kura,restic,rustic,borg-zstd,borg-lz4,git,cp,tar-zstd"; HELP=0; KURA_BIN=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[i]}" in
    --keep) KEEP=1 ;;
    --no-build) NO_BUILD=1 ;;
    --tools) TOOLS="${args[i+1]:-}" ;;
    --tools=*) TOOLS="${args[i]#--tools=}" ;;
    --kura-bin) KURA_BIN="${args[i+1]:-}" ;;
    --kura-bin=*) KURA_BIN="${args[i]#--kura-bin=}" ;;
    -h|--help) HELP=1 ;;
  esac
done
pass=("$@")

if (( HELP )); then
  echo "bench/run.sh: installs restic/borg/time if missing, builds kura (skip with --no-build), runs bench/bench.py"
  exec python3 "$HERE/bench.py" --scratch /nonexistent --help
fi

command -v python3 >/dev/null || die "python3 is needed"

# --- system tools ---
need_apt=()
command -v restic >/dev/null || need_apt+=(restic)
command -v borg >/dev/null || need_apt+=(borgbackup)
[[ -x /usr/bin/time ]] || need_apt+=(time)
command -v zstd >/dev/null || need_apt+=(zstd)
command -v git >/dev/null || need_apt+=(git)
if (( ${#need_apt[@]} )); then
  command -v apt-get >/dev/null || die "missing ${need_apt[*]} and no apt-get: install them by hand"
  SUDO=""; (( EUID == 0 )) || SUDO="sudo"
  echo "installing ${need_apt[*]} ..." >&2
  if ! apt-cache policy restic 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    $SUDO apt-get update -qq
  fi
  # This image may fail once with "dpkg-deb: failed to read archive"; a second run succeeds.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >&2 \
    || $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >&2 \
    || die "apt-get install ${need_apt[*]} failed"
fi
for exe in restic borg zstd git; do
  command -v "$exe" >/dev/null || die "$exe is still missing after installing"
done

# --- rustic (from crates.io; no distribution packages it) ---
if [[ ",$TOOLS," == *",rustic,"* ]] && ! command -v rustic >/dev/null; then
  RUSTIC_ROOT="${RUSTIC_ROOT:-$HOME/.cache/kura-bench/rustic}"
  if [[ ! -x "$RUSTIC_ROOT/bin/rustic" ]]; then
    echo "installing rustic (cargo install rustic-rs --locked; 10-20 minutes on 2 cores) ..." >&2
    cargo install rustic-rs --locked --root "$RUSTIC_ROOT" >&2 \
      || die "cargo install rustic-rs failed; leave rustic out with --tools"
  fi
  pass+=(--rustic-bin "$RUSTIC_ROOT/bin/rustic")
fi

# --- kura ---
if [[ ",$TOOLS," == *",kura,"* ]]; then
  if [[ -z "$KURA_BIN" ]]; then
    KURA_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/kura"
    pass+=(--kura-bin "$KURA_BIN")
  fi
  if (( ! NO_BUILD )); then
    echo "building kura (cargo build --release -p kura-cli) ..." >&2
    (cd "$ROOT" && cargo build --release -p kura-cli >&2) \
      || die "building kura failed; fix the build, or leave kura out: --tools restic,borg-zstd,borg-lz4,git,cp,tar-zstd"
  fi
  [[ -x "$KURA_BIN" ]] || die "kura binary $KURA_BIN is missing (cargo build --release -p kura-cli), or leave kura out with --tools"
fi

# --- scratch (same filesystem for data copies, repositories and restores) ---
SCRATCH="$(mktemp -d "${BENCH_DIR:-/tmp}/kura-bench.XXXXXX")"
cleanup() {
  if (( KEEP )); then
    echo "scratch kept: $SCRATCH" >&2
  else
    rm -rf "$SCRATCH"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

python3 "$HERE/bench.py" --scratch "$SCRATCH" "${pass[@]}"
