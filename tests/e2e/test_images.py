"""image.list, image.inspect, image.remove (and lightctl images / rmi)."""
import glob
import json
import os
import pty
import select
import subprocess

from harness import DaemonSuite, run_suite


class Images(DaemonSuite):
    def setUp(self):
        self.c = self.env.client()

    def tearDown(self):
        self.c.close()

    def test_progress_events(self):
        env, c = self.env, self.c
        w = env.client()
        w.call("events.subscribe", {"types": ["image.progress"]})
        c.call("image.pull", {"ref": env.image})
        seen = [w.next_event(timeout=30) for _ in range(2)]
        self.assertEqual([(e["type"], e["ref"], e["phase"]) for e in seen],
                         [("image.progress", env.image, "pulling"), ("image.progress", env.image, "done")])
        # a create that needs a new image root reports the unpack (by digest)
        c.call("container.create", {"image": env.image, "name": "prog", "tag": "1", "cmd": ["/bin/true"]})
        phases = []
        while True:
            try:
                e = w.next_event(timeout=2)
            except Exception:
                break
            phases.append(e["phase"])
        # cached image: no pull; the root may exist from another test (then nothing at all)
        self.assertIn(phases, ([], ["unpacking", "done"]))
        c.call("container.remove", {"name": "prog", "tag": "1"})
        w.close()

    def test_lightctl_pull_progress_on_a_terminal(self):
        env = self.env
        master, slave = pty.openpty()
        p = subprocess.Popen(env.lightctl("pull", env.image), stdout=subprocess.PIPE, stderr=slave, text=True)
        os.close(slave)
        out = p.communicate(timeout=120)[0]
        shown = b""
        while select.select([master], [], [], 0)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        os.close(master)
        self.assertEqual(p.returncode, 0)
        self.assertTrue(json.loads(out)["digest"].startswith("sha256:"), out)
        text = shown.decode(errors="replace")
        self.assertIn("pulling " + env.image, text)   # redrawn in place (\r), then the line is cleared
        self.assertTrue(text.endswith("\r\x1b[K"), repr(text[-40:]))
        # not a terminal: no progress at all
        r = subprocess.run(env.lightctl("pull", env.image), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=120)
        self.assertEqual((r.returncode, r.stderr), (0, ""))

    def test_list_inspect_remove(self):
        env, c = self.env, self.c
        c.call("image.pull", {"ref": env.image})
        images = c.call("image.list")
        self.assertEqual([i["ref"] for i in images], [env.image])
        im = images[0]
        self.assertEqual(im["digest"], env.image_digest)
        self.assertGreater(im["size"], 500000)          # busybox is ~1 MB compressed
        self.assertTrue(im["createdAt"] is None or im["createdAt"].startswith("20"))
        full = c.call("image.inspect", {"ref": env.image})
        self.assertEqual(full["config"]["Cmd"], ["/bin/sh"])
        self.assertEqual(full["layers"], 1)
        self.assertEqual(c.error("image.inspect", {"ref": "%s/acc/none:1" % env.registry})["code"], -32001)
        self.assertEqual(c.error("image.inspect", {"ref": "oci:/x"})["code"], -32602)
        # in use -> conflict, nothing removed
        c.call("container.create", {"image": env.image, "name": "user", "tag": "1", "cmd": ["/bin/true"]})
        err = c.error("image.remove", {"ref": env.image})
        self.assertEqual((err["code"], err["data"]["reason"]), (-32002, "conflict"))
        self.assertIn("user:1", err["message"])
        self.assertEqual(len(c.call("image.list")), 1)
        roots = glob.glob(os.path.join(env.data, "roots", "*"))
        self.assertEqual(len(roots), 1)
        c.call("container.remove", {"name": "user", "tag": "1"})
        out = subprocess.run(env.lightctl("images"),
                             stdout=subprocess.PIPE, text=True).stdout
        self.assertIn(env.image, out)
        r = subprocess.run(env.lightctl("rmi", env.image),
                           stdout=subprocess.PIPE, text=True)
        self.assertEqual(r.returncode, 0)
        self.assertEqual(c.call("image.list"), [])
        self.assertEqual(glob.glob(os.path.join(env.data, "roots", "*")), [])   # its unpacked root went too
        self.assertEqual(c.error("image.remove", {"ref": env.image})["code"], -32001)
        # and it comes back on the next create
        c.call("container.create", {"image": env.image, "name": "again", "tag": "1", "cmd": ["/bin/true"]})
        c.call("container.remove", {"name": "again", "tag": "1"})
        self.assertEqual(len(c.call("image.list")), 1)


if __name__ == "__main__":
    run_suite("test_images")
