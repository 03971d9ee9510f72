#!/usr/bin/env python3
"""exec over the Kubernetes channel protocol, on the real crun: output on
its channels, the status frame and its exit code, stdin, a terminal and its
resize, a client that leaves (its process is killed), the refusals and the
--max-execs bound; and the same wire through python3-websockets, a second
implementation."""
import asyncio
import fcntl
import json
import os
import pty
import select
import signal
import struct
import subprocess
import termios
import time

from harness import (DaemonSuite, Exec, FreshEnvCase, SkipSuite, STREAM_PROTOCOL, WSError, http_get, run_suite, unix_connect,
                     user_processes, wait_until, ws_frames_to_status)

try:
    import websockets
except ImportError:   # Debian: python3-websockets (scripts/dev installs it)
    websockets = None

MAX_EXECS = 4


class ExecStreams(DaemonSuite):
    daemon_args = ("--max-execs", str(MAX_EXECS))

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.c = cls.env.client()
        cls.c.call("events.subscribe", {"types": ["exec.started", "exec.exited"]})
        for tag in ("1", "idle"):
            cls.c.call("container.create", {"image": cls.env.image, "name": "box", "tag": tag,
                                            "cmd": ["/bin/sleep", "100000"]})
        cls.c.call("container.start", {"name": "box", "tag": "1"})

    def setUp(self):
        while not self.c.events.empty():   # each test sees its own execs' events
            self.c.events.get_nowait()

    def event(self, type_, timeout=60, **match):
        e, _ = self.c.wait_event(lambda e: e["type"] == type_ and all(e.get(k) == v for k, v in match.items()),
                                 timeout=timeout)
        return e

    def exec(self, cmd, **kw):
        return Exec(self.env.socket, "box", "1", cmd, **kw)

    def run_exec(self, cmd, **kw):
        x = self.exec(cmd, **kw)
        try:
            return x.collect() + (x,)
        finally:
            x.close()

    def test_output_comes_on_stdout_after_the_ready_frame_then_success(self):
        out, err, status, x = self.run_exec(["echo", "hello"])
        self.assertEqual(x.frames[0], b"\x01", "the first frame says the stream is ready")
        self.assertEqual(out, b"hello\n")
        self.assertEqual(err, b"")
        self.assertEqual(status, {"metadata": {}, "status": "Success"})
        started = self.event("exec.started")
        exited = self.event("exec.exited", execId=started["execId"])
        self.assertEqual((exited["name"], exited["tag"], exited["exitCode"]), ("box", "1", 0))
        self.assertEqual(len(started["execId"]), 32)

    def test_a_non_zero_exit_is_a_failure_with_its_code_and_stderr_is_channel_2(self):
        out, err, status, _ = self.run_exec(["sh", "-c", "echo out; echo oops >&2; exit 42"])
        self.assertEqual((out, err), (b"out\n", b"oops\n"))
        self.assertEqual(status["status"], "Failure")
        self.assertEqual(status["reason"], "NonZeroExitCode")
        self.assertTrue(status["message"].startswith("command terminated with non-zero exit code: "), status)
        self.assertEqual(status["details"], {"causes": [{"reason": "ExitCode", "message": "42"}]})

    def test_docker_exit_codes_for_a_missing_or_unrunnable_command(self):
        for cmd, code in ((["no-such-command"], "127"), (["/etc/passwd"], "126")):
            _, _, status, _ = self.run_exec(cmd)
            self.assertEqual(status["details"]["causes"][0]["message"], code, status)
        _, _, status, _ = self.run_exec(["no-such-command"])
        self.assertIn("not found", status["message"])

    def test_stdin_reaches_the_process_and_its_end_closes_it(self):
        x = self.exec(["cat"], stdin=True)
        try:
            x.send(0, "line one\n")
            x.send(0, "line two\n")
            x.close_stdin()
            out, _, status = x.collect()
        finally:
            x.close()
        self.assertEqual(out, b"line one\nline two\n")
        self.assertEqual(status["status"], "Success")

    def test_the_environment_is_the_containers_plus_env_and_workdir_applies(self):
        out, _, _, _ = self.run_exec(["sh", "-c", "echo $PATH; echo $GREETING; pwd"], env=["GREETING=hi there"],
                                     extra=[("workdir", "/tmp")])
        lines = out.decode().splitlines()
        self.assertIn("/bin", lines[0])  # the container's PATH
        self.assertEqual(lines[1:], ["hi there", "/tmp"])

    def test_user_runs_the_process_as_that_uid(self):
        out, _, _, _ = self.run_exec(["id", "-u"], extra=[("user", "1234:99")])
        self.assertEqual(out, b"1234\n")

    def test_a_terminal_has_one_output_and_takes_its_size_from_resize(self):
        x = self.exec(["sh", "-c", "read go; stty size; tty"], stdin=True, tty=True)
        try:
            x.frame()   # ready
            x.resize(123, 45)
            x.send(0, "go\r")
            out, err, status = x.collect()
        finally:
            x.close()
        text = out.decode()
        self.assertIn("45 123", text)
        self.assertIn("/dev/pts/", text)
        self.assertEqual(err, b"", "a terminal has no stderr channel")
        self.assertEqual(status["status"], "Success")

    def test_a_client_that_does_not_read_holds_the_process_not_the_daemons_memory(self):
        pid = self.env.daemon_pid()
        rss = lambda: int(open("/proc/%d/statm" % pid).read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        before = rss()
        size = 40 * 1024 * 1024
        x = self.exec(["sh", "-c", "yes 0123456789abcdef | head -c %d; echo; echo end" % size])
        try:
            x.frame()
            time.sleep(2)   # the process writes far more than any buffer while nobody reads
            grown = rss() - before
            self.assertLess(grown, 8 * 1024 * 1024, "the daemon buffered %d bytes" % grown)
            self.assertTrue(user_processes("yes 0123456789abcdef"), "the writer waits, alive")
            out, _, status = x.collect()
        finally:
            x.close()
        self.assertEqual(len(out), size + len("\nend\n"))
        self.assertTrue(out.endswith(b"\nend\n"))
        self.assertEqual(status["status"], "Success")

    def test_a_client_that_takes_nothing_for_30_s_is_dropped_and_its_process_ended(self):
        x = self.exec(["sh", "-c", "head -c 50000000 /dev/zero; sleep 1000"])
        try:
            x.frame()
            started = self.event("exec.started")
            t0 = time.time()
            exited = self.event("exec.exited", execId=started["execId"], timeout=60)   # nothing read meanwhile
            waited = time.time() - t0
        finally:
            x.close()
        self.assertGreaterEqual(waited, 29)
        self.assertEqual(exited["exitCode"], 128 + 15)
        self.assertIn("the client took no output for 30 s", self.env.daemon_log())

    def test_output_arrives_whole_when_the_process_ends_at_once(self):
        # a slow reader: the process ends while the daemon holds a full queue and its pipe is not yet
        # read to the end; all of it still comes, before the status
        size = 4 * 1024 * 1024
        for _ in range(3):
            x = self.exec(["head", "-c", str(size), "/dev/zero"])
            try:
                got, status = 0, None
                while status is None:
                    f = x.frame()
                    if f[:1] == b"\x01":
                        got += len(f) - 1
                        time.sleep(0.003)
                    elif f[:1] == b"\x03":
                        status = json.loads(f[1:])
            finally:
                x.close()
            self.assertEqual(got, size)
            self.assertEqual(status["status"], "Success")

    def test_a_client_that_leaves_ends_its_process(self):
        x = self.exec(["sleep", "4321"])
        x.frame()
        self.assertTrue(wait_until(lambda: user_processes("sleep 4321"), timeout=10), "the exec's process runs")
        started = self.event("exec.started")
        x.close()
        self.assertTrue(wait_until(lambda: not user_processes("sleep 4321"), timeout=10),
                        "the process is gone once its client is")
        exited = self.event("exec.exited", execId=started["execId"])
        self.assertEqual(exited["exitCode"], 128 + 15)   # SIGTERM: sleep dies of it
        self.assertTrue(wait_until(lambda: not os.listdir(os.path.join(self.env.run, "exec")), timeout=10),
                        "the exec's files are removed")

    def test_refusals_are_http_with_a_json_body(self):
        cases = [("box", "idle", ["true"], STREAM_PROTOCOL, "409", "wrong_state"),
                 ("box", "nope", ["true"], STREAM_PROTOCOL, "404", "not_found"),
                 ("box", "1", [], STREAM_PROTOCOL, "400", "invalid"),
                 ("box", "1", ["true"], None, "400", "invalid_request")]
        for name, tag, cmd, proto, status, reason in cases:
            with self.assertRaises(WSError) as cm:
                Exec(self.env.socket, name, tag, cmd, protocol=proto)
            self.assertIn(" %s " % status, str(cm.exception), (name, tag, cmd, proto))
        # the body names the reason
        sock = unix_connect(self.env.socket, 10)
        sock.sendall(b"GET /v1/containers/box/idle/exec?command=true HTTP/1.1\r\nHost: localhost\r\n"
                     b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n")
        data = b""
        while b"}" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        sock.close()
        body = json.loads(data.split(b"\r\n\r\n", 1)[1])
        self.assertEqual(body["reason"], "wrong_state")
        self.assertIn("created, not running", body["error"])
        # a refused exec leaves nothing held
        self.assertTrue(wait_until(lambda: "\nlcd_exec_streams 0\n" in self.metrics(), timeout=10), self.metrics())

    def test_more_execs_than_max_execs_are_refused(self):
        held = [self.exec(["sleep", "987"]) for _ in range(MAX_EXECS)]
        try:
            for x in held:
                x.frame()
            with self.assertRaises(WSError) as cm:
                self.exec(["true"])
            self.assertIn(" 503 ", str(cm.exception))
        finally:
            for x in held:
                x.close()
        self.assertTrue(wait_until(lambda: not user_processes("sleep 987"), timeout=10))
        # and the slots come back
        self.assertTrue(wait_until(lambda: self.try_exec(), timeout=10))

    def test_no_descriptor_or_file_is_left_behind(self):
        pid = self.env.daemon_pid()
        fds = lambda: len(os.listdir("/proc/%d/fd" % pid))
        self.run_exec(["true"])   # the first exec may open what stays open (crun's path)
        before = fds()
        for i in range(5):
            self.run_exec(["sh", "-c", "echo x; echo y >&2"])
            self.run_exec(["echo", "t"], tty=True)
            x = self.exec(["sleep", "555"], stdin=True)
            x.frame()
            x.close()
            self.run_exec(["no-such-command"], tty=True)
        self.assertTrue(wait_until(lambda: not user_processes("sleep 555"), timeout=10))
        # (<=: a descriptor of an earlier test may still have been closing at the first count)
        self.assertTrue(wait_until(lambda: fds() <= before, timeout=10), "descriptors: %d, then %d" % (before, fds()))
        self.assertEqual(os.listdir(os.path.join(self.env.run, "exec")), [])
        self.assertTrue(wait_until(lambda: "\nlcd_execs 0\n" in self.metrics(), timeout=10), "the count comes back to 0")
        self.assertTrue(wait_until(lambda: "\nlcd_exec_streams 0\n" in self.metrics(), timeout=10), self.metrics())

    def metrics(self):
        return http_get(self.env.socket, "/metrics")[2]

    def try_exec(self):
        try:
            _, _, status, _ = self.run_exec(["true"])
            return status["status"] == "Success"
        except WSError:
            return False


class LightctlExec(DaemonSuite):
    """lightctl exec: pipes, exit codes, and a terminal under a pty."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        c = cls.env.client()
        for tag in ("1", "idle"):
            c.call("container.create", {"image": cls.env.image, "name": "box", "tag": tag,
                                        "cmd": ["/bin/sleep", "100000"]})
        c.call("container.start", {"name": "box", "tag": "1"})
        c.close()

    def lightctl(self, *args, stdin=None):
        return subprocess.run(self.env.lightctl(*args), input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=60)

    def test_stdin_is_streamed_and_closed_at_its_end(self):
        r = self.lightctl("exec", "-i", "box:1", "cat", stdin=b"hi\nthere\n")
        self.assertEqual((r.returncode, r.stdout), (0, b"hi\nthere\n"), r.stderr)

    def test_outputs_stay_apart_and_the_exit_code_is_the_processs(self):
        r = self.lightctl("exec", "-e", "A=b c", "-w", "/tmp", "box:1", "sh", "-c", 'echo "$A $(pwd)"; echo err >&2; exit 3')
        self.assertEqual((r.returncode, r.stdout, r.stderr), (3, b"b c /tmp\n", b"err\n"))
        r = self.lightctl("exec", "box:1", "no-such-command")
        self.assertEqual(r.returncode, 127)
        self.assertIn(b"not found", r.stderr)

    def test_a_container_that_is_not_running_is_a_clear_error(self):
        r = self.lightctl("exec", "box:idle", "true")
        self.assertEqual(r.returncode, 3)
        self.assertIn(b"409", r.stderr)
        self.assertIn(b"not running", r.stderr)

    def test_a_terminal_in_raw_mode_with_its_size_restored_after(self):
        master, slave = pty.openpty()
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 101, 0, 0))
        before = termios.tcgetattr(slave)
        p = subprocess.Popen(self.env.lightctl("exec", "-it", "box:1", "sh"), stdin=slave, stdout=slave,
                             stderr=slave)
        out = b""

        def read_until(token, timeout=20):
            nonlocal out
            deadline = time.time() + timeout
            while token not in out and time.time() < deadline:
                if select.select([master], [], [], 0.2)[0]:
                    try:
                        out += os.read(master, 4096)
                    except OSError:
                        break
            return token in out

        try:
            os.write(master, b"stty size\r")
            self.assertTrue(read_until(b"33 101"), out)   # the size at the start
            fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
            p.send_signal(signal.SIGWINCH)
            time.sleep(0.6)
            os.write(master, b"stty size; echo h''i; exit 3\r")   # (h''i: the echoed line is not "hi")
            self.assertTrue(read_until(b"40 120"), out)    # and after a resize
            self.assertTrue(read_until(b"\r\nhi\r\n"), out)
            self.assertEqual(p.wait(timeout=20), 3)
            after = termios.tcgetattr(slave)
            self.assertEqual(after[3] & (termios.ECHO | termios.ICANON), before[3] & (termios.ECHO | termios.ICANON),
                             "the terminal is back in its own mode")
        finally:
            if p.poll() is None:
                p.kill()
            os.close(slave)
            os.close(master)


class ExecAtShutdown(FreshEnvCase):
    def test_the_daemon_stops_cleanly_with_execs_running_and_they_end(self):
        self.env.start_daemon()
        c = self.env.client()
        c.call("container.create", {"image": self.env.image, "name": "box", "tag": "1", "cmd": ["/bin/sleep", "100000"]})
        c.call("container.start", {"name": "box", "tag": "1"})
        plain = Exec(self.env.socket, "box", "1", ["sleep", "777"], stdin=True)
        tty = Exec(self.env.socket, "box", "1", ["sleep", "778"], tty=True, stdin=True)
        plain.frame()
        tty.frame()
        self.assertTrue(wait_until(lambda: user_processes("sleep 77[78]") and len(user_processes("sleep 77[78]")) == 2))
        c.close()
        rc = self.env.stop_daemon()
        self.assertEqual(rc, 0, self.env.daemon_log())
        self.assertEqual(user_processes("sleep 77[78]"), [])
        for x in (plain, tty):
            with self.assertRaises((WSError, OSError)):   # closed, after any status
                while True:
                    x.frame()
            x.close()


class ExecIndependentClient(DaemonSuite):
    """The wire format through python3-websockets."""

    @classmethod
    def setUpClass(cls):
        if websockets is None:
            raise SkipSuite("python3-websockets is not installed (apt-get install python3-websockets)")
        super().setUpClass()
        c = cls.env.client()
        c.call("container.create", {"image": cls.env.image, "name": "box", "tag": "1", "cmd": ["/bin/sleep", "100000"]})
        c.call("container.start", {"name": "box", "tag": "1"})
        c.close()

    async def exec_cat(self):
        sock = unix_connect(self.env.socket, 30)
        sock.setblocking(False)
        uri = "ws://localhost/v1/containers/box/1/exec?command=sh&command=-c&command=cat%3B%20exit%203&stdin=1"
        async with websockets.connect(uri, sock=sock, subprotocols=[STREAM_PROTOCOL], open_timeout=30) as ws:
            self.assertEqual(ws.subprotocol, STREAM_PROTOCOL)
            await ws.send(b"\x00" + "ünïcode\n".encode())
            await ws.send(b"\xff\x00")
            return await ws_frames_to_status(ws)

    def test_an_exec_through_python3_websockets(self):
        loop = asyncio.new_event_loop()
        try:
            frames, code = loop.run_until_complete(self.exec_cat())
        finally:
            loop.close()
        self.assertTrue(all(isinstance(f, bytes) for f in frames), "binary frames only")
        self.assertEqual(frames[0], b"\x01")
        self.assertEqual(b"".join(f[1:] for f in frames if f[:1] == b"\x01"), "ünïcode\n".encode())
        status = json.loads(frames[-1][1:])
        self.assertEqual(status["details"]["causes"][0]["message"], "3")
        self.assertEqual(code, 1000)


if __name__ == "__main__":
    run_suite(__name__)
