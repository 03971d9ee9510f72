"""Daemon-level behaviour: concurrency, the bounded queue, shutdown, crash recovery."""
import os
import signal
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


if __name__ == "__main__":
    run_suite("test_daemon")
