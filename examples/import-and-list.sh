#!/bin/sh
# Import the example table into a scratch home and list it.
# Run from anywhere: sh examples/import-and-list.sh, with destconfig on the PATH (after
# ". .venv/bin/activate"), or DESTCONFIG set to the command (DESTCONFIG=.venv/bin/destconfig).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${DESTCONFIG:-}" ]; then
    if command -v destconfig >/dev/null 2>&1; then
        DESTCONFIG=destconfig
    elif [ -x "$here/../.venv/bin/destconfig" ]; then
        DESTCONFIG="$here/../.venv/bin/destconfig"  # the README's install, not activated
    else
        echo "import-and-list.sh: destconfig is not on the PATH: run '. .venv/bin/activate'" \
            "or set DESTCONFIG to the command" >&2
        exit 127
    fi
fi
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
mkdir -p "$home/configuration"
cp "$here/destinations.cfg" "$home/configuration/"
"$DESTCONFIG" --home "$home" < "$here/import-and-list.answers"
