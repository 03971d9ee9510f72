# checks.formatting: every .nix file as nixfmt (RFC style) would write it.
{ pkgs, src }:

pkgs.runCommand "light-containerd-nix-format"
  {
    nativeBuildInputs = [ pkgs.nixfmt-rfc-style ];
    inherit src;
  }
  ''
    cd $src
    nixfmt --check flake.nix nix/*.nix nix/tests/*.nix tests/nix/*.nix
    touch $out
  ''
