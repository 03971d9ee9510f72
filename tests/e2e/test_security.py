"""The security review's findings, each shown fixed on the real daemon.

Squatted runtime and data dirs are refused, files are never written through
a planted symlink; a container's log and a pulled image are bounded on disk,
and log follows survive the log starting afresh and each other.
"""
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time

from harness import SANDBOX, USER, FreshEnvCase, as_user, run_suite, sh


def user_ids():
    pw = pwd.getpwnam(USER)
    return pw.pw_uid, pw.pw_gid


class PrivateDirs(FreshEnvCase):
    """Without XDG_RUNTIME_DIR the runtime dir is /tmp/light-containerd-<uid>:
    another user who creates it first must not get the token."""

    def setUp(self):
        super().setUp()
        self.uid, self.gid = user_ids()
        self.squat = "/tmp/light-containerd-%d" % self.uid
        self.data = os.path.join(self.env.tmp, "xdgdata")
        os.makedirs(self.data)
        os.chown(self.data, self.uid, self.gid)
        self.remove_squat()

    def tearDown(self):
        self.remove_squat()
        super().tearDown()

    def remove_squat(self):
        if os.path.islink(self.squat) or os.path.isfile(self.squat):
            os.unlink(self.squat)
        elif os.path.isdir(self.squat):
            shutil.rmtree(self.squat)

    def run_as_user(self, *args):
        env = {"PATH": "/usr/bin:/bin", "HOME": "/var/lib/" + USER, "XDG_DATA_HOME": self.data}
        return subprocess.run(as_user([os.path.join(self.env.bin, "light-containerd")] + list(args)),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, timeout=60)

    def daemon(self):
        return self.run_as_user("--listen", "none")

    def test_runtime_dir_of_another_user_is_refused(self):
        os.mkdir(self.squat)
        os.chmod(self.squat, 0o777)
        os.chown(self.squat, 65534, 65534)   # nobody got there first
        r = self.daemon()
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("%s belongs to nobody (uid 65534), not to this user" % self.squat, r.stderr)
        self.assertEqual(os.listdir(self.squat), [], "the daemon wrote into a directory it does not own")
        # the doctor names the problem too
        d = self.run_as_user("doctor", "--json")
        self.assertEqual(d.returncode, 1, d.stdout)
        check = [c for c in json.loads(d.stdout) if c["check"] == "private-dirs"][0]
        self.assertFalse(check["ok"])
        self.assertIn("belongs to nobody", check["detail"])
        self.assertIn("--runtime-dir", check["fix"])

    def test_runtime_dir_open_to_others_is_refused(self):
        os.mkdir(self.squat)
        os.chown(self.squat, self.uid, self.gid)
        os.chmod(self.squat, 0o777)
        r = self.daemon()
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("is open to others (mode 0777): run chmod 700", r.stderr)
        self.assertEqual(os.listdir(self.squat), [])

    def test_runtime_dir_symlink_is_refused(self):
        target = tempfile.mkdtemp(prefix="lcd-target-")
        os.chown(target, self.uid, self.gid)
        try:
            os.symlink(target, self.squat)
            r = self.daemon()
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("is a symbolic link", r.stderr)
            self.assertEqual(os.listdir(target), [])
        finally:
            shutil.rmtree(target)

    def test_data_dir_of_another_user_is_refused(self):
        d = os.path.join(self.data, "light-containerd")
        os.mkdir(d, 0o700)
        os.chown(d, 65534, 65534)
        r = self.run_as_user("--listen", "none", "--runtime-dir", os.path.join(self.env.run, "rt"))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("%s belongs to nobody" % d, r.stderr)

    def test_no_file_is_written_through_a_planted_symlink(self):
        victim = os.path.join(self.env.tmp, "victim")
        with open(victim, "w") as f:
            f.write("precious\n")
        os.chown(victim, self.uid, self.gid)
        # the token's temporary file: replaced by a file of the daemon's own, the victim untouched
        os.symlink(victim, os.path.join(self.env.run, "token.tmp"))
        self.env.start_daemon()
        with open(victim) as f:
            self.assertEqual(f.read(), "precious\n")
        self.assertEqual(len(self.env.token()), 64)
        self.assertFalse(os.path.islink(os.path.join(self.env.run, "token")))
        self.env.stop_daemon()
        # the lock file is not followed either
        os.symlink(victim, os.path.join(self.env.run, "daemon.lock"))
        self.env.start_daemon(wait=False)
        self.assertEqual(self.env.daemon.wait(timeout=30), 1)
        self.assertIn("cannot open %s/daemon.lock" % self.env.run, self.env.daemon_log())
        self.env.daemon = None
        self.env.log.close()
        with open(victim) as f:
            self.assertEqual(f.read(), "precious\n")


class Disk(FreshEnvCase):
    """conmon caps each log (--log-max); pulls are checked against
    --max-image-size and the free space before anything is copied or
    unpacked."""

    def log_of(self, c, name):
        cid = c.call("container.inspect", {"name": name, "tag": "1"})["id"]
        return os.path.join(self.env.data, "containers", cid, "ctr.log")

    def test_a_chatty_container_cannot_fill_the_disk(self):
        self.env.start_daemon(["--log-max", "256k"])
        c = self.env.client()
        c.call("container.create", {"image": self.env.image, "name": "yes", "tag": "1",
                                    "cmd": ["/bin/sh", "-c", "while :; do echo " + "y" * 70 + "; done"]})
        log = self.log_of(c, "yes")
        c.call("container.start", {"name": "yes", "tag": "1"})
        biggest, t0 = 0, time.time()
        while time.time() - t0 < 4:
            try:
                biggest = max(biggest, os.stat(log).st_size)
            except FileNotFoundError:   # between conmon's rename and our stat
                continue
            time.sleep(0.02)
        self.assertLessEqual(biggest, 256 * 1024 + 16 * 1024, "the log grew past --log-max")
        # it kept writing all along: the newest lines are there, the oldest gone
        lines = c.call("container.logs", {"name": "yes", "tag": "1", "tail": 5})["lines"]
        self.assertEqual([l["text"] for l in lines], ["y" * 70] * 5)
        c.call("container.remove", {"name": "yes", "tag": "1", "force": True})
        c.close()

    def test_a_follow_reads_across_the_log_starting_afresh(self):
        self.env.start_daemon(["--log-max", "64k"])
        c = self.env.client()
        # six bursts of 300 lines (~33 KB each) a second apart: a rotation every two bursts
        script = ('i=0; while [ $i -lt 6 ]; do j=0; while [ $j -lt 300 ]; do echo "$i-$j-%s"; j=$((j+1)); done; '
                  'i=$((i+1)); sleep 1; done' % ("z" * 96))
        c.call("container.create", {"image": self.env.image, "name": "rot", "tag": "1",
                                    "cmd": ["/bin/sh", "-c", script]})
        c.call("container.logs", {"name": "rot", "tag": "1", "tail": 0, "follow": True})
        c.call("container.start", {"name": "rot", "tag": "1"})
        got = []
        while True:
            method, params = c.notes.get(timeout=60)
            if method == "log.end":
                self.assertEqual(params["reason"], "exited")
                break
            got.append(params["text"])
        want = ["%d-%d-%s" % (i, j, "z" * 96) for i in range(6) for j in range(300)]
        self.assertEqual(len(got), len(want))
        self.assertEqual(got, want)
        self.assertLess(os.stat(self.log_of(c, "rot")).st_size, 64 * 1024 + 8192)
        c.close()

    def test_one_follower_ending_leaves_the_others(self):
        self.env.start_daemon()
        a, b = self.env.client(), self.env.client()
        a.call("container.create", {"image": self.env.image, "name": "tick", "tag": "1",
                                    "cmd": ["/bin/sh", "-c", "i=0; while [ $i -lt 6 ]; do echo t$i; i=$((i+1)); "
                                            "sleep 1; done"]})
        for cl in (a, b):
            cl.call("container.logs", {"name": "tick", "tag": "1", "tail": 0, "follow": True})
        a.call("container.start", {"name": "tick", "tag": "1"})
        for cl in (a, b):   # both see the first line
            method, params = cl.notes.get(timeout=30)
            self.assertEqual((method, params["text"]), ("log", "t0"))
        self.assertEqual(a.call("logs.unfollow", {"name": "tick", "tag": "1"}), {"unfollowed": True})
        texts = []
        while True:
            method, params = b.notes.get(timeout=30)
            if method == "log.end":
                break
            texts.append(params["text"])
        self.assertEqual(texts[-5:], ["t1", "t2", "t3", "t4", "t5"])
        a.close()
        b.close()

    def test_an_image_over_the_limit_is_not_pulled(self):
        self.env.start_daemon(["--max-image-size", "1k"])
        c = self.env.client()
        err = c.error("container.create", {"image": self.env.image, "name": "big", "tag": "1"})
        self.assertEqual((err["code"], err["data"]["reason"]), (-32010, "too_large"))
        self.assertIn("over --max-image-size (1024 bytes)", err["message"])
        self.assertEqual(os.listdir(os.path.join(self.env.data, "images")), [])
        self.assertEqual(c.call("container.list"), [])
        c.close()

    def test_an_image_the_disk_cannot_hold_unpacked_is_not_unpacked(self):
        env = self.env
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m,mode=0700", "lcd-e2e-data", env.data], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", env.data])
        subprocess.run(["chown", "%s:%s" % (USER, USER), env.data], check=True)
        sh(SANDBOX, "image", str(env.port), "acc/big:10", "10")   # 10 MB of random files: they do not compress
        env.start_daemon()
        c = env.client()
        ref = "%s/acc/big:10" % env.registry
        err = c.error("container.create", {"image": ref, "name": "big", "tag": "1", "cmd": ["/bin/true"]})
        self.assertEqual(err["data"]["reason"], "too_large", err)
        self.assertIn("twice the compressed size is needed", err["message"])
        self.assertEqual(os.listdir(os.path.join(env.data, "roots")), [])   # nothing half unpacked
        self.assertEqual(os.listdir(os.path.join(env.data, "containers")), [])
        self.assertEqual(c.call("container.list"), [])
        c.close()


if __name__ == "__main__":
    run_suite("test_security")
