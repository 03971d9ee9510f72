#!/usr/bin/env python3
"""The dashboard in a real browser (ctest label browser): sets up the e2e
sandbox, a registry and a daemon with a TCP listener, then runs
dashboard.mjs (playwright-core driving Debian's chromium). Skips (77) when
chromium or the npm packages are missing: scripts/dev test installs both.
Screenshots go to $LCD_BUILD_DIR/browser/."""
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from harness import as_user, build_dir, env_or_skip  # noqa: E402


def main():
    chromium = os.environ.get("LCD_CHROMIUM", "/usr/bin/chromium")
    node = shutil.which("node")
    if not os.access(chromium, os.X_OK) or node is None:
        print("SKIP: needs %s and node (apt-get install chromium nodejs)" % chromium, file=sys.stderr)
        return 77
    if not os.path.isdir(os.path.join(HERE, "node_modules", "playwright-core")):
        print("SKIP: run 'npm ci' in tests/browser first", file=sys.stderr)
        return 77
    env = env_or_skip()
    if env is None:
        return 77
    rc = 1
    try:
        env.start_daemon(["--listen", "127.0.0.1:0"])
        # the URL as a user gets it (the daemon never logs the token)
        out = subprocess.run(env.lightctl("dashboard"), stdout=subprocess.PIPE, text=True, check=True).stdout
        url, token = out.strip().split("/#token=")
        shots = os.path.join(build_dir(), "browser")
        child_env = dict(os.environ, LCD_URL=url, LCD_TOKEN=token, LCD_IMAGE=env.image, LCD_SHOTS=shots,
                         LCD_CTL=json.dumps(as_user([os.path.join(env.bin, "lightctl"), "--socket", env.socket])))
        t0 = time.time()
        r = subprocess.run([node, os.path.join(HERE, "dashboard.mjs")], env=child_env, timeout=600)
        print("browser suite took %.1f s; screenshots in %s" % (time.time() - t0, shots))
        rc = 0 if r.returncode == 0 else 1
        if rc:
            print(env.daemon_log(), file=sys.stderr)
    finally:
        env.teardown()
    return rc


if __name__ == "__main__":
    sys.exit(main())
