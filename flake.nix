{
  description = "light-containerd: a small rootless OCI container engine daemon";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      # f gets the system's name and its package set
      forAllSystems =
        f:
        nixpkgs.lib.genAttrs systems (
          system:
          f {
            inherit system;
            pkgs = nixpkgs.legacyPackages.${system};
          }
        );
    in
    {
      packages = forAllSystems (
        { pkgs, ... }:
        {
          default = pkgs.callPackage ./nix/package.nix { };
        }
      );

      apps = forAllSystems (
        { system, ... }:
        {
          default = {
            type = "app";
            program = "${self.packages.${system}.default}/bin/light-containerd";
          };
          lightctl = {
            type = "app";
            program = "${self.packages.${system}.default}/bin/lightctl";
          };
        }
      );

      devShells = forAllSystems (
        { pkgs, ... }:
        {
          default = import ./nix/shell.nix { inherit pkgs; };
        }
      );

      checks = forAllSystems (
        { system, pkgs }:
        {
          package = self.packages.${system}.default;
          formatting = import ./nix/format-check.nix {
            inherit pkgs;
            src = ./.;
          };
          vm = import ./nix/tests/vm.nix {
            inherit pkgs;
            module = self.nixosModules.default;
          };
        }
      );

      nixosModules.default = ./nix/module.nix;

      # `nix fmt` (Nix >= 2.25 passes no file arguments): nixfmt over the tree
      formatter = forAllSystems ({ pkgs, ... }: pkgs.nixfmt-tree);
    };
}
