# stub.nix - the part of nixpkgs that flake.nix and nix/*.nix use, small
# enough to evaluate offline (no nixpkgs, no store). Where a function's
# result reaches a check, it does what nixpkgs' own does (the file it
# follows is named beside it); what it leaves out is an evaluation error,
# not a silent pass: a package nixpkgs has only as an alias, or an attribute
# nixpkgs renamed (pkgs.system), is simply absent.
let
  # A package: pname, version and name as nixpkgs sets them (the check
  # compares lib.getName, never the attribute name), an outPath in the store.
  pkg = pname: version: {
    inherit pname version;
    name = if version == "" then pname else "${pname}-${version}";
    type = "derivation";
    outPath = "/nix/store/00000000000000000000000000000000-${pname}${
      if version == "" then "" else "-" + version
    }";
  };

  lib = rec {
    # lib/strings.nix
    hasPrefix = p: s: builtins.substring 0 (builtins.stringLength p) s == p;
    hasSuffix =
      sfx: s:
      let
        ls = builtins.stringLength s;
        lx = builtins.stringLength sfx;
      in
      ls >= lx && builtins.substring (ls - lx) lx s == sfx;
    removePrefix =
      p: s:
      if hasPrefix p s then
        builtins.substring (builtins.stringLength p) (builtins.stringLength s) s
      else
        s;
    escapeRegex = builtins.replaceStrings (stringToCharacters "\\[{()^$?*+|.") (
      map (c: "\\${c}") (stringToCharacters "\\[{()^$?*+|.")
    );
    hasInfix = infix: s: builtins.match ".*${escapeRegex infix}.*" "${s}" != null;
    stringToCharacters = s: map (i: builtins.substring i 1 s) (range (builtins.stringLength s));
    range = n: builtins.genList (i: i) n;
    concatStringsSep = builtins.concatStringsSep;
    concatMapStringsSep =
      sep: f: l:
      builtins.concatStringsSep sep (map f l);
    # quotes only what is not [[:alnum:],._+:@%/-]+, as nixpkgs does
    escapeShellArg =
      arg:
      let
        s = toString arg;
      in
      if builtins.match "[[:alnum:],._+:@%/-]+" s == null then
        "'${builtins.replaceStrings [ "'" ] [ "'\\''" ] s}'"
      else
        s;
    escapeShellArgs = concatMapStringsSep " " escapeShellArg;
    getOutput = o: p: p.${o} or p.out or p;
    makeBinPath = ps: builtins.concatStringsSep ":" (map (p: "${getOutput "bin" p}/bin") ps);
    # lib/strings.nix: cmakeBool "X" true == "-DX:BOOL=TRUE"
    cmakeBool = f: c: "-D${f}:BOOL=${if c then "TRUE" else "FALSE"}";
    getName =
      x:
      if builtins.isString x then
        (builtins.parseDrvName x).name
      else
        x.pname or (builtins.parseDrvName x.name).name;

    # lib/lists.nix, lib/attrsets.nix
    concatMap = f: l: builtins.concatLists (map f l);
    optional = c: x: if c then [ x ] else [ ];
    optionals = c: l: if c then l else [ ];
    genAttrs =
      names: f:
      builtins.listToAttrs (
        map (n: {
          name = n;
          value = f n;
        }) names
      );
    mapAttrs = builtins.mapAttrs;
    isDerivation = x: builtins.isAttrs x && (x.type or null) == "derivation";

    # lib/sources.nix: the filter gets absolute path strings
    cleanSourceWith =
      { src, filter, ... }:
      {
        _isLibCleanSourceWith = true;
        origSrc = src;
        inherit filter;
        outPath = toString src;
      };

    # lib/modules.nix: the module system's own markers, not their meaning;
    # check.nix unwraps them as the module system would
    mkIf = condition: content: {
      _type = "if";
      inherit condition content;
    };
    mkMerge = contents: {
      _type = "merge";
      inherit contents;
    };
    mkOverride = priority: content: {
      _type = "override";
      inherit priority content;
    };
    mkDefault = mkOverride 1000;
    mkForce = mkOverride 50;

    # lib/options.nix
    mkOption = decl: decl // { _type = "option"; };
    mkEnableOption =
      what:
      mkOption {
        type = types.bool;
        default = false;
        description = "Whether to enable ${what}.";
      };
    literalExpression = text: {
      _type = "literalExpression";
      inherit text;
    };

    # lib/types.nix: a type is its name (and element), enough for
    # check.nix to check the values given to the module's own options
    types =
      let
        t = name: {
          _type = "type";
          inherit name;
        };
        of = name: elem: t name // { inherit elem; };
      in
      {
        bool = t "bool";
        str = t "str";
        port = t "port";
        package = t "package";
        ints.positive = t "positive int";
        ints.u32 = t "u32";
        listOf = of "listOf";
        nullOr = of "nullOr";
        attrsOf = of "attrsOf";
        submodule =
          m:
          t "submodule"
          // {
            options = (if builtins.isFunction m then m { } else m).options;
          };
      };
    licenses.mit.spdxId = "MIT";
    platforms.linux = [
      "x86_64-linux"
      "aarch64-linux"
    ];
  };

  # What nixos/lib/utils.nix gives a module as `utils`.
  utils = rec {
    escapeSystemdExecArg =
      arg:
      builtins.replaceStrings [ "%" "$" ] [ "%%" "$$" ] (
        builtins.toJSON (if builtins.isString arg then arg else toString arg)
      );
    escapeSystemdExecArgs = lib.concatMapStringsSep " " escapeSystemdExecArg;
  };

  # The packages, by attribute name as in current nixpkgs, with its pname.
  packages = {
    cmake = pkg "cmake" "3.31.7";
    pkg-config = pkg "pkg-config-wrapper" "0.29.2";
    makeWrapper = pkg "make-shell-wrapper-hook" "";
    python3 = pkg "python3" "3.13.5";
    openssl = pkg "openssl" "3.5.1";
    libwebsockets = pkg "libwebsockets" "4.4.1";
    json_c = pkg "json-c" "0.18";
    cmocka = pkg "cmocka" "2.0.1";
    crun = pkg "crun" "1.23";
    conmon = pkg "conmon" "2.1.13";
    skopeo = pkg "skopeo" "1.20.0";
    umoci = pkg "umoci" "0.5.0";
    passt = pkg "passt" "2025_06_11.0293c6f";
    busybox = pkg "busybox" "1.37.0";
    gcc = pkg "gcc-wrapper" "14.3.0";
    clang = pkg "clang-wrapper" "20.1.8";
    clang-tools = pkg "clang-tools" "20.1.8";
    cppcheck = pkg "cppcheck" "2.18.0";
    valgrind = pkg "valgrind" "3.25.1";
    gdb = pkg "gdb" "16.3";
    nodejs = pkg "nodejs" "22.18.0";
    # pkgs/by-name/di/distribution (docker-distribution is only an alias)
    distribution = pkg "distribution" "3.0.0";
    nixfmt = pkg "nixfmt" "1.0.1";
    # pkgs/by-name/ni/nixfmt-tree: treefmt configured for nixfmt
    nixfmt-tree = pkg "nixfmt-tree" "";
  };

  # pkgs for one system, as nixpkgs.legacyPackages.${system}
  pkgsFor =
    system:
    let
      self = packages // {
        inherit lib;
        stdenv.hostPlatform.system = system;
        stdenv.mkDerivation =
          f:
          let
            attrs = if builtins.isFunction f then f attrs else f;
          in
          attrs // pkg attrs.pname attrs.version;
        # pkgs/top-level/splice.nix, lib/customisation.nix: arguments by name
        callPackage =
          fn: args:
          let
            f = if builtins.isFunction fn then fn else import fn;
          in
          f (builtins.intersectAttrs (builtins.functionArgs f) self // args);
        mkShell = attrs: attrs // pkg "nix-shell" "";
        runCommand =
          name: env: buildCommand:
          env
          // pkg name ""
          // {
            inherit buildCommand;
          };
        buildEnv = attrs: attrs // pkg attrs.name "";
        dockerTools.buildImage = attrs: attrs // pkg "docker-image-${attrs.name}.tar.gz" "";
        # nixos/lib/testing: the test's own attributes, for check.nix to read
        testers.runNixOSTest = test: test // pkg "vm-test-run-${test.name}" "";
      };
    in
    self;

  systems = [
    "x86_64-linux"
    "aarch64-linux"
  ];
in
{
  inherit
    lib
    utils
    pkgsFor
    systems
    ;
  pkgs = pkgsFor "x86_64-linux";
  # the flake input: nixpkgs.lib and nixpkgs.legacyPackages.${system}
  nixpkgs = {
    inherit lib;
    legacyPackages = lib.genAttrs systems pkgsFor;
  };
}
