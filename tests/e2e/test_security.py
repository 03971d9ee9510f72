"""The security review's findings, each shown fixed on the real daemon.

Squatted runtime and data dirs are refused, files are never written through
a planted symlink; a container's log and a pulled image are bounded on disk,
and log follows survive the log starting afresh and each other.
"""
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time

from harness import SANDBOX, USER, DaemonSuite, FreshEnvCase, as_user, http_get, run_suite, sh, unix_connect, wait_until

try:
    import asyncio
    import websockets
except ImportError:
    websockets = None


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
        # it kept writing all along: the newest lines are there (a tail read just after the log started
        # afresh may find fewer than five: read again)
        def tail():
            return [l["text"] for l in c.call("container.logs", {"name": "yes", "tag": "1", "tail": 5})["lines"]]
        self.assertTrue(wait_until(lambda: tail() == ["y" * 70] * 5, 5), tail())
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


def closed_by_peer(sock, within):
    """Did the daemon close sock within `within` seconds (EOF or reset)?"""
    sock.settimeout(within)
    try:
        while sock.recv(4096):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


class Connections(DaemonSuite):
    """Before the token: a bounded number of TCP connections, each with
    10 s to send its request; refusals logged at a bounded rate, escaped."""
    daemon_args = ("--listen", "127.0.0.1:0", "--max-pending", "8")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.port = int(cls.env.tcp_url().rsplit(":", 1)[1])

    def tcp(self):
        return socket.create_connection(("127.0.0.1", self.port), timeout=5)

    def test_connections_without_the_token_are_bounded(self):
        idle = [self.tcp() for _ in range(8)]
        time.sleep(0.3)
        extra = self.tcp()   # the kernel accepts; the daemon closes it at once, unread
        self.assertTrue(closed_by_peer(extra, 3), "a ninth connection without the token was kept")
        c = self.env.client()   # the Unix socket is not held up
        self.assertEqual(c.call("system.ping"), "pong")
        for s in idle:
            s.close()
        auth = {"Authorization": "Bearer " + self.env.token()}
        self.assertTrue(wait_until(lambda: self.try_get(auth) == 200, 5))
        # authenticated connections do not count: eight with the token, then one more works
        kept = [self.tcp() for _ in range(8)]
        for s in kept:
            s.sendall(("GET /v1/healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n"
                       % self.env.token()).encode())
            self.assertIn(b" 200 ", s.recv(4096))
        self.assertEqual(self.try_get(auth), 200)
        for s in kept:
            s.close()
        self.assertIn("refused a TCP connection: 8 are not authenticated yet (--max-pending)",
                      self.env.daemon_log(tail=None))
        c.close()

    def try_get(self, headers):
        try:
            return http_get(self.env.tcp_url(), "/v1/healthz", headers, timeout=3)[0]
        except (OSError, ValueError, IndexError):
            return None

    def test_a_slow_or_silent_client_is_cut_off(self):
        results = {}

        def silent():
            s = self.tcp()
            t0 = time.time()
            results["silent"] = (closed_by_peer(s, 20), time.time() - t0)

        def dripping():
            s = self.tcp()
            t0 = time.time()
            s.sendall(b"GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            try:
                for _ in range(20):   # a header byte a second, never finishing
                    s.sendall(b"X")
                    time.sleep(1)
                results["drip"] = (False, time.time() - t0)
            except OSError:
                results["drip"] = (True, time.time() - t0)

        threads = [threading.Thread(target=silent), threading.Thread(target=dripping)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for what in ("silent", "drip"):
            closed, took = results[what]
            self.assertTrue(closed, "%s: never closed" % what)
            self.assertLess(took, 14, what)
            print("\n  %s connection closed after %.1f s" % (what, took))

    def test_what_a_client_sends_is_escaped_in_the_log(self):
        s = self.tcp()
        s.sendall(("GET /%%1b[31mred%%0a2026-01-01T00:00:00.000Z error forged HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n" % self.env.token()).encode())
        self.assertIn(b" 404 ", s.recv(4096))
        s.close()
        log = self.env.daemon_log(tail=None)
        self.assertTrue(wait_until(lambda: "\\x1b[31mred" in self.env.daemon_log(tail=None), 5), log[-2000:])
        log = self.env.daemon_log(tail=None)
        self.assertNotIn("\x1b", log)
        self.assertFalse([l for l in log.splitlines() if l.startswith("2026-01-01T00:00:00.000Z")])


class Utf8(DaemonSuite):
    """Text frames are valid UTF-8 whatever a container prints: a client
    that checks (browsers do, python3-websockets does: code 1007) keeps its
    connection and reads U+FFFD where the bytes were not UTF-8."""

    def test_a_container_printing_invalid_utf8(self):
        if websockets is None:
            self.skipTest("python3-websockets is not installed")
        c = self.env.client()
        c.call("container.create", {"image": self.env.image, "name": "bytes", "tag": "1",
                                    "cmd": ["/bin/sh", "-c", "printf 'a\\377b \\303\\251 \\342\\202\\n'"]})
        c.call("container.start", {"name": "bytes", "tag": "1"})
        self.assertEqual(c.call("container.wait", {"name": "bytes", "tag": "1"})["exitCode"], 0)

        async def read_logs():
            sock = unix_connect(self.env.socket, 10)
            sock.setblocking(False)
            async with websockets.connect("ws://localhost/v1/ws", sock=sock, open_timeout=10) as ws:
                await ws.send('{"jsonrpc":"2.0","id":1,"method":"container.logs","params":'
                              '{"name":"bytes","tag":"1"}}')
                reply = json.loads(await asyncio.wait_for(ws.recv(), 10))   # 1007 would raise here
                await ws.send('{"jsonrpc":"2.0","id":2,"method":"system.ping"}')
                pong = json.loads(await asyncio.wait_for(ws.recv(), 10))
                return reply, pong

        reply, pong = asyncio.run(read_logs())
        self.assertEqual(pong["result"], "pong")
        self.assertEqual([l["text"] for l in reply["result"]["lines"]], ["a\ufffdb \u00e9 \ufffd\ufffd"])
        c.call("container.remove", {"name": "bytes", "tag": "1"})
        c.close()


if __name__ == "__main__":
    run_suite("test_security")
