"""The runtime: one unpacked root per image, a copy-on-write overlay per
container, file ownership kept, the daemon's own user namespace, and crash
recovery with overlays mounted."""
import glob
import os

from harness import FreshEnvCase, pid_alive, run_suite, wait_until


def mounts_under(path):
    """(pid, mount point) of every mount below path in any process's view."""
    found = []
    for mi in glob.glob("/proc/[0-9]*/mountinfo"):
        try:
            with open(mi) as f:
                for line in f:
                    mnt = line.split()[4]
                    if mnt.startswith(path):
                        found.append((int(mi.split("/")[2]), mnt))
        except OSError:
            pass
    return found


class Runtime(FreshEnvCase):
    def run_to_exit(self, c, watch, name, script):
        c.call("container.create", {"image": self.env.image, "name": name, "tag": "1",
                                    "cmd": ["/bin/sh", "-c", script]})
        c.call("container.start", {"name": name, "tag": "1"})
        e, _ = watch.wait_event(lambda e: e.get("name") == name and e.get("state") == "exited")
        return e["exitCode"]

    def test_copy_on_write_isolation_and_ownership(self):
        env = self.env
        env.start_daemon()
        c, w = env.client(), env.client()
        w.call("events.subscribe", {})
        # a writes into its root (also over a file of the image)
        self.assertEqual(self.run_to_exit(c, w, "a", "echo mine > /etc/written && echo changed > /etc/passwd && "
                                                    "rm /bin/true && test -s /etc/written"), 0)
        # b, from the same image, sees none of it
        self.assertEqual(self.run_to_exit(c, w, "b", "test ! -e /etc/written || exit 1; "
                                                    "grep -q ^root: /etc/passwd || exit 2; "
                                                    "test -e /bin/true || exit 3"), 0)
        # the image root is untouched, and a's change lives in a's upper dir
        roots = glob.glob(os.path.join(env.data, "roots", "*"))
        self.assertEqual(len(roots), 1, roots)
        self.assertFalse(os.path.exists(os.path.join(roots[0], "rootfs", "etc", "written")))
        self.assertTrue(os.path.exists(os.path.join(roots[0], "rootfs", "bin", "true")))
        a = c.call("container.inspect", {"name": "a", "tag": "1"})
        upper = os.path.join(env.data, "containers", a["id"], "upper")
        self.assertTrue(os.path.isfile(os.path.join(upper, "etc", "written")))
        # ownership from the image survives: uid 1000 and 33 inside, their subordinate ids outside
        self.assertEqual(self.run_to_exit(c, w, "own", "test \"$(stat -c %u:%g /home/app/owned)\" = 1000:1000 || "
                                                      "exit 1; test \"$(stat -c %u:%g /srv/www)\" = 33:33 || exit 2;"
                                                      "test \"$(stat -c %u /bin/busybox)\" = 0 || exit 3"), 0)
        st = os.stat(os.path.join(roots[0], "rootfs", "home", "app", "owned"))
        self.assertEqual(st.st_uid, 200000 + 1000 - 1)   # container 1000 -> subordinate id
        # a container's files written as another user can be removed with it
        self.assertEqual(self.run_to_exit(c, w, "chowner", "mkdir -p /data && touch /data/f && "
                                                           "chown -R 1000:1000 /data"), 0)
        ch = c.call("container.inspect", {"name": "chowner", "tag": "1"})
        c.call("container.remove", {"name": "chowner", "tag": "1"})
        self.assertFalse(os.path.exists(os.path.join(env.data, "containers", ch["id"])))
        c.close()
        w.close()

    def test_keyring_per_container_or_shared(self):
        """By default crun gives each container a session keyring named after
        its id; --no-new-keyring shares the daemon's (for > ~200 containers)."""
        env = self.env

        def keyring_named_after_it(name):
            c, w = env.client(), env.client()
            w.call("events.subscribe", {})
            self.assertEqual(self.run_to_exit(c, w, name, "cat /proc/keys"), 0)
            ct = c.call("container.inspect", {"name": name, "tag": "1"})
            lines = c.call("container.logs", {"name": name, "tag": "1"})["lines"]
            c.close()
            w.close()
            return any(ct["id"][:12] in l["text"] for l in lines)

        env.start_daemon()
        self.assertTrue(keyring_named_after_it("own"), "no keyring of its own")
        env.stop_daemon()
        env.start_daemon(["--no-new-keyring"])
        self.assertFalse(keyring_named_after_it("shared"), "a keyring of its own despite the option")

    def test_twenty_containers_share_one_root(self):
        env = self.env
        env.start_daemon()
        c = env.client()
        ids = [c.send("container.create", {"image": env.image, "name": "s%d" % i, "tag": "1",
                                           "cmd": ["/bin/sleep", "1000"]}) for i in range(20)]
        for i in ids:
            self.assertIn("result", c.wait(i))
        pids = []
        for i in range(20):
            pids.append(c.call("container.start", {"name": "s%d" % i, "tag": "1"})["pid"])
        self.assertEqual(len(glob.glob(os.path.join(env.data, "roots", "*"))), 1)
        self.assertEqual(env.daemon_log(tail=None).count("unpacked image"), 1)
        lowers = set()
        for p in pids:
            with open("/proc/%d/mountinfo" % p) as f:
                root = [l for l in f if l.split()[4] == "/"][0]
            self.assertIn(" - overlay ", root)
            lowers.add(root.split("lowerdir=")[1].split(",")[0])
        self.assertEqual(len(lowers), 1, lowers)
        c.close()

    def test_crash_recovery_with_overlays(self):
        env = self.env
        env.start_daemon(keep=True)
        c = env.client()
        pids = env.start_sleepers(c, "m", 3)
        c.close()
        bundles = os.path.join(env.data, "containers")
        self.assertEqual(len(mounts_under(bundles + "/")) >= 3, True)
        env.kill_daemon()
        # the overlays live on in the dead daemon's namespace while its containers do
        self.assertTrue(all(pid_alive(p) for p in pids))
        env.start_daemon(keep=True)
        for p in pids:
            self.assertTrue(wait_until(lambda: not pid_alive(p), 10), "old container %d survived" % p)
        self.assertTrue(wait_until(lambda: mounts_under(bundles + "/") == [], 10), mounts_under(bundles + "/"))
        self.assertEqual(os.listdir(bundles), [])
        self.assertEqual(env.conmons(), [])
        # and the image root is kept: the next create does not unpack again
        c = env.client()
        c.call("container.create", {"image": env.image, "name": "again", "tag": "1", "cmd": ["/bin/true"]})
        self.assertNotIn("unpacked image", env.daemon_log(tail=None))
        c.close()


if __name__ == "__main__":
    run_suite("test_runtime")
