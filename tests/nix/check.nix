# check.nix - evaluate flake.nix, nix/package.nix, nix/module.nix and
# nix/tests/vm.nix against stub.nix and check what real nixpkgs would
# reject (ctest nix_wiring, through run.sh):
#   nix-instantiate --eval --strict -A result tests/nix/check.nix
#     => "ok: N checks", or an error naming each check that failed
#   nix-instantiate --eval --strict --json -A testScript tests/nix/check.nix
#     => the VM test's Python, for lint.py
# Each check is named after what nixpkgs does that the check stands for.
let
  stub = import ./stub.nix;
  schema = import ./schema.nix;
  inherit (stub) lib pkgs utils;
  root = ../..;
  rootStr = toString root;
  inherit (builtins)
    all
    any
    attrNames
    concatLists
    elem
    filter
    isAttrs
    isList
    isString
    length
    ;

  # --- the module system's markers, resolved as lib/modules.nix does: a
  # false mkIf contributes nothing, mkMerge merges, priorities unwrap
  absent = {
    _type = "absent";
  };
  isAbsent = v: isAttrs v && (v._type or "") == "absent";
  merge2 =
    path: a: b:
    if isAbsent a then
      b
    else if isAbsent b then
      a
    else if isList a && isList b then
      a ++ b
    else if isAttrs a && isAttrs b && !(lib.isDerivation a) && !(lib.isDerivation b) then
      a // builtins.mapAttrs (n: v: if a ? ${n} then merge2 "${path}.${n}" a.${n} v else v) b
    else
      throw "conflicting definitions of ${path}";
  unwrap =
    v:
    if isAttrs v && (v._type or "") == "if" then
      if v.condition then unwrap v.content else absent
    else if isAttrs v && (v._type or "") == "merge" then
      builtins.foldl' (merge2 "mkMerge") absent (map unwrap v.contents)
    else if isAttrs v && (v._type or "") == "override" then
      unwrap v.content
    else if isAttrs v && !(v ? _type) && !(lib.isDerivation v) then
      let
        u = builtins.mapAttrs (_: unwrap) v;
      in
      removeAttrs u (filter (n: isAbsent u.${n}) (attrNames u))
    else if isList v then
      filter (x: !(isAbsent x)) (map unwrap v)
    else
      v;
  # a module's whole config: nothing at all is {}
  resolve =
    v:
    let
      u = unwrap v;
    in
    if isAbsent u then { } else u;

  # --- schema.nix: refuse any option path or sub-field it does not list
  join = path: n: if path == "" then n else "${path}.${n}";
  typeOk =
    t: v:
    let
      after = p: lib.removePrefix p t;
    in
    if t == "bool" then
      builtins.isBool v
    else if t == "str" then
      isString v
    else if t == "int" || t == "u32" then
      builtins.isInt v && v >= 0
    else if t == "port" then
      builtins.isInt v && v >= 0 && v <= 65535
    else if t == "positive int" then
      builtins.isInt v && v > 0
    else if t == "package" then
      lib.isDerivation v
    else if lib.hasPrefix "nullOr " t then
      v == null || typeOk (after "nullOr ") v
    else if lib.hasPrefix "listOf " t then
      isList v && all (typeOk (after "listOf ")) v
    else if lib.hasPrefix "attrsOf " t then
      isAttrs v && all (x: typeOk (after "attrsOf ") x) (builtins.attrValues v)
    else
      throw "schema.nix: unknown type ${t}";
  walk =
    path: s: v:
    if isString s then
      lib.optional (!(typeOk s v)) "${path}: not a ${s}"
    else if isList s then
      if isList v then
        concatLists (map (walk "${path}[]" (builtins.head s)) v)
      else
        [ "${path}: not a list" ]
    else if s ? _nullOr then
      if v == null then [ ] else walk path s._nullOr v
    else if s ? _directives then
      if isAttrs v then
        concatLists (
          map (
            n:
            lib.optional (!(elem n s._directives)) "${join path n}: a directive schema.nix lacks"
            ++ lib.optional (
              !(any (f: f v.${n}) [
                isString
                builtins.isInt
                builtins.isBool
                isList
              ])
            ) "${join path n}: not a directive value"
          ) (attrNames v)
        )
      else
        [ "${path}: not an attribute set" ]
    else if s ? "<name>" then
      if isAttrs v then
        concatLists (map (n: walk (join path n) s."<name>" v.${n}) (attrNames v))
      else
        [ "${path}: not an attribute set" ]
    else if isAttrs v && !(lib.isDerivation v) then
      concatLists (map (field path s v) (attrNames v))
    else
      [ "${path}: not an attribute set" ];
  field =
    path: s: v: n:
    if s ? ${n} then walk (join path n) s.${n} v.${n} else [ "${join path n}: no option" ];
  # a module's declared option types, as schema entries
  fromType =
    t:
    if t.name == "submodule" then
      builtins.mapAttrs (_: o: fromType o.type) t.options
    else if t.name == "nullOr" && t.elem.name == "submodule" then
      { _nullOr = fromType t.elem; }
    else if t ? elem then
      "${t.name} ${fromType t.elem}"
    else
      t.name;

  # --- nix/package.nix, called as nixpkgs' callPackage would
  p = pkgs.callPackage (root + "/nix/package.nix") { };
  names = map lib.getName;
  has = l: x: elem (lib.getName x) (names l);
  src = p.src;
  keeps = rel: type: src.filter "${rootStr}/${rel}" type;
  testsCmake = builtins.readFile (root + "/tests/CMakeLists.txt");
  labelLines = filter isString (builtins.split "\n" testsCmake);
  tools = [
    "crun"
    "conmon"
    "skopeo"
    "umoci"
    "passt"
  ];

  # --- nix/module.nix, as the module system calls it
  settings = {
    enable = true;
    package = pkgs.callPackage (root + "/nix/package.nix") { };
    user = "lcd";
    listen = "127.0.0.1:7780";
    insecureRegistries = [ "127.0.0.1:5000" ];
    subIdRange = null;
    # systemd would expand both: they must reach the daemon as written
    extraArgs = [
      "--max-containers"
      "64"
      "--data-note=%h"
      "$HOME"
    ];
  };
  module =
    s:
    import (root + "/nix/module.nix") {
      inherit lib pkgs utils;
      config.services.light-containerd = s;
    };
  enabled = module settings;
  config = resolve enabled.config;
  fixed =
    resolve
      (module (
        settings
        // {
          subIdRange = {
            start = 2000000000;
            count = 65536;
          };
        }
      )).config;
  svc = config.systemd.services.light-containerd;
  exec = svc.serviceConfig.ExecStart;
  user = config.users.users.lcd;
  options = enabled.options.services.light-containerd;
  optionSchema = builtins.mapAttrs (_: o: fromType o.type) options;
  fullSchema = schema // {
    services = schema.services // {
      light-containerd = optionSchema;
    };
  };

  # --- flake.nix, its outputs with the stub as the nixpkgs input
  flake = import (root + "/flake.nix");
  outputs = flake.outputs {
    self = outputs // {
      outPath = rootStr;
    };
    nixpkgs = stub.nixpkgs;
  };
  perSystem = f: all f stub.systems;
  lock = builtins.fromJSON (builtins.readFile (root + "/flake.lock"));
  locked = lock.nodes.${lock.nodes.${lock.root}.inputs.nixpkgs}.locked;
  original = lock.nodes.${lock.nodes.${lock.root}.inputs.nixpkgs}.original;

  # --- nix/tests/vm.nix, through the flake
  vm = outputs.checks.x86_64-linux.vm;
  node = vm.nodes.machine {
    inherit pkgs lib;
    config = { };
  };

  checks = {
    # the stub itself, against results nixpkgs documents (lib/strings.nix,
    # lib/tests/misc.nix, nixos/lib/utils.nix)
    "stub: escapeShellArg quotes only what needs quoting, as nixpkgs' does" =
      map lib.escapeShellArg [
        "foo"
        "--listen"
        "127.0.0.1:7780"
        "a b"
        "esc'ape\nme"
        "$HOME"
      ] == [
        "foo"
        "--listen"
        "127.0.0.1:7780"
        "'a b'"
        "'esc'\\''ape\nme'"
        "'$HOME'"
      ];
    "stub: escapeSystemdExecArg doubles % and $" =
      utils.escapeSystemdExecArgs [
        "%h"
        "$X"
        "a b"
      ] == ''"%%h" "$$X" "a b"'';
    "stub: packages are named as nixpkgs names them" =
      lib.getName pkgs.json_c == "json-c" && pkgs.json_c.name == "json-c-0.18";
    "stub: cmakeBool" = lib.cmakeBool "X" true == "-DX:BOOL=TRUE";
    "stub: a false mkIf is nothing, mkMerge merges" =
      resolve (lib.mkIf false { a = 1; }) == { }
      &&
        resolve (
          lib.mkMerge [
            { a.b = [ 1 ]; }
            (lib.mkIf true { a.b = [ 2 ]; })
            (lib.mkIf false { c = 3; })
          ]
        ) == {
          a.b = [
            1
            2
          ];
        };

    "package: openssl is a build input (nixpkgs' libwebsockets.h includes <openssl/ssl.h>)" =
      has p.buildInputs pkgs.libwebsockets -> has p.buildInputs pkgs.openssl;
    "package: links libwebsockets and json-c" =
      has p.buildInputs pkgs.libwebsockets && has p.buildInputs pkgs.json_c;
    "package: built with cmake, pkg-config and makeWrapper" = all (has p.nativeBuildInputs) [
      pkgs.cmake
      pkgs.pkg-config
      pkgs.makeWrapper
    ];
    "package: cmocka, a library, among checkInputs" =
      has p.checkInputs pkgs.cmocka && !(has (p.nativeCheckInputs or [ ]) pkgs.cmocka);
    "package: the tests are configured only when they run" =
      elem (lib.cmakeBool "LCD_TESTS" p.doCheck) p.cmakeFlags;
    "package: checkPhase runs the label that fits a build sandbox, not the hour-long loops" =
      p.doCheck
      && lib.hasInfix "ctest -L pkgcheck" p.checkPhase
      && !(lib.hasInfix "-L unit" p.checkPhase);
    "package: the pkgcheck label exists and no allocation loop carries it" =
      lib.hasInfix ''LABELS "unit;pkgcheck"'' testsCmake
      && !(any (l: lib.hasInfix "alloc" l && lib.hasInfix "pkgcheck" l) labelLines);
    "package: both binaries wrapped" =
      lib.hasInfix "for prog in light-containerd lightctl" p.postFixup
      && lib.hasInfix "wrapProgram $out/bin/$prog" p.postFixup;
    "package: the wrapped PATH holds the five tools" = all (
      t: lib.hasInfix "${pkgs.${t}}/bin" p.postFixup
    ) tools;
    "package: setuid newuidmap from the host" =
      lib.hasInfix "--suffix PATH : /run/wrappers/bin" p.postFixup;
    "package: meta" =
      p.meta.mainProgram == "light-containerd"
      && p.meta.license.spdxId == "MIT"
      && p.meta.platforms == lib.platforms.linux
      && p.meta.description != "";
    "package: the source leaves out build trees, result links, .git and node_modules" =
      !(keeps "build" "directory")
      && !(keeps "build-asan" "directory")
      && !(keeps "result" "symlink")
      && !(keeps ".git" "directory")
      && !(keeps "tests/browser/node_modules" "directory");
    "package: the source keeps every file whose name only starts like a build tree" =
      all (r: keeps r "regular") [
        "CMakeLists.txt"
        "src/base/buildinfo.c"
        "include/lcd/builder.h"
        "build.md"
      ]
      && all (r: keeps r "directory") [
        "src"
        "tests/build"
        "docs"
      ];

    "module: options" =
      attrNames options == [
        "enable"
        "extraArgs"
        "insecureRegistries"
        "listen"
        "package"
        "subIdRange"
        "user"
      ];
    "module: disabled, it adds nothing (mkIf false)" =
      resolve (module (settings // { enable = false; })).config == { };
    "module: Delegate=yes" = svc.serviceConfig.Delegate == "yes";
    "module: Type=notify" = svc.serviceConfig.Type == "notify";
    "module: runs as its user" = with svc.serviceConfig; User == "lcd" && Group == "lcd";
    "module: ExecStart quoted for systemd (% and $ doubled), not for a shell" =
      exec == utils.escapeSystemdExecArgs (
        [
          "${settings.package}/bin/light-containerd"
          "--runtime-dir"
          "/run/light-containerd"
          "--data-dir"
          "/var/lib/light-containerd"
          "--listen"
          "127.0.0.1:7780"
          "--insecure-registry"
          "127.0.0.1:5000"
        ]
        ++ settings.extraArgs
      )
      && lib.hasInfix ''"--data-note=%%h" "$$HOME"'' exec;
    "module: state and runtime dirs" =
      svc.serviceConfig.StateDirectory == "light-containerd"
      && svc.serviceConfig.RuntimeDirectory == "light-containerd";
    "module: subordinate ids from NixOS' allocator by default, no fixed range" =
      user.autoSubUidGidRange or false && !(user ? subUidRanges) && !(user ? subGidRanges);
    "module: a fixed subordinate range when asked" =
      fixed.users.users.lcd.subUidRanges == [
        {
          startUid = 2000000000;
          count = 65536;
        }
      ]
      &&
        fixed.users.users.lcd.subGidRanges == [
          {
            startGid = 2000000000;
            count = 65536;
          }
        ]
      && !(fixed.users.users.lcd ? autoSubUidGidRange);
    "module: a system user" = (user.isSystemUser or null) == true;
    "module: started at boot" = elem "multi-user.target" svc.wantedBy;

    "flake: packages, apps, checks, devShells and formatter for both systems" = perSystem (
      s:
      let
        bin = "${outputs.packages.${s}.default}/bin";
      in
      lib.isDerivation outputs.packages.${s}.default
      && outputs.apps.${s}.default.type == "app"
      && outputs.apps.${s}.lightctl.type == "app"
      && outputs.apps.${s}.default.program == "${bin}/light-containerd"
      && outputs.apps.${s}.lightctl.program == "${bin}/lightctl"
      && all (c: lib.isDerivation outputs.checks.${s}.${c}) [
        "package"
        "formatting"
        "vm"
      ]
      && lib.isDerivation outputs.devShells.${s}.default
      && all lib.isDerivation outputs.devShells.${s}.default.packages
    );
    "flake: the formatter is nixfmt-tree (nix fmt passes no files since Nix 2.25)" = perSystem (
      s: lib.getName outputs.formatter.${s} == "nixfmt-tree"
    );
    "flake: its module is nix/module.nix" = outputs.nixosModules.default == root + /nix/module.nix;
    "flake: flake.lock pins the nixpkgs the flake names" =
      lock.version == 7
      && locked.type == "github"
      && locked.owner == "NixOS"
      && locked.repo == "nixpkgs"
      && builtins.match "[0-9a-f]{40}" locked.rev != null
      && builtins.match "sha256-[A-Za-z0-9+/]{43}=" locked.narHash != null
      && builtins.isInt locked.lastModified
      && flake.inputs.nixpkgs.url == "github:${original.owner}/${original.repo}/${original.ref}";
    "formatting: nixfmt checks every .nix directory" =
      all (d: lib.hasInfix d outputs.checks.x86_64-linux.formatting.buildCommand)
        [
          "flake.nix"
          "nix/*.nix"
          "nix/tests/*.nix"
          "tests/nix/*.nix"
        ];

    "vm: the node imports the module" = node.imports == [ outputs.nixosModules.default ];
  };
  # errors from the schema walk, named by option path
  schemaErrors =
    map (e: "module sets ${e}") (walk "" fullSchema config)
    ++ map (e: "module (fixed range) sets ${e}") (walk "" fullSchema fixed)
    ++ map (e: "vm node sets ${e}") (walk "" fullSchema (removeAttrs node [ "imports" ]));
  failed = filter (n: !checks.${n}) (attrNames checks) ++ schemaErrors;
in
{
  result =
    if failed == [ ] then
      "ok: ${toString (length (attrNames checks))} checks, every option set is in schema.nix"
    else
      throw "nix checks failed: ${builtins.concatStringsSep "; " failed}";
  inherit (vm) testScript;
}
