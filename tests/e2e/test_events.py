"""Events that never lose a change: replay with since, gone, initial
snapshot, filters, revisions, heartbeats (real daemon and tools)."""
import time

from harness import DaemonSuite, run_suite


class Events(DaemonSuite):
    daemon_args = ("--event-history", "64", "--heartbeat", "1")

    def setUp(self):
        self.c = self.env.client()

    def tearDown(self):
        for ct in self.c.call("container.list"):
            self.c.call("container.remove", {"name": ct["name"], "tag": ct["tag"], "force": True})
        self.c.close()

    def make(self, name, cmd=("/bin/sleep", "1000")):
        self.c.call("container.create", {"image": self.env.image, "name": name, "tag": "1", "cmd": list(cmd)})

    def drain(self, client, until_seq, timeout=30):
        """Container events (no heartbeats) up to and including until_seq."""
        got = []
        deadline = time.time() + timeout
        while not got or got[-1]["seq"] < until_seq:
            e = client.next_event(timeout=max(0.1, deadline - time.time()))
            if e["type"].startswith("container."):
                got.append(e)
        return got

    def test_replay_after_disconnect(self):
        steady = self.env.client()
        steady.call("events.subscribe", {})
        flaky = self.env.client()
        flaky.call("events.subscribe", {})
        self.make("r1")
        self.c.call("container.start", {"name": "r1", "tag": "1"})
        now = self.env.client()
        upto = now.call("events.subscribe", {})["seq"]
        now.close()
        seen = self.drain(flaky, upto)
        last = seen[-1]["seq"]
        flaky.close()
        # changes while it is away
        self.c.call("container.pause", {"name": "r1", "tag": "1"})
        self.c.call("container.resume", {"name": "r1", "tag": "1"})
        self.make("r2")
        self.c.call("container.remove", {"name": "r2", "tag": "1"})
        back = self.env.client()
        r = back.call("events.subscribe", {"since": last})
        latest = r["seq"]
        missed = self.drain(back, latest)
        # every event after `last`, exactly once, in order, as the steady client saw them
        want = [e for e in self.drain(steady, latest) if e["seq"] > last]
        self.assertEqual([e["seq"] for e in missed], [e["seq"] for e in want])
        self.assertEqual([(e["name"], e["type"], e.get("state")) for e in missed],
                         [(e["name"], e["type"], e.get("state")) for e in want])
        self.assertEqual([e["state"] for e in missed if e["name"] == "r1"], ["paused", "running"])
        # revisions rise per container
        revs = [e["revision"] for e in missed if e["name"] == "r1"]
        self.assertEqual(revs, sorted(set(revs)))
        self.assertEqual(self.c.call("container.inspect", {"name": "r1", "tag": "1"})["revision"], revs[-1])
        # and live events follow
        self.c.call("container.pause", {"name": "r1", "tag": "1"})
        e, _ = back.wait_event(lambda e: e.get("state") == "paused")
        self.assertGreater(e["seq"], latest)
        for cl in (steady, back):
            cl.close()

    def test_gone(self):
        w = self.env.client()
        first = w.call("events.subscribe", {})["seq"]
        for i in range(12):   # > 64 events: creating, created, running, paused, removing, removed ...
            self.make("g%d" % i)
            self.c.call("container.start", {"name": "g%d" % i, "tag": "1"})
            self.c.call("container.pause", {"name": "g%d" % i, "tag": "1"})
            self.c.call("container.remove", {"name": "g%d" % i, "tag": "1", "force": True})
        err = w.error("events.subscribe", {"since": first})
        self.assertEqual((err["code"], err["data"]["reason"]), (-32005, "gone"))
        self.assertGreater(err["data"]["oldestSeq"], first + 1)
        err = w.error("events.subscribe", {"since": 10 ** 9})   # from another daemon run
        self.assertEqual(err["code"], -32005)
        # the oldest retained one still works
        ok = w.call("events.subscribe", {"since": err["data"]["oldestSeq"] - 1})
        self.assertIn("bootId", ok)
        w.close()

    def test_initial_snapshot_then_live(self):
        self.make("i1")
        self.make("i2")
        self.c.call("container.start", {"name": "i2", "tag": "1"})
        w = self.env.client()
        r = w.call("events.subscribe", {"initial": True})
        snap = []
        while True:
            e = w.next_event()
            if e["type"] == "initial.end":
                self.assertEqual(e["seq"], r["seq"])
                break
            if e["type"] == "container.state":
                snap.append(e)
        self.assertEqual({(e["name"], e["state"]) for e in snap}, {("i1", "created"), ("i2", "running")})
        self.assertTrue(all(e["initial"] and e["revision"] >= 2 for e in snap))
        self.c.call("container.start", {"name": "i1", "tag": "1"})
        e, _ = w.wait_event(lambda e: e.get("name") == "i1")
        self.assertEqual((e["state"], e["previous"]), ("running", "created"))
        self.assertGreater(e["seq"], r["seq"])
        w.close()

    def test_filters(self):
        w = self.env.client()
        w.call("events.subscribe", {"names": ["f1"], "types": ["container.removed"]})
        self.make("f1")
        self.make("f2")
        self.c.call("container.remove", {"name": "f2", "tag": "1"})
        self.c.call("container.remove", {"name": "f1", "tag": "1"})
        e, skipped = w.wait_event(lambda e: e["type"] != "heartbeat")
        self.assertEqual((e["type"], e["name"]), ("container.removed", "f1"))
        self.assertEqual(w.error("events.subscribe", {"types": ["nope"]})["code"], -32602)
        self.assertEqual(w.error("events.subscribe", {"names": ["../x"]})["code"], -32602)
        w.close()

    def test_heartbeat(self):
        w = self.env.client()
        seq = w.call("events.subscribe", {})["seq"]
        t0 = time.time()
        e, _ = w.wait_event(lambda e: e["type"] == "heartbeat", timeout=5)
        self.assertLess(time.time() - t0, 3)
        self.assertGreaterEqual(e["seq"], seq)
        w.close()


if __name__ == "__main__":
    run_suite("test_events")
