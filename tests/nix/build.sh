#!/bin/sh
# build.sh - build, check and install the project the way nixpkgs builds
# nix/package.nix (ctest nix_build): what only a Nix build would otherwise
# find out, on this machine's libraries.
#
#   - the source as the package's filter leaves it (git's files, no build
#     trees), built in its build/ subdirectory as nixpkgs' cmake hook does
#   - CMAKE_BUILD_TYPE=Release (-O3 -DNDEBUG) and nixpkgs' default hardening
#     (pkgs/build-support/cc-wrapper/add-hardening.sh: fortify3, stack
#     protector and clash protection, format with -Werror=format-security,
#     PIE, relro, bindnow, zerocallusedregs), placed before the build
#     type's flags as the wrapper places them; any compiler warning fails
#   - checkPhase's `ctest -L pkgcheck` as the build sandbox runs it: an
#     unprivileged user, HOME=/homeless-shelter (absent), a private network
#     namespace with only loopback (when run as root), a bare environment
#   - the install phase, and the installed binaries run
#
# DESIGN: a stand-in, not Nix: the libraries are Debian's (libwebsockets
# 4.1, json-c 0.16, cmocka 1.1), not nixpkgs' (4.4, 0.18, 2.0). What it
# catches is what depends on the flags, the build type and the sandbox.
# Other libraries (nixpkgs' versions built from their sources, say):
# PKG_CONFIG_PATH=PREFIX/lib/pkgconfig LD_LIBRARY_PATH=PREFIX/lib build.sh
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
git -C "$root" rev-parse --git-dir >/dev/null 2>&1 ||
    { echo "SKIP: not a git checkout (the source is git's files)" >&2; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
jobs=$(nproc 2>/dev/null || echo 2)

src=$work/source
mkdir -p "$src"
(cd "$root" && git ls-files -co --exclude-standard | grep -v -e '^build/' -e '^build-' -e '/node_modules/' |
    while IFS= read -r f; do [ -e "$f" ] && printf '%s\0' "$f"; done | xargs -0 cp --parents -t "$src")

hardening="-O2 -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=3 -fstack-protector-strong --param ssp-buffer-size=4"
hardening="$hardening -fstack-clash-protection -fPIC -Wformat -Wformat-security -Werror=format-security"
hardening="$hardening -fno-strict-overflow -fzero-call-used-regs=used-gpr"
linking="-pie -Wl,-z,relro -Wl,-z,now"

mkdir "$src/build"
cd "$src/build"
cmake .. -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$work/out" -DCMAKE_SKIP_BUILD_RPATH=ON \
    -DLCD_TESTS:BOOL=TRUE -DCMAKE_C_FLAGS="$hardening" -DCMAKE_EXE_LINKER_FLAGS="$linking" >/dev/null
if ! make -j "$jobs" >"$work/make.log" 2>&1; then
    cat "$work/make.log"
    echo "FAIL: the build with nixpkgs' flags"
    exit 1
fi
if grep -n "warning:" "$work/make.log"; then
    echo "FAIL: compiler warnings with nixpkgs' flags (above)"
    exit 1
fi
echo "built with Release and nixpkgs' hardening, no warnings, against" \
    "$(pkg-config --modversion libwebsockets json-c cmocka | paste -sd' ') (libwebsockets json-c cmocka)"

# checkPhase, as the build sandbox would run it
mkdir -p "$work/tmp"
check="env -i HOME=/homeless-shelter TMPDIR=$work/tmp TERM=dumb PATH=/usr/bin:/bin"
check="$check ${LD_LIBRARY_PATH:+LD_LIBRARY_PATH=$LD_LIBRARY_PATH} ctest -L pkgcheck --output-on-failure"
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null && command -v setpriv >/dev/null && command -v ip >/dev/null; then
    chown -R nobody "$src" "$work/tmp"
    chmod 755 "$work"
    # shellcheck disable=SC2086 # $check is a command line
    unshare --net sh -c "ip link set lo up && exec setpriv --reuid=nobody --regid=nogroup --clear-groups $check"
else
    echo "not root: checkPhase runs as $(id -un) on this machine's network"
    # shellcheck disable=SC2086
    $check
fi
echo "checkPhase (ctest -L pkgcheck) passed in a build-sandbox-like place"

make install >/dev/null
if command -v nm >/dev/null && ! nm -D "$work/out/bin/light-containerd" | grep -q "__.*_chk"; then
    echo "FAIL: no fortified calls in the binary (-D_FORTIFY_SOURCE=3 not in effect)"
    exit 1
fi
for prog in light-containerd lightctl; do
    [ -x "$work/out/bin/$prog" ] || { echo "FAIL: $prog not installed in bin/"; exit 1; }
done
"$work/out/bin/light-containerd" --version
"$work/out/bin/lightctl" --help >/dev/null
if command -v readelf >/dev/null; then
    readelf -d "$work/out/bin/light-containerd" | grep -q "BIND_NOW\|FLAGS.*NOW" ||
        { echo "FAIL: not linked with -z now"; exit 1; }
fi
echo "installed: bin/light-containerd and bin/lightctl run"
