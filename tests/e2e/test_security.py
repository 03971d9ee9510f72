"""The security review's findings, each shown fixed on the real daemon.

Squatted runtime and data dirs are refused, files are never written through
a planted symlink, the token never reaches the log.
"""
import json
import os
import pwd
import shutil
import subprocess
import tempfile

from harness import USER, FreshEnvCase, as_user, run_suite


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


if __name__ == "__main__":
    run_suite("test_security")
