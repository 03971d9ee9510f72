# The development shell: compilers, the libraries, the five tools, a
# registry for the e2e suite, and the analysers CI runs.
{ pkgs }:

pkgs.mkShell {
  inputsFrom = [ (pkgs.callPackage ./package.nix { }) ];
  packages = with pkgs; [
    gcc
    clang
    cmake
    pkg-config
    libwebsockets
    json_c
    cmocka
    crun
    conmon
    skopeo
    umoci
    passt
    distribution
    clang-tools
    cppcheck
    valgrind
    gdb
    python3
    nodejs
    nixfmt
  ];
}
