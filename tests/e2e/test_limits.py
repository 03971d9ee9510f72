"""Per-client bounds: clients, in-flight requests, message size."""
import json
import os
import subprocess
import time

from harness import WS, DaemonSuite, Env, WSError, as_user, http_get, run_suite


class Limits(DaemonSuite):
    daemon_args = ("--max-clients", "4", "--max-inflight", "2", "--max-message", "4096")

    def test_max_clients_503(self):
        conns = [self.env.client() for _ in range(4)]
        with self.assertRaises(WSError) as cm:
            WS(self.env.socket)
        self.assertIn(" 503 ", str(cm.exception) + " ")
        conns.pop().close()
        time.sleep(0.3)   # the daemon sees the close
        again = self.env.client()
        self.assertEqual(again.call("system.ping"), "pong")
        for c in conns + [again]:
            c.close()

    def test_inflight_per_connection(self):
        c = self.env.client()
        ids = [c.send("container.create", {"image": self.env.image, "name": "f%d" % i, "tag": "1",
                                           "cmd": ["/bin/true"]}) for i in range(4)]
        replies = [c.wait(i) for i in ids]
        busy = [r for r in replies if r.get("error", {}).get("data", {}).get("reason") == "busy"]
        self.assertEqual(len(busy), 2, replies)
        self.assertIn("--max-inflight", busy[0]["error"]["message"])
        # answered ones free their slot
        self.assertEqual(c.call("system.ping"), "pong")
        for r in replies:
            if "result" in r:
                c.call("container.remove", {"name": r["result"]["name"], "tag": "1"})
        c.close()

    def test_long_id_is_refused(self):
        c = self.env.client()
        c.ws.send_text(json.dumps({"jsonrpc": "2.0", "id": "x" * 257, "method": "system.ping"}))
        err = c.wait(None, timeout=30)["error"]
        self.assertEqual((err["code"], err["data"]["reason"]), (-32600, "invalid_request"))
        self.assertIn("at most 256 bytes", err["message"])
        self.assertEqual(c.raw("system.ping", None)["result"], "pong")
        self.assertEqual(c.wait(c.send("system.ping", id_="y" * 256))["result"], "pong")
        c.close()

    def test_parked_waits_count_as_inflight(self):
        c = self.env.client()
        self.env.start_sleepers(c, "w", 2)
        waits = [c.send("container.wait", {"name": "w%d" % i, "tag": "1"}) for i in range(2)]
        time.sleep(0.3)
        busy = c.error("system.ping")   # two waits parked: the connection's 2 are taken
        self.assertEqual(busy["data"]["reason"], "busy")
        other = self.env.client()   # another connection is not held up
        for i in range(2):
            other.call("container.kill", {"name": "w%d" % i, "tag": "1"})
        for i in waits:
            self.assertEqual(c.wait(i)["result"]["exitCode"], 137)
        self.assertEqual(c.call("system.ping"), "pong")
        for i in range(2):
            other.call("container.remove", {"name": "w%d" % i, "tag": "1"})
        other.close()
        c.close()

    def test_message_limit(self):
        c = self.env.client()
        self.assertEqual(c.call("system.info")["version"], c.call("system.info")["version"])
        c.ws.send_text('{"jsonrpc":"2.0","id":7,"method":"system.ping","params":{"x":"%s"}}' % ("a" * 5000))
        with self.assertRaises(WSError) as cm:
            c.wait(7, timeout=30)
        self.assertIn("1009", str(cm.exception))


class Lagged(DaemonSuite):
    """A subscriber that stops reading is told it lagged and dropped; a
    subscriber that reads gets every event, and no request waits for the
    slow one."""
    daemon_args = ("--send-queue", "16")

    def test_slow_subscriber(self):
        c = self.env.client()
        fast = self.env.client()
        fast.call("events.subscribe", {})
        slow = WS(self.env.socket)   # no reader thread: it never reads after subscribing
        slow.send_text('{"jsonrpc":"2.0","id":1,"method":"events.subscribe","params":{}}')
        key = {"name": "flip", "tag": "1"}
        c.call("container.create", dict(key, image=self.env.image, cmd=["/bin/sleep", "1000"]))
        c.call("container.start", key)
        lagged = 0
        worst = 0.0
        cycles = 0
        while cycles < 2000 and lagged == 0:
            t0 = time.time()
            c.call("container.pause", key)
            c.call("container.resume", key)
            worst = max(worst, time.time() - t0)
            cycles += 1
            if cycles % 50 == 0:
                st, _, body = http_get(self.env.socket, "/metrics")
                lagged = int(float([l for l in body.splitlines()
                                    if l.startswith("lcd_events_lagged_total")][0].split()[1]))
        self.assertEqual(lagged, 1, "the slow subscriber never lagged in %d cycles" % cycles)
        self.assertLess(worst, 5, "a request waited for the slow subscriber")
        # the fast one saw every pause and resume, in order
        states = []
        while len(states) < 2 * cycles:
            e = fast.next_event(timeout=10)
            if e.get("name") == "flip" and e["state"] in ("paused", "running") and e["previous"] != "created":
                states.append(e["state"])
        self.assertEqual(states, ["paused", "running"] * cycles)
        # the slow one, reading at last, finds its events and then "lagged"
        got_lagged = False
        slow.sock.settimeout(10)
        while not got_lagged:
            msg = json.loads(slow.recv_text())
            got_lagged = msg.get("params", {}).get("type") == "lagged"
        slow.close()
        fast.close()
        c.call("container.remove", dict(key, force=True))
        c.close()


class Follows(DaemonSuite):
    """Log follows: at most 16 per connection, each one of its requests in flight."""
    daemon_args = ("--max-inflight", "20")

    def test_follows_per_connection(self):
        c = self.env.client()
        c.call("container.create", {"image": self.env.image, "name": "f", "tag": "1", "cmd": ["/bin/sleep", "100"]})
        for _ in range(16):
            c.call("container.logs", {"name": "f", "tag": "1", "follow": True})
        err = c.error("container.logs", {"name": "f", "tag": "1", "follow": True})
        self.assertEqual(err["data"]["reason"], "busy")
        self.assertIn("follows 16 logs already", err["message"])
        # 16 follows + 4 more requests in flight fill --max-inflight 20
        ids = [c.send("container.wait", {"name": "f", "tag": "1"}) for _ in range(4)]
        time.sleep(0.3)
        self.assertEqual(c.error("system.ping")["data"]["reason"], "busy")
        self.assertEqual(c.call("logs.unfollow", {"name": "f", "tag": "1"}), {"unfollowed": True})
        self.assertEqual(c.call("system.ping"), "pong")
        c.call("container.remove", {"name": "f", "tag": "1", "force": True})
        for i in ids:
            self.assertEqual(c.wait(i)["error"]["data"]["reason"], "not_found")
        c.close()


class Tls(DaemonSuite):
    """--listen off loopback is refused without TLS; with --tls-cert/--tls-key
    the TCP listener speaks TLS (here on loopback, to keep the test local)."""

    @classmethod
    def setUpClass(cls):
        cls.env = Env()
        try:
            cls.env.setup(registry=False)
            cert, key = os.path.join(cls.env.tmp, "cert.pem"), os.path.join(cls.env.tmp, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                            "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", cert],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cls.cert = cert
            for f in (cert, key):
                os.chmod(f, 0o644)
            cls.env.start_daemon(["--listen", "127.0.0.1:0", "--tls-cert", cert, "--tls-key", key])
        except BaseException:
            cls.env.teardown()
            raise

    def test_wss(self):
        log = self.env.daemon_log(tail=None)
        port = int(log.split("wss://127.0.0.1:")[1].split("/")[0])
        with open(os.path.join(self.env.run, "token")) as f:
            token = f.read().strip()
        ws = WS("wss://127.0.0.1:%d" % port, headers={"Authorization": "Bearer " + token})
        ws.send_text('{"jsonrpc":"2.0","id":1,"method":"system.ping"}')
        self.assertIn('"pong"', ws.recv_text())
        ws.close()
        with self.assertRaises(Exception):   # plain text to a TLS port
            WS("ws://127.0.0.1:%d" % port, headers={"Authorization": "Bearer " + token}, timeout=5)

    def lightctl(self, url, *args):
        return subprocess.run(as_user([os.path.join(self.env.bin, "lightctl"), "--host", url, "--token-file",
                                       os.path.join(self.env.run, "token")] + list(args) + ["ping"]),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)

    def test_lightctl_verifies_the_daemons_certificate(self):
        port = int(self.env.daemon_log(tail=None).split("wss://127.0.0.1:")[1].split("/")[0])
        url = "wss://127.0.0.1:%d" % port
        r = self.lightctl(url, "--cacert", self.cert)
        self.assertEqual((r.returncode, r.stdout.strip(), r.stderr), (0, '"pong"', ""))
        # a certificate nobody vouches for: refused, and said so
        r = self.lightctl(url)
        self.assertEqual(r.returncode, 3, r.stdout)
        self.assertIn("cannot connect to %s: the TLS handshake failed" % url, r.stderr)
        self.assertEqual(r.stdout, "")
        # the right CA, the wrong name: refused too
        r = self.lightctl("wss://localhost:%d" % port, "--cacert", self.cert)
        self.assertEqual(r.returncode, 3, r.stdout)
        self.assertIn("the TLS handshake failed", r.stderr)
        self.assertIn("not for localhost", r.stderr)
        # --insecure: it connects, and says loudly what that means
        r = self.lightctl(url, "--insecure")
        self.assertEqual((r.returncode, r.stdout.strip()), (0, '"pong"'), r.stderr)
        self.assertIn("--insecure: the daemon's certificate is not checked", r.stderr)


if __name__ == "__main__":
    run_suite("test_limits")
