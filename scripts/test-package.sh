#!/usr/bin/env bash
# The packages, as a person gets them: builds the .deb and .rpm (scripts/package.sh), checks them
# with the distributions' own tools (lintian, rpmlint, desktop-file-validate, appstreamcli,
# systemd-analyze, dpkg-deb, rpm, ldd), then installs the .deb on this machine and uses it with a
# disposable HOME that has no .local: the CLI creates the default vault, the window opens on it
# under Xvfb with a D-Bus session (screenshot in target/package/shots/), a second launch hands
# off to the first, start at login writes its entry, completions complete and the manual page
# renders. Removing the package leaves the vault alone; reinstalling finds it again. The package
# is removed at the end, whatever happens.
#
# Installing needs root (or sudo). KURA_SKIP_PACKAGE_INSTALL=1 skips the install steps (and says
# so); KURA_PACKAGE_REUSE=1 tests the packages already in target/package instead of building them
# (to try a change of this script); nothing else is skipped silently.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fail() { echo "test-package: FAIL: $*" >&2; exit 1; }
step() { echo "== package: $*"; }
# `cmd | has PATTERN`: grep -q that reads all of its input first, so that the command is never
# cut off by a closed pipe (with pipefail, a SIGPIPE'd command fails the test though grep matched).
has() { grep -q "$@" <<<"$(cat)"; }

if [[ ${KURA_PACKAGE_REUSE:-} == 1 ]]; then
    echo "test-package: testing the packages already built in target/package (KURA_PACKAGE_REUSE=1)"
else
    bash scripts/package.sh
fi
out=$root/target/package
deb=$(ls "$out"/kura_*_amd64.deb)
rpm=$(ls "$out"/kura-*.x86_64.rpm)

step "lintian $deb"
# Errors and warnings fail; the overrides in packaging/lintian-overrides say why each is there.
lintian --fail-on error,warning --info "$deb"

step "rpmlint $rpm"
# The filters in packaging/rpmlint.toml say why each is there.
rpmlint --config packaging/rpmlint.toml "$rpm"

step "the files and dependencies each package declares"
deb_files=$(dpkg-deb -c "$deb")
rpm_files=$(rpm -qpl "$rpm" 2>/dev/null)
for want in usr/bin/kura usr/bin/kura-desktop usr/libexec/kura/kura-server \
    usr/lib/systemd/user/kura-serve.service usr/share/bash-completion/completions/kura usr/share/zsh/vendor-completions/_kura \
    usr/share/fish/vendor_completions.d/kura.fish usr/share/man/man1/kura.1.gz \
    usr/share/man/man1/kura-serve.1.gz usr/share/man/man1/kura-desktop.1.gz \
    usr/share/applications/Kura.desktop usr/share/metainfo/dev.kura.Kura.metainfo.xml \
    usr/share/doc/kura/copyright usr/share/doc/kura/changelog.gz \
    usr/share/doc/kura/THIRD-PARTY-NOTICES.gz; do
    grep -q " $want\$" <<<"$deb_files" || fail "the .deb lacks $want"
done
for want in /usr/bin/kura /usr/bin/kura-desktop /usr/libexec/kura/kura-server \
    /usr/lib/systemd/user/kura-serve.service \
    /usr/share/bash-completion/completions/kura /usr/share/zsh/site-functions/_kura \
    /usr/share/fish/vendor_completions.d/kura.fish /usr/share/man/man1/kura.1.gz \
    /usr/share/applications/Kura.desktop /usr/share/metainfo/dev.kura.Kura.metainfo.xml \
    /usr/share/licenses/kura/LICENSE-MIT /usr/share/licenses/kura/THIRD-PARTY-NOTICES; do
    grep -qx "$want" <<<"$rpm_files" || fail "the .rpm lacks $want"
done
control=$(dpkg-deb -f "$deb")
echo "$control"
for dep in libwebkit2gtk-4.1-0 libgtk-3-0 libayatana-appindicator3-1 libc6; do
    dpkg-deb -f "$deb" Depends | has "$dep" || fail "the .deb does not depend on $dep"
done
dpkg-deb -f "$deb" Recommends | has gnome-shell-extension-appindicator ||
    fail "the .deb does not recommend the AppIndicator extension"
grep -q '^Maintainer: The Kura developers <' <<<"$control" || fail "no real Maintainer"
grep -q '^Homepage: https://' <<<"$control" || fail "no Homepage"
rpm_requires=$(rpm -qpR "$rpm" 2>/dev/null)
echo "$rpm_requires"
for dep in 'libwebkit2gtk-4.1.so.0()(64bit)' 'libgtk-3.so.0()(64bit)' \
    'libayatana-appindicator3.so.1()(64bit)' 'libc.so.6(GLIBC_2.34)(64bit)'; do
    grep -qxF "$dep" <<<"$rpm_requires" || fail "the .rpm does not require $dep"
done
[[ $(rpm -qp --qf '%{LICENSE}' "$rpm" 2>/dev/null) == "MIT OR Apache-2.0" ]] || fail "the .rpm's license"

step "the binaries are stripped and load every library"
unpacked=$(mktemp -d)
trap 'rm -rf "$unpacked"' EXIT
dpkg-deb -x "$deb" "$unpacked"
for path in usr/bin/kura usr/bin/kura-desktop usr/libexec/kura/kura-server; do
    bin=$(basename "$path")
    file "$unpacked/$path" | has ', stripped' || fail "$bin is not stripped"
    if ldd "$unpacked/$path" | grep 'not found'; then fail "$bin needs a library that is missing"; fi
    echo "$bin: $(du -h "$unpacked/$path" | cut -f1) stripped; its line tables are in target/${KURA_PACKAGE_PROFILE:-release}/$bin.debug"
done

step "the notices of the third-party code built in"
notices=$(gunzip -c "$unpacked/usr/share/doc/kura/THIRD-PARTY-NOTICES.gz")
# (rpm2archive, not rpm2cpio: Debian's rpm2cpio 4.18 exits with 1 after writing a whole payload.)
rpm_notices=$(rpm2archive -n - <"$rpm" | tar -xO ./usr/share/licenses/kura/THIRD-PARTY-NOTICES)
[[ $notices == "$rpm_notices" ]] || fail "the .deb's and the .rpm's third-party notices differ"
# Every crate cargo builds into the two binaries, as `cargo tree` lists them, is named with its
# version, and every library built in from C sources has its own license text.
crates=$(cargo tree --locked -p kura-cli -p kura-desktop -e normal,build --prefix none \
    --target x86_64-unknown-linux-gnu --format '{p}' | awk 'NF >= 2 && $1 !~ /^kura-/ { print $1 " " substr($2, 2) }' | sort -u)
missing=$(while read -r name version; do
    grep -qF "$name $version (Rust crate): " <<<"$notices" || echo "$name $version"
done <<<"$crates")
[[ -z $missing ]] || fail "the third-party notices do not name: $(paste -sd, <<<"$missing")"
echo "third-party notices: the $(wc -l <<<"$crates") crates cargo tree lists are named"
for text in 'LINKING EXCEPTION' 'May you do good and not evil' 'For Zstandard software' \
    'Academic Free License' 'libdeflate (C library' 'fiat-crypto, in ring (C library' 'zlib-ng (C library' \
    'ISA-L (Intel Intelligent Storage Acceleration Library) (C library' 'Intel Corporation' \
    'svelte '; do
    grep -qF "$text" <<<"$notices" || fail "the third-party notices lack '$text'"
done

step "desktop-file-validate, appstreamcli validate, systemd-analyze verify"
desktop-file-validate "$unpacked/usr/share/applications/Kura.desktop"
grep -qx 'StartupWMClass=kura-desktop' "$unpacked/usr/share/applications/Kura.desktop" ||
    fail "StartupWMClass does not name the window's class"
appstreamcli validate --no-net "$unpacked/usr/share/metainfo/dev.kura.Kura.metainfo.xml"

if [[ ${KURA_SKIP_PACKAGE_INSTALL:-} == 1 ]]; then
    echo "test-package: SKIPPED the install steps (KURA_SKIP_PACKAGE_INSTALL=1)"
    exit 0
fi
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
    sudo -n true 2>/dev/null || fail "installing the .deb needs root or passwordless sudo (KURA_SKIP_PACKAGE_INSTALL=1 skips it)"
    sudo_cmd=(sudo -n)
fi
if dpkg-query -W -f='${Status}' kura 2>/dev/null | has "install ok installed"; then
    fail "a kura package is installed on this machine already; the test would replace it"
fi

home=$(mktemp -d /tmp/kura-package-home.XXXXXX)
desktop_pids=()
cleanup() {
    for pid in "${desktop_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive dpkg --purge kura >/dev/null 2>&1 || true
    rm -rf "$home" "$unpacked"
}
trap cleanup EXIT
install_deb() {
    "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$deb" >/dev/null
}
# A person's environment: a HOME with nothing in it, the PATH the package puts kura on.
as_user() {
    env -i HOME="$home" USER="${USER:-root}" LANG=C.UTF-8 PATH=/usr/bin:/bin "$@"
}

step "apt-get install $deb"
install_deb
[[ ! -e $home/.local ]] || fail "the disposable HOME is not fresh"
as_user /usr/bin/kura --version | has '^kura ' || fail "kura --version"
as_user kura status >/dev/null || fail "kura status on a fresh HOME"
vault=$home/.local/share/kura
[[ -d $vault && -f $vault/catalog.db ]] || fail "kura status did not create the default vault at $vault"
[[ $(stat -c %a "$home/.local") == 700 && $(stat -c %a "$vault") == 700 ]] ||
    fail "the folders kura created are not private to the user"
as_user kura project create first-project >/dev/null
printf 'kept across a reinstall\n' | as_user kura file save first-project notes.txt >/dev/null
as_user kura snapshot first-project -m "before the package is removed" >/dev/null
# `kura serve` and `kura mcp` run in /usr/libexec/kura/kura-server, which `kura` starts in its place.
as_user kura --json serve token | has '"token": "kura_admin_' ||
    fail "kura serve token (through /usr/libexec/kura/kura-server)"
initialize='{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"package-test","version":"1"}}}'
printf '%s\n' "$initialize" | as_user timeout 30 kura mcp | has '"name":"kura"' ||
    fail "kura mcp (through /usr/libexec/kura/kura-server) did not answer initialize"

step "the window, under Xvfb with a D-Bus session"
shots=$out/shots
mkdir -p "$shots"
display_file=$(mktemp)
Xvfb -displayfd 3 -screen 0 1440x900x24 -nolisten tcp 3>"$display_file" 2>/dev/null &
desktop_pids+=("$!")
for _ in $(seq 1 50); do [[ -s $display_file ]] && break; sleep 0.2; done
display=":$(cat "$display_file")"
rm -f "$display_file"
[[ $display != ":" ]] || fail "Xvfb did not start"
bus=$(as_user dbus-daemon --session --fork --print-address=1 --print-pid=1 --nopidfile)
bus_address=$(sed -n 1p <<<"$bus")
desktop_pids+=("$(sed -n 2p <<<"$bus")")
as_user DISPLAY=$display DBUS_SESSION_BUS_ADDRESS="$bus_address" /usr/bin/kura-desktop >"$out/desktop.log" 2>&1 &
first=$!
desktop_pids+=("$first")
window=""
for _ in $(seq 1 60); do
    window=$(DISPLAY=$display xdotool search --onlyvisible --name '^Kura$' 2>/dev/null | head -1 || true)
    [[ -n $window ]] && break
    sleep 1
done
[[ -n $window ]] || { cat "$out/desktop.log"; fail "no Kura window appeared"; }
DISPLAY=$display xprop -id "$window" WM_CLASS | has '"kura-desktop"' ||
    fail "the window's WM_CLASS is not kura-desktop (the desktop entry's StartupWMClass): $(DISPLAY=$display xprop -id "$window" WM_CLASS)"
sleep 3
DISPLAY=$display import -window root "$shots/first-window.png"
echo "screenshot: $shots/first-window.png"

step "a second launch hands off to the first"
DISPLAY=$display xdotool windowminimize "$window" || true
if ! as_user DISPLAY=$display DBUS_SESSION_BUS_ADDRESS="$bus_address" timeout 30 /usr/bin/kura-desktop >"$out/second.log" 2>&1; then
    cat "$out/second.log"
    fail "the second kura-desktop did not hand off and exit"
fi
kill -0 "$first" 2>/dev/null || fail "the first kura-desktop is gone after the second launch"
[[ -n $(DISPLAY=$display xdotool search --onlyvisible --name '^Kura$' 2>/dev/null) ]] ||
    fail "the running window was not brought forward"

step "start at login"
as_user kura autostart on >/dev/null
entry=$home/.config/autostart/kura.desktop
[[ -f $entry ]] || fail "kura autostart on wrote no $entry"
grep -qx 'Exec=/usr/bin/kura-desktop --hidden' "$entry" || fail "the autostart entry's Exec: $(grep ^Exec "$entry")"
desktop-file-validate "$entry" || fail "the autostart entry is not a valid desktop entry"
as_user kura autostart --json | has '"enabled": true' || fail "kura autostart does not report it on"
as_user kura autostart off >/dev/null
as_user kura autostart --json | has '"enabled": false' || fail "kura autostart off did not turn it off"
kill "$first"; wait "$first" 2>/dev/null || true

step "completions and the manual page"
as_user bash -c 'source <(kura completions bash)
    COMP_WORDS=(kura stat); COMP_CWORD=1; COMP_LINE="kura stat"; COMP_POINT=${#COMP_LINE}
    _kura kura stat kura; printf "%s\n" "${COMPREPLY[@]}"' | has -x status ||
    fail "bash does not complete kura stat to status"
as_user bash -c 'source /usr/share/bash-completion/completions/kura
    COMP_WORDS=(kura backup r); COMP_CWORD=2; COMP_LINE="kura backup r"; COMP_POINT=${#COMP_LINE}
    _kura kura r backup; printf "%s\n" "${COMPREPLY[@]}"' | has -x run ||
    fail "the installed bash completion does not complete kura backup r"
as_user MANWIDTH=80 man -l /usr/share/man/man1/kura.1.gz | has 'kura - ' || fail "man -l kura.1.gz"
as_user MANWIDTH=80 man kura-serve | has 'kura-serve' || fail "man kura-serve"
if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify /usr/lib/systemd/user/kura-serve.service
elif [[ ${KURA_SKIP_SYSTEMD_VERIFY:-} == 1 ]]; then
    echo "test-package: SKIPPED systemd-analyze verify: this machine has no systemd (KURA_SKIP_SYSTEMD_VERIFY=1)"
else
    fail "systemd-analyze is missing (no systemd here); KURA_SKIP_SYSTEMD_VERIFY=1 skips the unit check"
fi

step "dpkg -r keeps the vault; a reinstall finds it"
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive dpkg -r kura >/dev/null
[[ ! -e /usr/bin/kura ]] || fail "dpkg -r left /usr/bin/kura"
[[ -f $vault/catalog.db ]] || fail "removing the package removed the vault"
install_deb
as_user kura file read first-project notes.txt | has -x 'kept across a reinstall' ||
    fail "after a reinstall the project's file is not there"
as_user kura history first-project | has 'before the package is removed' ||
    fail "after a reinstall the project's version is not there"

step "dpkg --purge removes every file the package installed"
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive dpkg --purge kura >/dev/null
for f in /usr/bin/kura /usr/bin/kura-desktop /usr/libexec/kura/kura-server \
    /usr/lib/systemd/user/kura-serve.service; do
    [[ ! -e $f ]] || fail "$f is still there after dpkg --purge"
done
[[ -f $vault/catalog.db ]] || fail "purging the package removed the user's vault"
echo "test-package: all checks passed"
