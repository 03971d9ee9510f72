# NixOS module: services.light-containerd.
#
# Runs the daemon as its own unprivileged user (rootless by design), with
# cgroup v2 delegation (Delegate=yes: pause/resume and resource limits need
# a subtree it owns), subordinate uid/gid ranges for that user (newuidmap's
# setuid wrappers are NixOS's own, in /run/wrappers/bin) and Type=notify:
# the daemon writes READY=1 to $NOTIFY_SOCKET once it listens. Containers
# do not outlive the service: stopping it stops and removes them.
#
# ExecStart is quoted for systemd (utils.escapeSystemdExecArgs), not for a
# shell: systemd itself expands % specifiers and $VARIABLES, so an extra
# argument holding either must reach the daemon as written.
{
  config,
  lib,
  pkgs,
  utils,
  ...
}:

let
  cfg = config.services.light-containerd;
  runtimeDir = "/run/light-containerd";
  dataDir = "/var/lib/light-containerd";
  args = [
    "${cfg.package}/bin/light-containerd"
    "--runtime-dir"
    runtimeDir
    "--data-dir"
    dataDir
    "--listen"
    cfg.listen
  ]
  ++ lib.concatMap (r: [
    "--insecure-registry"
    r
  ]) cfg.insecureRegistries
  ++ cfg.extraArgs;
in
{
  options.services.light-containerd = {
    enable = lib.mkEnableOption "light-containerd, a rootless container engine daemon";

    package = lib.mkOption {
      type = lib.types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./package.nix { }";
      description = "The light-containerd package to run.";
    };

    user = lib.mkOption {
      type = lib.types.str;
      default = "light-containerd";
      description = ''
        The unprivileged user the daemon (and every container) runs as. It is
        created with a group of the same name and a subordinate id range.
        Clients on the Unix socket (${runtimeDir}/api.sock) must run as this
        user; others use the TCP listener with the token in ${runtimeDir}/token.
      '';
    };

    listen = lib.mkOption {
      type = lib.types.str;
      default = "127.0.0.1:7780";
      example = "none";
      description = ''
        TCP listener (ADDR:PORT) for the API and the dashboard, or "none".
        Off loopback it needs --tls-cert/--tls-key in extraArgs.
      '';
    };

    insecureRegistries = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
      example = [ "127.0.0.1:5000" ];
      description = "Registries (HOST[:PORT]) reached over plain HTTP or unverified TLS.";
    };

    subIdRange = lib.mkOption {
      type = lib.types.nullOr (
        lib.types.submodule {
          options = {
            start = lib.mkOption {
              type = lib.types.ints.u32;
              description = "First subordinate uid and gid.";
            };
            count = lib.mkOption {
              type = lib.types.ints.positive;
              default = 65536;
              description = "How many ids (a container maps them as uids 1..count).";
            };
          };
        }
      );
      default = null;
      example = {
        start = 2000000000;
        count = 65536;
      };
      description = ''
        The subordinate uid/gid range of the user: the ids its containers run
        as. null (the default) lets NixOS allocate one
        (users.users.<name>.autoSubUidGidRange), which never overlaps the
        ranges it allocates for other users. A fixed range must not overlap
        any other user's: NixOS' automatic ranges start at 100000, 65536 each.
      '';
    };

    extraArgs = lib.mkOption {
      type = lib.types.listOf lib.types.str;
      default = [ ];
      example = [
        "--max-containers"
        "256"
      ];
      description = "More daemon options (light-containerd --help).";
    };
  };

  config = lib.mkIf cfg.enable {
    users.groups.${cfg.user} = { };
    users.users.${cfg.user} = {
      isSystemUser = true;
      group = cfg.user;
      home = dataDir;
      description = "light-containerd daemon";
    }
    # containers get ids of their own (without them: a single-id mapping)
    // (
      if cfg.subIdRange == null then
        { autoSubUidGidRange = true; }
      else
        {
          subUidRanges = [
            {
              startUid = cfg.subIdRange.start;
              inherit (cfg.subIdRange) count;
            }
          ];
          subGidRanges = [
            {
              startGid = cfg.subIdRange.start;
              inherit (cfg.subIdRange) count;
            }
          ];
        }
    );

    environment.systemPackages = [ cfg.package ];

    systemd.services.light-containerd = {
      description = "light-containerd rootless container engine";
      wantedBy = [ "multi-user.target" ];
      after = [ "network-online.target" ];
      wants = [ "network-online.target" ];
      environment.XDG_RUNTIME_DIR = runtimeDir;
      serviceConfig = {
        Type = "notify";
        NotifyAccess = "main";
        ExecStart = utils.escapeSystemdExecArgs args;
        User = cfg.user;
        Group = cfg.user;
        Delegate = "yes";
        RuntimeDirectory = "light-containerd";
        RuntimeDirectoryMode = "0700";
        StateDirectory = "light-containerd";
        StateDirectoryMode = "0700";
        KillMode = "mixed"; # SIGTERM to the daemon, which stops and removes its containers
        TimeoutStopSec = 60;
        Restart = "on-failure";
        LimitNOFILE = 65536;
      };
    };
  };
}
