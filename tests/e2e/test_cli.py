"""lightctl against the real daemon: tables, --json, events, exit codes."""
import base64
import hashlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
import unittest

from harness import SANDBOX, USER, WS, DaemonSuite, WSError, as_user, build_dir, http_get, run_suite, wait_until


class Cli(DaemonSuite):
    daemon_args = ("--listen", "127.0.0.1:0")

    def ctl(self, *args, check=None, timeout=120):
        r = subprocess.run(self.env.lightctl(*args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=timeout)
        if check is not None:
            self.assertEqual(r.returncode, check, "lightctl %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
        return r

    def test_lifecycle_through_cli(self):
        events = subprocess.Popen(self.env.lightctl("--json",
                                   "events", "--type", "container.state", "--count", "4"), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True)
        # subscribed before anything happens
        self.assertIn("watching events after seq", events.stderr.readline())
        r = self.ctl("create", "--name", "cli", "--tag", "v1", "--env", "X=1", self.env.image,
                     "/bin/sh", "-c", "exit 5", check=0)
        self.assertEqual(r.stdout.strip(), "cli:v1 created")
        self.ctl("start", "cli:v1", check=0)
        out, err = events.communicate(timeout=60)
        self.assertEqual(events.returncode, 0, err)
        states = [json.loads(l)["state"] for l in out.splitlines()]
        self.assertEqual(states, ["creating", "created", "running", "exited"])
        ps = self.ctl("ps", check=0).stdout.splitlines()
        self.assertTrue(ps[0].startswith("NAME"))
        row = [l for l in ps if l.startswith("cli ")][0].split()
        self.assertEqual(row[1:5], ["v1", "exited", "-", "5"])
        ct = json.loads(self.ctl("inspect", "cli:v1", check=0).stdout)
        self.assertEqual((ct["exitCode"], ct["cmd"]), (5, ["/bin/sh", "-c", "exit 5"]))
        listed = json.loads(self.ctl("--json", "ps", check=0).stdout)
        self.assertEqual([c["name"] for c in listed], ["cli"])
        self.ctl("rm", "cli:v1", check=0)
        self.assertEqual(json.loads(self.ctl("--json", "ps", check=0).stdout), [])

    def test_run_and_events_flags(self):
        r = self.ctl("run", "--rm", "--wait", "--name", "once", self.env.image, "/bin/sh", "-c", "exit 6")
        self.assertEqual(r.returncode, 6, r.stderr)
        self.assertEqual(json.loads(self.ctl("--json", "ps", check=0).stdout), [])   # --rm removed it
        r = self.ctl("run", "--name", "bg", "--tag", "x", self.env.image, "/bin/sleep", "100", check=0)
        self.assertEqual(r.stdout.strip(), "bg:x running")
        # events --initial shows the running one first; --since replays
        r = subprocess.run(self.env.lightctl("--json", "events",
                            "--initial", "--count", "1"), stdout=subprocess.PIPE, text=True, timeout=30)
        first = json.loads(r.stdout.splitlines()[0])
        self.assertEqual((first["name"], first["state"], first["initial"]), ("bg", "running", True))
        r = subprocess.run(self.env.lightctl("--json", "events",
                            "--since", "0", "--count", "2"), stdout=subprocess.PIPE, text=True, timeout=30)
        self.assertEqual([json.loads(l)["seq"] for l in r.stdout.splitlines()], [1, 2])
        self.ctl("rm", "--force", "bg:x", check=0)

    def test_exit_codes(self):
        r = self.ctl("start", "nothere:1", check=1)
        self.assertIn("not_found", r.stderr)
        self.assertIn("no container nothere:1", r.stderr)
        self.ctl("frobnicate", check=2)
        self.ctl("inspect", check=2)
        # numbers are whole and bounded; nothing is sent when one is not
        for args, why in ((("stop", "--time", "ten", "nothere:1"), "--time takes a whole number from 0 to 3600"),
                          (("restart", "--time", "99999", "nothere:1"), "not '99999'"),
                          (("logs", "--tail", "-1", "nothere:1"), "--tail takes a whole number"),
                          (("events", "--count", "2x"), "--count takes a whole number")):
            r = self.ctl(*args, check=2)
            self.assertIn(why, r.stderr)
            self.assertNotIn("not_found", r.stderr)
        # the usage text lists every command lightctl runs, from one table
        r = subprocess.run([os.path.join(self.env.bin, "lightctl"), "--help"], stdout=subprocess.PIPE, text=True)
        listed = [l.split()[0] for l in r.stdout.split("commands:\n")[1].split("\n\n")[0].splitlines()
                  if l.startswith("  ") and not l.startswith("   ")]
        self.assertEqual(len(listed), len(set(listed)))
        for cmd in listed:
            self.assertNotIn("unknown command", self.ctl(cmd, "--no-such-option", check=None).stderr, cmd)
        self.assertIn("dashboard", listed)
        r = subprocess.run([os.path.join(self.env.bin, "lightctl"), "--socket", "/nonexistent.sock", "ps"],
                           stderr=subprocess.PIPE, text=True)
        self.assertEqual(r.returncode, 3)
        self.assertIn("is light-containerd running", r.stderr)
        # the daemon will not listen off loopback without TLS
        r = subprocess.run([os.path.join(self.env.bin, "light-containerd"), "--listen", "0.0.0.0:7781"],
                           stderr=subprocess.PIPE, text=True)
        self.assertEqual(r.returncode, 2)
        self.assertIn("without TLS", r.stderr)

    def test_info_and_tcp(self):
        info = json.loads(self.ctl("info", check=0).stdout)
        self.assertTrue(info["rootless"])
        self.assertTrue(info["cgroup"]["delegated"])
        self.assertEqual(info["cgroup"]["path"], "/" + self.env.cgname)
        for tool in ("skopeo", "umoci", "crun", "conmon"):
            self.assertIn("version", info["tools"][tool])
        # the same API on the TCP listener (port chosen by the kernel)
        log = self.env.daemon_log(tail=None)
        port = int(log.split("ws://127.0.0.1:")[1].split("/")[0])
        token_file = os.path.join(self.env.run, "token")
        r = subprocess.run([os.path.join(self.env.bin, "lightctl"), "--url", "ws://127.0.0.1:%d" % port,
                            "--token-file", token_file, "ping"], stdout=subprocess.PIPE, text=True)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, '"pong"'))
        self.assertEqual(os.stat(token_file).st_mode & 0o777, 0o600)

    def test_doctor_before_and_after_the_sandbox(self):
        daemon = os.path.join(self.env.bin, "light-containerd")
        # as root, on this cgroup v1/v2 hybrid host: not ready, and it says why
        r = subprocess.run([daemon, "doctor", "--json"], stdout=subprocess.PIPE, text=True)
        before = {c["check"]: c for c in json.loads(r.stdout)}
        self.assertEqual(r.returncode, 1)
        self.assertFalse(before["user"]["ok"])
        self.assertIn("fix", before["user"])
        self.assertTrue(before["crun"]["ok"] and before["crun"]["detail"].startswith("crun version"))
        # as the sandbox user, in its delegated cgroup2 subtree: ready
        r = subprocess.run([SANDBOX, "run", "--cgroup-name", self.env.cgname + "-doc", "--", daemon, "doctor",
                            "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        after = {c["check"]: c for c in json.loads(r.stdout)}
        self.assertEqual(r.returncode, 0, r.stdout)
        for check in ("user", "userns", "subuid", "subgid", "newuidmap", "cgroup2", "cgroup-delegation",
                      "skopeo", "umoci", "crun", "conmon", "runtime-dir"):
            self.assertTrue(after[check]["ok"], after[check])
            self.assertIsNone(after[check]["fix"])
        # the running daemon reports the same through system.check (and lightctl check)
        c = self.env.client()
        via_api = {x["check"]: x["ok"] for x in c.call("system.check")}
        c.close()
        self.assertEqual(via_api, {k: v["ok"] for k, v in after.items()})
        out = self.ctl("check", check=0).stdout
        self.assertIn("ok   cgroup-delegation", out)

    def test_plain_http(self):
        env = self.env
        st, hdrs, body = http_get(env.socket, "/v1/healthz")
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(body)["status"], "ok")
        c = env.client()
        c.call("container.create", {"image": env.image, "name": "web", "tag": "h", "cmd": ["/bin/true"]})
        st, hdrs, body = http_get(env.socket, "/v1/containers")
        self.assertEqual((st, hdrs["content-type"]), (200, "application/json"))
        self.assertEqual([x["name"] for x in json.loads(body)], ["web"])
        st, _, body = http_get(env.socket, "/v1/containers/web/h")
        self.assertEqual(json.loads(body), c.call("container.inspect", {"name": "web", "tag": "h"}))
        self.assertEqual(http_get(env.socket, "/v1/containers/web/nope")[0], 404)
        self.assertEqual(http_get(env.socket, "/v1/containers/UPPER/x")[0], 400)
        self.assertEqual(http_get(env.socket, "/nothing")[0], 404)
        st, _, body = http_get(env.socket, "/v1/info")
        self.assertEqual(json.loads(body)["version"], c.call("system.info")["version"])
        # Prometheus text: every sample line is "name{labels} value" or "name value"
        st, hdrs, body = http_get(env.socket, "/metrics")
        self.assertEqual(st, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/plain"))
        samples = {}
        for line in body.splitlines():
            if line.startswith("#"):
                self.assertRegex(line, r"^# (HELP|TYPE) lcd_[a-z_]+ ")
                continue
            name, value = line.rsplit(" ", 1)
            float(value)
            self.assertRegex(name, r'^lcd_[a-z_]+(\{[a-z]+="[^"]*"(,[a-z]+="[^"]*")*\})?$')
            samples[name] = float(value)
        self.assertEqual(samples['lcd_containers{state="created"}'], 1)
        self.assertGreaterEqual(samples['lcd_rpc_requests_total{method="container.create"}'], 1)
        self.assertGreaterEqual(samples['lcd_create_phase_seconds_count{phase="unpack"}'], 1)
        self.assertEqual(samples['lcd_rpc_duration_seconds_bucket{le="+Inf"}'], samples["lcd_rpc_duration_seconds_count"])
        c.call("container.remove", {"name": "web", "tag": "h"})
        c.close()
        # TCP wants the token here too: header or ?access_token=
        url = "ws://127.0.0.1:%d" % self.tcp_port()
        with open(os.path.join(env.run, "token")) as f:
            token = f.read().strip()
        self.assertEqual(http_get(url, "/v1/healthz")[0], 401)
        self.assertEqual(http_get(url, "/v1/healthz?access_token=" + token)[0], 200)
        self.assertEqual(http_get(url, "/metrics", {"Authorization": "Bearer " + token})[0], 200)
        self.assertEqual(http_get(url, "/v1/healthz?access_token=" + "1" * 64)[0], 401)

    def tcp_port(self):
        return int(self.env.daemon_log(tail=None).split("ws://127.0.0.1:")[1].split("/")[0])

    def test_tcp_needs_the_token(self):
        port = self.tcp_port()
        url = "ws://127.0.0.1:%d" % port
        with open(os.path.join(self.env.run, "token")) as f:
            token = f.read().strip()
        self.assertEqual(len(token), 64)
        for headers, want in (({}, "401"), ({"Authorization": "Bearer " + "0" * 64}, "401"),
                              ({"Authorization": "Bearer " + token, "Host": "evil.example:%d" % port}, "403"),
                              ({"Authorization": "Bearer " + token, "Origin": "http://evil.example"}, "403")):
            with self.assertRaises(WSError) as cm:
                WS(url, headers=headers)
            self.assertIn(" %s " % want, str(cm.exception) + " ", headers)
        for headers in ({"Authorization": "Bearer " + token},
                        {"Sec-WebSocket-Protocol": "light-containerd.v1, bearer." + token},
                        {"Authorization": "Bearer " + token, "Origin": "http://127.0.0.1:%d" % port}):
            ws = WS(url, headers=headers)
            ws.send_text('{"jsonrpc":"2.0","id":1,"method":"system.ping"}')
            self.assertIn('"pong"', ws.recv_text())
            ws.close()
        # lightctl without the token is refused, with a clear message
        r = subprocess.run([os.path.join(self.env.bin, "lightctl"), "--url", url, "--token-file", "/dev/null", "ping"],
                           stderr=subprocess.PIPE, text=True)
        self.assertEqual(r.returncode, 3)

    def test_unix_socket_only_for_the_daemons_user(self):
        st = os.stat(self.env.socket)
        self.assertEqual((oct(st.st_mode & 0o777), st.st_uid), ("0o600", pwd.getpwnam(USER).pw_uid))
        # root (which passes the file mode) and another user are closed on before the handshake is read
        for who in (None, "nobody"):
            with self.assertRaises((WSError, OSError)):
                WS(self.env.socket, unix_user=who, timeout=5)
            with self.assertRaises(OSError):
                http_get(self.env.socket, "/v1/healthz", unix_user=who)
        wait_until(lambda: self.env.daemon_log(tail=None).count("refused a Unix socket connection") >= 4)
        self.assertIn("refused a Unix socket connection from uid 65534", self.env.daemon_log(tail=None))
        # the daemon's user gets in; lightctl as root says why it cannot
        self.assertEqual(self.ctl("ping", check=0).stdout.strip(), '"pong"')
        r = subprocess.run([os.path.join(self.env.bin, "lightctl"), "--socket", self.env.socket, "ping"],
                           stderr=subprocess.PIPE, text=True)
        self.assertEqual(r.returncode, 3)
        self.assertIn("lets only its own user in; run lightctl as that user", r.stderr)

    def test_dashboard_url_comes_from_lightctl_never_from_the_log(self):
        token = self.env.token()
        self.assertNotIn(token, self.env.daemon_log(tail=None))
        r = self.ctl("dashboard", check=0)
        url = self.env.tcp_url().replace("ws://", "http://")
        self.assertEqual(r.stdout.strip(), "%s/#token=%s" % (url, token))
        # over TCP too, with the token lightctl was given
        r = subprocess.run(as_user_argv(self.env, "--host", self.env.tcp_url(), "--token-file",
                                        os.path.join(self.env.run, "token"), "dashboard"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, "%s/#token=%s" % (url, token)), r.stderr)
        # the page itself is served there, and the info names the token file
        self.assertEqual(http_get(self.env.tcp_url(), "/")[0], 200)
        info = json.loads(self.ctl("--json", "info", check=0).stdout)
        self.assertEqual((info["dashboard"], info["tokenFile"]), (url + "/", os.path.join(self.env.run, "token")))

    def complete(self, *words, shell="bash"):
        """What `lightctl completion SHELL`'s function offers for the command line
        words (the last one is being completed), run as the daemon's user."""
        prog = ('source <("$1" completion %s) || exit 9; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
                'COMPREPLY=(); _lightctl; printf "%%s\\n" "${COMPREPLY[@]}"' % shell)
        r = subprocess.run(as_user([shell, "-c", prog, shell, os.path.join(self.env.bin, "lightctl")] + list(words)),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        self.assertEqual((r.returncode, r.stderr), (0, ""), words)
        return sorted(l for l in r.stdout.splitlines() if l)

    def test_shell_completion_from_the_command_table(self):
        ctl = os.path.join(self.env.bin, "lightctl")
        on = (ctl, "--socket", self.env.socket)   # the global options typed reach the daemon the function asks
        # every command of the table, and only those, from the usage text's list
        r = subprocess.run([ctl, "--help"], stdout=subprocess.PIPE, text=True)
        listed = [l.split()[0] for l in r.stdout.split("commands:\n")[1].split("\n\n")[0].splitlines()
                  if l.startswith("  ") and not l.startswith("   ")]
        self.assertIn("completion", listed)
        self.assertEqual(self.complete(ctl, ""), sorted(listed))
        self.assertEqual(self.complete(*on, "--json", "--timeout", "9", ""), sorted(listed))
        self.assertEqual(self.complete(ctl, "st"), ["start", "stats", "stop"])
        self.assertEqual(self.complete(*on, "st"), ["start", "stats", "stop"])
        self.assertEqual(self.complete(ctl, "--so"), ["--socket"])
        self.assertEqual(self.complete(ctl, "--t"), ["--timeout", "--token-file"])
        # a command's options, from its usage text; none once its arguments began
        self.assertEqual(self.complete(ctl, "create", "--na"), ["--name"])
        self.assertEqual(self.complete(ctl, "run", "--rm", "--na"), ["--name"])
        self.assertEqual(self.complete(ctl, "logs", "-"), ["--tail", "-f"])
        self.assertEqual(self.complete(ctl, "rm", "--"), ["--force"])
        self.assertEqual(self.complete(ctl, "completion", ""), ["bash", "zsh"])
        self.assertEqual(self.complete(ctl, "create", "--name", ""), [])   # a value: nothing to offer
        # containers by NAME:TAG from --json ps, on the daemon the typed options name
        c = self.env.client()
        c.call("container.create", {"image": self.env.image, "name": "web", "tag": "v1", "cmd": ["/bin/sleep", "100"]})
        c.call("container.start", {"name": "web", "tag": "v1"})
        c.call("container.create", {"image": self.env.image, "name": "db", "tag": "x", "cmd": ["/bin/true"]})
        self.addCleanup(lambda: [self.ctl("rm", "--force", k) for k in ("web:v1", "db:x")])
        self.assertEqual(self.complete(*on, "stop", "w"), ["web:v1"])
        self.assertEqual(self.complete(*on, "stop", "--time", "3", "w"), ["web:v1"])
        self.assertEqual(self.complete(*on, "stop", "web:v1", ""), ["db:x", "web:v1"])   # NAME[:TAG]... repeats
        self.assertEqual(self.complete(*on, "logs", "web:v1", ""), [])                   # logs takes one
        self.assertEqual(self.complete(*on, "stop", "web", ":"), ["v1"])   # bash replaces what follows the colon
        self.assertEqual(self.complete(*on, "stop", "web", ":", "v"), ["v1"])
        self.assertEqual(self.complete(*on, "stop", "--time", "w"), [])    # --time's value
        # cached images by ref, from --json images
        refs = sorted(i["ref"] for i in json.loads(self.ctl("--json", "images", check=0).stdout))
        self.assertTrue(refs)
        self.assertEqual(self.complete(*on, "rmi", ""), refs)
        self.assertEqual(self.complete(*on, "create", "--name", "n", ""), refs)
        self.assertEqual(self.complete(*on, "create", refs[0], ""), [])   # then its command: nothing
        # the daemon down: nothing offered, nothing said (complete() checks stderr)
        self.assertEqual(self.complete(ctl, "--socket", "/nonexistent.sock", "stop", "w"), [])
        self.assertEqual(self.complete("/nonexistent/lightctl", "stop", "w"), [])
        # a completion is not a command run on the daemon: it needs none
        r = subprocess.run([ctl, "--socket", "/nonexistent.sock", "completion", "bash"], stdout=subprocess.PIPE,
                           text=True)
        self.assertEqual(r.returncode, 0)
        self.assertIn("complete -F _lightctl lightctl", r.stdout)
        self.assertEqual(subprocess.run([ctl, "completion", "fish"], stderr=subprocess.PIPE).returncode, 2)
        if shutil.which("zsh") is None:
            return   # zsh is optional; bash is what the table is checked against
        self.assertEqual(self.complete(ctl, "st", shell="zsh"), ["start", "stats", "stop"])
        self.assertEqual(self.complete(*on, "stop", "w", shell="zsh"), ["web:v1"])


def as_user_argv(env, *args):
    """lightctl as the daemon's user, without the default --socket."""
    return as_user([os.path.join(env.bin, "lightctl")] + list(args))


def accept_key(key):
    return base64.b64encode(hashlib.sha1((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()


class HostileServer(unittest.TestCase):
    """lightctl against a server that lies: its frames and its handshake
    are checked by libwebsockets; it fails cleanly (exit 3, a message),
    never overflows (the e2e runs under ASan too)."""

    def serve(self, answer):
        """A one-connection server; answer(conn, key) speaks after the request."""
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        self.addCleanup(srv.close)

        def run():
            conn, _ = srv.accept()
            with conn:
                req = b""
                while b"\r\n\r\n" not in req:
                    chunk = conn.recv(4096)
                    if not chunk:
                        return
                    req += chunk
                key = [l.split(b":", 1)[1].strip().decode() for l in req.split(b"\r\n")
                       if l.lower().startswith(b"sec-websocket-key:")][0]
                try:
                    answer(conn, key)
                    time.sleep(5)   # keep the connection open: lightctl must not wait for our close
                except OSError:
                    pass

        threading.Thread(target=run, daemon=True).start()
        return "ws://127.0.0.1:%d" % srv.getsockname()[1]

    def lightctl(self, url, *extra):
        with open(os.path.join(self.tmp, "tok"), "w") as f:
            f.write("0" * 64)
        t0 = time.monotonic()
        r = subprocess.run([os.path.join(build_dir(), "lightctl"), "--host", url, "--token-file",
                            os.path.join(self.tmp, "tok"), "--timeout", "20"] + list(extra) + ["ping"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
        return r, time.monotonic() - t0

    def setUp(self):
        import tempfile
        self.tmp = tempfile.mkdtemp(prefix="lcd-hostile-")
        self.addCleanup(lambda: __import__("shutil").rmtree(self.tmp, ignore_errors=True))

    @staticmethod
    def upgrade(conn, key):
        conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      "Sec-WebSocket-Accept: %s\r\n\r\n" % accept_key(key)).encode())

    def test_a_64_bit_frame_length_is_refused(self):
        # the reproducer of the old client's heap overflow: a fragment, then a length that wrapped its check
        def answer(conn, key):
            self.upgrade(conn, key)
            conn.sendall(b"\x01\x01a" + b"\x80\x7f" + b"\xff" * 8 + b"x" * 65536)
        r, took = self.lightctl(self.serve(answer))
        self.assertEqual(r.returncode, 3, r.stderr)
        # while sending the ping or waiting for its reply, as the frames come: either way, said so
        self.assertIn("the daemon closed the connection", r.stderr)
        self.assertLess(took, 10)

    def test_a_message_over_the_limit_ends_the_connection(self):
        def answer(conn, key):
            self.upgrade(conn, key)
            conn.sendall(b"\x82\x7f" + (1 << 40).to_bytes(8, "big"))
            chunk = b"y" * (1 << 20)
            for _ in range(17):   # 17 MiB: over lightctl's 16 MiB
                conn.sendall(chunk)
        r, took = self.lightctl(self.serve(answer))
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("over 16 MiB", r.stderr)
        self.assertLess(took, 15)

    def test_a_wrong_accept_key_is_refused(self):
        def answer(conn, key):
            conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: %s\r\n\r\n" % accept_key("not-" + key)).encode())
        r, _ = self.lightctl(self.serve(answer))
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("cannot connect to ws://127.0.0.1:", r.stderr)

    def test_a_fragmented_reply_is_assembled(self):
        # a reply in three fragments, with a ping in between: one message
        reply = b'{"jsonrpc":"2.0","id":1,"result":"pong"}'
        def answer(conn, key):
            self.upgrade(conn, key)
            conn.recv(4096)   # the request
            a, b, c = reply[:10], reply[10:20], reply[20:]
            conn.sendall(bytes([0x01, len(a)]) + a + b"\x89\x00" + bytes([0x00, len(b)]) + b +
                         bytes([0x80, len(c)]) + c)
        r, _ = self.lightctl(self.serve(answer))
        self.assertEqual((r.returncode, r.stdout.strip()), (0, '"pong"'), r.stderr)


if __name__ == "__main__":
    run_suite("test_cli")
