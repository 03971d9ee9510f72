"""Faults on the real tools: each leaves the daemon serving, the map
consistent and nothing behind (processes, cgroups, bundles, crun state)."""
import os
import signal
import subprocess
import time

from harness import USER, WS, FreshEnvCase, run_suite, user_processes, wait_until


class Faults(FreshEnvCase):
    def start(self, *extra, path=None):
        self.env.start_daemon(extra=extra, path=path)
        c = self.env.client()
        c.call("events.subscribe", {})
        self.addCleanup(c.close)
        return c

    def tool_dir(self, replace=None, leave_out=()):
        """A PATH directory with the tools the daemon runs: links to the real
        ones, minus leave_out, with replace {name: shell script body}."""
        d = os.path.join(self.env.tmp, "tools-%d" % len(os.listdir(self.env.tmp)))
        os.makedirs(d)
        for t in ("skopeo", "umoci", "conmon", "crun", "pasta", "newuidmap", "newgidmap"):
            if t in leave_out:
                continue
            if replace and t in replace:
                with open(os.path.join(d, t), "w") as f:
                    f.write("#!/bin/sh\n" + replace[t] + "\n")
                os.chmod(os.path.join(d, t), 0o755)
            else:
                os.symlink(subprocess.run(["which", t], stdout=subprocess.PIPE, text=True).stdout.strip(),
                           os.path.join(d, t))
        os.chmod(d, 0o755)
        return d

    def assert_clean(self, c, keep=()):
        """Only the containers named in keep are left, on disk and in processes."""
        listed = c.call("container.list")
        self.assertEqual(sorted(x["name"] for x in listed), sorted(keep))
        ids = {x["id"] for x in listed}
        self.assertEqual(set(os.listdir(os.path.join(self.env.data, "containers"))), ids)
        self.assertEqual(set(os.listdir(os.path.join(self.env.run, "crun"))) - {"crun.lock"} - ids, set())
        self.assertEqual(len(self.env.conmons()), len([x for x in listed if x["state"] != "exited"]))
        self.assertEqual(c.call("system.ping"), "pong")
        d = self.env.cgroup_dir("containers")   # a container's cgroup lives as long as it does
        cgroups = [x for x in os.listdir(d) if os.path.isdir(os.path.join(d, x))] if os.path.isdir(d) else []
        self.assertLessEqual(len(cgroups), len(listed))

    def test_registry_unreachable(self):
        c = self.start()
        err = c.error("container.create", {"image": "127.0.0.1:1/acc/nothere:1", "name": "u", "tag": "1"})
        self.assertEqual(err["data"]["reason"], "tool_failed")
        self.assertEqual(err["data"]["tool"], "skopeo")
        self.assertIn("127.0.0.1:1", err["data"]["stderr"])
        e, _ = c.wait_event(lambda e: e["type"] == "container.failed")
        self.assertEqual(e["name"], "u")
        self.assertEqual(os.listdir(os.path.join(self.env.data, "images")), [])
        self.assertEqual(user_processes("skopeo"), [])
        self.assert_clean(c)

    def test_pasta_missing(self):
        """Without pasta a private network cannot be made: unsupported, naming
        the package, nothing left; none and host still work."""
        c = self.start(path=self.tool_dir(leave_out=("pasta",)))
        checks = {x["check"]: x for x in c.call("system.check")}
        self.assertFalse(checks["pasta"]["ok"], checks["pasta"])
        self.assertIn("passt", checks["pasta"]["fix"])
        err = c.error("container.create", {"image": self.env.image, "name": "p", "tag": "1"})
        self.assertEqual(err["data"]["reason"], "unsupported", err)
        self.assertIn("apt-get install passt", err["message"])
        self.assertEqual(os.listdir(os.path.join(self.env.run, "netns")), [])
        self.assert_clean(c)
        for net in ("none", "host"):
            key = {"name": net, "tag": "1"}
            c.call("container.create", dict(key, image=self.env.image, network=net, cmd=["/bin/true"]))
            c.call("container.start", key)
            e, _ = c.wait_event(lambda e: e.get("name") == net and e.get("state") == "exited")
            self.assertEqual(e["exitCode"], 0)
            c.call("container.remove", key)
        self.assert_clean(c)

    def test_tool_missing(self):
        c = self.start(path=self.tool_dir(leave_out=("umoci",)))
        checks = {x["check"]: x for x in c.call("system.check")}
        umoci = [x for k, x in checks.items() if "umoci" in k]
        self.assertTrue(umoci and not umoci[0]["ok"], checks)
        self.assertIn("umoci", umoci[0]["fix"] or "")
        err = c.error("container.create", {"image": self.env.image, "name": "m", "tag": "1"})
        self.assertIn("umoci", err["message"])
        self.assertIn(err["data"]["reason"], ("tool_failed", "internal"))
        self.assert_clean(c)

    def test_tool_hangs(self):
        c = self.start("--pull-timeout", "2", path=self.tool_dir(
            replace={"skopeo": 'case "$1" in --version) echo "skopeo version 1.9.3" ;; *) exec /bin/sleep 1007 ;; esac'}))
        t0 = time.time()
        err = c.error("container.create", {"image": self.env.image, "name": "h", "tag": "1"})
        self.assertEqual(err["data"]["reason"], "timeout", err)
        self.assertIn("killed", err["message"])
        self.assertLess(time.time() - t0, 15)
        self.assertTrue(wait_until(lambda: user_processes("sleep 1007") == [], 5), "the hung tool was left running")
        self.assert_clean(c)

    def test_what_a_tool_leaves_behind_is_reaped(self):
        # a skopeo that leaves an orphan: it becomes the daemon's child (a subreaper) and must not stay a zombie
        skopeo = subprocess.run(["which", "skopeo"], stdout=subprocess.PIPE, text=True).stdout.strip()
        c = self.start(path=self.tool_dir(replace={"skopeo": '(/bin/sleep 3 >/dev/null 2>&1 &)\nexec %s "$@"' % skopeo}))
        c.call("image.pull", {"ref": self.env.image})
        dpid = self.env.daemon_pid()

        def zombies():
            out = subprocess.run(["ps", "-o", "pid=,stat=,comm=", "--ppid", str(dpid)], stdout=subprocess.PIPE,
                                 text=True).stdout
            return [l for l in out.splitlines() if l.split()[1].startswith("Z")]

        def orphans():
            out = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(dpid)], stdout=subprocess.PIPE, text=True)
            return [l for l in out.stdout.splitlines() if "sleep" in l]

        self.assertTrue(wait_until(lambda: orphans() != [], 3), "the orphan never became the daemon's child")
        self.assertTrue(wait_until(lambda: orphans() == [] and zombies() == [], 10), (orphans(), zombies()))
        self.assertIn("reaped 1 orphaned process", self.env.daemon_log(tail=None))   # one per skopeo run
        self.assert_clean(c)

    def test_conmon_killed_under_a_running_container(self):
        c = self.start()
        env = self.env
        pid = env.start_sleepers(c, "cm", 1)[0]
        cid = c.call("container.inspect", {"name": "cm0", "tag": "1"})["id"]
        conmon = env.conmons(cid)
        self.assertEqual(len(conmon), 1)
        os.kill(conmon[0], signal.SIGKILL)
        e, _ = c.wait_event(lambda e: e.get("name") == "cm0" and e.get("state") == "exited", timeout=15)
        self.assertNotIn("exitCode", e)   # nothing saw it exit: no code, not a made-up one
        # the container was killed and reaped (it had been handed to the daemon)
        self.assertTrue(wait_until(lambda: not os.path.exists("/proc/%d" % pid), 10), "container process left")
        self.assertIsNone(c.call("container.inspect", {"name": "cm0", "tag": "1"})["exitCode"])
        c.call("container.remove", {"name": "cm0", "tag": "1"})
        self.assert_clean(c)

    def test_container_killed_from_outside(self):
        c = self.start()
        pid = self.env.start_sleepers(c, "out", 1)[0]
        os.kill(pid, signal.SIGKILL)
        e, _ = c.wait_event(lambda e: e.get("name") == "out0" and e.get("state") == "exited", timeout=15)
        self.assertEqual(e["exitCode"], 137)
        self.assert_clean(c, keep=["out0"])
        c.call("container.remove", {"name": "out0", "tag": "1"})
        self.assert_clean(c)

    def test_client_disconnects_mid_create(self):
        c = self.start()
        ws = WS(self.env.socket)
        ws.send_text('{"jsonrpc":"2.0","id":1,"method":"container.create","params":{"image":"%s","name":"gone",'
                     '"tag":"1","cmd":["/bin/sleep","1000"]}}' % self.env.image)
        ws.close()
        # the create completes (or rolls back): never a half-made container
        e, _ = c.wait_event(lambda e: e.get("name") == "gone" and
                            (e.get("state") == "created" or e["type"] == "container.failed"), timeout=60)
        if e["type"] == "container.failed":
            self.assert_clean(c)
        else:
            self.assert_clean(c, keep=["gone"])
            c.call("container.remove", {"name": "gone", "tag": "1"})
            self.assert_clean(c)

    def test_data_dir_full_then_read_only(self):
        env = self.env
        # the data dir on a small tmpfs of its own, before the daemon starts
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m,mode=0700", "lcd-e2e-data", env.data], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", env.data])
        subprocess.run(["chown", "%s:%s" % (USER, USER), env.data], check=True)
        c = self.start()
        env.start_sleepers(c, "ok", 1)   # the image and its root are in place
        filler = os.path.join(env.data, "filler")
        subprocess.run(["dd", "if=/dev/zero", "of=" + filler, "bs=1M", "count=64"], stderr=subprocess.DEVNULL)
        err = c.error("container.create", {"image": env.image, "name": "full", "tag": "1", "cmd": ["/bin/true"]})
        self.assertIn("No space left", err["message"], err)
        self.assert_clean(c, keep=["ok0"])
        os.unlink(filler)
        # read-only: no file may be open for writing (the running container's log is)
        c.call("container.remove", {"name": "ok0", "tag": "1", "force": True})
        subprocess.run(["mount", "-o", "remount,ro", env.data], check=True)
        err = c.error("container.create", {"image": env.image, "name": "ro", "tag": "1", "cmd": ["/bin/true"]})
        self.assertIn("Read-only", err["message"], err)
        self.assertEqual(c.call("container.list"), [])
        subprocess.run(["mount", "-o", "remount,rw", env.data], check=True)
        c.call("container.create", {"image": env.image, "name": "after", "tag": "1", "cmd": ["/bin/true"]})
        c.call("container.remove", {"name": "after", "tag": "1", "force": True})
        self.assert_clean(c)


if __name__ == "__main__":
    run_suite("test_faults")
