"""Connection churn: no connection is ever lost.

Thousands of connect -> system.ping -> close cycles on the Unix socket and
on TCP, then 256 clients at once, each through the harness's own client and
through an independent one (Debian's python3-websockets). A lost connection
(a handshake or a reply that never comes) fails the test; the figures
(cycles, lost, p50/p99/worst latency) are printed for the notes.
LCD_STRESS_CYCLES sets the number of cycles (default 5000).
"""
import asyncio
import os
import threading
import time

from harness import WS, Client, DaemonSuite, SkipSuite, run_suite, unix_connect

try:
    import websockets
    import websockets.exceptions
except ImportError:   # Debian: python3-websockets (scripts/dev installs it)
    websockets = None

CYCLES = int(os.environ.get("LCD_STRESS_CYCLES", "5000"))
CONCURRENT = 256
TIMEOUT = 10   # seconds for one handshake or reply: far above any real one
PING = '{"jsonrpc":"2.0","id":1,"method":"system.ping"}'


def churn(test, what, one_cycle):
    """one_cycle() CYCLES times; print the figures; not one may fail."""
    times, errors = [], []
    for _ in range(CYCLES):
        t0 = time.monotonic()
        try:
            one_cycle()
        except Exception as e:   # any failure is a lost connection
            errors.append(repr(e))
            continue
        times.append(time.monotonic() - t0)
    times.sort()
    pct = (lambda p: times[min(len(times) - 1, int(p * len(times)))] * 1000) if times else (lambda p: 0.0)
    print("\n  %-34s %6d cycles  lost %d  p50 %.2f ms  p99 %.2f ms  worst %.2f ms" % (
        what, CYCLES, len(errors), pct(0.5), pct(0.99), times[-1] * 1000 if times else 0.0), flush=True)
    test.assertEqual(len(errors), 0, errors[:5])


class Churn(DaemonSuite):
    daemon_args = ("--listen", "127.0.0.1:0", "--max-clients", "512")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.url = cls.env.tcp_url()
        cls.auth = {"Authorization": "Bearer " + cls.env.token()}

    def harness_cycle(self, target, **kw):
        c = Client(target, timeout=TIMEOUT, **kw)
        if c.call("system.ping", timeout=TIMEOUT) != "pong":
            raise AssertionError("not pong")
        c.close()
        if c.reader.is_alive():   # it could read the next connection's bytes
            raise AssertionError("close() returned with the reader thread still reading")

    def test_handshake_with_and_without_subprotocol(self):
        """The 101 ends its headers whether or not the client names a
        subprotocol, and the connection works either way: libwebsockets
        4.4.0 and 4.4.1 leave the headers unterminated when it names none
        (the daemon ends them), later versions end them themselves (the
        daemon must add nothing then)."""
        for target, headers in ((self.env.socket, {}), (self.url, self.auth)):
            for proto in (None, "light-containerd.v1"):
                hdrs = dict(headers, **({"Sec-WebSocket-Protocol": proto} if proto else {}))
                ws = WS(target, timeout=TIMEOUT, headers=hdrs)
                try:
                    if proto:
                        self.assertIn("\r\nSec-WebSocket-Protocol: " + proto, ws.head)
                    else:
                        self.assertNotIn("Sec-WebSocket-Protocol", ws.head)
                    self.assertEqual(ws.buf, b"", "bytes after the headers before any frame")
                    ws.send_text(PING)
                    self.assertIn('"pong"', ws.recv_text())
                finally:
                    ws.close()

    def test_harness_client_unix(self):
        churn(self, "harness client, Unix socket", lambda: self.harness_cycle(self.env.socket))

    def test_harness_client_tcp(self):
        churn(self, "harness client, TCP", lambda: self.harness_cycle(self.url, headers=self.auth))

    def test_harness_client_concurrent(self):
        clients, errors = [], []
        lock = threading.Lock()

        def one(i):
            try:
                c = Client(self.env.socket if i % 2 else self.url, timeout=TIMEOUT,
                           **({} if i % 2 else {"headers": self.auth}))
                with lock:
                    clients.append(c)
            except Exception as e:
                with lock:
                    errors.append(repr(e))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(CONCURRENT)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual((len(clients), errors[:3]), (CONCURRENT, []))
        # all open at once: each one answers, several times, interleaved
        for _ in range(3):
            ids = [(c, c.send("system.ping")) for c in clients]
            for c, i in ids:
                self.assertEqual(c.wait(i, timeout=TIMEOUT)["result"], "pong")
        for c in clients:
            c.close()
        print("\n  harness client: %d concurrent clients, 3 pings each, lost 0" % CONCURRENT, flush=True)


class IndependentClient(DaemonSuite):
    """The same, through python3-websockets: a second implementation of
    RFC 6455 that checks the handshake, the framing and the UTF-8."""
    daemon_args = ("--listen", "127.0.0.1:0", "--max-clients", "512")

    @classmethod
    def setUpClass(cls):
        if websockets is None:
            raise SkipSuite("python3-websockets is not installed (apt-get install python3-websockets)")
        super().setUpClass()
        cls.url = cls.env.tcp_url() + "/v1/ws"
        cls.auth = {"Authorization": "Bearer " + cls.env.token()}

    async def one(self, unix):
        if unix:
            sock = unix_connect(self.env.socket, TIMEOUT)
            sock.setblocking(False)
            conn = websockets.connect("ws://localhost/v1/ws", sock=sock, open_timeout=TIMEOUT,
                                      close_timeout=TIMEOUT)
        else:
            conn = websockets.connect(self.url, extra_headers=self.auth, open_timeout=TIMEOUT, close_timeout=TIMEOUT)
        async with conn as ws:
            await ws.send(PING)
            reply = await asyncio.wait_for(ws.recv(), TIMEOUT)
            if '"pong"' not in reply:
                raise AssertionError(reply)

    def websockets_churn(self, what, unix):
        loop = asyncio.new_event_loop()
        try:
            churn(self, what, lambda: loop.run_until_complete(self.one(unix)))
        finally:
            loop.close()

    def test_websockets_unix(self):
        self.websockets_churn("python3-websockets, Unix socket", True)

    def test_websockets_tcp(self):
        self.websockets_churn("python3-websockets, TCP", False)

    def test_websockets_concurrent(self):
        async def all_at_once():
            opened = []
            for i in range(CONCURRENT):
                if i % 2:
                    sock = unix_connect(self.env.socket, TIMEOUT)
                    sock.setblocking(False)
                    opened.append(websockets.connect("ws://localhost/v1/ws", sock=sock, open_timeout=TIMEOUT))
                else:
                    opened.append(websockets.connect(self.url, extra_headers=self.auth, open_timeout=TIMEOUT))
            conns = await asyncio.gather(*opened)
            try:
                for _ in range(3):
                    await asyncio.gather(*(ws.send(PING) for ws in conns))
                    replies = await asyncio.gather(*(asyncio.wait_for(ws.recv(), TIMEOUT) for ws in conns))
                    bad = [r for r in replies if '"pong"' not in r]
                    if bad:
                        raise AssertionError(bad[:3])
            finally:
                await asyncio.gather(*(ws.close() for ws in conns))
            return len(conns)

        self.assertEqual(asyncio.run(all_at_once()), CONCURRENT)
        print("\n  python3-websockets: %d concurrent clients, 3 pings each, lost 0" % CONCURRENT, flush=True)


if __name__ == "__main__":
    run_suite("test_connections")
