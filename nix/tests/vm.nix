# NixOS VM test: the module, a local registry (services.dockerRegistry), a
# busybox image built with dockerTools and pushed with skopeo, and the full
# lifecycle through lightctl, with the pushed `exited` event checked.
{ pkgs, module }:

let
  image = pkgs.dockerTools.buildImage {
    name = "busybox";
    tag = "1.0";
    copyToRoot = pkgs.buildEnv {
      name = "busybox-root";
      paths = [ pkgs.busybox ];
      pathsToLink = [ "/bin" ];
    };
    config.Cmd = [ "/bin/sh" ];
  };
in
pkgs.testers.runNixOSTest {
  name = "light-containerd";

  nodes.machine =
    { pkgs, ... }:
    {
      imports = [ module ];
      virtualisation.memorySize = 2048;
      services.dockerRegistry = {
        enable = true;
        listenAddress = "127.0.0.1";
        port = 5000;
      };
      services.light-containerd = {
        enable = true;
        insecureRegistries = [ "127.0.0.1:5000" ];
      };
      environment.systemPackages = [ pkgs.skopeo ];
    };

  testScript = ''
    ctl = "runuser -u light-containerd -- lightctl --socket /run/light-containerd/api.sock"
    ref = "127.0.0.1:5000/acc/busybox:1.0"

    machine.wait_for_unit("docker-registry.service")
    machine.wait_for_open_port(5000)  # the unit is up before the registry listens
    machine.wait_for_unit("light-containerd.service")  # Type=notify: up once it listens
    # subordinate ids allocated by NixOS (autoSubUidGidRange)
    machine.succeed("grep -q '^light-containerd:' /etc/subuid", "grep -q '^light-containerd:' /etc/subgid")
    machine.succeed(
        "skopeo --insecure-policy copy --dest-tls-verify=false "
        "docker-archive:${image} docker://" + ref
    )

    # every state change is pushed: record them while the lifecycle runs
    machine.succeed(
        f"{ctl} --json events --type container.state > /tmp/events.json 2>&1 & echo $! > /tmp/events.pid"
    )
    machine.succeed(f"{ctl} pull {ref}")
    machine.succeed(f"{ctl} create --name web --tag v1 {ref} /bin/sleep 1000")
    machine.succeed(f"{ctl} start web:v1")
    machine.wait_until_succeeds(f"{ctl} ps | grep -E 'web +v1 +running'")
    machine.succeed(f"{ctl} pause web:v1")
    machine.succeed(f"{ctl} resume web:v1")
    machine.succeed(f"{ctl} stop --time 2 web:v1")
    machine.wait_until_succeeds("grep -q '\"state\":\"exited\"' /tmp/events.json")
    machine.succeed(f"{ctl} rm web:v1")
    # commands run under `set -euo pipefail`: take the status, do not echo it
    status, out = machine.execute(f"{ctl} run --rm --wait {ref} /bin/sh -c 'exit 3'")
    assert status == 3, f"run --wait exited {status}: {out}"
    machine.succeed("kill $(cat /tmp/events.pid)")
    machine.succeed(f"{ctl} check")

    # stopping the service takes its containers with it
    machine.succeed(f"{ctl} run --name left --tag 1 {ref} /bin/sleep 1000")
    machine.succeed("systemctl stop light-containerd.service")
    machine.fail("pgrep -u light-containerd -f 'sleep 1000'")
  '';
}
