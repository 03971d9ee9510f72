# checks.formatting: every .nix file as nixfmt (the RFC 166 style, nixpkgs'
# nixfmt today) would write it.
{ pkgs, src }:

pkgs.runCommand "light-containerd-nix-format"
  {
    nativeBuildInputs = [ pkgs.nixfmt ];
    inherit src;
  }
  ''
    cd $src
    nixfmt --check flake.nix nix/*.nix nix/tests/*.nix tests/nix/*.nix
    touch $out
  ''
