#!/bin/sh
# Import the example table into a scratch home and list it.
# Run from anywhere: sh examples/import-and-list.sh (set DESTCONFIG to the command if it is
# not on PATH, e.g. DESTCONFIG=".venv/bin/destconfig").
set -eu
here=$(cd "$(dirname "$0")" && pwd)
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
mkdir -p "$home/configuration"
cp "$here/destinations.cfg" "$home/configuration/"
${DESTCONFIG:-destconfig} --home "$home" < "$here/import-and-list.answers"
