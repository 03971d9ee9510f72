#!/bin/sh
# run.sh - the offline Nix checks (ctest nix_wiring): every .nix file parses,
# and nix/package.nix and nix/module.nix evaluate against tests/nix/stub.nix
# with their wiring as check.nix expects. Skips (77) without nix-instantiate
# (Debian: apt-get install nix-bin). Builds nothing: no binary cache here.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
command -v nix-instantiate >/dev/null || { echo "SKIP: nix-instantiate missing (apt-get install nix-bin)" >&2; exit 77; }
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
export NIX_STATE_DIR="$state" NIX_CONF_DIR="$state" NIX_REMOTE="" HOME="$state"
n=0
for f in "$root"/flake.nix "$root"/nix/*.nix "$root"/nix/tests/*.nix "$root"/tests/nix/*.nix; do
    nix-instantiate --parse "$f" >/dev/null
    n=$((n + 1))
done
echo "parsed $n .nix files"
nix-instantiate --eval --strict "$root/tests/nix/check.nix"
