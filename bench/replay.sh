#!/usr/bin/env bash
# A real edit history: the last N commits of a git repository (this one by default), each checked
# out into one folder and snapshotted by Kura, and committed by git from the same folder. Then
# Kura's repack (`kura gc`) and `git gc --aggressive` of the same commits, side by side.
#
#   bash bench/replay.sh                 # the last 200 commits of this repository
#   bash bench/replay.sh REPO 100        # the last 100 commits of another repository
#
# Builds a release kura unless KURA_BIN is set. Works in a temporary folder, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-$PWD}
count=${2:-200}
. bench/scratch.sh
git clone -q --no-checkout "$src" "$w/work"
mapfile -t commits < <(git -C "$w/work" rev-list --first-parent -n "$count" HEAD | tac)
export KURA_HOME="$w/vault"
g="$w/git.git"
git init -q --bare "$g"
gw() { git --git-dir="$g" --work-tree="$w/work" -c gc.auto=0 -c user.name=b -c user.email=b@b "$@"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
kura_ms=0
git_ms=0
for i in "${!commits[@]}"; do
  git -C "$w/work" checkout -q -f "${commits[$i]}"
  git -C "$w/work" clean -qfdx
  if (( i == 0 )); then
    start=$(now_ms)
    "$kura" project import "$w/work" --link --name replay -q >/dev/null
  else
    start=$(now_ms)
    "$kura" snapshot replay -m "${commits[$i]}" -q >/dev/null
  fi
  kura_ms=$(( kura_ms + $(now_ms) - start ))
  start=$(now_ms)
  gw add -A
  gw commit -q --allow-empty -m "${commits[$i]}"
  git_ms=$(( git_ms + $(now_ms) - start ))
done
kib() { du -sk "$1" | cut -f1; }
h=$(ls -d "$w"/vault/histories/*.git)
before=$(kib "$h")
start=$(now_ms)
"$kura" gc -q >/dev/null
gc_ms=$(( $(now_ms) - start ))
after=$(kib "$h")
chunks=$(kib "$w/vault/chunks")
catalog=$(kib "$w/vault/catalog.db")
git_loose=$(kib "$g/objects")
start=$(now_ms)
git --git-dir="$g" gc -q --aggressive
aggressive_ms=$(( $(now_ms) - start ))
git_kib=$(kib "$g/objects")
n=${#commits[@]}
echo "data: the last $n commits of $src, $(find "$w/work" -path "$w/work/.git" -prune -o -type f -print | wc -l) files at the end"
printf '%-40s %10s\n' "kura, all snapshots (ms)" "$kura_ms"
printf '%-40s %10s\n' "git add + commit, all (ms)" "$git_ms"
printf '%-40s %10s\n' "kura history before gc (KiB)" "$before"
printf '%-40s %10s\n' "git objects before gc (KiB)" "$git_loose"
printf '%-40s %10s\n' "kura history after gc (KiB)" "$after"
printf '%-40s %10s\n' "kura chunk store (KiB)" "$chunks"
printf '%-40s %10s\n' "kura catalog (KiB)" "$catalog"
printf '%-40s %10s\n' "git gc --aggressive objects (KiB)" "$git_kib"
printf '%-40s %10s\n' "kura gc (ms)" "$gc_ms"
printf '%-40s %10s\n' "git gc --aggressive (ms)" "$aggressive_ms"
python3 -c "print(f'ratio kura (history + chunks) / git gc --aggressive: size {($after + $chunks) / $git_kib:.2f}x; snapshot time per commit: kura {$kura_ms / $n:.0f} ms, git {$git_ms / $n:.0f} ms')"
