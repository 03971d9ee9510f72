# stub.nix - the few nixpkgs attributes nix/package.nix and nix/module.nix
# use, small enough to evaluate offline (no nixpkgs, no store): enough to
# check their wiring, not a model of nixpkgs. Packages are attribute sets
# with an outPath under /nix/store/stub-NAME.
let
  pkg = name: {
    inherit name;
    pname = name;
    outPath = "/nix/store/stub-${name}";
  };
  escapeShellArg = s: "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] (toString s) + "'";
  specials = [
    "\\"
    "["
    "]"
    "("
    ")"
    "{"
    "}"
    "."
    "*"
    "+"
    "?"
    "^"
    "$"
    "|"
  ];
  lib = rec {
    hasPrefix = p: s: builtins.substring 0 (builtins.stringLength p) s == p;
    escapeRegex = builtins.replaceStrings specials (map (c: "\\" + c) specials);
    hasInfix = infix: s: builtins.length (builtins.split (escapeRegex infix) s) > 1;
    cleanSourceWith =
      { src, filter }:
      {
        outPath = toString src;
        inherit filter;
      };
    makeBinPath = ps: builtins.concatStringsSep ":" (map (p: "${p}/bin") ps);
    concatMap = f: l: builtins.concatLists (map f l);
    escapeShellArgs = args: builtins.concatStringsSep " " (map escapeShellArg args);
    literalExpression = text: {
      _type = "literalExpression";
      inherit text;
    };
    mkOption = decl: decl // { _type = "option"; };
    mkEnableOption =
      what:
      mkOption {
        type = types.bool;
        default = false;
        description = "Whether to enable ${what}.";
      };
    mkIf = cond: value: if cond then value else { };
    types = {
      bool = "bool";
      str = "str";
      package = "package";
      listOf = t: "listOf ${t}";
    };
    licenses.mit.spdxId = "MIT";
    platforms.linux = [
      "x86_64-linux"
      "aarch64-linux"
    ];
  };
  names = [
    "cmake"
    "pkg-config"
    "makeWrapper"
    "python3"
    "libwebsockets"
    "json_c"
    "cmocka"
    "crun"
    "conmon"
    "skopeo"
    "umoci"
  ];
  pkgs = {
    inherit lib;
    stdenv.mkDerivation = attrs: attrs // { type = "derivation"; };
    callPackage = _: _: pkg "light-containerd";
  }
  // builtins.listToAttrs (
    map (n: {
      name = n;
      value = pkg n;
    }) names
  );
in
{
  inherit lib pkgs pkg;
}
