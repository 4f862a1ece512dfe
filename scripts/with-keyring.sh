#!/bin/sh
# Runs CMD [ARGS...] inside a private D-Bus session with an unlocked GNOME keyring (a real Secret
# Service), so that the tests keeping backup secrets in the OS keyring use a real one:
#
#   scripts/with-keyring.sh cargo test -p kura-backup --test backup keyring
#
# Needs dbus-run-session and dbus-send (package dbus-x11 and its dependencies) and
# gnome-keyring-daemon (package gnome-keyring), installed by scripts/setup.sh. The keyring lives
# in a temporary folder with a throwaway password and is removed afterwards; the user's own
# keyring is not touched. Exits with CMD's status.
set -eu
if [ $# -eq 0 ]; then
    echo "usage: $0 CMD [ARGS...]" >&2
    exit 2
fi
for tool in dbus-run-session dbus-send gnome-keyring-daemon; do
    command -v "$tool" >/dev/null || {
        echo "with-keyring: $tool is missing; run scripts/setup.sh" >&2
        exit 1
    }
done
keyrings=$(mktemp -d)
trap 'rm -rf "$keyrings"' EXIT
status=0
KURA_KEYRING_HOME=$keyrings dbus-run-session -- sh -c '
    bus() {
        dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
            "org.freedesktop.DBus.$1" string:org.freedesktop.secrets 2>/dev/null
    }
    # The daemon goes to the background; its output must not hold the caller'"'"'s pipes open.
    printf %s kura-test-keyring |
        XDG_DATA_HOME="$KURA_KEYRING_HOME" gnome-keyring-daemon --unlock --components=secrets \
            >/dev/null 2>&1
    unset KURA_KEYRING_HOME
    # Wait until it serves, so that no client starts a second one through D-Bus activation.
    tries=0
    until bus NameHasOwner | grep -q "boolean true"; do
        tries=$((tries + 1))
        if [ "$tries" -ge 100 ]; then
            echo "with-keyring: the keyring daemon did not start" >&2
            exit 1
        fi
        sleep 0.1
    done
    status=0
    "$@" || status=$?
    pid=$(bus GetConnectionUnixProcessID | awk "/uint32/ { print \$2 }")
    [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
    exit "$status"' sh "$@" || status=$?
exit "$status"
