"""Per-client bounds: clients, in-flight requests, message size."""
import time

from harness import WS, DaemonSuite, WSError, run_suite


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

    def test_message_limit(self):
        c = self.env.client()
        self.assertEqual(c.call("system.info")["version"], c.call("system.info")["version"])
        c.ws.send_text('{"jsonrpc":"2.0","id":7,"method":"system.ping","params":{"x":"%s"}}' % ("a" * 5000))
        with self.assertRaises(WSError) as cm:
            c.wait(7, timeout=30)
        self.assertIn("1009", str(cm.exception))


if __name__ == "__main__":
    run_suite("test_limits")
