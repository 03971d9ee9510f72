# check.nix - evaluate nix/package.nix and nix/module.nix against stub.nix
# and check their wiring (ctest nix_wiring, through run.sh):
#   nix-instantiate --eval --strict tests/nix/check.nix   => "ok", or an error naming what failed
let
  stub = import ./stub.nix;
  inherit (stub) lib pkgs;
  p = import ../../nix/package.nix (
    builtins.intersectAttrs (builtins.functionArgs (import ../../nix/package.nix)) pkgs
  );
  names = l: map (x: x.name) l;
  tools = [
    "crun"
    "conmon"
    "skopeo"
    "umoci"
  ];

  settings = {
    enable = true;
    package = stub.pkg "light-containerd";
    user = "lcd";
    listen = "127.0.0.1:7780";
    insecureRegistries = [ "127.0.0.1:5000" ];
    extraArgs = [
      "--max-containers"
      "64"
    ];
  };
  module =
    s:
    import ../../nix/module.nix {
      inherit lib pkgs;
      config.services.light-containerd = s;
    };
  enabled = module settings;
  disabled = module (settings // { enable = false; });
  svc = enabled.config.systemd.services.light-containerd;
  exec = svc.serviceConfig.ExecStart;
  user = enabled.config.users.users.lcd;

  checks = {
    "package: built with cmake, pkg-config and makeWrapper" =
      builtins.all (n: builtins.elem n (names p.nativeBuildInputs)) [
        "cmake"
        "pkg-config"
        "makeWrapper"
      ];
    "package: links libwebsockets and json-c" = names p.buildInputs == [
      "libwebsockets"
      "json_c"
    ];
    "package: cmocka for the checks" = builtins.elem "cmocka" (names p.nativeCheckInputs);
    "package: doCheck runs the unit tests" = p.doCheck && lib.hasInfix "ctest -L unit" p.checkPhase;
    "package: both binaries wrapped" = lib.hasInfix "for prog in light-containerd lightctl" p.postFixup
      && lib.hasInfix "wrapProgram $out/bin/$prog" p.postFixup;
    "package: the wrapped PATH holds the four tools" =
      builtins.all (t: lib.hasInfix "/nix/store/stub-${t}/bin" p.postFixup) tools;
    "package: setuid newuidmap from the host" = lib.hasInfix "--suffix PATH : /run/wrappers/bin" p.postFixup;
    "package: meta" = p.meta.mainProgram == "light-containerd" && p.meta.license.spdxId == "MIT"
      && p.meta.platforms == lib.platforms.linux && p.meta.description != "";
    "package: the source leaves out build trees and node_modules" =
      !(p.src.filter "/x/build" "directory") && !(p.src.filter "/x/tests/browser/node_modules" "directory")
      && p.src.filter "/x/src" "directory";
    "module: options" = builtins.attrNames enabled.options.services.light-containerd == [
      "enable"
      "extraArgs"
      "insecureRegistries"
      "listen"
      "package"
      "user"
    ];
    "module: disabled, it adds nothing" = disabled.config == { };
    "module: Delegate=yes" = svc.serviceConfig.Delegate == "yes";
    "module: Type=notify" = svc.serviceConfig.Type == "notify";
    "module: runs as the user" = svc.serviceConfig.User == "lcd" && svc.serviceConfig.Group == "lcd";
    "module: passes --listen" = lib.hasInfix "'--listen' '127.0.0.1:7780'" exec;
    "module: passes the insecure registries and extra args" =
      lib.hasInfix "'--insecure-registry' '127.0.0.1:5000'" exec && lib.hasInfix "'--max-containers' '64'" exec;
    "module: the daemon from the package" = lib.hasPrefix "'/nix/store/stub-light-containerd/bin/light-containerd'" exec;
    "module: state and runtime dirs" = svc.serviceConfig.StateDirectory == "light-containerd"
      && svc.serviceConfig.RuntimeDirectory == "light-containerd" && lib.hasInfix "'--data-dir' '/var/lib/light-containerd'" exec;
    "module: subordinate ids for the user" = user.subUidRanges != [ ] && user.subGidRanges != [ ] && user.isSystemUser;
    "module: started at boot" = builtins.elem "multi-user.target" svc.wantedBy;
  };
  failed = builtins.filter (n: !checks.${n}) (builtins.attrNames checks);
in
if failed == [ ] then
  "ok: ${toString (builtins.length (builtins.attrNames checks))} checks"
else
  throw "nix wiring checks failed: ${builtins.concatStringsSep "; " failed}"
