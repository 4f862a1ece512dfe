#!/usr/bin/env bash
# Builds Kura's .deb and .rpm with Tauri's bundler, from the release build (the one
# scripts/launch.sh makes; only what changed is rebuilt; KURA_PACKAGE_PROFILE=debug below):
#   /usr/bin/kura-desktop, /usr/bin/kura and /usr/libexec/kura/kura-server (where `kura serve` and
#   `kura mcp` run), stripped (their line tables kept beside the build as
#   target/<release or debug>/<name>.debug, linked with .gnu_debuglink);
#   the systemd user unit, bash/zsh/fish completions and the manual pages, generated from the
#   same clap definitions as the parser by the `kura` just built;
#   the desktop entry, AppStream metainfo, copyright and changelog from packaging/;
#   the notices of the third-party code built in (scripts/third-party-notices.py), as
#   /usr/share/doc/kura/THIRD-PARTY-NOTICES.gz and /usr/share/licenses/kura/THIRD-PARTY-NOTICES.
# The .deb's Depends come from dpkg-shlibdeps (the libraries the three binaries load); the .rpm's
# Requires name the same libraries by soname, as rpmbuild would.
# Writes target/package/kura_<version>_amd64.deb and target/package/kura-<version>-1.x86_64.rpm.
set -euo pipefail
# `cmd | has PATTERN`: grep -q that reads all of its input first, so that the command is never
# cut off by a closed pipe (with pipefail, a SIGPIPE'd command fails the test though grep matched).
has() { grep -q "$@" <<<"$(cat)"; }
cd "$(dirname "$0")/.."
[[ ${KURA_PACKAGE_SKIP_SETUP:-} == 1 ]] || bash scripts/setup.sh

# KURA_PACKAGE_PROFILE says which build goes in: `release` (the default, what a person installs) or
# `debug`, the build `cargo test --workspace` made (the same code and features, unoptimized).
# scripts/test.sh packages that one, so that CI does not compile the whole workspace a third time.
profile=${KURA_PACKAGE_PROFILE:-release}
npm run build
case $profile in
    release)
        cargo build --release --locked -p kura-desktop -p kura-cli --features kura-desktop/custom-protocol
        bundle_profile=() ;;
    debug)
        # All targets: the features of `cargo test --workspace`, so nothing it built is rebuilt.
        cargo build --workspace --all-targets --locked --features kura-desktop/custom-protocol
        bundle_profile=(--debug) ;;
    *) echo "package: KURA_PACKAGE_PROFILE is release or debug, not '$profile'" >&2; exit 2 ;;
esac
build=target/$profile

out=target/package
rm -rf "$out"
mkdir -p "$out/completions" "$out/man1" "$out/shlibs/debian"

# Strip the binaries in place, once per link: the debug part (line tables) goes to a file beside
# them first. A binary cargo did not relink is stripped already and keeps its .debug file.
for bin in kura kura-server kura-desktop; do
    path=$build/$bin
    if readelf -S "$path" | has ' \.symtab'; then
        objcopy --only-keep-debug --compress-debug-sections=zlib "$path" "$path.debug"
        strip --remove-section=.comment --remove-section=.note "$path"
        objcopy --add-gnu-debuglink="$path.debug" "$path"
    fi
done

kura=$build/kura
"$kura" completions bash >"$out/completions/kura"
"$kura" completions zsh >"$out/completions/_kura"
"$kura" completions fish >"$out/completions/kura.fish"
"$kura" manpages "$out/man1" >/dev/null
cp packaging/kura-desktop.1 "$out/man1/"
gzip -9n "$out"/man1/*.1
gzip -9n <packaging/changelog >"$out/changelog.gz"
python3 scripts/third-party-notices.py "$out/THIRD-PARTY-NOTICES"
gzip -9n <"$out/THIRD-PARTY-NOTICES" >"$out/THIRD-PARTY-NOTICES.gz"

# The .deb's dependencies, the way Debian's own packages get them.
printf 'Source: kura\n\nPackage: kura\nArchitecture: any\n' >"$out/shlibs/debian/control"
depends=$(cd "$out/shlibs" && dpkg-shlibdeps -O -e "$OLDPWD/$build/kura" \
    -e "$OLDPWD/$build/kura-server" -e "$OLDPWD/$build/kura-desktop" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[[ -n $depends ]] || { echo "package: dpkg-shlibdeps found no dependencies" >&2; exit 1; }
# The .rpm's, the way rpmbuild's elfdeps writes them: each library the binaries link
# (`libfoo.so.1()(64bit)`) and each glibc symbol version they use.
requires=$( { for bin in kura kura-server kura-desktop; do
    objdump -p "$build/$bin" | awk '
        $1 == "NEEDED" { print $2 "()(64bit)" }
        /required from/ { lib = $3; sub(":", "", lib) }
        lib != "" && $4 ~ /^GLIBC_/ { print lib "(" $4 ")(64bit)" }'
done; } | sort -u | paste -sd, -)
# (Merged into tauri.conf.json: the dependencies, and the `kura` and `kura-server` of the build
# being packaged.)
config=$(python3 -c 'import json, sys
kura = {"/usr/bin/kura": sys.argv[3], "/usr/libexec/kura/kura-server": sys.argv[4]}
print(json.dumps({"bundle": {"linux": {
    "deb": {"depends": sys.argv[1].split(", "), "files": kura},
    "rpm": {"depends": sys.argv[2].split(","), "files": kura}}}}))' "$depends" "$requires" \
    "$build/kura" "$build/kura-server")

rm -rf "$build/bundle"
npx tauri bundle --ci --bundles deb,rpm "${bundle_profile[@]}" --config "$config"

# The bundler names them after the product (Kura_...); the packages inside are named `kura`.
for built in "$build"/bundle/deb/*.deb "$build"/bundle/rpm/*.rpm; do
    name=$(basename "$built")
    cp "$built" "$out/kura${name#Kura}"
done
ls -l "$out"/*.deb "$out"/*.rpm
