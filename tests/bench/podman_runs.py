"""The podman column: `podman run -d` and `podman run --rm` of the same image,
rootless, as the unprivileged user inside the sandbox, host network and the
cgroupfs manager (as light-containerd here), and `podman run -d -p` on its
default rootless network (slirp4netns in Debian's podman 4.3). Prints
{"run_d": [ms...], "run_rm": [ms...], "run_d_p": [ms...], "exec": [ms...]}
(`podman exec CTR true`, to its exit). Run by bench.py through sandbox.sh run.
"""
import json
import socket
import subprocess
import sys
import time

image, n = sys.argv[1], int(sys.argv[2])
podman = ["podman", "--cgroup-manager=cgroupfs", "--events-backend=file"]
quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "check": True}


def explain(kind, e, tb):
    """A failed podman step, with what podman said (the bench prints the tail)."""
    if not isinstance(e, subprocess.CalledProcessError):
        return sys.__excepthook__(kind, e, tb)
    print("podman %s: %s" % (" ".join(e.cmd[3:6]), (e.stderr or b"").decode(errors="replace").strip()[-250:]),
          file=sys.stderr)


sys.excepthook = explain


# what an interrupted earlier run left (the sandbox user's podman holds nothing else)
subprocess.run(podman + ["rm", "-a", "-f", "-t", "0"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
subprocess.run(podman + ["pull", "--tls-verify=false", "docker://" + image], **quiet)
subprocess.run(podman + ["run", "--rm", "--network", "host", image, "true"], **quiet)  # warm-up
run_d, run_rm, run_d_p = [], [], []
for i in range(n):
    t0 = time.perf_counter()
    subprocess.run(podman + ["run", "-d", "--network", "host", "--name", "bench%d" % i, image, "sleep", "1000"],
                   **quiet)
    run_d.append((time.perf_counter() - t0) * 1000)
    subprocess.run(podman + ["rm", "-f", "-t", "0", "bench%d" % i], **quiet)
for i in range(n):
    t0 = time.perf_counter()
    subprocess.run(podman + ["run", "--rm", "--network", "host", image, "true"], **quiet)
    run_rm.append((time.perf_counter() - t0) * 1000)
for i in range(n):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t0 = time.perf_counter()
    subprocess.run(podman + ["run", "-d", "-p", "%d:80" % port, "--name", "benchp%d" % i, image, "sleep", "1000"],
                   **quiet)
    run_d_p.append((time.perf_counter() - t0) * 1000)
    subprocess.run(podman + ["rm", "-f", "-t", "0", "benchp%d" % i], **quiet)
subprocess.run(podman + ["run", "-d", "--network", "host", "--name", "benchx", image, "sleep", "1000"], **quiet)
execs = []
for i in range(n + 1):
    t0 = time.perf_counter()
    subprocess.run(podman + ["exec", "benchx", "true"], **quiet)
    if i > 0:   # the first one warms the caches
        execs.append((time.perf_counter() - t0) * 1000)
subprocess.run(podman + ["rm", "-f", "-t", "0", "benchx"], **quiet)
print(json.dumps({"run_d": run_d, "run_rm": run_rm, "run_d_p": run_d_p, "exec": execs}))
