#!/usr/bin/env python3
"""mutants.py - each offline Nix check fails on the bug it guards (ctest nix_mutants).

For every bug below, a copy of the tree gets that one bug and run.sh must
fail naming it; the unchanged copy must pass. The bugs are the ones real
nixpkgs (or nixfmt, the NixOS test driver, the module system) would have
caught and the first stub let through, plus the ones each new check is for.
Exit 77 when run.sh skips (no nix-instantiate or pyflakes).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# (what, file, old text, new text or None to delete the file, what run.sh must say)
MUTANTS = [
    ("openssl not a build input", "nix/package.nix",
     "    openssl\n    libwebsockets\n", "    libwebsockets\n",
     r"openssl is a build input"),
    ("the tests' hour-long loops in checkPhase", "nix/package.nix",
     "ctest -L pkgcheck", "ctest -L unit", r"checkPhase runs the label"),
    ("tests configured without cmocka", "nix/package.nix",
     '(lib.cmakeBool "LCD_TESTS" finalAttrs.doCheck)', '"-DLCD_TESTS=ON"',
     r"configured only when they run"),
    ("the source filter drops every name starting with build", "nix/package.nix",
     '(top && type == "directory" && (base == "build" || lib.hasPrefix "build-" base))',
     'lib.hasPrefix "build" base', r"keeps every file whose name only starts like a build tree"),
    ("a code line nixfmt would break", "nix/package.nix",
     'description = "Rootless OCI container engine daemon with a live JSON-RPC/WebSocket API";',
     'description = "Rootless OCI container engine daemon with a live JSON-RPC/WebSocket API and dashboard";',
     r"package\.nix:\d+: 10\d columns"),
    ("a tab", "nix/shell.nix", "    gcc\n", "\tgcc\n", r"shell\.nix:\d+: a tab"),
    ("the VM test echoes $? under set -euo pipefail", "nix/tests/vm.nix",
     """    status, out = machine.execute(f"{ctl} run --rm --wait {ref} /bin/sh -c 'exit 3'")
    assert status == 3, f"run --wait exited {status}: {out}"
""",
     """    status = machine.succeed(f"{ctl} run --rm --wait {ref} /bin/sh -c 'exit 3'; echo $?")
    assert status.strip() == "3", f"run --wait exited {status}"
""", r"succeed\(\) echoes \$\?"),
    ("the VM test pushes before the registry listens", "nix/tests/vm.nix",
     "    machine.wait_for_open_port(5000)  # the unit is up before the registry listens\n", "",
     r"pushes to a registry before any wait_for_open_port"),
    ("the VM test uses a name the driver does not define", "nix/tests/vm.nix",
     'machine.succeed(f"{ctl} check")', 'machine.succeed(f"{ctll} check")',
     r"undefined name 'ctll'"),
    ("the VM test does not parse", "nix/tests/vm.nix",
     'machine.succeed(f"{ctl} check")', 'machine.succeed(f"{ctl} check"',
     r"does not parse"),
    ("pkgs.system (renamed stdenv.hostPlatform.system)", "flake.nix",
     "package = self.packages.${system}.default;", "package = self.packages.${pkgs.system}.default;",
     r"attribute 'system' missing"),
    ("formatter = nixfmt (nix fmt passes no files)", "flake.nix",
     "pkgs.nixfmt-tree", "pkgs.nixfmt", r"the formatter is nixfmt-tree"),
    ("an app that is not type app", "flake.nix",
     'type = "app";\n            program = "${self.packages.${system}.default}/bin/lightctl";',
     'type = "application";\n            program = "${self.packages.${system}.default}/bin/lightctl";',
     r"packages, apps, checks, devShells"),
    ("docker-distribution, an alias", "nix/shell.nix",
     "    distribution\n", "    docker-distribution\n", r"undefined variable 'docker-distribution'"),
    ("no flake.lock", "flake.lock", None, None, r"flake\.lock"),
    ("ExecStart quoted for a shell", "nix/module.nix",
     "ExecStart = utils.escapeSystemdExecArgs args;", "ExecStart = lib.escapeShellArgs args;",
     r"ExecStart quoted for systemd"),
    ("a fixed subordinate range overlapping NixOS' automatic ones", "nix/module.nix",
     "{ autoSubUidGidRange = true; }",
     "{\n subUidRanges = [ { startUid = 200000; count = 65536; } ];\n"
     " subGidRanges = [ { startGid = 200000; count = 65536; } ];\n}",
     r"no fixed range"),
    ("a misspelt option", "nix/module.nix",
     "isSystemUser = true;", "isSystemuser = true;",
     r"users\.users\.lcd\.isSystemuser: no option"),
    ("a sub-field users-groups.nix does not have", "nix/module.nix",
     "startUid = cfg.subIdRange.start;", "start = cfg.subIdRange.start;",
     r"subUidRanges\[\]\.start: no option"),
    ("a value of the wrong type", "nix/module.nix",
     "isSystemUser = true;", 'isSystemUser = "yes";',
     r"isSystemUser: not a bool"),
    ("a systemd directive that does not exist", "nix/module.nix",
     "LimitNOFILE = 65536;", "LimitNoFile = 65536;",
     r"serviceConfig\.LimitNoFile: a directive schema\.nix lacks"),
    ("config not guarded by enable", "nix/module.nix",
     "config = lib.mkIf cfg.enable {", "config = lib.mkIf true {",
     r"disabled, it adds nothing"),
    ("a VM node option that does not exist", "nix/tests/vm.nix",
     "virtualisation.memorySize = 2048;", "virtualisation.memory = 2048;",
     r"vm node sets virtualisation\.memory: no option"),
]


def copy_tree(dst):
    p = subprocess.run(["git", "-C", ROOT, "ls-files", "-co", "--exclude-standard"],
                       capture_output=True, text=True)
    if p.returncode != 0:
        print("SKIP: not a git checkout (the tree copied is git's files)", file=sys.stderr)
        sys.exit(77)
    files = p.stdout.split("\n")
    for f in files:
        if not f or not os.path.exists(os.path.join(ROOT, f)):
            continue
        os.makedirs(os.path.join(dst, os.path.dirname(f)), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, f), os.path.join(dst, f))


def run(tree):
    p = subprocess.run(["sh", os.path.join(HERE, "run.sh")], env={**os.environ, "ROOT": tree},
                       capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout + p.stderr


def main():
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        clean = os.path.join(tmp, "clean")
        copy_tree(clean)
        rc, out = run(clean)
        if rc == 77:
            print(out.strip(), file=sys.stderr)
            return 77
        if rc != 0:
            print(f"the unchanged tree fails:\n{out}")
            return 1
        for i, (what, path, old, new, expect) in enumerate(MUTANTS):
            tree = os.path.join(tmp, f"m{i}")
            shutil.copytree(clean, tree, symlinks=True)
            target = os.path.join(tree, path)
            if old is None:
                os.unlink(target)
            else:
                with open(target, encoding="utf-8") as f:
                    text = f.read()
                if old not in text:
                    print(f"FAIL {what}: {path} no longer holds the text to change (update mutants.py)")
                    failures += 1
                    continue
                with open(target, "w", encoding="utf-8") as f:
                    f.write(text.replace(old, new, 1))
            rc, out = run(tree)
            if rc == 0 or not re.search(expect, out):
                print(f"FAIL {what}: run.sh exited {rc} without /{expect}/:\n{out}")
                failures += 1
            else:
                print(f"caught: {what}")
            shutil.rmtree(tree)
    print(f"{len(MUTANTS) - failures} of {len(MUTANTS)} bugs caught")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
