"""logs, wait, stats, restart on the real tools."""
import subprocess

from harness import DaemonSuite, run_suite, wait_until


class Ops(DaemonSuite):
    def setUp(self):
        self.c = self.env.client()
        self.w = self.env.client()
        self.w.call("events.subscribe", {})

    def tearDown(self):
        for ct in self.c.call("container.list"):
            self.c.call("container.remove", {"name": ct["name"], "tag": ct["tag"], "force": True})
        self.c.close()
        self.w.close()

    def exited(self, name):
        e, _ = self.w.wait_event(lambda e: e.get("name") == name and e.get("state") == "exited")
        return e

    def test_logs_tail(self):
        key = {"name": "talk", "tag": "1"}
        script = "i=0; while [ $i -lt 50 ]; do echo out$i; echo err$i >&2; i=$((i+1)); done; printf 'no newline'"
        self.c.call("container.create", dict(key, image=self.env.image, cmd=["/bin/sh", "-c", script]))
        self.assertEqual(self.c.call("container.logs", key)["lines"], [])   # created: nothing yet
        self.c.call("container.start", key)
        self.exited("talk")
        # conmon may write the last bytes a moment after it reports the exit
        wait_until(lambda: len(self.c.call("container.logs", key)["lines"]) == 101, 5)
        lines = self.c.call("container.logs", key)["lines"]
        self.assertEqual(len(lines), 101)
        self.assertEqual([l["text"] for l in lines if l["stream"] == "stdout"][:2], ["out0", "out1"])
        self.assertEqual([l["text"] for l in lines if l["stream"] == "stderr"][-1], "err49")
        self.assertEqual(lines[-1], dict(lines[-1], stream="stdout", text="no newline"))
        self.assertTrue(lines[0]["time"].startswith("20"))
        tail = self.c.call("container.logs", dict(key, tail=3))["lines"]
        self.assertEqual([l["text"] for l in tail], [lines[-3]["text"], lines[-2]["text"], "no newline"])
        self.assertEqual(self.c.error("container.logs", dict(key, tail=-1))["code"], -32602)
        out = subprocess.run(self.env.lightctl("logs",
                              "--tail", "2", "talk:1"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(out.returncode, 0)
        self.assertEqual(out.stdout.splitlines()[-1], "no newline")
        # -f on a container that has exited prints the tail and returns
        out = subprocess.run(self.env.lightctl("logs", "-f",
                              "--tail", "1", "talk:1"), stdout=subprocess.PIPE, text=True, timeout=20)
        self.assertEqual((out.returncode, out.stdout), (0, "no newline\n"))

    def test_logs_follow(self):
        key = {"name": "fol", "tag": "1"}
        script = "echo early; sleep 0.5; i=1; while [ $i -le 5 ]; do echo line$i; i=$((i+1)); sleep 0.1; done"
        self.c.call("container.create", dict(key, image=self.env.image, cmd=["/bin/sh", "-c", script]))
        self.c.call("container.start", key)
        first = self.c.call("container.logs", dict(key, follow=True))
        texts = [l["text"] for l in first["lines"]]
        end = None
        while end is None:
            method, params = self.c.notes.get(timeout=20)
            if method == "log":
                self.assertEqual((params["name"], params["stream"]), ("fol", "stdout"))
                texts.append(params["text"])
            elif method == "log.end":
                end = params
        # every line exactly once, in order, across the tail and the follow
        self.assertEqual(texts, ["early", "line1", "line2", "line3", "line4", "line5"])
        self.assertEqual(end, {"name": "fol", "tag": "1", "reason": "exited"})
        # unfollow ends a follow at once
        key2 = {"name": "fol2", "tag": "1"}
        self.c.call("container.create", dict(key2, image=self.env.image, cmd=["/bin/sleep", "1000"]))
        self.c.call("container.start", key2)
        self.c.call("container.logs", dict(key2, follow=True, tail=0))
        self.assertEqual(self.c.call("logs.unfollow", key2), {"unfollowed": True})
        method, params = self.c.notes.get(timeout=5)
        self.assertEqual((method, params["reason"]), ("log.end", "unfollowed"))
        self.assertEqual(self.c.call("logs.unfollow", key2), {"unfollowed": False})

    def test_wait(self):
        key = {"name": "w", "tag": "1"}
        self.c.call("container.create", dict(key, image=self.env.image, cmd=["/bin/sh", "-c", "sleep 1; exit 4"]))
        waiting = self.c.send("container.wait", key)   # parked before it even started
        self.c.call("container.start", key)
        self.assertEqual(self.c.wait(waiting)["result"], {"exitCode": 4})
        # already exited: at once
        self.assertEqual(self.c.call("container.wait", key), {"exitCode": 4})
        # through lightctl: its exit status is the container's
        r = subprocess.run(self.env.lightctl("wait", "w:1"),
                           stdout=subprocess.PIPE, text=True)
        self.assertEqual((r.returncode, r.stdout.strip()), (4, "4"))
        # removed while waited for -> not_found
        key2 = {"name": "w2", "tag": "1"}
        self.c.call("container.create", dict(key2, image=self.env.image, cmd=["/bin/sleep", "1000"]))
        self.c.call("container.start", key2)
        waiting = self.c.send("container.wait", key2)
        self.c.call("container.kill", dict(key2, signal="KILL"))
        self.assertEqual(self.c.wait(waiting)["result"], {"exitCode": 137})
        self.assertEqual(self.c.error("container.wait", {"name": "ghost", "tag": "1"})["code"], -32001)

    def test_stats(self):
        key = {"name": "st", "tag": "1"}
        self.c.call("container.create", dict(key, image=self.env.image,
                                            cmd=["/bin/sh", "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; "
                                                 "sleep 1000"]))
        self.c.call("container.start", key)
        st = self.c.call("container.stats", key)
        self.assertEqual(set(st), {"cpuUsageUsec", "memoryBytes", "pids"})
        # cpu.stat is always there in cgroup v2; memory and pids only where delegated
        self.assertIsInstance(st["cpuUsageUsec"], int)
        ctrl = open(self.env.cgroup_dir("cgroup.subtree_control")).read().split()
        self.assertEqual(st["memoryBytes"] is None, "memory" not in ctrl)
        self.assertEqual(st["pids"] is None, "pids" not in ctrl)
        cg = self.env.cgroup_dir("containers", self.c.call("container.inspect", key)["id"], "cpu.stat")
        with open(cg) as f:
            usage = int([l for l in f if l.startswith("usage_usec")][0].split()[1])
        self.assertLessEqual(st["cpuUsageUsec"], usage)
        self.assertGreater(st["cpuUsageUsec"], 0)

    def test_resource_limits(self):
        ctrl = open(self.env.cgroup_dir("containers", "cgroup.subtree_control")).read().split()
        base = {"image": self.env.image, "name": "lim", "tag": "1", "cmd": ["/bin/true"]}
        for key, controller in (("memoryLimit", "memory"), ("pidsLimit", "pids")):
            value = 64 * 1024 * 1024 if key == "memoryLimit" else 10
            if controller in ctrl:   # a host that delegates it: the limit lands in the cgroup
                self.c.call("container.create", dict(base, **{key: value}))
                self.c.call("container.remove", {"name": "lim", "tag": "1"})
            else:                    # this machine: only hugetlb can be delegated
                err = self.c.error("container.create", dict(base, **{key: value}))
                self.assertEqual((err["code"], err["data"]["reason"]), (-32007, "unsupported"))
                self.assertIn("%s controller" % controller, err["message"])
        self.assertEqual(self.c.error("container.create", dict(base, memoryLimit=1))["code"], -32602)
        self.assertEqual(self.c.error("container.create", dict(base, pidsLimit=0))["code"], -32602)
        self.assertEqual(self.c.call("container.list"), [])

    def test_restart(self):
        key = {"name": "rs", "tag": "1"}
        self.c.call("container.create", dict(key, image=self.env.image, cmd=["/bin/sleep", "1000"]))
        pid1 = self.c.call("container.start", key)["pid"]
        ct = self.c.call("container.restart", dict(key, timeout=0))
        self.assertEqual(ct["state"], "running")
        self.assertNotEqual(ct["pid"], pid1)
        states = []
        while not states or states[-1] != ("running", "exited"):
            e = self.w.next_event()
            if e.get("name") == "rs" and e["type"] == "container.state":
                states.append((e["state"], e["previous"]))
        self.assertEqual(states[-3:], [("stopping", "running"), ("exited", "stopping"), ("running", "exited")])
        self.assertNotIn("pid", [k for k, v in ct.items() if v is None])


if __name__ == "__main__":
    run_suite("test_ops")
