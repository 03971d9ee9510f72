"""harness.py - the e2e test harness: a real daemon in the rootless sandbox,
a real registry, a tiny WebSocket JSON-RPC client.

Nothing here mocks a tool: the daemon runs skopeo, umoci, conmon and crun.
Everything a test starts is stopped and removed in tearDown/tearDownClass.
A missing prerequisite raises SkipSuite, which run_e2e turns into exit 77.
"""
import base64
import json
import os
import queue
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SANDBOX = os.path.join(HERE, "sandbox.sh")
USER = os.environ.get("LCD_TEST_USER", "lcd-test")


class SkipSuite(unittest.SkipTest):
    """A missing prerequisite: the whole file is skipped (ctest code 77)."""

    def __init__(self, why):
        super().__init__("SKIP-SUITE: " + why)


def sh(*args, **kw):
    return subprocess.run(args, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


# ---------------------------------------------------------------- WebSocket

_ID_LOCK = threading.Lock()


def unix_connect(path, timeout, as_user=USER):
    """A socket connected to the daemon's Unix socket. The daemon lets in only
    its own uid (SO_PEERCRED keeps the credentials of connect()), so the
    harness, which runs as root, connects with that user's effective ids;
    as_user=None connects as itself."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    if as_user is None:
        sock.connect(path)
        return sock
    import pwd
    pw = pwd.getpwnam(as_user)
    with _ID_LOCK:
        os.setegid(pw.pw_gid)
        os.seteuid(pw.pw_uid)
        try:
            sock.connect(path)
        except OSError:
            sock.close()
            raise
        finally:
            os.seteuid(0)
            os.setegid(0)
    return sock


def as_user(argv):
    """argv run as the daemon's user (lightctl on the Unix socket)."""
    return ["setpriv", "--reuid", USER, "--regid", USER, "--clear-groups", "--"] + list(argv)


class WSError(Exception):
    pass


class WS:
    """A blocking RFC 6455 client (text frames) over a Unix socket or TCP."""

    def __init__(self, target, path="/v1/ws", timeout=30, headers=None, unix_user=USER):
        if target.startswith(("ws://", "wss://")):
            tls = target.startswith("wss://")
            host, port = target.split("://")[1].split("/")[0].rsplit(":", 1)
            self.sock = socket.create_connection((host, int(port)), timeout=timeout)
            if tls:   # the tests' self-signed certificate: encryption, no verification
                import ssl
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                self.sock = ctx.wrap_socket(self.sock, server_hostname=host)
            hosthdr = "%s:%s" % (host, port)
        else:
            self.sock = unix_connect(target, timeout, unix_user)
            hosthdr = "localhost"
        key = base64.b64encode(os.urandom(16)).decode()
        headers = dict(headers or {})
        hosthdr = headers.pop("Host", hosthdr)
        extra = "".join("%s: %s\r\n" % kv for kv in headers.items())
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n"
                           % (path, hosthdr, key, extra)).encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise WSError("connection closed during handshake")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        self.head = head.decode(errors="replace")
        self.status = self.head.split("\r\n")[0]
        if " 101 " not in self.status + " ":
            raise WSError("handshake refused: " + self.status)
        # an open connection may stay quiet for long: waits have their own timeouts
        self.sock.settimeout(None)

    def send_text(self, text):
        self._send(0x1, text.encode())

    def send_binary(self, data):
        self._send(0x2, data)

    def _send(self, op, data):
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            hdr = struct.pack("!BB", 0x80 | op, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x80 | op, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x80 | op, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data)) if n < 65536 else \
            (int.from_bytes(data, "big") ^ int.from_bytes((mask * (n // 4 + 1))[:n], "big")).to_bytes(n, "big")
        self.sock.sendall(hdr + mask + masked)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise WSError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv_text(self):
        op, msg = self.recv_message()
        return msg.decode()

    def recv_message(self):
        """(opcode, payload) of the next data message: 1 text, 2 binary.
        A close frame raises WSError, with its code and reason."""
        msg, first_op = b"", None
        while True:
            b0, b1 = self._read(2)
            op, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(n)
            if op == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                raise WSError("closed by server: %d %s" % (code, payload[2:].decode(errors="replace")))
            if op == 0x9:
                self._send(0xA, payload)
                continue
            if op == 0xA:
                continue
            if first_op is None:
                first_op = op
            msg += payload
            if b0 & 0x80:
                return first_op, msg

    def close(self):
        """Send a close frame, then shut the socket down before closing it.
        shutdown() wakes a thread blocked in recv() on it (a Client's
        reader); close() alone would free the descriptor number for the
        next socket while that thread may still be about to recv() on it,
        and read the next connection's bytes (its handshake answer)."""
        try:
            self._send(0x8, b"\x03\xe8")
        except OSError:
            pass
        self.shutdown()
        self.sock.close()

    def shutdown(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


STREAM_PROTOCOL = "v5.channel.k8s.io"


class Exec:
    """An exec stream (the Kubernetes channel protocol) through WS: frames
    [channel][payload]; collect() reads to the status frame."""

    def __init__(self, target, name, tag, cmd, stdin=False, tty=False, env=(), extra=(),
                 protocol=STREAM_PROTOCOL, headers=None):
        import urllib.parse
        q = [("command", c) for c in cmd] + [("env", e) for e in env] + list(extra)
        if stdin:
            q.append(("stdin", "1"))
        if tty:
            q.append(("tty", "1"))
        path = "/v1/containers/%s/%s/exec?%s" % (name, tag, urllib.parse.urlencode(q, quote_via=urllib.parse.quote))
        self._open(target, path, protocol, headers)

    def _open(self, target, path, protocol, headers):
        h = dict(headers or {})
        if protocol:
            h["Sec-WebSocket-Protocol"] = protocol
        self.ws = WS(target, path=path, headers=h)
        self.frames = []

    def send(self, channel, data=b""):
        self.ws.send_binary(bytes([channel]) + (data.encode() if isinstance(data, str) else data))

    def resize(self, width, height):
        self.send(4, json.dumps({"Width": width, "Height": height}))

    def close_stdin(self):
        self.send(255, b"\x00")

    def frame(self):
        op, data = self.ws.recv_message()
        if op != 2:
            raise AssertionError("a text message on an exec stream: %r" % data)
        self.frames.append(data)
        return data

    def collect(self, until=None):
        """Read until the status frame (or until(stdout so far) is true):
        (stdout, stderr, status or None)."""
        out, err = bytearray(), bytearray()
        while True:
            f = self.frame()
            if f[:1] == b"\x01":
                out += f[1:]
            elif f[:1] == b"\x02":
                err += f[1:]
            elif f[:1] == b"\x03":
                return bytes(out), bytes(err), json.loads(f[1:])
            if until is not None and until(out):
                return bytes(out), bytes(err), None

    def close(self):
        self.ws.close()


class Attach(Exec):
    """An attach stream: the main process's stdio, in the same framing."""

    def __init__(self, target, name, tag, stdin=False, extra=(), protocol=STREAM_PROTOCOL, headers=None):
        import urllib.parse
        q = ([("stdin", "1")] if stdin else []) + list(extra)
        path = "/v1/containers/%s/%s/attach%s" % (name, tag, "?" + urllib.parse.urlencode(q) if q else "")
        self._open(target, path, protocol, headers)


async def ws_frames_to_status(ws, timeout=30):
    """A python3-websockets stream read to its status frame and its close: (frames, close code)."""
    import asyncio
    frames = []
    while True:
        f = await asyncio.wait_for(ws.recv(), timeout)
        frames.append(f)
        if f[:1] == b"\x03":
            break
    await asyncio.wait_for(ws.wait_closed(), timeout)
    return frames, ws.close_code


def parse_response(data):
    """An HTTP response's bytes: (status line, {lowercase header: value}, body bytes so far)."""
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    return lines[0], {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}, body


def http_get(target, path, headers=None, timeout=10, unix_user=USER):
    """A plain HTTP/1.1 GET over a Unix socket or ws://HOST:PORT: (status, headers, body)."""
    if target.startswith("ws://"):
        host, port = target[5:].split("/")[0].rsplit(":", 1)
        sock = socket.create_connection((host, int(port)), timeout=timeout)
        hosthdr = "%s:%s" % (host, port)
    else:
        sock = unix_connect(target, timeout, unix_user)
        hosthdr = "localhost"
    headers = dict(headers or {})
    hosthdr = headers.pop("Host", hosthdr)
    extra = "".join("%s: %s\r\n" % kv for kv in headers.items())
    sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (path, hosthdr, extra)).encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    if not data:
        sock.close()
        raise ConnectionError("connection closed before a response")
    status_line, hdrs, body = parse_response(data)
    status = int(status_line.split()[1])
    want = int(hdrs.get("content-length", "0"))
    while len(body) < want:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    sock.close()
    return status, hdrs, body.decode(errors="replace")


class Client:
    """JSON-RPC over WS with a reader thread: replies by id, events in a queue."""

    def __init__(self, target, **kw):
        self.ws = WS(target, **kw)
        self.next_id = 1
        self.lock = threading.Lock()
        self.replies = {}
        self.null_replies = []
        self.cv = threading.Condition(self.lock)
        self.events = queue.Queue()
        self.notes = queue.Queue()
        self.closed = None
        self.reader = threading.Thread(target=self._read_loop, daemon=True)
        self.reader.start()

    def _read_loop(self):
        try:
            while True:
                msg = json.loads(self.ws.recv_text())
                if "id" in msg and ("result" in msg or "error" in msg):
                    with self.cv:
                        if msg["id"] is None:   # errors for unreadable requests, in order
                            self.null_replies.append(msg)
                        else:
                            self.replies[msg["id"]] = msg
                        self.cv.notify_all()
                elif msg.get("method") == "event":
                    self.events.put(msg["params"])
                elif "method" in msg:   # other notifications (log, log.end)
                    self.notes.put((msg["method"], msg.get("params")))
        except (WSError, OSError, ValueError) as e:
            with self.cv:
                self.closed = e
                self.cv.notify_all()

    def send(self, method, params=None, id_=None):
        with self.lock:
            if id_ is None:
                id_ = self.next_id
                self.next_id += 1
        req = {"jsonrpc": "2.0", "id": id_, "method": method}
        if params is not None:
            req["params"] = params
        self.ws.send_text(json.dumps(req))
        return id_

    def wait(self, id_, timeout=120):
        deadline = time.time() + timeout
        with self.cv:
            while (id_ not in self.replies) if id_ is not None else not self.null_replies:
                if self.closed is not None:
                    raise WSError("connection closed: %s" % self.closed)
                left = deadline - time.time()
                if left <= 0:
                    raise TimeoutError("no reply to request %s" % id_)
                self.cv.wait(left)
            return self.replies.pop(id_) if id_ is not None else self.null_replies.pop(0)

    def raw(self, method, params=None, timeout=120):
        return self.wait(self.send(method, params), timeout)

    def call(self, method, params=None, timeout=120):
        r = self.raw(method, params, timeout)
        if "error" in r:
            raise RPCError(r["error"])
        return r["result"]

    def error(self, method, params=None, timeout=120):
        r = self.raw(method, params, timeout)
        if "error" not in r:
            raise AssertionError("%s %s succeeded: %s" % (method, params, r.get("result")))
        return r["error"]

    def next_event(self, timeout=30):
        return self.events.get(timeout=timeout)

    def wait_event(self, pred, timeout=60):
        """Return the first event matching pred, and the ones skipped before it."""
        deadline = time.time() + timeout
        seen = []
        while True:
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("no matching event; saw %s" % seen)
            try:
                e = self.events.get(timeout=left)
            except queue.Empty:
                raise TimeoutError("no matching event; saw %s" % seen)
            if pred(e):
                return e, seen
            seen.append(e)

    def close(self, timeout=10):
        """Close the connection: the close frame, the server's answer (or
        its end of the connection) read by the reader thread, then the
        socket shut down, the reader joined, and only then the descriptor
        closed. Its number is free for the next connection only once no
        thread of this client can read from it."""
        try:
            self.ws._send(0x8, b"\x03\xe8")
        except OSError:
            pass
        self.reader.join(timeout)   # it ends on the server's close frame
        self.ws.shutdown()
        self.reader.join()
        self.ws.sock.close()


class RPCError(Exception):
    def __init__(self, err):
        super().__init__("%s (%s)" % (err.get("message"), err.get("data", {}).get("reason")))
        self.err = err
        self.code = err.get("code")
        self.reason = err.get("data", {}).get("reason")


# ---------------------------------------------------------------- environment

def build_dir():
    d = os.environ.get("LCD_BUILD_DIR")
    if not d:
        raise SkipSuite("LCD_BUILD_DIR is not set (run through ctest)")
    return d


class Env:
    """One sandboxed daemon plus a registry holding the test image."""

    def __init__(self):
        self.tmp = None
        self.daemon = None
        self.registry_dir = None

    def prereqs(self):
        if os.geteuid() != 0:
            raise SkipSuite("the e2e suite sets up its sandbox as root; run it as root "
                            "(on a cgroup v2 host with systemd, run the daemon as yourself instead)")
        r = subprocess.run([SANDBOX, "check"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode == 77:
            raise SkipSuite(r.stderr.strip())
        if r.returncode != 0:
            raise RuntimeError("sandbox check failed: " + r.stderr)

    def setup(self, registry=True, subids=True):
        self.prereqs()
        sh(SANDBOX, "user", *([] if subids else ["--no-subids"]))
        self.tmp = tempfile.mkdtemp(prefix="lcd-e2e-")
        os.chmod(self.tmp, 0o755)
        # binaries where the unprivileged user can reach them
        self.bin = os.path.join(self.tmp, "bin")
        os.makedirs(self.bin)
        for name in ("light-containerd", "lightctl"):
            shutil.copy2(os.path.join(build_dir(), name), self.bin)
        self.data = os.path.join(self.tmp, "data")
        self.run = os.path.join(self.tmp, "run")
        for d in (self.data, self.run):
            os.makedirs(d)
            shutil.chown(d, USER, USER)
            os.chmod(d, 0o700)
        self.socket = os.path.join(self.run, "api.sock")
        self.cgname = "lcd-e2e-%d-%d" % (os.getpid(), int(time.time() * 1000) % 100000)
        if registry:
            self.registry_dir = os.path.join(self.tmp, "registry")
            os.makedirs(self.registry_dir)
            out = sh(SANDBOX, "registry", self.registry_dir).stdout.split()
            self.port = int(out[0])
            self.registry = "127.0.0.1:%d" % self.port
            self.image = "%s/acc/busybox:1.0" % self.registry
            self.image_digest = sh(SANDBOX, "image", str(self.port)).stdout.strip()
        return self

    def start_daemon(self, extra=(), wait=True, keep=False, path=None, resolv=None):
        """keep: the sandbox leaves the cgroup (and so the containers) alone
        when the daemon dies, and reuses it on the next start."""
        args = [SANDBOX, "run", "--cgroup-name", self.cgname] + (["--keep"] if keep else []) + ["--",
                os.path.join(self.bin, "light-containerd"), "--runtime-dir", self.run, "--data-dir", self.data,
                "--listen", "none", "--log-level", "debug"]
        if self.registry_dir:
            args += ["--insecure-registry", self.registry]
        args += list(extra)
        self.log_path = os.path.join(self.tmp, "daemon-%d.log" % int(time.time() * 1000))
        self.log = open(self.log_path, "w")
        env = dict(os.environ, LCD_RUNTIME_DIR=self.run)
        if path is not None:   # the daemon's PATH (which tools it finds)
            env["LCD_SANDBOX_PATH"] = path
        if resolv is not None:   # a file the daemon sees as /etc/resolv.conf
            env["LCD_SANDBOX_RESOLV"] = resolv
        self.daemon = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, env=env,
                                       start_new_session=True)
        if wait:
            self.wait_ready()
        return self.daemon

    def lightctl(self, *args):
        """argv for lightctl on this daemon's Unix socket, as the daemon's user."""
        return as_user([os.path.join(self.bin, "lightctl"), "--socket", self.socket] + list(args))

    def wait_ready(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.daemon.poll() is not None:
                raise RuntimeError("daemon exited %s:\n%s" % (self.daemon.returncode, self.daemon_log()))
            try:
                c = Client(self.socket, timeout=5)
                c.call("system.ping", timeout=5)
                c.close()
                return
            except (OSError, WSError, TimeoutError, RPCError):
                time.sleep(0.05)
        raise RuntimeError("daemon not ready in %ds:\n%s" % (timeout, self.daemon_log()))

    def start_sleepers(self, client, prefix, n):
        """Create and start n containers PREFIX0.. (tag 1) running sleep; their pids."""
        pids = []
        for i in range(n):
            key = {"name": "%s%d" % (prefix, i), "tag": "1"}
            client.call("container.create", dict(key, image=self.image, cmd=["/bin/sleep", "1000"]))
            pids.append(client.call("container.start", key)["pid"])
        return pids

    def kill_daemon(self):
        """SIGKILL the daemon, as a crash would (its containers live on)."""
        os.kill(self.daemon_pid(), signal.SIGKILL)
        self.daemon.wait(timeout=30)
        self.log.close()
        self.daemon = None

    def daemon_log(self, tail=6000):
        try:
            with open(self.log_path) as f:
                text = f.read()
                return text[-tail:] if tail else text
        except OSError:
            return ""

    def daemon_pid(self):
        """The light-containerd process itself (the sandbox wraps it)."""
        out = subprocess.run(["pgrep", "-f", "^%s/light-containerd " % self.bin],
                             stdout=subprocess.PIPE, text=True).stdout.split()
        return int(out[0]) if out else None

    def stop_daemon(self, sig=signal.SIGTERM, timeout=60):
        if self.daemon is None:
            return None
        pid = self.daemon_pid()
        if pid:
            os.kill(pid, sig)
        try:
            rc = self.daemon.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.daemon.pid, signal.SIGKILL)
            rc = self.daemon.wait()
        self.log.close()
        self.daemon = None
        return rc

    def conmons(self, container_id=""):
        """Live conmon processes of this daemon (its runtime dir is in their
        argv), optionally of one container; other sandboxes are not counted."""
        return user_processes("conmon .*%s.*%s" % (container_id, self.run) if container_id
                              else "conmon .*%s" % self.run)

    def tcp_url(self):
        """ws://127.0.0.1:PORT of a daemon started with --listen 127.0.0.1:0
        (the port the kernel chose, from its start-up line)."""
        port = int(self.daemon_log(tail=None).split("ws://127.0.0.1:")[1].split("/")[0])
        return "ws://127.0.0.1:%d" % port

    def token(self):
        """The TCP listener's token (the daemon writes it at start)."""
        with open(os.path.join(self.run, "token")) as f:
            return f.read().strip()

    def cgroup_dir(self, *parts):
        return os.path.join(host_cgroup2(), self.cgname, *parts)

    def client(self, **kw):
        return Client(self.socket, **kw)

    def teardown(self):
        """Stop everything; a daemon that does not exit 0 on SIGTERM, or
        whose log shows a sanitizer report (leaks included), fails the suite."""
        problem = None
        if self.daemon is not None:
            rc = self.stop_daemon()
            log = self.daemon_log(tail=None)
            if rc != 0 or "Sanitizer" in log:
                problem = "daemon exit status %s at shutdown:\n%s" % (rc, log[-8000:])
        subprocess.run([SANDBOX, "sweep", self.cgname], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if self.registry_dir:
            subprocess.run([SANDBOX, "registry-stop", self.registry_dir], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        if self.tmp and not os.environ.get("LCD_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        if problem:
            raise AssertionError(problem)


# ---------------------------------------------------------------- host state

def host_cgroup2():
    """Where this (host) mount namespace has the cgroup v2 hierarchy: the
    sandbox mounts it at /sys/fs/cgroup privately; on a hybrid host the
    same hierarchy is at /sys/fs/cgroup/unified here."""
    with open("/proc/self/mounts") as f:
        for line in f:
            dev, mnt, fstype = line.split()[:3]
            if fstype == "cgroup2":
                return mnt
    return "/sys/fs/cgroup"


def user_processes(pattern):
    """Live (non-zombie) processes of the test user whose command line
    matches pattern. Zombies are left out: on these machines PID 1 does not
    reap orphans, so an exited conmon lingers as <defunct> holding nothing."""
    out = subprocess.run(["pgrep", "-u", USER, "-f", pattern], stdout=subprocess.PIPE, text=True).stdout
    return [int(p) for p in out.split() if pid_alive(int(p))]


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(pred, timeout=10, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return True
        time.sleep(step)
    return pred()


class DaemonSuite(unittest.TestCase):
    """One registry and one daemon for the whole class (daemon_args adds
    options); subclasses use self.env."""
    daemon_args = ()

    @classmethod
    def setUpClass(cls):
        cls.env = Env()
        try:
            cls.env.setup()
            cls.env.start_daemon(list(cls.daemon_args))
        except BaseException:
            cls.env.teardown()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.env.teardown()


def env_or_skip():
    """An Env set up for a script that is not a unittest suite (load,
    browser), or None after saying why on stderr: the caller exits 77."""
    env = Env()
    try:
        env.setup()
    except SkipSuite as e:
        print("SKIP: %s" % e, file=sys.stderr)
        return None
    return env


class FreshEnvCase(unittest.TestCase):
    """A registry per test; each test starts its daemon(s) as it needs."""

    def setUp(self):
        self.env = Env()
        try:
            self.env.setup()
        except BaseException:
            self.env.teardown()
            raise

    def tearDown(self):
        self.env.teardown()


def run_suite(module_name):
    """Entry point for each e2e file: 77 on a missing prerequisite."""
    import sys
    suite = unittest.defaultTestLoader.loadTestsFromName(module_name)
    try:
        result = unittest.TextTestRunner(verbosity=2).run(suite)
    except SkipSuite as e:
        print("SKIP: %s" % e, file=sys.stderr)
        sys.exit(77)
    suite_skips = [reason for _, reason in result.skipped if "SKIP-SUITE" in reason]
    if suite_skips and not result.failures and not result.errors and \
            result.testsRun <= len(result.skipped):
        print("SKIP: %s" % suite_skips[0], file=sys.stderr)
        sys.exit(77)
    sys.exit(0 if result.wasSuccessful() else 1)
