#!/usr/bin/env python3
"""attach and interactive containers, on the real conmon and crun: the main
process's output live on its channels, stdin to a container created with
stdin, a terminal and its resize, several clients at once, a client that
leaves (the container runs on), the refusals; the same wire through
python3-websockets; and lightctl run -it, run -i and attach's detach keys
under a pty."""
import asyncio
import json
import os
import pty
import select
import subprocess
import time

from harness import (Attach, DaemonSuite, Exec, SkipSuite, STREAM_PROTOCOL, WSError, http_get, run_suite, unix_connect,
                     wait_until, ws_frames_to_status)

try:
    import websockets
except ImportError:   # Debian: python3-websockets (scripts/dev installs it)
    websockets = None

TICKER = ["sh", "-c", "i=0; while :; do echo tick $i; i=$((i+1)); sleep 0.2; done"]


class AttachStreams(DaemonSuite):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.c = cls.env.client()
        cls.n = 0

    def create(self, cmd, start=True, **opts):
        AttachStreams.n += 1
        tag = str(self.n)
        self.c.call("container.create", dict({"image": self.env.image, "name": "att", "tag": tag, "cmd": cmd}, **opts))
        if start:
            self.c.call("container.start", {"name": "att", "tag": tag})
        return tag

    def attach(self, tag, **kw):
        return Attach(self.env.socket, "att", tag, **kw)

    def metrics(self):
        return http_get(self.env.socket, "/metrics")[2]

    def test_attach_sees_the_main_process_output_live_and_its_exit(self):
        tag = self.create(TICKER)
        time.sleep(0.5)
        a = self.attach(tag)
        try:
            self.assertEqual(a.frame(), b"\x01", "the first frame says the stream is ready")
            out, _, status = a.collect(until=lambda o: o.count(b"tick") >= 3)
            self.assertIsNone(status)
            ticks = [int(l.split()[1]) for l in out.decode().splitlines() if l.startswith("tick ")]
            self.assertGreater(ticks[0], 0, "live output, not the log from the start")
            self.assertEqual(ticks, list(range(ticks[0], ticks[0] + len(ticks))), "in order, nothing lost")
            self.c.call("container.stop", {"name": "att", "tag": tag, "timeout": 1})
            _, _, status = a.collect()
            self.assertEqual(status["status"], "Failure")
            # sh, the namespace's init, ignores SIGTERM: the stop's SIGKILL ends it
            self.assertEqual(status["details"]["causes"][0]["message"], str(128 + 9))
        finally:
            a.close()

    def test_attached_before_start_stdout_and_stderr_stay_apart_and_success_ends_it(self):
        tag = self.create(["sh", "-c", "echo out; echo err >&2"], start=False)
        a = self.attach(tag)
        try:
            self.assertEqual(a.frame(), b"\x01")
            self.c.call("container.start", {"name": "att", "tag": tag})
            out, err, status = a.collect()
            self.assertEqual((out, err), (b"out\n", b"err\n"))
            self.assertEqual(status, {"metadata": {}, "status": "Success"})
        finally:
            a.close()

    def test_stdin_reaches_a_container_created_with_stdin_and_its_end_closes_it(self):
        tag = self.create(["sh", "-c", "cat; echo done; exit 7"], stdin=True)
        a = self.attach(tag, stdin=True)
        try:
            a.send(0, "hello\n")
            out, _, _ = a.collect(until=lambda o: b"hello\n" in o)
            self.assertEqual(out, b"hello\n")
            a.close_stdin()
            out, _, status = a.collect()
            self.assertEqual(out, b"done\n")
            self.assertEqual(status["details"]["causes"][0]["message"], "7")
        finally:
            a.close()

    def test_a_terminal_takes_resizes_and_has_one_output_channel(self):
        tag = self.create(["sh"], tty=True, stdin=True)
        inspect = self.c.call("container.inspect", {"name": "att", "tag": tag})
        self.assertEqual((inspect["tty"], inspect["stdin"]), (True, True))
        a = self.attach(tag, stdin=True)
        try:
            a.send(0, "stty size\n")
            out, _, _ = a.collect(until=lambda o: b"24 80" in o)
            self.assertIn(b"24 80", out, "80x24 before any resize")
            a.resize(101, 33)
            time.sleep(0.3)
            a.send(0, "stty size; echo $TERM; echo oops >&2; exit 3\n")
            out, err, status = a.collect()
            self.assertIn(b"33 101", out)
            self.assertIn(b"xterm", out)
            self.assertIn(b"oops", out, "a terminal's stderr is its one output")
            self.assertEqual(err, b"")
            self.assertEqual(status["details"]["causes"][0]["message"], "3")
        finally:
            a.close()

    def test_an_exec_without_a_terminal_runs_in_a_container_with_one(self):
        tag = self.create(["sh"], tty=True, stdin=True)
        x = Exec(self.env.socket, "att", tag, ["sh", "-c", "echo plain; test -t 1 || echo no-tty"])
        try:
            out, _, status = x.collect()
            self.assertEqual((out, status["status"]), (b"plain\nno-tty\n", "Success"))
        finally:
            x.close()
        self.c.call("container.kill", {"name": "att", "tag": tag})

    def test_several_clients_see_the_output_and_one_leaving_stops_nothing(self):
        tag = self.create(TICKER)
        a, b = self.attach(tag), self.attach(tag)
        try:
            a.collect(until=lambda o: b"tick" in o)
            b.collect(until=lambda o: b"tick" in o)
            a.close()
            out, _, status = b.collect(until=lambda o: o.count(b"\n") >= 3)
            self.assertIsNone(status)
            self.assertEqual(self.c.call("container.inspect", {"name": "att", "tag": tag})["state"], "running")
        finally:
            b.close()
        self.assertTrue(wait_until(lambda: "\nlcd_attaches 0\n" in self.metrics(), timeout=10), self.metrics())
        self.assertEqual(self.c.call("container.inspect", {"name": "att", "tag": tag})["state"], "running",
                         "a client leaving does not stop the container")
        self.c.call("container.kill", {"name": "att", "tag": tag})

    def test_refusals_are_http_with_a_json_body(self):
        idle = self.create(["true"], start=False)
        plain = self.create(["sleep", "1000"])
        done = self.create(["true"])
        wait_until(lambda: self.c.call("container.inspect", {"name": "att", "tag": done})["state"] == "exited")
        cases = [(done, {}, "409"), ("nope", {}, "404"), (plain, {"stdin": True}, "400"),
                 (idle, {"extra": [("command", "sh")]}, "400")]
        for tag, kw, status in cases:
            with self.assertRaises(WSError) as cm:
                self.attach(tag, **kw)
            self.assertIn(" %s " % status, str(cm.exception), (tag, kw))
        self.assertTrue(wait_until(lambda: "\nlcd_exec_streams 0\n" in self.metrics(), timeout=10))
        self.c.call("container.kill", {"name": "att", "tag": plain})


class Pty:
    """A program on a new pseudo-terminal: what it prints, what is typed."""

    def __init__(self, argv):
        self.master, slave = pty.openpty()
        self.p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave)
        os.close(slave)
        self.out = b""

    def read_until(self, token, timeout=30):
        deadline = time.time() + timeout
        while token not in self.out and time.time() < deadline:
            if select.select([self.master], [], [], 0.2)[0]:
                try:
                    self.out += os.read(self.master, 4096)
                except OSError:
                    break
        return token in self.out

    def type(self, text):
        os.write(self.master, text)

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        os.close(self.master)


class LightctlInteractive(DaemonSuite):
    """lightctl run -it, run -i and attach, as a user types them."""

    def lightctl(self, *args, stdin=None):
        return subprocess.run(self.env.lightctl(*args), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=60)

    def test_run_it_gives_a_shell_whose_exit_code_is_lightctls(self):
        t = Pty(self.env.lightctl("run", "--rm", "-it", "--name", "it", self.env.image, "sh"))
        try:
            t.type(b"echo h''i; exit 3\r")   # (h''i: the echoed line is not "hi")
            self.assertTrue(t.read_until(b"\r\nhi\r\n"), t.out)
            self.assertEqual(t.p.wait(timeout=30), 3, t.out)
        finally:
            t.close()
        c = self.env.client()
        self.assertEqual([x for x in c.call("container.list") if x["name"] == "it"], [], "--rm removed it")
        c.close()

    def test_run_i_streams_a_pipe_and_closes_stdin_at_its_end(self):
        r = self.lightctl("run", "--rm", "-i", "--name", "cat", self.env.image, "cat", stdin=b"hi\nthere\n")
        self.assertEqual((r.returncode, r.stdout), (0, b"hi\nthere\n"), r.stderr)

    def test_a_terminal_with_stdin_from_a_pipe_is_refused_as_docker_does(self):
        r = self.lightctl("run", "-it", "--name", "piped", self.env.image, "sh", stdin=b"exit 3\n")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn(b"not a TTY", r.stderr)
        c = self.env.client()
        self.assertEqual([x for x in c.call("container.list") if x["name"] == "piped"], [], "nothing is left")
        c.close()

    def test_attach_then_the_detach_keys_leave_it_running(self):
        c = self.env.client()
        c.call("container.create", {"image": self.env.image, "name": "sh", "tag": "1", "tty": True, "stdin": True,
                                    "cmd": ["sh"]})
        c.call("container.start", {"name": "sh", "tag": "1"})
        t = Pty(self.env.lightctl("attach", "sh:1"))
        try:
            t.type(b"echo a''b\r")
            self.assertTrue(t.read_until(b"\r\nab\r\n"), t.out)
            t.type(b"\x10\x11")   # ctrl-p ctrl-q
            self.assertEqual(t.p.wait(timeout=30), 0, t.out)
            self.assertTrue(t.read_until(b"detached", timeout=5), t.out)
        finally:
            t.close()
        self.assertEqual(c.call("container.inspect", {"name": "sh", "tag": "1"})["state"], "running")
        t = Pty(self.env.lightctl("attach", "sh:1"))   # and back: its terminal's input is still open
        try:
            t.type(b"exit 5\r")
            self.assertEqual(t.p.wait(timeout=30), 5, t.out)
        finally:
            t.close()
        c.close()


class AttachIndependentClient(DaemonSuite):
    """The attach wire through python3-websockets."""

    @classmethod
    def setUpClass(cls):
        if websockets is None:
            raise SkipSuite("python3-websockets is not installed (apt-get install python3-websockets)")
        super().setUpClass()
        c = cls.env.client()
        c.call("container.create", {"image": cls.env.image, "name": "box", "tag": "1", "stdin": True,
                                    "cmd": ["sh", "-c", "read line; echo got $line; exit 4"]})
        c.call("container.start", {"name": "box", "tag": "1"})
        c.close()

    async def attach(self):
        sock = unix_connect(self.env.socket, 30)
        sock.setblocking(False)
        uri = "ws://localhost/v1/containers/box/1/attach?stdin=1&stdout=1&stderr=1"
        async with websockets.connect(uri, sock=sock, subprotocols=[STREAM_PROTOCOL], open_timeout=30) as ws:
            self.assertEqual(ws.subprotocol, STREAM_PROTOCOL)
            await ws.send(b"\x00" + "ünïcode\n".encode())
            return await ws_frames_to_status(ws)

    def test_an_attach_through_python3_websockets(self):
        loop = asyncio.new_event_loop()
        try:
            frames, code = loop.run_until_complete(self.attach())
        finally:
            loop.close()
        self.assertEqual(frames[0], b"\x01")
        self.assertEqual(b"".join(f[1:] for f in frames if f[:1] == b"\x01"), "got ünïcode\n".encode())
        self.assertEqual(json.loads(frames[-1][1:])["details"]["causes"][0]["message"], "4")
        self.assertEqual(code, 1000)


if __name__ == "__main__":
    run_suite(__name__)
