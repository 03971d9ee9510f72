#!/bin/sh
# run.sh - the offline Nix checks (ctest nix_wiring). What runs here:
#   1. every .nix file parses (nix-instantiate --parse)
#   2. code lines fit nixfmt's 100 columns (lint.py width)
#   3. flake.nix's outputs, nix/package.nix, nix/module.nix and
#      nix/tests/vm.nix evaluate against stub.nix with the wiring, the
#      option schema and the lock check.nix expects
#   4. the VM test's Python parses and is lint-clean (lint.py testscript)
# What only a machine with nixpkgs can check: that it builds (nix flake
# check), that nixfmt agrees, and the VM test itself. Skips (77) without
# nix-instantiate (Debian: apt-get install nix-bin) or pyflakes.
# ROOT=DIR checks another tree (tests/nix/mutants.py does).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=${ROOT:-$(cd "$here/../.." && pwd)}
command -v nix-instantiate >/dev/null || { echo "SKIP: nix-instantiate missing (apt-get install nix-bin)" >&2; exit 77; }
# Debian's python3 has Debian's pyflakes (a pyenv python first on PATH may not)
py=/usr/bin/python3
[ -x "$py" ] || py=python3
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
export NIX_STATE_DIR="$state" NIX_CONF_DIR="$state" NIX_REMOTE="" HOME="$state"
echo "build-users-group =" >"$state/nix.conf" # evaluation only: no builders
files=$(ls "$root"/flake.nix "$root"/nix/*.nix "$root"/nix/tests/*.nix "$root"/tests/nix/*.nix)
n=0
for f in $files; do
    nix-instantiate --parse "$f" >/dev/null
    n=$((n + 1))
done
echo "parsed $n .nix files"
# shellcheck disable=SC2086 # one word per file
"$py" "$here/lint.py" width $files
echo "every code line within 100 columns"
nix-instantiate --eval --strict -A result "$root/tests/nix/check.nix"
nix-instantiate --eval --strict --json -A testScript "$root/tests/nix/check.nix" >"$state/script.json"
"$py" "$here/lint.py" testscript machine <"$state/script.json"
echo "the VM test script parses and is lint-clean"
