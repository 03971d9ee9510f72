"""The floor for create+start: a bare `crun run -d` of an equivalent bundle
(the same busybox image, rootless with the same subordinate id mapping, the
same kind of cgroup), as the unprivileged user inside the sandbox.
Also the floor for an exec: `crun exec CTR true` in the foreground, to its
exit. Prints {"run": [ms...], "exec": [ms...]}. Run by bench.py through
sandbox.sh run.
"""
import json
import os
import shutil
import subprocess
import sys
import time

layout, work, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
uid, gid = os.getuid(), os.getgid()
cg = os.environ.get("LCD_SANDBOX_CGROUP", "")
bundle = os.path.join(work, "bundle")
root = os.path.join(work, "crun")
subprocess.run(["umoci", "unpack", "--rootless", "--image", layout + ":latest", bundle], check=True,
               stdout=subprocess.DEVNULL)
with open(os.path.join(bundle, "config.json")) as f:
    cfg = json.load(f)
cfg["process"]["terminal"] = False
cfg["process"]["args"] = ["/bin/sleep", "1000"]
cfg["process"].pop("rlimits", None)
lin = cfg["linux"]
lin["uidMappings"] = [{"containerID": 0, "hostID": uid, "size": 1},
                      {"containerID": 1, "hostID": 200000, "size": 65535}]
lin["gidMappings"] = [{"containerID": 0, "hostID": gid, "size": 1},
                      {"containerID": 1, "hostID": 200000, "size": 65535}]
lin["namespaces"] = [ns for ns in lin["namespaces"] if ns["type"] != "network"] + [{"type": "cgroup"}]
lin.pop("resources", None)
with open(os.path.join(bundle, "config.json"), "w") as f:
    json.dump(cfg, f)
if cg:
    os.makedirs("/sys/fs/cgroup%s/containers" % cg, exist_ok=True)


def set_cgroup(cid):
    if cg:
        cfg["linux"]["cgroupsPath"] = "%s/containers/%s" % (cg, cid)
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump(cfg, f)


times = []
for i in range(n):
    cid = "floor-%d" % i
    set_cgroup(cid)
    t0 = time.perf_counter()
    subprocess.run(["crun", "--root", root, "--cgroup-manager=cgroupfs", "run", "-d", "--bundle", bundle, cid],
                   check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    times.append((time.perf_counter() - t0) * 1000)
    subprocess.run(["crun", "--root", root, "delete", "-f", cid], check=True, stdout=subprocess.DEVNULL)
set_cgroup("floor-exec")
subprocess.run(["crun", "--root", root, "--cgroup-manager=cgroupfs", "run", "-d", "--bundle", bundle, "floor-exec"],
               check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
execs = []
for i in range(n + 1):
    t0 = time.perf_counter()
    subprocess.run(["crun", "--root", root, "exec", "floor-exec", "true"], check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL)
    if i > 0:   # the first one warms the caches
        execs.append((time.perf_counter() - t0) * 1000)
subprocess.run(["crun", "--root", root, "delete", "-f", "floor-exec"], check=True, stdout=subprocess.DEVNULL)
shutil.rmtree(work, ignore_errors=True)
print(json.dumps({"run": times, "exec": execs}))
