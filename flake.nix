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
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: {
        default = pkgs.callPackage ./nix/package.nix { };
      });

      apps = forAllSystems (pkgs: {
        default = {
          type = "app";
          program = "${self.packages.${pkgs.system}.default}/bin/light-containerd";
        };
        lightctl = {
          type = "app";
          program = "${self.packages.${pkgs.system}.default}/bin/lightctl";
        };
      });

      devShells = forAllSystems (pkgs: {
        default = import ./nix/shell.nix { inherit pkgs; };
      });

      checks = forAllSystems (pkgs: {
        package = self.packages.${pkgs.system}.default;
        formatting = import ./nix/format-check.nix {
          inherit pkgs;
          src = ./.;
        };
        vm = import ./nix/tests/vm.nix {
          inherit pkgs;
          module = self.nixosModules.default;
        };
      });

      nixosModules.default = ./nix/module.nix;

      formatter = forAllSystems (pkgs: pkgs.nixfmt);
    };
}
