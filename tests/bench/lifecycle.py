"""Lifecycle figures on the real tools: create -> created, start -> running
event, and the daemon's RSS. Prints medians and p99; asserts nothing.

    scripts/dev bench            (or: LCD_BUILD_DIR=build python3 tests/bench/lifecycle.py [N])
"""
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from harness import Env, SkipSuite  # noqa: E402


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    env = Env()
    try:
        env.setup()
    except SkipSuite as e:
        print("SKIP: %s" % e, file=sys.stderr)
        sys.exit(77)
    try:
        env.start_daemon(["--log-level", "warn"])
        pid = env.daemon_pid()
        idle = rss_kib(pid)
        c = env.client()
        w = env.client()
        w.call("events.subscribe", {})
        c.call("image.pull", {"ref": env.image})
        create, start, total, stop_rm = [], [], [], []
        for i in range(n):
            key = {"name": "b%d" % i, "tag": "1"}
            t0 = time.perf_counter()
            c.call("container.create", dict(key, image=env.image, cmd=["/bin/sleep", "1000"]))
            t1 = time.perf_counter()
            c.call("container.start", key)
            w.wait_event(lambda e: e.get("name") == key["name"] and e.get("state") == "running")
            t2 = time.perf_counter()
            create.append((t1 - t0) * 1000)
            start.append((t2 - t1) * 1000)
            total.append((t2 - t0) * 1000)
        busy = rss_kib(pid)
        for i in range(n):
            t0 = time.perf_counter()
            c.call("container.remove", {"name": "b%d" % i, "tag": "1", "force": True})
            stop_rm.append((time.perf_counter() - t0) * 1000)
        after = rss_kib(pid)
        print("light-containerd lifecycle, busybox image (cached), %d containers, %d cores" % (n, os.cpu_count()))
        for label, xs in (("create -> created reply", create), ("start -> running event", start),
                          ("create + start -> running", total), ("remove --force (running)", stop_rm)):
            print("  %-28s median %7.1f ms   p99 %7.1f ms" % (label, statistics.median(xs), pct(xs, 99)))
        print("  daemon RSS: idle %d KiB, with %d running containers %d KiB, after removing them %d KiB"
              % (idle, n, busy, after))
        c.close()
        w.close()
    finally:
        env.teardown()


if __name__ == "__main__":
    main()
