# schema.nix - every NixOS option nix/module.nix and nix/tests/vm.nix set,
# with the type nixpkgs declares, read off the nixpkgs file named beside
# each. check.nix walks what the module sets and refuses any path or
# sub-field that is not here (a misspelt option is an evaluation error on
# NixOS; offline it would be silently ignored). A leaf is a type name;
# "<name>" stands for any attribute name (attrsOf submodule); a one-element
# list is a list of that submodule. Add an entry only after reading it in
# nixpkgs, with the file.
{
  users = {
    # nixos/modules/config/users-groups.nix (userOpts)
    users."<name>" = {
      isSystemUser = "bool";
      isNormalUser = "bool";
      group = "str";
      extraGroups = "listOf str";
      home = "str";
      createHome = "bool";
      description = "str";
      uid = "nullOr int";
      # subordinateUidRange / subordinateGidRange
      subUidRanges = [
        {
          startUid = "int";
          count = "int";
        }
      ];
      subGidRanges = [
        {
          startGid = "int";
          count = "int";
        }
      ];
      autoSubUidGidRange = "bool";
    };
    # nixos/modules/config/users-groups.nix (groupOpts)
    groups."<name>" = {
      gid = "nullOr int";
      members = "listOf str";
    };
  };

  # nixos/modules/config/system-path.nix
  environment.systemPackages = "listOf package";

  # nixos/lib/systemd-unit-options.nix (serviceOptions, commonUnitOptions)
  # and nixos/modules/system/boot/systemd.nix
  systemd.services."<name>" = {
    description = "str";
    wantedBy = "listOf str";
    requiredBy = "listOf str";
    after = "listOf str";
    before = "listOf str";
    wants = "listOf str";
    requires = "listOf str";
    path = "listOf package";
    environment = "attrsOf str";
    # unitOption: free-form, but each key is a directive of systemd.service(5),
    # systemd.exec(5), systemd.kill(5) or systemd.resource-control(5)
    serviceConfig = {
      _directives = [
        "Type"
        "NotifyAccess"
        "ExecStart"
        "ExecStop"
        "ExecReload"
        "User"
        "Group"
        "Delegate"
        "RuntimeDirectory"
        "RuntimeDirectoryMode"
        "StateDirectory"
        "StateDirectoryMode"
        "KillMode"
        "KillSignal"
        "TimeoutStartSec"
        "TimeoutStopSec"
        "Restart"
        "RestartSec"
        "LimitNOFILE"
        "WorkingDirectory"
      ];
    };
  };

  # nixos/modules/services/misc/docker-registry.nix
  services.dockerRegistry = {
    enable = "bool";
    listenAddress = "str";
    port = "port";
    storagePath = "nullOr str";
    enableDelete = "bool";
    enableGarbageCollect = "bool";
  };

  # nixos/modules/virtualisation/qemu-vm.nix
  virtualisation.memorySize = "positive int";
  virtualisation.cores = "positive int";
  virtualisation.diskSize = "positive int";
}
