// dashboard.mjs - the dashboard in a real browser: Debian's chromium driven
// by playwright-core, against a real daemon and real containers (started by
// test_dashboard.py, which passes what it set up in the environment).
//
//   LCD_URL     http://127.0.0.1:PORT      LCD_TOKEN  the daemon's token
//   LCD_IMAGE   an image in the local registry
//   LCD_CTL     JSON argv prefix running lightctl on the daemon (as its user)
//   LCD_SHOTS   directory for the screenshots
//
// Each step asserts on what the page shows; the first failure ends the run
// (exit 1) with a screenshot of the moment.
import { chromium } from "playwright-core";
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { get } from "node:http";
import { createServer } from "node:net";
import { join } from "node:path";

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const URL_ = env("LCD_URL"), TOKEN = env("LCD_TOKEN"), IMAGE = env("LCD_IMAGE"), SHOTS = env("LCD_SHOTS");
const CTL = JSON.parse(env("LCD_CTL"));
mkdirSync(SHOTS, { recursive: true });

function lightctl(...args) {
  return execFileSync(CTL[0], [...CTL.slice(1), ...args], { encoding: "utf8", timeout: 120000 });
}

const browser = await chromium.launch({
  executablePath: process.env.LCD_CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-default-apps"],
});
let page;
let step = "start";
const row = (k) => page.locator(`#containers tr[data-key="${k}"]`);

async function expectState(k, st, timeout = 60000) {
  await page.locator(`#containers tr[data-key="${k}"][data-state="${st}"]`).waitFor({ timeout });
}

async function click(k, action) {
  await row(k).locator(`button[data-action="${action}"]`).click();
}

// A TCP port nothing on this host listens on right now (every address, as a published port binds).
function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// GET http://127.0.0.1:port/ -> {status, body}, trying again until it answers or timeout ms pass.
async function httpGet(port, timeout) {
  const once = () => new Promise((resolve, reject) => {
    const req = get({ host: "127.0.0.1", port, path: "/", timeout: 2000 }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve({ status: res.statusCode, body }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("no answer in 2 s")));
    req.on("error", reject);
  });
  const end = Date.now() + timeout;
  for (;;) {
    try {
      return await once();
    } catch (e) {
      if (Date.now() > end) throw new Error(`127.0.0.1:${port} did not answer: ${e.message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await ctx.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(String(e)));
  page.on("dialog", (d) => d.accept());  // confirm() before remove
  let creates = 0;  // container.create requests the page sent
  page.on("websocket", (ws) => ws.on("framesent", (f) => {
    if (typeof f.payload === "string" && JSON.parse(f.payload).method === "container.create") creates++;
  }));

  step = "open the page with the token in the fragment";
  await page.goto(`${URL_}/#token=${TOKEN}`);
  await page.locator('#conn[data-state="connected"]').waitFor({ timeout: 20000 });
  if (page.url().includes(TOKEN)) throw new Error("the token stayed in the address bar");

  step = "create from the form: appears and reaches running without a reload";
  await page.fill('#create input[name="image"]', IMAGE);
  await page.fill('#create input[name="name"]', "web");
  await page.fill('#create input[name="tag"]', "1");
  await page.fill('#create input[name="cmd"]', "/bin/sh -c 'i=0; while true; do echo line$i; i=$((i+1)); sleep 0.2; done'");
  await page.fill('#create textarea[name="env"]', "GREETING=hi");
  await page.click('#create button[type="submit"]');
  await expectState("web:1", "running");

  step = "validation errors from the server appear beside the field error.data.param names";
  await page.fill('#create input[name="name"]', "Bad Name");
  await page.click('#create button[type="submit"]');
  await page.locator('.field-error[data-for="name"]', { hasText: "name must match" }).waitFor({ timeout: 10000 });
  await page.fill('#create input[name="name"]', "");
  await page.fill('#create textarea[name="env"]', "1BAD=x");
  await page.click('#create button[type="submit"]');
  await page.locator('.field-error[data-for="env"]', { hasText: "env[0] must be KEY=VALUE" }).waitFor({ timeout: 10000 });
  if (await page.locator('.field-error[data-for="name"]').textContent())
    throw new Error("the name's old error stayed");
  await page.fill('#create textarea[name="env"]', "");

  step = "buttons follow the daemon's operations table (system.info), state by state";
  const ops = JSON.parse(lightctl("--json", "info")).operations;
  const enabled = (op, st) => !(ops[op].unchanged || []).includes(st) &&
    ((ops[op].states || []).includes(st) || (op === "remove" && (ops[op].withForce || []).includes(st)));
  await page.fill('#create input[name="name"]', "idle");
  await page.fill('#create input[name="tag"]', "1");
  await page.fill('#create input[name="cmd"]', "/bin/sleep 1000");
  await page.uncheck('#create input[name="start"]');
  await page.click('#create button[type="submit"]');
  await expectState("idle:1", "created");
  await page.check('#create input[name="start"]');
  for (const [k, st] of [["web:1", "running"], ["idle:1", "created"]]) {
    for (const op of ["start", "stop", "restart", "pause", "resume", "remove", "logs"]) {
      const off = await row(k).locator(`button[data-action="${op}"]`).isDisabled();
      if (off === enabled(op, st)) throw new Error(`${op} is ${off ? "disabled" : "enabled"} on ${st} ${k}`);
    }
  }
  if (await row("idle:1").locator('button[data-action="shell"]').isEnabled() ||
      await row("web:1").locator('button[data-action="shell"]').isDisabled())
    throw new Error("shell is offered on a running container only");
  if (await row("idle:1").locator('button[data-action="restart"]').isDisabled())
    throw new Error("restart is disabled on a created container (the daemon allows it)");
  lightctl("rm", "idle:1");
  await row("idle:1").waitFor({ state: "detached", timeout: 20000 });

  step = "the ports field takes docker's -p syntax, parsed in the page";
  const parsed = await page.evaluate(async () =>
    (await import("/forms.js")).parsePorts("8080:80, 127.0.0.1:5353:53/udp  [::1]:8081:80/tcp,"));
  const want = [{ hostPort: 8080, containerPort: 80, protocol: "tcp" },
                { hostPort: 5353, containerPort: 53, protocol: "udp", hostIp: "127.0.0.1" },
                { hostPort: 8081, containerPort: 80, protocol: "tcp", hostIp: "::1" }];
  if (JSON.stringify(parsed) !== JSON.stringify(want)) throw new Error("parsePorts gave " + JSON.stringify(parsed));

  step = "a malformed ports entry is refused beside the field, before any request";
  const sentBefore = creates;
  await page.fill('#create input[name="name"]', "refused");
  await page.fill('#create input[name="ports"]', "8080:80 80");
  await page.click('#create button[type="submit"]');
  await page.locator('.field-error[data-for="ports"]', { hasText: '"80" is not [IP:]HOST:CONTAINER' })
    .waitFor({ timeout: 10000 });

  step = "a refusal of the ports by the daemon (data.param ports) lands beside the ports field";
  await page.selectOption('#create select[name="network"]', "host");
  await page.fill('#create input[name="ports"]', "8080:80");
  await page.click('#create button[type="submit"]');
  await page.locator('.field-error[data-for="ports"]', { hasText: 'ports needs network "private"' })
    .waitFor({ timeout: 10000 });
  // the reply came after its request, so a create sent for the malformed entry would be counted by now
  if (creates - sentBefore !== 1) throw new Error(`${creates - sentBefore} creates sent, want 1 (the host one)`);
  if (await page.locator("#create-status").textContent()) throw new Error("the refusal went to the status line too");
  if (JSON.parse(lightctl("--json", "ps")).some((c) => c.name === "refused"))
    throw new Error("a refused create left a container");
  await page.selectOption('#create select[name="network"]', "private");

  step = "a published port from the form: the row shows the mapping and the port answers";
  const port = await freePort();
  await page.fill('#create input[name="name"]', "httpd");
  await page.fill('#create input[name="ports"]', `${port}:80`);
  await page.fill('#create input[name="hostname"]', "www");
  await page.fill('#create input[name="cmd"]',
    "/bin/sh -c 'mkdir -p /www && echo hello > /www/index.html && exec /bin/busybox httpd -f -p 80 -h /www'");
  await page.click('#create button[type="submit"]');
  await expectState("httpd:1", "running");
  const mapping = `0.0.0.0:${port}→80/tcp`;
  await row("httpd:1").locator("td.ports", { hasText: mapping }).waitFor({ timeout: 10000 });
  const cell = await row("httpd:1").locator("td.ports").textContent();
  if (cell !== mapping) throw new Error(`the Ports cell says "${cell}", want "${mapping}"`);
  const got = await httpGet(port, 15000);
  if (got.status !== 200 || got.body !== "hello\n") throw new Error(`GET :${port} gave ${got.status} ${JSON.stringify(got.body)}`);
  const made = JSON.parse(lightctl("--json", "inspect", "httpd:1"));
  if (made.hostname !== "www" || made.network !== "private") throw new Error(`created with ${made.network} ${made.hostname}`);

  step = "a container without a private network shows its mode in the Ports column";
  await page.fill('#create input[name="name"]', "isolated");
  await page.fill('#create input[name="ports"]', "");
  await page.fill('#create input[name="hostname"]', "");
  await page.fill('#create input[name="cmd"]', "/bin/sleep 1000");
  await page.selectOption('#create select[name="network"]', "none");
  await page.uncheck('#create input[name="start"]');
  await page.click('#create button[type="submit"]');
  await expectState("isolated:1", "created");
  await row("isolated:1").locator("td.ports", { hasText: "none" }).waitFor({ timeout: 10000 });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.locator("section.wide").screenshot({ path: join(SHOTS, "dashboard-ports-phone.png") });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.selectOption('#create select[name="network"]', "private");
  await page.check('#create input[name="start"]');
  lightctl("rm", "--force", "httpd:1", "isolated:1");
  await row("httpd:1").waitFor({ state: "detached", timeout: 20000 });
  await row("isolated:1").waitFor({ state: "detached", timeout: 20000 });

  step = "logs follow";
  await click("web:1", "logs");
  await page.locator("#logs", { hasText: "line3" }).waitFor({ timeout: 20000 });

  step = "a shell in a running container: typed keys reach it, its output shows, its exit is told";
  await click("web:1", "shell");
  await page.locator("#term-status", { hasText: "sh in web:1" }).waitFor({ timeout: 20000 });
  await page.locator("#term .xterm").click();
  await page.keyboard.type("echo hello-$((6*7)); stty size\n");
  await page.locator("#term .xterm-rows", { hasText: "hello-42" }).waitFor({ timeout: 20000 });
  const size = await page.evaluate(() => {
    const rows = [...document.querySelectorAll("#term .xterm-rows > div")].map((d) => d.textContent);
    return rows.map((r) => r.match(/^(\d+) (\d+)\s*$/)).find((m) => m);
  });
  if (!size || Number(size[2]) < 40 || Number(size[1]) < 5)
    throw new Error("stty size in the terminal did not give the panel's size: " + JSON.stringify(size));
  await page.locator("section#terminal").screenshot({ path: join(SHOTS, "dashboard-terminal.png") });
  await page.keyboard.type("exit 3\n");
  await page.locator("#term-status", { hasText: "exited (code 3)" }).waitFor({ timeout: 20000 });

  step = "attach to a container created with a terminal: offered on tty containers only, typed keys reach it";
  lightctl("create", "-it", "--name", "tt", "--tag", "1", IMAGE, "sh");
  lightctl("start", "tt:1");
  await expectState("tt:1", "running", 20000);
  if (await row("web:1").locator('button[data-action="attach"]').count() !== 0)
    throw new Error("attach is offered on a container without a terminal");
  await click("tt:1", "attach");
  await page.locator("#term-status", { hasText: "attached to tt:1" }).waitFor({ timeout: 20000 });
  await page.locator("#term .xterm").click();
  await page.keyboard.type("echo att-$((2+3))\n");
  await page.locator("#term .xterm-rows", { hasText: "att-5" }).waitFor({ timeout: 20000 });
  await page.keyboard.type("exit 4\n");
  await page.locator("#term-status", { hasText: "container exited (code 4)" }).waitFor({ timeout: 20000 });
  lightctl("rm", "tt:1");

  step = "a running container's CPU and memory as sparklines (container.stats, every 5 s)";
  await row("web:1").locator('.stats .spark[data-what="CPU"] svg polyline').waitFor({ timeout: 30000 });
  const points = await row("web:1").locator('.spark[data-what="CPU"] polyline').getAttribute("points");
  if (!/^[\d.]+,[\d.]+/.test(points)) throw new Error("the CPU sparkline has no points: " + points);
  const mem = await row("web:1").locator('.spark[data-what="mem"]').textContent();
  const memStats = JSON.parse(lightctl("--json", "stats", "web:1")).memoryBytes;
  if (memStats === null ? mem !== "mem n/a" : !/[KM]iB$/.test(mem))
    throw new Error(`the memory sparkline says "${mem}" where the daemon reports ${memStats}`);

  step = "pause and resume from the buttons";
  await click("web:1", "pause");
  await expectState("web:1", "paused");
  await click("web:1", "resume");
  await expectState("web:1", "running");

  step = "a container started from lightctl appears live";
  lightctl("run", "--name", "cli", "--tag", "1", IMAGE, "/bin/sleep", "1000");
  await expectState("cli:1", "running", 20000);
  await page.screenshot({ path: join(SHOTS, "dashboard.png") });

  step = "a failing action shows the server's message next to its row";
  // (the buttons only offer allowed moves, so force a refused one: resume of a running container)
  await row("web:1").locator('button[data-action="resume"]').evaluate((b) => { b.disabled = false; });
  await click("web:1", "resume");
  await row("web:1").locator(".row-error").waitFor({ timeout: 20000 });
  const msg = await row("web:1").locator(".row-error").textContent();
  if (!/cannot resume container web:1: it is running/.test(msg)) throw new Error("unexpected row error: " + msg);

  step = "stop from the button; the logs stop following";
  await click("web:1", "stop");
  await expectState("web:1", "exited");
  await page.locator("#logs-status", { hasText: "stopped following" }).waitFor({ timeout: 20000 });

  step = "changes made while the WebSocket was down appear after the reconnect";
  await page.evaluate(() => window.lcdDropConnection());
  await page.locator('#conn:not([data-state="connected"])').waitFor({ timeout: 5000 });
  lightctl("rm", "--force", "cli:1");
  lightctl("run", "--name", "late", "--tag", "1", IMAGE, "/bin/sleep", "1000");
  await page.locator('#conn[data-state="connected"]').waitFor({ timeout: 20000 });
  await expectState("late:1", "running", 20000);
  await row("cli:1").waitFor({ state: "detached", timeout: 20000 });

  step = "remove from the button (with confirm)";
  await click("late:1", "remove");
  await row("late:1").waitFor({ state: "detached", timeout: 30000 });

  step = "the events timeline, the images and the system panel";
  await page.locator("#events li", { hasText: "late:1 removed" }).waitFor({ timeout: 10000 });
  await page.locator("#images tbody tr", { hasText: IMAGE }).waitFor({ timeout: 10000 });
  await page.locator("#info dd", { hasText: "yes" }).first().waitFor({ timeout: 10000 });
  await page.locator("#checks li").first().waitFor({ timeout: 10000 });

  step = "phone width";
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(SHOTS, "dashboard-phone.png"), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });

  step = "a wrong token shows an error, not an empty table";
  const bad = await ctx.newPage();
  await bad.goto(`${URL_}/#token=${"0".repeat(64)}`);
  await bad.locator("#fatal", { hasText: "refused the token" }).waitFor({ timeout: 20000 });
  await bad.screenshot({ path: join(SHOTS, "dashboard-bad-token.png") });

  step = "no script errors";
  if (problems.length) throw new Error("page errors: " + problems.join("; "));
  console.log("dashboard: all steps passed");
  await browser.close();
} catch (e) {
  console.error(`dashboard: FAILED at "${step}": ${e.message}`);
  if (page) await page.screenshot({ path: join(SHOTS, "failure.png") }).catch(() => {});
  await browser.close();
  process.exit(1);
}
