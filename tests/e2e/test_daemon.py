"""Daemon-level behaviour: concurrency, the bounded queue, shutdown, crash recovery."""
import os
import re
import signal
import socket
import threading
import time

from harness import FreshEnvCase, pid_alive, run_suite, wait_until


class Daemon(FreshEnvCase):
    def cgroup_children(self):
        d = self.env.cgroup_dir("containers")
        return sorted(x for x in os.listdir(d) if os.path.isdir(os.path.join(d, x))) if os.path.isdir(d) else []

    def test_parallel_creates_and_ping_while_busy(self):
        env = self.env
        env.start_daemon(["--workers", "4", "--queue", "64"])
        c = env.client()
        watch = env.client()
        watch.call("events.subscribe", {})
        # 12 creates of one not-yet-pulled image, plus 4 racing for one name/tag
        ids = [c.send("container.create", {"image": env.image, "name": "p%d" % i, "tag": "1",
                                           "cmd": ["/bin/sleep", "1000"]}) for i in range(12)]
        race = [c.send("container.create", {"image": env.image, "name": "same", "tag": "1",
                                            "cmd": ["/bin/sleep", "1000"]}) for _ in range(4)]
        # the service thread answers while the workers run the tools
        t0 = time.time()
        self.assertEqual(c.call("system.ping", timeout=5), "pong")
        ping_ms = (time.time() - t0) * 1000
        inflight = [x["state"] for x in c.call("container.list")]
        self.assertIn("creating", inflight, "creates finished before the ping: the test proves nothing")
        print("ping while %d creates in flight: %.1f ms" % (inflight.count("creating"), ping_ms))
        for i in ids:
            r = c.wait(i)
            self.assertIn("result", r, r)
            self.assertEqual(r["result"]["state"], "created")
        outcomes = [c.wait(i) for i in race]
        ok = [r for r in outcomes if "result" in r]
        conflicts = [r for r in outcomes if r.get("error", {}).get("code") == -32002]
        self.assertEqual((len(ok), len(conflicts)), (1, 3), outcomes)
        # one pull for all of them
        log = env.daemon_log(tail=None)
        self.assertEqual(log.count("pulling %s" % env.image), 1, "the image was pulled more than once")
        self.assertEqual(len(c.call("container.list")), 13)
        for i in range(12):
            c.call("container.start", {"name": "p%d" % i, "tag": "1"})
        started = {x["id"] for x in c.call("container.list") if x["state"] == "running"}
        self.assertEqual(len(started), 12)
        self.assertTrue(started <= set(self.cgroup_children()), self.cgroup_children())
        c.close()
        watch.close()

    def test_queue_full_is_busy(self):
        env = self.env
        env.start_daemon(["--workers", "1", "--queue", "1"])
        c = env.client()
        ids = [c.send("container.create", {"image": env.image, "name": "q%d" % i, "tag": "1",
                                           "cmd": ["/bin/true"]}) for i in range(6)]
        replies = [c.wait(i) for i in ids]
        busy = [r for r in replies if r.get("error", {}).get("code") == -32003]
        done = [r for r in replies if "result" in r]
        self.assertGreaterEqual(len(busy), 1, replies)
        self.assertEqual(len(busy) + len(done), 6)
        self.assertEqual(busy[0]["error"]["data"]["reason"], "busy")
        # a refused create left nothing behind
        names = sorted(x["name"] for x in c.call("container.list"))
        self.assertEqual(names, sorted(r["result"]["name"] for r in done))
        c.close()

    def test_sigterm_removes_everything(self):
        env = self.env
        env.start_daemon()
        c = env.client()
        pids = env.start_sleepers(c, "t", 3)
        watch = env.client()
        watch.call("events.subscribe", {})
        c.close()
        rc = env.stop_daemon(signal.SIGTERM)
        self.assertEqual(rc, 0, env.daemon_log())
        self.assertNotIn("Sanitizer", env.daemon_log(tail=None))
        for p in pids:
            self.assertFalse(pid_alive(p), "container process %d outlived the daemon" % p)
        self.assertEqual(self.env.conmons(), [])
        self.assertEqual(os.listdir(os.path.join(env.data, "containers")), [])
        self.assertEqual(os.listdir(os.path.join(env.run, "crun")), [])
        self.assertEqual(self.cgroup_children(), [])
        self.assertFalse(os.path.exists(env.socket))
        # subscribers were told about every removal before the daemon went
        removed = set()
        while True:
            try:
                e = watch.next_event(timeout=2)
            except Exception:
                break
            if e["type"] == "container.removed":
                removed.add(e["name"])
        self.assertEqual(removed, {"t0", "t1", "t2"})

    def test_stop_signals_reach_the_service_thread_only(self):
        """SIGTERM and SIGINT are blocked in every thread but the service
        (main) thread, so the handler never runs beside lcd_api_free."""
        env = self.env
        env.start_daemon()
        pid = env.daemon_pid()
        tasks = sorted(int(t) for t in os.listdir("/proc/%d/task" % pid))
        self.assertGreaterEqual(len(tasks), 4, "workers, pull workers, exit watcher")
        bits = (1 << (signal.SIGTERM - 1)) | (1 << (signal.SIGINT - 1))
        for tid in tasks:
            with open("/proc/%d/task/%d/status" % (pid, tid)) as f:
                blocked = int(re.search(r"^SigBlk:\s*([0-9a-f]+)$", f.read(), re.M).group(1), 16)
            if tid == pid:
                self.assertEqual(blocked & bits, 0, "the service thread takes the stop signals")
            else:
                self.assertEqual(blocked & bits, bits, "thread %d may take a stop signal" % tid)
        self.assertEqual(env.stop_daemon(signal.SIGINT), 0, env.daemon_log())

    def test_restart_after_sigkill_cleans_old_run(self):
        env = self.env
        env.start_daemon(keep=True)
        c = env.client()
        pids = env.start_sleepers(c, "k", 20)
        c.call("container.create", {"image": env.image, "name": "notstarted", "tag": "1", "cmd": ["/bin/true"]})
        c.close()
        env.kill_daemon()
        # the containers outlived the daemon's death for now
        self.assertTrue(all(pid_alive(p) for p in pids))
        t0 = time.time()
        env.start_daemon(keep=True)
        for p in pids:
            self.assertTrue(wait_until(lambda: not pid_alive(p), 10), "old container %d survived a restart" % p)
        took = time.time() - t0
        print("restart cleaned the old run (20 running containers) in %.2f s" % took)
        self.assertLess(took, 10)
        c = env.client()
        self.assertEqual(c.call("container.list"), [])
        self.assertEqual(os.listdir(os.path.join(env.data, "containers")), [])
        self.assertEqual(os.listdir(os.path.join(env.run, "crun")), [])
        self.assertEqual(self.cgroup_children(), [])
        self.assertEqual(self.env.conmons(), [])
        # and the new run works, with the same names
        c.call("container.create", {"image": env.image, "name": "k0", "tag": "1", "cmd": ["/bin/true"]})
        c.close()


    def quick_cycle(self, c, name):
        """create, start, stop (at once), remove: how long it took."""
        t0 = time.time()
        key = {"name": name, "tag": "1"}
        c.call("container.create", dict(key, image=self.env.image, cmd=["/bin/sleep", "100"]), timeout=60)
        c.call("container.start", key, timeout=60)
        c.call("container.stop", dict(key, timeout=0), timeout=60)
        c.call("container.remove", key, timeout=60)
        return time.time() - t0

    def test_stops_that_wait_hold_no_worker(self):
        # five stops of containers that ignore SIGTERM (sleep as PID 1), each willing to wait an hour,
        # on a daemon with two workers: every other operation still runs at once
        env = self.env
        env.start_daemon(["--workers", "2"])
        c = env.client()
        env.start_sleepers(c, "deaf", 5)
        stops = [c.send("container.stop", {"name": "deaf%d" % i, "tag": "1", "timeout": 3600}) for i in range(5)]
        self.assertTrue(wait_until(lambda: [x["state"] for x in c.call("container.list")] == ["stopping"] * 5, 10))
        took = self.quick_cycle(c, "free")
        print("create, start, stop, remove while 5 stops wait on 2 workers: %.2f s" % took)
        self.assertLess(took, 10)
        for i in range(5):   # a kill ends each wait; the stops answer with the exit
            c.call("container.kill", {"name": "deaf%d" % i, "tag": "1"})
        for i in stops:
            r = c.wait(i, timeout=30)["result"]
            self.assertEqual((r["state"], r["exitCode"]), ("exited", 137))
        # and a stop that runs out of patience kills, without a worker waiting meanwhile
        env.start_sleepers(c, "again", 1)
        t0 = time.time()
        r = c.call("container.restart", {"name": "again0", "tag": "1", "timeout": 1})
        self.assertEqual(r["state"], "running")
        self.assertLess(time.time() - t0, 6)
        c.close()

    def test_a_slow_registry_holds_no_worker(self):
        # a registry that accepts and never answers: pulls from it wait in their own lane
        stall = socket.socket()
        stall.bind(("127.0.0.1", 0))
        stall.listen(16)
        held = []

        def hold():
            try:
                while True:
                    held.append(stall.accept())
            except OSError:   # closed at the end of the test
                pass

        threading.Thread(target=hold, daemon=True).start()
        self.addCleanup(stall.close)
        slow = "127.0.0.1:%d" % stall.getsockname()[1]
        env = self.env
        env.start_daemon(["--workers", "1", "--pull-workers", "2", "--pull-timeout", "10",
                          "--insecure-registry", slow])
        c = env.client()
        self.assertEqual((c.call("system.info")["workers"], c.call("system.info")["pullWorkers"]), (1, 2))
        c.call("image.pull", {"ref": env.image})   # cached: creates from it need no pull
        pulls = [c.send("image.pull", {"ref": "%s/slow/img%d:1" % (slow, i)}) for i in range(2)]
        pulls.append(c.send("container.create", {"image": "%s/slow/img9:1" % slow, "name": "waits", "tag": "1"}))
        time.sleep(1)
        took = self.quick_cycle(c, "quick")
        print("create, start, stop, remove while 3 pulls hang on a slow registry: %.2f s" % took)
        self.assertLess(took, 5)
        for i in pulls:
            self.assertEqual(c.wait(i, timeout=60)["error"]["data"]["reason"], "timeout")
        c.close()


if __name__ == "__main__":
    run_suite("test_daemon")
