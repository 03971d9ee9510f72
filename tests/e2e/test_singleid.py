"""A user without subordinate ids: the daemon maps only itself (single-id
mode), says so, and containers still run, as root only."""
import os

os.environ["LCD_TEST_USER"] = "lcd-nosub"   # before harness reads it: a user with no /etc/subuid range

from harness import Env, FreshEnvCase, run_suite  # noqa: E402


class SingleId(FreshEnvCase):
    def setUp(self):
        self.env = Env()
        try:
            self.env.setup(subids=False)
        except BaseException:
            self.env.teardown()
            raise

    def test_single_id_mode(self):
        env = self.env
        env.start_daemon()
        self.assertIn("single-id mapping", env.daemon_log(tail=None))
        c, w = env.client(), env.client()
        self.assertTrue(c.call("system.info")["idmap"].startswith("single:"))
        checks = {x["check"]: x for x in c.call("system.check")}
        self.assertFalse(checks["subuid"]["ok"])
        self.assertFalse(checks["subuid"]["required"])
        w.call("events.subscribe", {})
        script = ("test \"$(id -u)\" = 0 || exit 10; "
                  "test \"$(wc -l < /proc/self/uid_map)\" = 1 || exit 11; "
                  "test \"$(stat -c %u /home/app/owned)\" = 0 || exit 12; exit 0")
        c.call("container.create", {"image": env.image, "name": "one", "tag": "1", "cmd": ["/bin/sh", "-c", script]})
        c.call("container.start", {"name": "one", "tag": "1"})
        e, _ = w.wait_event(lambda e: e.get("name") == "one" and e.get("state") == "exited")
        self.assertEqual(e["exitCode"], 0, "single-id check %s failed" % e["exitCode"])
        c.call("container.remove", {"name": "one", "tag": "1"})
        c.close()
        w.close()


if __name__ == "__main__":
    run_suite("test_singleid")
