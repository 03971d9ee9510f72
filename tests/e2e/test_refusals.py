"""Refusals a real client can read: every refused handshake or GET, on both
listeners, is HTTP/1.1 with a JSON body {"error", "reason"} and a cleanly
closed connection -- read by python3-websockets (an independent client),
curl, a raw socket and the harness."""
import asyncio
import json
import socket
import subprocess

from harness import WS, DaemonSuite, SkipSuite, WSError, parse_response, run_suite, unix_connect

try:
    import websockets
    import websockets.exceptions
except ImportError:
    websockets = None

KEY = "dGhlIHNhbXBsZSBub25jZQ=="
UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Key": KEY, "Sec-WebSocket-Version": "13"}


def raw_request(sock, path, headers):
    """Send a GET, read until the server closes: (status line, headers, body).
    A reset or a connection left open fails: a refusal ends cleanly."""
    head = "".join("%s: %s\r\n" % kv for kv in headers.items())
    sock.settimeout(10)
    sock.sendall(("GET %s HTTP/1.1\r\n%s\r\n" % (path, head)).encode())
    data = b""
    while True:
        chunk = sock.recv(65536)   # socket.timeout: left open; ConnectionResetError: not clean
        if not chunk:
            break
        data += chunk
    sock.close()
    return parse_response(data)


class Refusals(DaemonSuite):
    daemon_args = ("--listen", "127.0.0.1:0", "--max-clients", "4")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.url = cls.env.tcp_url()
        cls.port = int(cls.url.rsplit(":", 1)[1])
        cls.token = cls.env.token()

    def cases(self):
        """(listener, path, headers, status, reason): every refusal the daemon makes."""
        host = {"Host": "127.0.0.1:%d" % self.port}
        auth = dict(host, Authorization="Bearer " + self.token)
        return [
            ("tcp", "/v1/ws", dict(host, **UPGRADE), 401, "unauthorized"),
            ("tcp", "/v1/ws", dict(host, Authorization="Bearer " + "0" * 64, **UPGRADE), 401, "unauthorized"),
            ("tcp", "/v1/ws", dict(auth, Host="evil.example", **UPGRADE), 403, "forbidden"),
            ("tcp", "/v1/ws", dict(auth, Origin="http://evil.example", **UPGRADE), 403, "forbidden"),
            ("tcp", "/elsewhere", dict(auth, **UPGRADE), 404, "not_found"),
            ("tcp", "/v1/info", host, 401, "unauthorized"),
            ("tcp", "/v1/info", dict(auth, Host="evil.example"), 403, "forbidden"),
            ("tcp", "/", {"Host": "evil.example"}, 403, "forbidden"),
            ("unix", "/v1/ws", dict({"Host": "evil.example"}, **UPGRADE), 403, "forbidden"),
            ("unix", "/v1/ws", dict({"Host": "localhost", "Origin": "http://evil.example"}, **UPGRADE), 403,
             "forbidden"),
            ("unix", "/elsewhere", dict({"Host": "localhost"}, **UPGRADE), 404, "not_found"),
            ("unix", "/v1/healthz", {"Host": "evil.example"}, 403, "forbidden"),
        ]

    def connect(self, listener):
        if listener == "unix":
            return unix_connect(self.env.socket, 10)
        return socket.create_connection(("127.0.0.1", self.port), timeout=10)

    def check_answer(self, status_line, hdrs, body, status, reason, what):
        self.assertEqual(status_line.split(" ", 2)[:2], ["HTTP/1.1", str(status)], what)
        self.assertEqual(hdrs.get("content-type"), "application/json", what)
        self.assertEqual(hdrs.get("connection"), "close", what)
        self.assertEqual(int(hdrs["content-length"]), len(body), what)
        doc = json.loads(body)
        self.assertEqual(sorted(doc), ["error", "reason"], what)
        self.assertEqual(doc["reason"], reason, what)
        self.assertTrue(doc["error"], what)

    def test_raw_socket_sees_http11_json_and_a_clean_close(self):
        for listener, path, headers, status, reason in self.cases():
            line, hdrs, body = raw_request(self.connect(listener), path, headers)
            self.check_answer(line, hdrs, body, status, reason, (listener, path, headers))

    def test_curl(self):
        for listener, path, headers, status, reason in self.cases():
            if listener == "unix":   # curl would connect as root: refused before HTTP (test_cli)
                continue
            r = subprocess.run(["curl", "-sS", "-i", "--max-time", "10", "http://127.0.0.1:%d%s" % (self.port, path)]
                               + [a for k, v in headers.items() for a in ("-H", "%s: %s" % (k, v))],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.assertEqual(r.returncode, 0, r.stderr)   # no "connection reset", no "empty reply"
            self.check_answer(*parse_response(r.stdout), status, reason, (path, headers))

    def test_python_websockets_reads_the_status(self):
        if websockets is None:
            raise SkipSuite("python3-websockets is not installed")

        async def refused(uri, **kw):
            try:
                async with websockets.connect(uri, open_timeout=10, **kw):
                    return None
            except websockets.exceptions.InvalidStatusCode as e:
                return e.status_code, e.headers.get("Content-Type")

        async def all_cases():
            url = "ws://127.0.0.1:%d" % self.port
            tok = {"Authorization": "Bearer " + self.token}
            out = [await refused(url + "/v1/ws"),
                   await refused(url + "/v1/ws", extra_headers={"Authorization": "Bearer " + "0" * 64}),
                   await refused(url + "/v1/ws", extra_headers=tok, origin="http://evil.example"),
                   await refused(url + "/elsewhere", extra_headers=tok)]
            sock = unix_connect(self.env.socket, 10)
            sock.setblocking(False)
            out.append(await refused("ws://localhost/v1/ws", sock=sock, origin="http://evil.example"))
            return out

        got = asyncio.run(all_cases())
        self.assertEqual([g[0] for g in got], [401, 401, 403, 404, 403])
        self.assertEqual({g[1] for g in got}, {"application/json"})

    def test_harness_sees_the_status(self):
        for headers, want in (({}, "401"), ({"Authorization": "Bearer " + self.token, "Host": "evil.example"}, "403")):
            with self.assertRaises(WSError) as cm:
                WS(self.url, headers=headers)
            self.assertIn("HTTP/1.1 %s " % want, str(cm.exception))

    def test_too_many_clients_is_a_readable_503(self):
        conns = [self.env.client() for _ in range(4)]
        try:
            line, hdrs, body = raw_request(unix_connect(self.env.socket, 10), "/v1/ws",
                                           dict({"Host": "localhost"}, **UPGRADE))
            self.check_answer(line, hdrs, body, 503, "busy", "max-clients")
            self.assertIn("--max-clients", json.loads(body)["error"])
        finally:
            for c in conns:
                c.close()

    def test_refusals_are_logged_at_a_bounded_rate(self):
        before = self.env.daemon_log(tail=None).count("refused a TCP request")
        for _ in range(200):
            raw_request(self.connect("tcp"), "/v1/info", {"Host": "127.0.0.1"})
        log = self.env.daemon_log(tail=None)
        self.assertLessEqual(log.count("refused a TCP request") - before, 10)
        # still answering
        c = self.env.client()
        self.assertEqual(c.call("system.ping"), "pong")
        c.close()


if __name__ == "__main__":
    run_suite("test_refusals")
