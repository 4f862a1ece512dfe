#!/usr/bin/env bash
# Two versions of the Rust docs (stable, then nightly) in one project: Kura's history as the
# versions left it (once the repack the second started in the background has ended) and after
# `kura gc`, side by side with `git gc` of the same two commits and with tar + zstd incremental.
#
#   bash bench/repack.sh                 # the std docs (about 125 MB, 2,700 files)
#   bash bench/repack.sh .               # all of the docs (about 800 MB)
#
# Needs the rust-docs component of a stable and a nightly toolchain under ~/.rustup; builds a
# release kura unless KURA_BIN is set. Works in a temporary folder, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
sub=${1:-std}
a=$(ls -d ~/.rustup/toolchains/stable-*/share/doc/rust/html/"$sub" 2>/dev/null | head -1)
b=$(ls -d ~/.rustup/toolchains/nightly-*/share/doc/rust/html/"$sub" 2>/dev/null | head -1)
if [[ -z "$a" || -z "$b" ]]; then
  echo "skipped: no stable and nightly rust-docs under ~/.rustup (rustup component add rust-docs)" >&2
  exit 0
fi
. bench/scratch.sh
kib() { du -sk "$1" | cut -f1; }
mkdir "$w/work"
cp -r "$a/." "$w/work/"
export KURA_HOME="$w/vault"
"$kura" project import "$w/work" --link --name docs -q >/dev/null
rm -rf "$w/work" && mkdir "$w/work" && cp -r "$b/." "$w/work/"
"$kura" snapshot docs -m nightly -q >/dev/null
# A version that brought this much starts a repack of its own (`kura repack-due`, in the
# background): the history is measured once it has ended, as a person finds it a minute later.
start=$(date +%s%N)
while pgrep -f -- "$KURA_HOME --quiet repack-due" >/dev/null; do sleep 0.05; done
bg_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "data: $(find "$w/work" -type f | wc -l) files, $(du -sm "$w/work" | cut -f1) MB; stable then nightly"
h=$(ls -d "$w"/vault/histories/*.git)
before=$(kib "$h")
start=$(date +%s%N)
"$kura" gc -q >/dev/null
kura_ms=$(( ($(date +%s%N) - start) / 1000000 ))
after=$(kib "$h")
chunks=$(kib "$w/vault/chunks")
g="$w/git"
git init -q "$g"
cp -r "$a/." "$g/"
(cd "$g" && git add -A && git -c gc.auto=0 -c user.name=b -c user.email=b@b commit -qm stable \
  && find . -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} + && cp -r "$b/." . \
  && git add -A && git -c gc.auto=0 -c user.name=b -c user.email=b@b commit -qm nightly)
start=$(date +%s%N)
git -C "$g" gc -q
git_ms=$(( ($(date +%s%N) - start) / 1000000 ))
git_kib=$(kib "$g/.git/objects")
vault_kib=$(kib "$w/vault")
git_all_kib=$(kib "$g/.git")
# tar + zstd incremental: stable whole, then what changed in nightly (GNU tar's
# --listed-incremental), each through zstd -3, as bench/run.sh's sets of two versions take it.
t="$w/tar"
mkdir -p "$t/data"
cp -r "$a/." "$t/data/"
tar -C "$t" --listed-incremental="$t/snar" -cf - data | zstd -q -3 -T0 -o "$t/0.tar.zst"
find "$t/data" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
cp -r "$b/." "$t/data/"
tar -C "$t" --listed-incremental="$t/snar" -cf - data | zstd -q -3 -T0 -o "$t/1.tar.zst"
tar_kib=$(( ($(stat -c %s "$t/0.tar.zst") + $(stat -c %s "$t/1.tar.zst") + 1023) / 1024 ))
printf '%-34s %10s\n' "kura history as left (KiB)" "$before"
printf '%-34s %10s\n' "  its repack in the background (ms)" "$bg_ms"
printf '%-34s %10s\n' "kura history after gc (KiB)" "$after"
printf '%-34s %10s\n' "kura chunk store (KiB)" "$chunks"
printf '%-34s %10s\n' "git gc objects (KiB)" "$git_kib"
printf '%-34s %10s\n' "kura vault, all (KiB)" "$vault_kib"
printf '%-34s %10s\n' "git repository, all (KiB)" "$git_all_kib"
printf '%-34s %10s\n' "tar + zstd incremental (KiB)" "$tar_kib"
printf '%-34s %10s\n' "kura gc (ms)" "$kura_ms"
printf '%-34s %10s\n' "git gc (ms)" "$git_ms"
python3 -c "print(f'ratio kura (history + chunks) / git gc: size {($after + $chunks) / $git_kib:.2f}x, time {$kura_ms / $git_ms:.2f}x')"
# The whole vault (catalog, settings, event log) against the whole .git (its index included).
python3 -c "print(f'ratio kura vault / git repository, all: {$vault_kib / $git_all_kib:.2f}x')"
python3 -c "print(f'ratio kura vault as left / tar + zstd incremental: {($vault_kib - $after + $before) / $tar_kib:.2f}x, after gc {$vault_kib / $tar_kib:.2f}x')"
