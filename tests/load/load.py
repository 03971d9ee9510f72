#!/usr/bin/env python3
"""Load: many WebSocket clients doing mixed requests plus many subscribers,
against the real daemon and tools in the e2e sandbox.

    load.py [--clients N] [--subscribers N] [--seconds S]

Defaults are the CI size (32 clients, 100 subscribers, 10 s); the figures
in the notes come from --clients 256 --subscribers 1000 --seconds 60. The
client is tests/load/loadgen.c (one poll loop; see its header for the mix).
Asserts: no error but the documented `busy`, no request left unanswered,
every subscriber saw every event exactly once and in order (one that fell
behind got the documented `lagged` and resubscribed with `since`), the
daemon's RSS stays bounded and comes back near its baseline, and nothing is
left behind.
Prints the figures as a table.
"""
import argparse
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from harness import as_user, build_dir, env_or_skip  # noqa: E402

RSS_PEAK_MAX_MIB = 96      # with 256 clients, 1000 subscribers and their queues
RSS_AFTER_SLACK_MIB = 8    # back near the baseline once clients and containers are gone


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--subscribers", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    env = env_or_skip()
    if env is None:
        return 77
    failures = []
    try:
        loadgen = os.path.join(env.bin, "loadgen")
        shutil.copy2(os.path.join(build_dir(), "tests", "loadgen"), loadgen)
        conns = args.clients + args.subscribers + 16
        env.start_daemon(["--no-new-keyring", "--max-clients", str(conns), "--max-containers", "2048",
                          "--log-level", "info"])
        pid = env.daemon_pid()
        c = env.client()
        for i in range(8):   # what the clients inspect
            c.call("container.create", {"image": env.image, "name": "base%d" % i, "tag": "1", "cmd": ["/bin/true"]})
        time.sleep(1)
        before = rss_kib(pid)
        peak = [before]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    peak[0] = max(peak[0], rss_kib(pid))
                except OSError:
                    return
                time.sleep(0.1)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        r = subprocess.run(as_user([loadgen, env.socket, env.image, str(args.clients), str(args.subscribers),
                                    str(args.seconds)]), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=args.seconds + 300)
        stop.set()
        sampler.join()
        sys.stderr.write(r.stderr)
        if r.returncode != 0:
            raise AssertionError("loadgen failed (%d): %s" % (r.returncode, r.stderr.strip()[-2000:]))
        fig = dict(kv.split("=") for kv in r.stdout.split()[1:])
        for i in range(8):
            c.call("container.remove", {"name": "base%d" % i, "tag": "1"})
        left = c.call("container.list")
        c.close()
        time.sleep(2)
        after = rss_kib(pid)
        print("| load: %s clients, %s subscribers, %s s | |" % (fig["clients"], fig["subscribers"], fig["seconds"]))
        print("|---|---|")
        print("| requests/s (all kinds) | %s (%s requests, %s create-start-remove cycles) |"
              % (fig["rps"], fig["requests"], fig["cycles"]))
        print("| light requests (inspect, list, info, subscribe) p50 / p99 | %.1f ms / %.1f ms |"
              % (int(fig["light_p50_us"]) / 1000, int(fig["light_p99_us"]) / 1000))
        print("| create, start, remove p50 / p99 | %.1f ms / %.1f ms |"
              % (int(fig["heavy_p50_us"]) / 1000, int(fig["heavy_p99_us"]) / 1000))
        print("| errors | busy %s (documented), other %s |" % (fig["busy"], fig["errors"]))
        print("| events delivered to subscribers | %s, p50 %.2f ms, p99 %.2f ms; lagged and resubscribed %s "
              "times, events missed %s |" % (fig["events"], int(fig["event_p50_us"]) / 1000,
                                            int(fig["event_p99_us"]) / 1000, fig["lagged"], fig["gaps"]))
        print("| daemon RSS before / peak / after | %.1f / %.1f / %.1f MiB |"
              % (before / 1024, peak[0] / 1024, after / 1024))
        if int(fig["errors"]) != 0:
            failures.append("%s errors other than busy" % fig["errors"])
        if int(fig["gaps"]) != 0:
            failures.append("subscribers missed or repeated %s events" % fig["gaps"])
        if int(fig["cycles"]) == 0 or int(fig["requests"]) == 0:
            failures.append("no work was done")
        if args.subscribers and int(fig["events"]) < args.subscribers:
            failures.append("subscribers got %s events" % fig["events"])
        sanitized = os.environ.get("LCD_SANITIZED") == "1"   # shadow memory and quarantine: RSS means little
        if peak[0] > RSS_PEAK_MAX_MIB * 1024 and not sanitized:
            failures.append("RSS peaked at %.1f MiB (bound %d)" % (peak[0] / 1024, RSS_PEAK_MAX_MIB))
        if after > before + RSS_AFTER_SLACK_MIB * 1024 and not sanitized:
            failures.append("RSS after %.1f MiB, baseline %.1f MiB" % (after / 1024, before / 1024))
        if left:
            failures.append("containers left: %s" % [x["name"] for x in left])
        if env.conmons():
            failures.append("conmon processes left: %s" % env.conmons())
        if os.listdir(os.path.join(env.data, "containers")):
            failures.append("bundles left")
    finally:
        try:
            env.teardown()
        except AssertionError as e:
            failures.append(str(e)[:4000])
    if failures:
        print("FAILED: " + "; ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
