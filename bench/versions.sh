#!/usr/bin/env bash
# Many versions of one real project: 20 consecutive releases of git's source (v2.30.0 … v2.49.0,
# about 4,000 files each), or of any project whose release tarballs are in one folder, checked
# out one after another into the same folder as a `git checkout` would (only changed files
# rewritten, files gone removed), and each tool takes a version after every release. Then what
# each one stores, side by side:
#
#   Kura          the vault as the snapshots left it (once the repacks they started in the
#                 background have ended), and again after `kura gc`
#   git           loose objects as `git commit` left them, and after `git gc --aggressive`
#   tar + zstd    one incremental tar (`--listed-incremental`) per release, each through zstd -3
#   restic        `backup` after every release (repository format 2, --compression auto)
#   borg          `create --compression zstd,3` after every release
#   rustic        `backup` after every release, if RUSTIC_BIN or `rustic` is found
#
#   bash bench/versions.sh [GIT_SOURCE] [FIRST_MINOR] [LAST_MINOR]
#   bash bench/versions.sh RELEASES_FOLDER
#
# GIT_SOURCE is a clone of https://github.com/git/git with its tags (default
# ~/.cache/kura-bench/git.git, cloned bare there when missing). RELEASES_FOLDER holds one
# `NAME-VERSION.tar.gz` per release (each with one top folder, as sdists and GitHub's release
# tarballs are), taken in version order: for example 20 releases of Django from PyPI,
# `pip download --no-deps --no-binary :all: -d DIR django==5.0 …`. KURA_BIN is used if set;
# otherwise a release build is made. Tools that are not installed are left out and named. Works
# in a temporary folder, removed at the end; prints one table (bytes and seconds, with each
# tool's stored size over tar + zstd's).
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:-$HOME/.cache/kura-bench/git.git}
first=${2:-30}
last=${3:-49}
. bench/scratch.sh
tags=()
if compgen -G "$src/*.tar.gz" >/dev/null; then
  # Each release as one tagged commit of a scratch repository, so that the releases are checked
  # out as git's own are.
  releases=$(realpath "$src")
  label="releases in $releases"
  src="$w/releases.git"
  git init -q --bare "$src"
  while read -r tarball; do
    tag=$(basename "$tarball" .tar.gz)
    rm -rf "$w/release" && mkdir "$w/release"
    tar -xzf "$tarball" -C "$w/release" --strip-components=1
    GIT_INDEX_FILE="$w/release.index" git --git-dir="$src" --work-tree="$w/release" add -A -f
    tree=$(GIT_INDEX_FILE="$w/release.index" git --git-dir="$src" write-tree)
    commit=$(git -c user.name=b -c user.email=b@b --git-dir="$src" commit-tree "$tree" -m "$tag")
    git --git-dir="$src" tag "$tag" "$commit"
    tags+=("$tag")
  done < <(ls "$releases"/*.tar.gz | sort -V)
  rm -rf "$w/release" "$w/release.index"
else
  label="git's source"
  if [[ ! -d "$src" ]]; then
    mkdir -p "$(dirname "$src")"
    git clone --bare --quiet https://github.com/git/git "$src"
  fi
  for ((m = first; m <= last; m++)); do
    git --git-dir="$src" rev-parse -q --verify "v2.$m.0^{commit}" >/dev/null \
      || { echo "no tag v2.$m.0 in $src" >&2; exit 1; }
    tags+=("v2.$m.0")
  done
fi
rustic=${RUSTIC_BIN:-$(command -v rustic || true)}
data="$w/project"
mkdir -p "$data"

have() { command -v "$1" >/dev/null; }
tools=(kura tar-zstd git)
have restic && tools+=(restic)
have borg && tools+=(borg)
[[ -n "$rustic" ]] && tools+=(rustic)
missing=()
for t in restic borg rustic; do [[ " ${tools[*]} " == *" $t "* ]] || missing+=("$t"); done

export KURA_HOME="$w/kura"
export RESTIC_PASSWORD=kura-bench RESTIC_CACHE_DIR="$w/restic-cache"
export RUSTIC_PASSWORD=kura-bench RUSTIC_CACHE_DIR="$w/rustic-cache" RUSTIC_NO_PROGRESS=true
export BORG_BASE_DIR="$w/borg-base" BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
g="$w/git.git"
git init -q --bare "$g"
declare -A secs

# Runs "$@" quietly and adds its wall time to the tool $1's total.
timed() {
  local tool=$1
  shift
  local start end
  start=$(date +%s%N)
  "$@" >/dev/null 2>"$w/err" || { echo "$tool failed: $*" >&2; cat "$w/err" >&2; exit 1; }
  end=$(date +%s%N)
  secs[$tool]=$(( ${secs[$tool]:-0} + (end - start) / 1000000 ))
}

# Runs kura "$@", then waits for the repacks it started in the background (`kura repack-due`,
# once versions have left many packs) and adds that wait to kura-bg's total as well.
kura_version() {
  "$kura" "$@"
  local start end
  start=$(date +%s%N)
  while pgrep -f -- "$KURA_HOME --quiet repack-due" >/dev/null; do sleep 0.02; done
  end=$(date +%s%N)
  secs[kura-bg]=$(( ${secs[kura-bg]:-0} + (end - start) / 1000000 ))
}

snapshot() {
  local tool=$1 n=$2 tag=$3
  case $tool in
    kura)
      if ((n == 0)); then timed kura kura_version project import "$data" --link --name project -q
      else timed kura kura_version snapshot project -m "$tag" -q; fi ;;
    tar-zstd)
      timed tar-zstd bash -o pipefail -c \
        "tar --listed-incremental='$w/tar.snar' -C '$data' -cf - . | zstd -3 -q -o '$w/tar/$n.tar.zst'" ;;
    git)
      timed git git --git-dir="$g" --work-tree="$data" -c gc.auto=0 add -A
      timed git git --git-dir="$g" --work-tree="$data" -c gc.auto=0 -c user.name=b \
        -c user.email=b@b commit -q --allow-empty -m "$tag" ;;
    restic)
      ((n == 0)) && restic -r "$w/restic" init --repository-version 2 >/dev/null
      timed restic restic -r "$w/restic" --compression auto backup --tag "$tag" "$data" ;;
    borg)
      ((n == 0)) && borg init -e none "$w/borg" >/dev/null
      timed borg borg create --compression zstd,3 "$w/borg::$tag" "$data" ;;
    rustic)
      ((n == 0)) && "$rustic" -r "$w/rustic" init >/dev/null 2>&1
      timed rustic "$rustic" -r "$w/rustic" backup --tag "$tag" "$data" ;;
  esac
}

mkdir "$w/tar"
"$kura" status -q >/dev/null
for i in "${!tags[@]}"; do
  tag=${tags[$i]}
  # As a checkout does: changed files rewritten, files gone removed, the rest untouched.
  GIT_INDEX_FILE="$w/checkout.index" git --git-dir="$src" --work-tree="$data" read-tree -u --reset "$tag"
  echo "$tag: $(git --git-dir="$src" ls-tree -r "$tag" | wc -l) files" >&2
  for t in "${tools[@]}"; do snapshot "$t" "$i" "$tag"; done
done

bytes() { du -sb "$@" | awk '{s += $1} END {print s}'; }
declare -A stored
stored[kura]=$(bytes "$KURA_HOME")
stored[tar-zstd]=$(bytes "$w/tar")
stored[git]=$(bytes "$g/objects")
[[ -d "$w/restic" ]] && stored[restic]=$(bytes "$w/restic")
[[ -d "$w/borg" ]] && stored[borg]=$(bytes "$w/borg")
[[ -d "$w/rustic" ]] && stored[rustic]=$(bytes "$w/rustic")
start=$(date +%s%N)
"$kura" gc -q >/dev/null
kura_gc_ms=$(( ($(date +%s%N) - start) / 1000000 ))
kura_after=$(bytes "$KURA_HOME")
kura_objects=$(bytes "$KURA_HOME/histories" "$KURA_HOME/chunks")
start=$(date +%s%N)
git --git-dir="$g" gc -q --aggressive
git_gc_ms=$(( ($(date +%s%N) - start) / 1000000 ))
git_after=$(bytes "$g/objects")

base=${stored[tar-zstd]}
mb() { python3 -c "print(f'{$1 / 1e6:,.1f}')"; }
ratio() { python3 -c "print(f'{$1 / $base:.2f}x')"; }
echo
echo "${#tags[@]} ${label}, ${tags[0]} … ${tags[-1]}; $(find "$data" -type f | wc -l) files," \
  "$(du -sm "$data" | cut -f1) MB at the last"
printf '%-44s %12s %10s %12s\n' "what" "stored MB" "/ tar+zstd" "snapshots s"
row() { printf '%-44s %12s %10s %12s\n' "$1" "$(mb "$2")" "$(ratio "$2")" "$3"; }
s() { python3 -c "print(f'{${secs[$1]:-0} / 1000:.1f}')"; }
row "tar + zstd -3, incremental" "${stored[tar-zstd]}" "$(s tar-zstd)"
row "Kura vault, as the snapshots left it" "${stored[kura]}" "$(s kura)"
echo "  (of its snapshots' time, $(s kura-bg) s were the repacks they started in the background)"
row "Kura vault, after kura gc ($(python3 -c "print(f'{$kura_gc_ms / 1000:.1f}')") s)" "$kura_after" "–"
row "  of it, histories and chunks" "$kura_objects" "–"
row "git, loose objects" "${stored[git]}" "$(s git)"
row "git, after gc --aggressive ($(python3 -c "print(f'{$git_gc_ms / 1000:.1f}')") s)" "$git_after" "–"
for t in restic borg rustic; do
  [[ -n "${stored[$t]:-}" ]] && row "$t" "${stored[$t]}" "$(s "$t")"
done
((${#missing[@]})) && echo "not installed, left out: ${missing[*]}"
echo "versions: restic $(restic version 2>/dev/null | cut -d' ' -f2 || true)," \
  "borg $(borg --version 2>/dev/null | cut -d' ' -f2 || true)," \
  "rustic $([[ -n "$rustic" ]] && "$rustic" --version 2>/dev/null | awk '{print $2}' || true)," \
  "$(git --version), zstd $(zstd -V | grep -o 'v[0-9.]*' | head -1)"
