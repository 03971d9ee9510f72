"""The container lifecycle end to end on the real tools, with events."""
import os
import time

from harness import DaemonSuite, RPCError, pid_alive, run_suite, wait_until


class Lifecycle(DaemonSuite):

    def setUp(self):
        self.c = self.env.client()
        self.watch = self.env.client()
        self.sub = self.watch.call("events.subscribe", {})

    def tearDown(self):
        for c in self.c.call("container.list"):
            try:
                self.c.call("container.remove", {"name": c["name"], "tag": c["tag"], "force": True})
            except RPCError:
                pass
        self.c.close()
        self.watch.close()

    def states(self, name, tag, until, timeout=60):
        """Collect this container's state events until `until` is reached."""
        got = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            e = self.watch.next_event(timeout=deadline - time.time())
            if e.get("name") == name and e.get("tag") == tag:
                got.append(e)
                if e.get("state") == until or e["type"] in ("container.removed", "container.failed") and \
                        until == e["type"]:
                    return got
        self.fail("no %s for %s:%s; saw %s\n%s" % (until, name, tag, got, self.env.daemon_log()))

    def test_full_lifecycle(self):
        env, c = self.env, self.c
        self.assertIn("bootId", self.sub)
        ct = c.call("container.create", {"image": env.image, "cmd": ["/bin/sh", "-c", "trap 'exit 3' TERM; "
                                                                     "while true; do sleep 0.1; done"]})
        # name and tag come from the image reference
        self.assertEqual((ct["name"], ct["tag"], ct["state"]), ("busybox", "1.0", "created"))
        self.assertEqual(ct["image"], env.image)
        self.assertEqual(ct["imageDigest"], env.image_digest)
        self.assertEqual(len(ct["id"]), 64)
        self.assertIsNone(ct["startedAt"])
        self.assertTrue(ct["createdAt"].endswith("Z"))
        bundle = os.path.join(env.data, "containers", ct["id"])
        self.assertTrue(os.path.isfile(os.path.join(bundle, "config.json")))
        ev = self.states("busybox", "1.0", "created")
        self.assertEqual([e["state"] for e in ev], ["creating", "created"])

        key = {"name": "busybox", "tag": "1.0"}
        ct = c.call("container.start", key)
        self.assertEqual(ct["state"], "running")
        pid = ct["pid"]
        self.assertTrue(pid_alive(pid), "container process %d is not running" % pid)
        self.assertIsNotNone(ct["startedAt"])
        # an inspect after the event never shows an older state
        e = self.states("busybox", "1.0", "running")[-1]
        self.assertEqual(e["previous"], "created")
        self.assertEqual(c.call("container.inspect", key)["state"], "running")

        ct = c.call("container.pause", key)
        self.assertEqual(ct["state"], "paused")
        freeze = env.cgroup_dir("containers", ct["id"], "cgroup.freeze")
        with open(freeze) as f:
            self.assertEqual(f.read().strip(), "1", "the container cgroup is not frozen")
        self.assertEqual(self.states("busybox", "1.0", "paused")[-1]["previous"], "running")

        ct = c.call("container.resume", key)
        self.assertEqual(ct["state"], "running")
        with open(freeze) as f:
            self.assertEqual(f.read().strip(), "0", "the container cgroup is still frozen")
        self.states("busybox", "1.0", "running")

        ct = c.call("container.stop", dict(key, timeout=10))
        self.assertEqual(ct["state"], "exited")
        self.assertEqual(ct["exitCode"], 3)  # the TERM trap ran
        self.assertIsNone(ct["pid"])
        ev = self.states("busybox", "1.0", "exited")
        self.assertEqual([e["state"] for e in ev], ["stopping", "exited"])
        self.assertEqual(ev[-1]["exitCode"], 3)
        self.assertTrue(wait_until(lambda: not pid_alive(pid)), "container process survived stop")

        self.assertEqual(c.call("container.remove", key), {"removed": True})
        ev = self.states("busybox", "1.0", "container.removed")
        self.assertEqual([e["type"] for e in ev], ["container.state", "container.removed"])
        self.assertEqual(ev[0]["state"], "removing")
        self.assertEqual(c.error("container.inspect", key)["code"], -32001)
        self.assertFalse(os.path.exists(bundle), "bundle left behind")
        self.assertFalse(os.path.exists(os.path.join(env.run, "crun", ct["id"])), "crun state left behind")
        self.assertFalse(os.path.exists(os.path.dirname(freeze)), "container cgroup left behind")
        self.assertEqual(env.conmons(ct["id"]), [], "conmon left behind")

    def test_exit_code_pushed(self):
        c = self.c
        c.call("container.create", {"image": self.env.image, "name": "quick", "tag": "t1",
                                    "cmd": ["/bin/sh", "-c", "exit 7"]})
        c.call("container.start", {"name": "quick", "tag": "t1"})
        e = self.states("quick", "t1", "exited")[-1]
        self.assertEqual(e["exitCode"], 7)
        ct = c.call("container.inspect", {"name": "quick", "tag": "t1"})
        self.assertEqual((ct["state"], ct["exitCode"]), ("exited", 7))
        self.assertIsNotNone(ct["finishedAt"])
        # an exited container starts again, like docker start
        c.call("container.start", {"name": "quick", "tag": "t1"})
        e = self.states("quick", "t1", "exited")
        self.assertIn("running", [x["state"] for x in e])
        self.assertEqual(e[-1]["exitCode"], 7)

    def test_kill_signal(self):
        c = self.c
        c.call("container.create", {"image": self.env.image, "name": "k", "tag": "1",
                                    "cmd": ["/bin/sleep", "1000"]})
        c.call("container.start", {"name": "k", "tag": "1"})
        c.call("container.kill", {"name": "k", "tag": "1", "signal": "SIGKILL"})
        e = self.states("k", "1", "exited")[-1]
        self.assertEqual(e["exitCode"], 137)

    def test_kill_overtakes_slow_stop(self):
        """sleep as PID 1 ignores SIGTERM: a stop with a long timeout waits,
        and a kill sent meanwhile ends it at once."""
        c = self.c
        key = {"name": "slow", "tag": "1"}
        c.call("container.create", dict(key, image=self.env.image, cmd=["/bin/sleep", "1000"]))
        c.call("container.start", key)
        t0 = time.time()
        stop_id = c.send("container.stop", dict(key, timeout=60))
        self.states("slow", "1", "stopping")
        # another exclusive operation is refused while the stop runs
        self.assertEqual(c.error("container.pause", key)["code"], -32002)
        c.call("container.kill", dict(key, signal=9))
        r = c.wait(stop_id)
        self.assertEqual((r["result"]["state"], r["result"]["exitCode"]), ("exited", 137))
        self.assertLess(time.time() - t0, 30)

    def test_env_workdir_and_logs(self):
        c = self.c
        c.call("container.create", {"image": self.env.image, "name": "envy", "tag": "1",
                                    "env": ["GREETING=hello"], "workdir": "/tmp",
                                    "cmd": ["/bin/sh", "-c", "test \"$GREETING\" = hello && test \"$(pwd)\" = /tmp"]})
        c.call("container.start", {"name": "envy", "tag": "1"})
        self.assertEqual(self.states("envy", "1", "exited")[-1]["exitCode"], 0)

    def test_isolation(self):
        """root in the container: full id mapping, the usual capabilities, a
        private read-only cgroup view, its own hostname (its name, also in
        /etc/hostname and /etc/hosts)."""
        script = ("grep -qx 0::/ /proc/self/cgroup || exit 10; "
                  "echo 1 2>/dev/null > /sys/fs/cgroup/cgroup.freeze && exit 11; "
                  "touch /tmp/f && /bin/busybox chown 1000:1000 /tmp/f || exit 12; "
                  "test \"$(hostname)\" = iso && test \"$(cat /etc/hostname)\" = iso || exit 13; "
                  "grep -qE '^127.0.1.1[[:space:]]+iso$' /etc/hosts || exit 16; "
                  "test \"$(id -u)\" = 0 || exit 14; "
                  "grep -q ' 200000 ' /proc/self/uid_map || exit 15; exit 0")
        c = self.c
        ct = c.call("container.create", {"image": self.env.image, "name": "iso", "tag": "1",
                                         "cmd": ["/bin/sh", "-c", script]})
        c.call("container.start", {"name": "iso", "tag": "1"})
        e = self.states("iso", "1", "exited")[-1]
        self.assertEqual(e["exitCode"], 0, "isolation check %s failed" % e["exitCode"])
        self.assertEqual(ct["cmd"], ["/bin/sh", "-c", script])

    def test_conflict_and_wrong_state(self):
        c = self.c
        args = {"image": self.env.image, "name": "dup", "tag": "x", "cmd": ["/bin/sleep", "100"]}
        c.call("container.create", args)
        err = c.error("container.create", args)
        self.assertEqual((err["code"], err["data"]["reason"]), (-32002, "conflict"))
        key = {"name": "dup", "tag": "x"}
        self.assertEqual(c.error("container.pause", key)["code"], -32002)   # created, not running
        self.assertEqual(c.error("container.resume", key)["code"], -32002)
        c.call("container.start", key)
        err = c.error("container.remove", key)                                # running needs force
        self.assertEqual(err["code"], -32002)
        self.assertIn("force", err["message"])
        self.assertEqual(c.error("container.start", key)["code"], -32002)
        pid = c.call("container.inspect", key)["pid"]
        c.call("container.remove", dict(key, force=True))
        self.assertTrue(wait_until(lambda: not pid_alive(pid)), "forced remove left the process")

    def test_operations_table(self):
        # system.info publishes which states allow which operation, and the engine keeps to it
        ops = self.c.call("system.info")["operations"]
        idle, live = ["created", "exited"], ["running", "paused", "stopping"]
        self.assertEqual(ops, {
            "start": {"states": idle},
            "stop": {"states": ["created", "running", "paused", "exited"], "unchanged": idle},
            "kill": {"states": live},
            "pause": {"states": ["running"]},
            "resume": {"states": ["paused"]},
            "restart": {"states": ["created", "running", "paused", "stopping", "exited"]},
            "remove": {"states": idle, "withForce": live},
            "logs": {"states": ["creating", "created", "running", "paused", "stopping", "exited", "removing"]},
        })
        c, key = self.c, {"name": "ops", "tag": "1"}
        c.call("container.create", dict(key, image=self.env.image, cmd=["/bin/sleep", "100"]))
        for state in ("created", "running"):
            self.assertEqual(c.call("container.inspect", key)["state"], state)
            for op, rule in ops.items():
                if state in rule["states"]:
                    continue
                err = c.error("container." + op, key)
                # pause and resume need a delegated cgroup first of all
                want = ("conflict", "unsupported") if op in ("pause", "resume") else ("conflict",)
                self.assertIn(err["data"]["reason"], want, "%s when %s: %s" % (op, state, err))
            if state == "created":   # a stop that changes nothing answers at once
                self.assertEqual(c.call("container.stop", key)["state"], "created")
                c.call("container.start", key)
        c.call("container.remove", dict(key, force=True))

    def test_two_clients_same_order(self):
        other = self.env.client()
        other.call("events.subscribe", {})
        c = self.c
        c.call("container.create", {"image": self.env.image, "name": "o", "tag": "1", "cmd": ["/bin/true"]})
        c.call("container.start", {"name": "o", "tag": "1"})
        a = self.states("o", "1", "exited")
        b = []
        while not b or b[-1].get("state") != "exited":
            e = other.next_event(timeout=30)
            if e.get("name") == "o":
                b.append(e)
        self.assertEqual([e["seq"] for e in a], [e["seq"] for e in b])
        self.assertEqual([e["state"] for e in a], ["creating", "created", "running", "exited"])
        seqs = [e["seq"] for e in a]
        self.assertEqual(seqs, sorted(set(seqs)))
        self.assertGreater(seqs[0], self.sub["seq"])
        other.close()


if __name__ == "__main__":
    run_suite("test_lifecycle")
