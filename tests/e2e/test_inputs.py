"""Bad input gets a clear error and changes nothing; tool failures leave nothing behind."""
import os
import re

from harness import WS, DaemonSuite, RPCError, WSError, http_get, run_suite, unix_connect


class Inputs(DaemonSuite):

    def setUp(self):
        self.c = self.env.client()

    def tearDown(self):
        self.c.close()

    def assert_nothing_changed(self):
        self.assertEqual(self.c.call("container.list"), [])
        bundles = os.path.join(self.env.data, "containers")
        self.assertEqual(os.listdir(bundles) if os.path.isdir(bundles) else [], [])
        self.assertEqual(os.listdir(os.path.join(self.env.run, "crun")), [])
        self.assertEqual(self.env.conmons(), [])

    def test_malformed_messages_keep_connection(self):
        ws = self.c.ws
        ws.send_text("{not json")
        ws.send_text("[1,2]")
        ws.send_text('{"jsonrpc":"2.0","id":9,"method":"nope.nothing"}')
        ws.send_text('{"jsonrpc":"2.0","id":10,"method":"container.inspect","params":[1]}')
        # parse and invalid-request errors carry a null id
        self.assertEqual(self.c.wait(None)["error"]["code"], -32700)
        self.assertEqual(self.c.wait(None)["error"]["code"], -32600)
        self.assertEqual(self.c.wait(9)["error"]["code"], -32601)
        self.assertEqual(self.c.wait(10)["error"]["code"], -32602)
        self.assertEqual(self.c.call("system.ping"), "pong")   # still usable
        ws.send_binary(b"\x00\x01")
        self.assertEqual(self.c.wait(None)["error"]["code"], -32600)
        self.assertEqual(self.c.call("system.ping"), "pong")

    def test_oversized_message_closes_1009(self):
        c = self.env.client()
        big = '{"jsonrpc":"2.0","id":1,"method":"system.ping","params":{"x":"%s"}}' % ("a" * (1024 * 1024 + 10))
        c.ws.send_text(big)
        with self.assertRaises(WSError) as cm:
            c.wait(1, timeout=30)
        self.assertIn("1009", str(cm.exception))
        # the daemon is fine, and so are other connections
        self.assertEqual(self.c.call("system.ping"), "pong")

    def test_bad_params(self):
        image = self.env.image
        cases = [
            ("container.create", {}),
            ("container.create", {"image": image, "name": "../etc"}),
            ("container.create", {"image": image, "name": "UPPER"}),
            ("container.create", {"image": image, "tag": "a/b"}),
            ("container.create", {"image": image, "tag": "-x"}),
            ("container.create", {"image": "oci:/tmp/x"}),
            ("container.create", {"image": "dir:/etc"}),
            ("container.create", {"image": "docker-archive:/x.tar"}),
            ("container.create", {"image": "--src-creds=a:b"}),
            ("container.create", {"image": image, "cmd": []}),
            ("container.create", {"image": image, "cmd": "sh"}),
            ("container.create", {"image": image, "cmd": ["a", 1]}),
            ("container.create", {"image": image, "env": ["NOEQUALS"]}),
            ("container.create", {"image": image, "env": ["A=1\nB=2"]}),
            ("container.create", {"image": image, "workdir": "relative"}),
            ("container.create", {"image": image, "nmae": "typo"}),
            ("container.start", {"name": "x"}),
            ("container.start", {"name": "x", "tag": ""}),
            ("container.stop", {"name": "x", "tag": "y", "timeout": -1}),
            ("container.stop", {"name": "x", "tag": "y", "timeout": "10"}),
            ("container.kill", {"name": "x", "tag": "y", "signal": "NOTASIG"}),
            ("container.kill", {"name": "x", "tag": "y", "signal": 99}),
            ("container.remove", {"name": "x", "tag": "y", "force": "yes"}),
            ("image.pull", {"ref": "oci-archive:/x"}),
            ("image.pull", {}),
            ("system.ping", {"unexpected": 1}),
        ]
        for method, params in cases:
            err = self.c.error(method, params)
            self.assertEqual(err["code"], -32602, "%s %s -> %s" % (method, params, err))
            self.assertEqual(err["data"]["reason"], "invalid")
            self.assertTrue(err["message"])
        self.assert_nothing_changed()

    def test_invalid_names_its_param(self):
        # error.data.param says which field to mark, without reading the message
        image = self.env.image
        cases = [
            ("container.create", {"image": image, "memoryLimit": 5}, "memoryLimit"),
            ("container.create", {"image": image, "pidsLimit": "many"}, "pidsLimit"),
            ("container.create", {"image": image, "name": "Bad Name"}, "name"),
            ("container.create", {"image": image, "tag": "a/b"}, "tag"),
            ("container.create", {"image": "dir:/etc"}, "image"),
            ("container.create", {"image": image, "env": ["A=1", "NOEQUALS"]}, "env"),
            ("container.create", {"image": image, "cmd": []}, "cmd"),
            ("container.create", {"image": image, "workdir": "relative"}, "workdir"),
            ("container.create", {"image": image, "nmae": "typo"}, "nmae"),
            ("container.create", {}, "image"),
            ("container.kill", {"name": "x", "tag": "y", "signal": "NOTASIG"}, "signal"),
            ("container.stop", {"name": "x", "tag": "y", "timeout": -1}, "timeout"),
            ("image.pull", {"ref": "oci-archive:/x"}, "ref"),
        ]
        for method, params, param in cases:
            err = self.c.error(method, params)
            self.assertEqual((err["code"], err["data"]["reason"]), (-32602, "invalid"), err)
            self.assertEqual(err["data"].get("param"), param, "%s %s -> %s" % (method, params, err))
        # an error about no parameter names none
        err = self.c.error("container.start", {"name": "ghost", "tag": "1"})
        self.assertNotIn("param", err["data"])
        self.assert_nothing_changed()

    def test_not_found(self):
        for m in ("container.start", "container.stop", "container.pause", "container.resume", "container.kill",
                  "container.remove", "container.inspect"):
            err = self.c.error(m, {"name": "ghost", "tag": "1"})
            self.assertEqual((err["code"], err["data"]["reason"]), (-32001, "not_found"), m)

    def test_missing_image_leaves_nothing(self):
        watch = self.env.client()
        watch.call("events.subscribe", {})
        err = self.c.error("container.create", {"image": "%s/acc/nothere:9" % self.env.registry})
        self.assertEqual((err["code"], err["data"]["reason"]), (-32004, "tool_failed"))
        self.assertEqual(err["data"]["tool"], "skopeo")
        self.assertTrue(err["data"]["stderr"])
        e, _ = watch.wait_event(lambda e: e["type"] == "container.failed")
        self.assertEqual((e["name"], e["tag"]), ("nothere", "9"))
        self.assertTrue(e["error"])
        self.assert_nothing_changed()
        # the failed name is free again
        self.c.call("container.create", {"image": self.env.image, "name": "nothere", "tag": "9",
                                         "cmd": ["/bin/true"]})
        self.c.call("container.remove", {"name": "nothere", "tag": "9"})
        watch.close()

    def test_bad_command_fails_cleanly(self):
        # crun cannot exec a missing binary: create or start reports it; nothing leaks
        try:
            self.c.call("container.create", {"image": self.env.image, "name": "nobin", "tag": "1",
                                             "cmd": ["/no/such/binary"]})
            with self.assertRaises(RPCError) as cm:
                self.c.call("container.start", {"name": "nobin", "tag": "1"})
            self.assertEqual(cm.exception.reason, "tool_failed")
            self.c.call("container.remove", {"name": "nobin", "tag": "1", "force": True})
        except RPCError as e:
            self.assertEqual(e.reason, "tool_failed")
        self.assert_nothing_changed()

    def test_pull(self):
        r = self.c.call("image.pull", {"ref": self.env.image})
        self.assertEqual(r, {"ref": self.env.image, "digest": self.env.image_digest})
        err = self.c.error("image.pull", {"ref": "%s/acc/missing:1" % self.env.registry})
        self.assertEqual(err["data"]["reason"], "tool_failed")

    def test_plain_http_is_404(self):
        s = unix_connect(self.env.socket, 10)
        s.sendall(b"GET /nothing-here HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        head = s.recv(4096).decode(errors="replace")
        s.close()
        self.assertTrue(head.startswith("HTTP/1.1 404"), head)

    def test_dashboard_files(self):
        # served without a token, with a policy that keeps the page to its origin
        status, hdrs, body = http_get(self.env.socket, "/")
        self.assertEqual(status, 200)
        self.assertTrue(hdrs["content-type"].startswith("text/html"))
        self.assertIn("default-src 'self'", hdrs["content-security-policy"])
        self.assertIn('<script type="module" src="/app.js">', body)
        status, hdrs, body = http_get(self.env.socket, "/app.js")
        self.assertEqual((status, hdrs["content-type"].split(";")[0]), (200, "text/javascript"))
        self.assertIn("events.subscribe", body)
        # every module app.js imports is served as JavaScript too
        for mod in re.findall(r'from "\./([a-z]+\.js)"', body):
            status, hdrs, _ = http_get(self.env.socket, "/" + mod)
            self.assertEqual((mod, status, hdrs["content-type"].split(";")[0]), (mod, 200, "text/javascript"))
        self.assertEqual(http_get(self.env.socket, "/style.css")[0], 200)
        self.assertEqual(http_get(self.env.socket, "/", {"Host": "evil.example"})[0], 403)
        # the terminal's modules (xterm.js, vendored) are JavaScript too; inline styles are allowed for its
        # renderer, inline scripts never
        status, hdrs, body = http_get(self.env.socket, "/terminal.js")
        self.assertEqual((status, hdrs["content-type"].split(";")[0]), (200, "text/javascript"))
        for mod in re.findall(r'from "\./(vendor/[a-z-]+\.mjs)"', body):
            status, hdrs, vbody = http_get(self.env.socket, "/" + mod)
            self.assertEqual((mod, status, hdrs["content-type"].split(";")[0]), (mod, 200, "text/javascript"))
            self.assertNotIn("sourceMappingURL", vbody)
        self.assertEqual(len(re.findall(r'from "\./(vendor/[a-z-]+\.mjs)"', body)), 2)
        policy = dict(p.strip().split(" ", 1) for p in hdrs["content-security-policy"].split(";") if p.strip())
        self.assertEqual(policy["style-src"], "'self' 'unsafe-inline'")
        self.assertNotIn("script-src", policy)   # scripts fall back to default-src 'self'
        self.assertEqual(policy["default-src"], "'self'")

    def test_wrong_path_and_cross_origin_refused(self):
        with self.assertRaises(Exception):
            WS(self.env.socket, path="/other")
        with self.assertRaises(Exception):
            WS(self.env.socket, headers={"Origin": "http://evil.example"})
        with self.assertRaises(Exception):   # another port is another origin
            WS(self.env.socket, headers={"Origin": "http://localhost:7780"})
        ok = WS(self.env.socket, headers={"Origin": "http://localhost"})   # the daemon's own (Host: localhost)
        ok.close()


if __name__ == "__main__":
    run_suite("test_inputs")
