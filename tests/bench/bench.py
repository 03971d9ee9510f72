"""light-containerd benchmark: figures side by side with the bare runtime
(and podman when installed), on the real tools, on this machine.

    scripts/dev bench [--quick]

Prints a Markdown table of medians and p99s. Asserts nothing: it is a
measurement, not a test. --quick uses fewer repetitions and 100 containers
instead of 1000 (for a smoke run).
"""
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from harness import SANDBOX, USER, Env, Exec, SkipSuite, as_user, http_get, sh  # noqa: E402

QUICK = "--quick" in sys.argv
REPS = 15 if QUICK else 40
MANY = 100 if QUICK else 1000
BIG_MB = 100


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))] if xs else float("nan")


def ms(xs):
    return "%.1f ms" % statistics.median(xs), "%.1f ms" % pct(xs, 99)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def private_kib(pid):
    """The daemon's own memory: resident pages no other process shares."""
    total = 0
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith(("Private_Clean:", "Private_Dirty:")):
                total += int(line.split()[1])
    return total


def pss_kib(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return -1


class Bench:
    def __init__(self):
        self.rows = []
        self.notes = []

    def row(self, what, ours, floor="", podman="", target=""):
        self.rows.append((what, ours, floor, podman, target))
        print("  %-58s %-28s %-22s %s" % (what, ours, floor, podman), flush=True)

    def setup(self):
        self.env = Env()
        self.env.setup()
        env = self.env
        self.small = env.image
        self.big = "%s/acc/big:%d" % (env.registry, BIG_MB)
        sh(SANDBOX, "image", str(env.port), "acc/big:%d" % BIG_MB, str(BIG_MB))
        self.wsbench = os.path.join(env.bin, "wsbench")
        shutil.copy2(os.path.join(os.environ["LCD_BUILD_DIR"], "tests", "wsbench"), self.wsbench)
        # a rootless user may own about 200 keyrings (kernel.keys.maxkeys), one
        # per container by default: the 1000-container rows need them shared
        env.start_daemon(["--log-level", "warn", "--max-containers", str(max(1024, MANY + 50)), "--no-new-keyring",
                          "--max-clients", "2000"])
        self.notes.append("the daemon ran with --no-new-keyring (1000 containers exceed the default per-user key "
                          "quota of 200 keyrings)")
        self.pid = env.daemon_pid()
        self.c = env.client()
        self.w = env.client()
        self.w.call("events.subscribe", {})
        self.podman = shutil.which("podman")

    def spares(self):
        """(taken, waited, missed) of the spare networks (/metrics)."""
        vals = dict(l.split() for l in http_get(self.env.socket, "/metrics")[2].splitlines()
                    if l.startswith("lcd_network_spares_") and "_total " in l)
        return tuple(int(vals["lcd_network_spares_%s_total" % k]) for k in ("taken", "waited", "missed"))

    def wait_state(self, name, state):
        self.w.wait_event(lambda e: e.get("name") == name and e.get("state") == state, timeout=120)

    def create_start(self):
        c = self.c
        c.call("image.pull", {"ref": self.small})
        c.call("container.create", {"image": self.small, "name": "warmup", "tag": "1", "cmd": ["/bin/true"]})
        c.call("container.remove", {"name": "warmup", "tag": "1"})
        lat, exit_lat = [], []
        time.sleep(1)  # the warm-up's create started the spare pool: let it fill, as between a user's runs
        before = self.spares()
        for i in range(REPS):
            key = {"name": "cs%d" % i, "tag": "1"}
            t0 = time.perf_counter()
            c.call("container.create", dict(key, image=self.small, cmd=["/bin/sleep", "1000"]))
            c.call("container.start", key)
            self.wait_state(key["name"], "running")
            lat.append((time.perf_counter() - t0) * 1000)
        exec_lat = []
        for i in range(REPS + 1):   # exec `true` into a running container: the handshake to the status frame
            t0 = time.perf_counter()
            x = Exec(self.env.socket, "cs0", "1", ["true"])
            x.collect()
            x.close()
            if i > 0:   # the first one warms the caches
                exec_lat.append((time.perf_counter() - t0) * 1000)
        taken, waited, missed = (a - b for a, b in zip(self.spares(), before))
        self.spare_hits = (taken, taken + missed, waited)
        pastas = [int(p) for p in subprocess.run(["pgrep", "-u", USER, "-f", "^pasta .*%s" % self.env.run],
                                                 stdout=subprocess.PIPE, text=True).stdout.split()]
        pasta_mem = []
        for p in pastas:
            try:
                pasta_mem.append((rss_kib(p), pss_kib(p)))
            except FileNotFoundError:
                pass  # a spare's pasta starting: its first process exits once the namespace is up
        for i in range(REPS):
            c.call("container.remove", {"name": "cs%d" % i, "tag": "1", "force": True})
        # the same with the host's network, and with a private one publishing a port
        variants = {}
        for label, extra in (("host", {"network": "host"}), ("port", None)):
            variants[label] = []
            for i in range(REPS):
                key = {"name": "%s%d" % (label, i), "tag": "1"}
                params = dict(key, image=self.small, cmd=["/bin/sleep", "1000"])
                params.update(extra or {"ports": [{"hostPort": free_port(), "containerPort": 80}]})
                t0 = time.perf_counter()
                c.call("container.create", params)
                c.call("container.start", key)
                self.wait_state(key["name"], "running")
                variants[label].append((time.perf_counter() - t0) * 1000)
            for i in range(REPS):
                c.call("container.remove", {"name": "%s%d" % (label, i), "tag": "1", "force": True})
        for i in range(REPS):
            key = {"name": "rt%d" % i, "tag": "1"}
            t0 = time.perf_counter()
            c.call("container.create", dict(key, image=self.small, cmd=["/bin/true"]))
            c.call("container.start", key)
            self.wait_state(key["name"], "exited")
            c.call("container.remove", key)
            exit_lat.append((time.perf_counter() - t0) * 1000)
        floors = self.crun_floor()
        floor, floor_exec = (floors["run"], floors["exec"]) if floors else (None, None)
        podman = self.podman_runs()
        self.row("warm create+start -> `running` event (default: private network)", "%s / %s" % ms(lat),
                 "%s / %s" % ms(floor) if floor else "n/a", podman[0])
        self.row("... of which took a network made ahead (spare)", "%d of %d (%d the one being started)"
                 % self.spare_hits)
        self.row("... with the host's network", "%s / %s" % ms(variants["host"]), "", "")
        self.row("... private network, one published port (-p)", "%s / %s" % ms(variants["port"]), "", podman[2])
        if pasta_mem:
            self.row("pasta per container (%d of them): RSS / PSS" % len(pasta_mem), "%.0f KiB / %.0f KiB"
                     % (statistics.mean(m[0] for m in pasta_mem), statistics.mean(m[1] for m in pasta_mem)))
        self.ratio_create = statistics.median(lat) / statistics.median(floor) if floor else None
        self.ratio_host = statistics.median(variants["host"]) / statistics.median(floor) if floor else None
        self.net_cost = statistics.median(lat) - statistics.median(variants["host"])
        self.port_median = statistics.median(variants["port"])
        self.create_start_median = statistics.median(lat)
        self.row("run to exit of /bin/true (create, start, exited, remove)", "%s / %s" % ms(exit_lat), "", podman[1])
        self.row("exec `true`: request -> status frame", "%s / %s" % ms(exec_lat),
                 "`crun exec` %s / %s" % ms(floor_exec) if floor_exec else "n/a", podman[3])
        self.exec_median = statistics.median(exec_lat)
        self.ratio_exec = self.exec_median / statistics.median(floor_exec) if floor_exec else None

    def crun_floor(self):
        work = tempfile.mkdtemp(prefix="lcd-floor-", dir=self.env.tmp)
        shutil.chown(work, USER, USER)
        script = os.path.join(self.env.bin, "crun_floor.py")
        shutil.copy2(os.path.join(HERE, "crun_floor.py"), script)
        r = subprocess.run([SANDBOX, "run", "--cgroup-name", "lcd-floor-%d" % os.getpid(), "--", "/usr/bin/python3",
                            script, "/var/cache/lcd-test/images/busybox-v2", work, str(REPS)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            self.notes.append("crun floor failed: %s" % r.stderr.strip()[-300:])
            return None
        return json.loads(r.stdout.strip().splitlines()[-1])

    def podman_runs(self):
        if not self.podman:
            msg = "podman not installed: its column is skipped"
            print("  NOTE: %s" % msg, flush=True)
            self.notes.append(msg)
            return ("skipped (not installed)",) * 4
        script = os.path.join(self.env.bin, "podman_runs.py")
        shutil.copy2(os.path.join(HERE, "podman_runs.py"), script)
        r = subprocess.run([SANDBOX, "run", "--cgroup-name", "lcd-podman-%d" % os.getpid(), "--", "/usr/bin/python3",
                            script, self.small, str(REPS)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            msg = "podman failed here: %s" % r.stderr.strip()[-300:]
            print("  NOTE: %s" % msg, flush=True)
            self.notes.append(msg)
            return ("failed",) * 4
        res = json.loads(r.stdout.strip().splitlines()[-1])
        self.podman_run_d = statistics.median(res["run_d"])
        self.podman_run_d_p = statistics.median(res["run_d_p"])
        self.podman_exec = statistics.median(res["exec"])
        return ("`run -d` %s / %s" % ms(res["run_d"]), "`run --rm` %s / %s" % ms(res["run_rm"]),
                "`run -d -p` %s / %s" % ms(res["run_d_p"]), "`exec` %s / %s" % ms(res["exec"]))

    def create_by_size(self):
        c = self.c
        for label, image in (("2 MB", self.small), ("%d MB" % BIG_MB, self.big)):
            first = None
            warm = []
            for i in range(REPS // 2 + 1):
                key = {"name": "sz%d" % i, "tag": label.split()[0]}
                t0 = time.perf_counter()
                c.call("container.create", dict(key, image=image, cmd=["/bin/true"]), timeout=600)
                dt = (time.perf_counter() - t0) * 1000
                if first is None and image == self.big:
                    first = dt
                elif first is None:
                    first = -1  # the small image is cached already; first create measured below
                else:
                    warm.append(dt)
                c.call("container.remove", key)
            self.row("create (%s image), warm" % label, "%s / %s" % ms(warm))
            if image == self.big:
                self.row("create (%s image), first: pull + unpack" % label, "%.0f ms" % first)
                self.big_warm = statistics.median(warm)
            else:
                self.small_warm = statistics.median(warm)

    def rtt(self, clients, method, params, seconds=3):
        r = subprocess.run(as_user([self.wsbench, "rtt", self.env.socket, str(clients), "16", str(seconds), method,
                            json.dumps(params)]), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError("wsbench: %s" % r.stderr)
        return dict(kv.split("=") for kv in r.stdout.split()[1:])

    def throughput(self):
        c = self.c
        c.call("container.create", {"image": self.small, "name": "probe", "tag": "1", "cmd": ["/bin/sleep", "1000"]})
        for n in (1, 16, 64):
            r = self.rtt(n, "container.inspect", {"name": "probe", "tag": "1"})
            self.row("container.inspect round trips/s, %d client%s (16 in flight each)" % (n, "s" if n > 1 else ""),
                     "%s/s (p50 %s us, p99 %s us)" % (r["rps"], r["p50_us"], r["p99_us"]))
            if r["errors"] != "0":
                self.notes.append("inspect at %d clients: %s errors" % (n, r["errors"]))
            if n == 16:
                self.rps16 = float(r["rps"])

    def many(self):
        c = self.c
        idle = self.rss_idle
        sizes = {}
        ids = []
        for i in range(MANY):
            ids.append(c.send("container.create", {"image": self.small, "name": "m%d" % i, "tag": "1",
                                                   "cmd": ["/bin/sleep", "100000"]}))
            if len(ids) >= 48 or i == MANY - 1:   # stay within the queue
                for x in ids:
                    r = c.wait(x, timeout=600)
                    if "error" in r:
                        raise RuntimeError("create %d of %d failed: %s\n%s" % (i, MANY, r["error"],
                                                                              self.env.daemon_log()))
                ids = []
        for i in range(MANY):
            c.call("container.start", {"name": "m%d" % i, "tag": "1"})
            if i + 1 == 100:
                sizes[100] = (rss_kib(self.pid), private_kib(self.pid))
        sizes[MANY] = (rss_kib(self.pid), private_kib(self.pid))
        self.row("daemon RSS idle (private)", "%.1f MiB (%.1f MiB)" % (idle / 1024.0, self.private_idle / 1024.0))
        for n in sorted(sizes):
            self.row("daemon RSS with %d running containers (private)" % n,
                     "%.1f MiB (%.1f MiB)" % (sizes[n][0] / 1024.0, sizes[n][1] / 1024.0))
        self.rss_many = sizes[MANY][0]
        conmons = [int(p) for p in subprocess.run(["pgrep", "-u", USER, "-f", "conmon .*%s" % self.env.run],
                                                  stdout=subprocess.PIPE, text=True).stdout.split()]
        rss = [rss_kib(p) for p in conmons]
        pss = [pss_kib(p) for p in conmons]
        self.row("conmon per container (%d of them): RSS / PSS" % len(conmons),
                 "%.0f KiB / %.0f KiB" % (statistics.mean(rss), statistics.mean(pss)))
        r = self.rtt(1, "container.list", {}, seconds=3)
        self.row("container.list with %d containers, 1 client" % (MANY + 1),
                 "%s/s (p50 %.1f ms)" % (r["rps"], int(r["p50_us"]) / 1000.0))

    def fanout(self):
        c = self.c
        c.call("container.start", {"name": "probe", "tag": "1"})
        self.fan = {}
        for n in (1, 100, 1000):
            r = subprocess.run(as_user([self.wsbench, "fanout", self.env.socket, str(n), "10" if n < 1000 else "5",
                                "probe", "1"]), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            if r.returncode != 0:
                self.notes.append("fan-out at %d: %s" % (n, r.stderr.strip()))
                continue
            f = dict(kv.split("=") for kv in r.stdout.split()[1:])
            self.fan[n] = int(f["p99_us"])
            self.row("event fan-out to %d subscriber%s: publish -> arrival" % (n, "s" if n > 1 else ""),
                     "%.2f ms / %.2f ms" % (int(f["p50_us"]) / 1000.0, int(f["p99_us"]) / 1000.0))

    def run(self):
        print("light-containerd benchmark: %d cores, %s, reps %d" % (os.cpu_count(), time.strftime("%Y-%m-%d"), REPS))
        print("  %-58s %-28s %-22s %s" % ("", "light-containerd (median / p99)", "bare crun run -d", "podman"))
        if shutil.which("podman"):
            print("  (%s)" % subprocess.run(["podman", "--version"], stdout=subprocess.PIPE, text=True).stdout.strip())
        self.setup()
        time.sleep(0.5)
        self.rss_idle = rss_kib(self.pid)
        self.private_idle = private_kib(self.pid)
        self.create_start()
        self.create_by_size()
        self.throughput()
        self.many()
        self.fanout()
        print()
        print("| | light-containerd (median / p99) | bare `crun run -d` | podman |")
        print("|---|---|---|---|")
        for what, ours, floor, podman, _ in self.rows:
            print("| %s | %s | %s | %s |" % (what, ours, floor, podman))
        print()
        print("Against the targets:")
        if self.ratio_create:
            print("- warm create+start: %.2fx the bare crun floor (target <= 1.3x); host network %.2fx"
                  % (self.ratio_create, self.ratio_host))
        print("- the private network adds %.1f ms to create+start (target <= 5 ms)" % self.net_cost)
        if getattr(self, "podman_run_d", None):
            print("- warm create+start: %.2fx podman run -d (target <= 0.2x)"
                  % (self.create_start_median / self.podman_run_d))
            print("- with one published port: %.1fx faster than podman run -d -p (target >= 5x)"
                  % (self.podman_run_d_p / self.port_median))
        if getattr(self, "ratio_exec", None):
            print("- exec true: %.2fx bare crun exec (target <= 1.5x)" % self.ratio_exec)
        if getattr(self, "podman_exec", None):
            print("- exec true: %.1fx faster than podman exec (target >= 5x)" % (self.podman_exec / self.exec_median))
        print("- warm create, %d MB vs 2 MB image: %.2fx (target <= 1.2x)" % (BIG_MB, self.big_warm / self.small_warm))
        print("- inspect at 16 clients: %.0f/s (target >= 50000/s)" % self.rps16)
        print("- RSS idle %.1f MiB (target <= 4), with %d containers %.1f MiB (target <= 16)"
              % (self.rss_idle / 1024.0, MANY, self.rss_many / 1024.0))
        if 1000 in self.fan:
            print("- fan-out p99 at 1000 subscribers: %.2f ms (target <= 10)" % (self.fan[1000] / 1000.0))
        for n in self.notes:
            print("- NOTE: %s" % n)


def main():
    b = Bench()
    try:
        b.run()
    except SkipSuite as e:
        print("SKIP: %s" % e, file=sys.stderr)
        sys.exit(77)
    finally:
        if getattr(b, "env", None):
            for cl in (getattr(b, "c", None), getattr(b, "w", None)):
                if cl:
                    cl.close()
            b.env.teardown()


if __name__ == "__main__":
    main()
