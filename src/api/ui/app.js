// app.js - the dashboard: a live view over the v1 WebSocket API (docs/API.md).
//
// The token comes in the URL fragment (#token=...), is kept in
// sessionStorage and presented as the subprotocol bearer.<token>. The view
// is built from events, never by polling: on (re)connect it subscribes with
// `since` the last seq it saw, or with `initial` when it has nothing, the
// daemon restarted (a new bootId) or the seq is gone. Everything drawn from
// the daemon goes through textContent, never innerHTML.

const $ = (sel) => document.querySelector(sel);
const TOKEN_KEY = "lcd-token";
const MAX_EVENTS = 300;

const state = {
  ws: null,
  nextId: 1,
  pending: new Map(),       // id -> {resolve, reject}
  containers: new Map(),    // "name:tag" -> container object
  rowErrors: new Map(),     // "name:tag" -> message
  bootId: null,
  lastSeq: 0,
  synced: false,
  backoff: 500,
  follow: null,             // {name, tag} whose logs are followed
  events: [],
};

// ---- token and connection ----

function token() {
  const m = location.hash.match(/token=([0-9a-fA-F]+)/);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, m[1]);
    history.replaceState(null, "", location.pathname + location.search);  // keep it out of sight
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function setConn(kind, text) {
  const el = $("#conn");
  el.dataset.state = kind;
  el.textContent = text;
}

function fatal(text) {
  const el = $("#fatal");
  el.textContent = text;
  el.hidden = !text;
}

async function checkToken(tok) {
  // A refused WebSocket tells the page nothing; a plain GET tells why.
  try {
    const r = await fetch("/v1/healthz", {headers: {Authorization: "Bearer " + tok}, cache: "no-store"});
    if (r.status === 401) return "The daemon refused the token (401). Open the URL the daemon printed at start " +
                                 "(it ends in #token=…); the token changes every time the daemon starts.";
    if (r.status === 403) return "The daemon refused this page's host or origin (403): see --allow-host.";
    return null;
  } catch (e) {
    return null;  // down: the WebSocket retries
  }
}

async function connect() {
  const tok = token();
  if (!tok) {
    setConn("error", "no token");
    fatal("No API token: open the URL the daemon printed at start (it ends in #token=…).");
    return;
  }
  const why = await checkToken(tok);
  if (why) {
    setConn("error", "refused");
    fatal(why);
    return;
  }
  fatal("");
  setConn(state.bootId ? "reconnecting" : "connecting", state.bootId ? "reconnecting…" : "connecting…");
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}/v1/ws`, ["light-containerd.v1", "bearer." + tok]);
  state.ws = ws;
  ws.onopen = () => {
    state.backoff = 500;
    setConn("connected", "connected");
    subscribe();
    refreshSide();
  };
  ws.onmessage = (m) => onMessage(JSON.parse(m.data));
  ws.onclose = () => {
    if (state.ws !== ws) return;
    state.ws = null;
    for (const p of state.pending.values()) p.reject(new Error("connection lost"));
    state.pending.clear();
    const wait = state.backoff;
    state.backoff = Math.min(state.backoff * 2, 10000);
    setConn("reconnecting", `disconnected; retrying in ${(wait / 1000).toFixed(1)} s`);
    setTimeout(connect, wait);
  };
}

// For tests and for a laptop waking up: drop the connection now.
window.lcdDropConnection = () => state.ws && state.ws.close();

function call(method, params) {
  return new Promise((resolve, reject) => {
    if (!state.ws || state.ws.readyState !== WebSocket.OPEN) return reject(new Error("not connected"));
    const id = state.nextId++;
    state.pending.set(id, {resolve, reject});
    const msg = {jsonrpc: "2.0", id, method};
    if (params !== undefined) msg.params = params;
    state.ws.send(JSON.stringify(msg));
  });
}

class RpcError extends Error {
  constructor(e) { super(e.message); this.reason = e.data && e.data.reason; this.data = e.data; }
}

function onMessage(msg) {
  if (msg.id !== undefined && msg.id !== null && state.pending.has(msg.id)) {
    const p = state.pending.get(msg.id);
    state.pending.delete(msg.id);
    if (msg.error) p.reject(new RpcError(msg.error)); else p.resolve(msg.result);
    return;
  }
  if (msg.method === "event") onEvent(msg.params);
  else if (msg.method === "log") onLog(msg.params);
  else if (msg.method === "log.end") onLogEnd(msg.params);
}

// ---- the container view: initial snapshot, then events ----

async function subscribe() {
  const resume = state.bootId && state.synced;
  try {
    const r = await call("events.subscribe", resume ? {since: state.lastSeq} : {initial: true});
    if (resume && r.bootId !== state.bootId) return resync();  // the daemon restarted: nothing carries over
    if (!resume) {
      state.containers.clear();
      state.synced = false;
    }
    state.bootId = r.bootId;
    if (resume) render();
  } catch (e) {
    if (e.reason === "gone") return resync();  // too far behind: start over from a snapshot
    throw e;
  }
}

function resync() {
  state.bootId = null;
  state.synced = false;
  state.lastSeq = 0;
  return subscribe();
}

const key = (name, tag) => `${name}:${tag}`;
const refreshing = new Set();

async function refreshContainer(name, tag) {
  const k = key(name, tag);
  if (refreshing.has(k)) return;
  refreshing.add(k);
  try {
    state.containers.set(k, await call("container.inspect", {name, tag}));
  } catch (e) {
    if (e.reason === "not_found") state.containers.delete(k);
  } finally {
    refreshing.delete(k);
    render();
  }
}

function onEvent(e) {
  if (e.type === "heartbeat") return;
  if (e.type === "lagged") { state.synced = true; state.lastSeq = Math.max(state.lastSeq, e.seq); subscribe(); return; }
  if (e.type === "initial.end") { state.synced = true; state.lastSeq = e.seq; render(); refreshSide(); return; }
  if (e.seq && !e.initial) state.lastSeq = Math.max(state.lastSeq, e.seq);
  if (e.type === "container.state") {
    const k = key(e.name, e.tag);
    const c = state.containers.get(k) || {name: e.name, tag: e.tag, image: "", pid: null};
    state.containers.set(k, Object.assign(c, {state: e.state, revision: e.revision,
                                             exitCode: e.exitCode === undefined ? c.exitCode : e.exitCode}));
    refreshContainer(e.name, e.tag);  // image, pid, times
    if (state.follow && state.follow.name === e.name && state.follow.tag === e.tag && e.state === "running" &&
        $("#logs-status").dataset.ended === "1") startLogs(e.name, e.tag, false);
  } else if (e.type === "container.removed" || e.type === "container.failed") {
    state.containers.delete(key(e.name, e.tag));
    state.rowErrors.delete(key(e.name, e.tag));
  } else if (e.type === "image.progress") {
    const s = $("#create-status");
    if (s.dataset.busy === "1") s.textContent = `${e.phase} ${e.ref}…`;
    if (e.phase === "done") loadImages();
  }
  if (!e.initial) addEvent(e);
  render();
}

// ---- rendering ----

const ACTIONS = [
  ["start", ["created", "exited"]],
  ["stop", ["running", "paused"]],
  ["restart", ["running", "exited"]],
  ["pause", ["running"]],
  ["resume", ["paused"]],
  ["remove", ["created", "running", "paused", "exited"]],
  ["logs", ["created", "running", "paused", "exited"]],
];

function el(tag, props, ...kids) {
  const n = document.createElement(tag);
  Object.assign(n, props || {});
  for (const k of kids) if (k !== null && k !== undefined) n.append(k);
  return n;
}

function ago(iso) {
  if (!iso) return "";
  let s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60); s %= 60;
  if (m < 60) return `${m}m ${s}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

function statusText(c) {
  if (c.state === "running" || c.state === "paused") return "up " + ago(c.startedAt);
  if (c.state === "exited") return c.exitCode === null || c.exitCode === undefined ? "exited" : `exit ${c.exitCode}`;
  return "";
}

function render() {
  const body = $("#containers tbody");
  const rows = [...state.containers.values()].sort((a, b) => key(a.name, a.tag).localeCompare(key(b.name, b.tag)));
  body.replaceChildren(...rows.map(renderRow));
  $("#empty").hidden = rows.length > 0 || !state.synced;
}

function renderRow(c) {
  const k = key(c.name, c.tag);
  const actions = el("td", {className: "actions"});
  for (const [name, states] of ACTIONS) {
    const b = el("button", {type: "button", textContent: name, disabled: !states.includes(c.state)});
    b.setAttribute("aria-label", `${name} ${k}`);
    b.dataset.action = name;
    b.addEventListener("click", () => act(name, c));
    actions.append(b);
  }
  if (state.rowErrors.has(k)) actions.append(el("span", {className: "row-error", textContent: state.rowErrors.get(k)}));
  const tr = el("tr", {},
    el("td", {textContent: c.name}), el("td", {textContent: c.tag}), el("td", {textContent: c.image || ""}),
    el("td", {className: "state state-" + c.state, textContent: c.state}),
    el("td", {textContent: statusText(c)}), el("td", {textContent: c.pid ?? ""}), actions);
  tr.dataset.key = k;
  tr.dataset.state = c.state;
  return tr;
}

async function act(name, c) {
  const k = key(c.name, c.tag);
  const p = {name: c.name, tag: c.tag};
  if (name === "logs") return startLogs(c.name, c.tag, true);
  if (name === "remove") {
    if (!confirm(`Remove ${k}?` + (c.state === "exited" || c.state === "created" ? "" : " It will be stopped first.")))
      return;
    p.force = true;
  }
  state.rowErrors.delete(k);
  render();
  try {
    await call("container." + name, p);
  } catch (e) {
    state.rowErrors.set(k, e.message);
    render();
  }
}

function addEvent(e) {
  state.events.unshift(e);
  state.events.length = Math.min(state.events.length, MAX_EVENTS);
  renderEvents();
}

function renderEvents() {
  const f = $("#event-filter").value.trim();
  const items = state.events.filter((e) => !f || (e.name || "").includes(f)).map((e) => {
    let what = e.type;
    if (e.type === "container.state") what = `${e.name}:${e.tag} → ${e.state}` +
                                              (e.exitCode !== undefined ? ` (exit ${e.exitCode})` : "");
    else if (e.type === "container.removed") what = `${e.name}:${e.tag} removed`;
    else if (e.type === "container.failed") what = `${e.name}:${e.tag} failed: ${e.error}`;
    else if (e.type === "image.progress") what = `${e.ref} ${e.phase}`;
    return el("li", {}, el("time", {textContent: (e.time || "").slice(11, 19)}), what);
  });
  $("#events").replaceChildren(...items);
}

// ---- logs ----

async function startLogs(name, tag, reset) {
  if (state.follow) call("logs.unfollow", state.follow).catch(() => {});
  state.follow = {name, tag};
  $("#logs-of").textContent = `of ${name}:${tag}`;
  const status = $("#logs-status");
  status.dataset.ended = "0";
  status.textContent = "following…";
  if (reset) $("#logs").replaceChildren();
  try {
    const r = await call("container.logs", {name, tag, tail: 200, follow: true});
    if (reset) $("#logs").replaceChildren();
    for (const l of r.lines) appendLog(l);
  } catch (e) {
    status.textContent = e.message;
  }
}

function appendLog(l) {
  const pre = $("#logs");
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.append(el("span", {className: l.stream, textContent: l.text + "\n"}));
  while (pre.childNodes.length > 2000) pre.firstChild.remove();
  if (atEnd) pre.scrollTop = pre.scrollHeight;
}

function onLog(p) {
  if (state.follow && p.name === state.follow.name && p.tag === state.follow.tag) appendLog(p);
}

function onLogEnd(p) {
  if (!state.follow || p.name !== state.follow.name || p.tag !== state.follow.tag) return;
  const status = $("#logs-status");
  status.dataset.ended = "1";
  status.textContent = `stopped following (${p.reason})`;
}

// ---- create, images, system ----

// "sh -c 'echo hi; sleep 1'" -> ["sh", "-c", "echo hi; sleep 1"]: quotes group, nothing else is special.
function splitWords(s) {
  const out = [];
  let cur = null, quote = null;
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = null; else cur += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      cur = cur ?? "";
    } else if (/\s/.test(ch)) {
      if (cur !== null) out.push(cur);
      cur = null;
    } else {
      cur = (cur ?? "") + ch;
    }
  }
  if (cur !== null) out.push(cur);
  return out;
}

function fieldOf(message) {
  const m = message.match(/^(image|name|tag|cmd|env|workdir|ref)\b/) || message.match(/\b(image|name|tag|env|cmd)\b/);
  return m ? m[1] : null;
}

function showFieldErrors(form, message) {
  for (const s of form.querySelectorAll(".field-error")) s.textContent = "";
  if (!message) return null;
  const field = fieldOf(message);
  const slot = form.querySelector(`.field-error[data-for="${field}"]`);
  if (slot) slot.textContent = message;
  return slot;
}

async function onCreate(ev) {
  ev.preventDefault();
  const form = ev.target;
  const f = new FormData(form);
  const p = {image: f.get("image").trim()};
  for (const n of ["name", "tag"]) if (f.get(n).trim()) p[n] = f.get(n).trim();
  if (f.get("cmd").trim()) p.cmd = splitWords(f.get("cmd"));
  const env = f.get("env").split("\n").map((s) => s.trim()).filter(Boolean);
  if (env.length) p.env = env;
  const status = $("#create-status");
  showFieldErrors(form, null);
  if (!p.image) return showFieldErrors(form, "image is required");
  status.dataset.busy = "1";
  status.textContent = "creating…";
  try {
    const c = await call("container.create", p);
    if (f.get("start")) await call("container.start", {name: c.name, tag: c.tag});
    status.textContent = `${c.name}:${c.tag} ${f.get("start") ? "started" : "created"}`;
  } catch (e) {
    status.textContent = "";
    if (!showFieldErrors(form, e.message)) status.textContent = e.message;
  } finally {
    status.dataset.busy = "0";
  }
}

function size(n) {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;
}

async function loadImages() {
  let list;
  try { list = await call("image.list"); } catch (e) { return; }
  const rows = list.map((i) => {
    const b = el("button", {type: "button", textContent: "remove"});
    b.setAttribute("aria-label", `remove image ${i.ref}`);
    const err = el("span", {className: "row-error"});
    b.addEventListener("click", async () => {
      if (!confirm(`Remove image ${i.ref}?`)) return;
      try { await call("image.remove", {ref: i.ref}); loadImages(); } catch (e) { err.textContent = e.message; }
    });
    return el("tr", {}, el("td", {textContent: i.ref}), el("td", {textContent: size(i.size)}),
              el("td", {textContent: (i.createdAt || "").slice(0, 10)}), el("td", {className: "actions"}, b, err));
  });
  $("#images tbody").replaceChildren(...rows);
}

async function onPull(ev) {
  ev.preventDefault();
  const form = ev.target;
  const ref = new FormData(form).get("ref").trim();
  showFieldErrors(form, null);
  if (!ref) return;
  const slot = form.querySelector(".field-error");
  slot.textContent = "pulling…";
  try {
    await call("image.pull", {ref});
    slot.textContent = "";
    loadImages();
  } catch (e) {
    slot.textContent = e.message;
  }
}

async function loadSystem() {
  try {
    const i = await call("system.info");
    const rows = [["version", i.version], ["rootless", i.rootless ? "yes" : "no"], ["uid", i.uid],
                  ["id mapping", i.idmap], ["cgroup", i.cgroup.delegated ? `delegated (${i.cgroup.controllers || "no controllers"})`
                                                     : `not delegated: ${i.cgroup.reason || ""}`],
                  ...Object.entries(i.tools).map(([t, v]) => [t, v || "missing"]),
                  ["max containers", i.maxContainers], ["workers", i.workers]];
    $("#info").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {textContent: k}), el("dd", {textContent: String(v)})]));
    const checks = await call("system.check");
    $("#checks").replaceChildren(...checks.map((c) => el("li", {className: c.ok ? "ok" : "fail"},
      `${c.ok ? "✓" : "✗"} ${c.check}: ${c.detail}`, c.ok || !c.fix ? null : el("span", {className: "fix", textContent: c.fix}))));
  } catch (e) { /* shown again on the next connection */ }
}

function refreshSide() {
  loadImages();
  loadSystem();
}

// ---- start ----

$("#create").addEventListener("submit", onCreate);
for (const form of document.forms)  // an edited field's old error goes
  form.addEventListener("input", (e) => {
    const slot = form.querySelector(`.field-error[data-for="${e.target.name}"]`);
    if (slot) slot.textContent = "";
  });
$("#pull").addEventListener("submit", onPull);
$("#event-filter").addEventListener("input", renderEvents);
// Uptimes tick without a request, and without redrawing rows (focus stays put).
setInterval(() => {
  for (const tr of document.querySelectorAll("#containers tbody tr")) {
    const c = state.containers.get(tr.dataset.key);
    if (c && (c.state === "running" || c.state === "paused")) tr.children[4].textContent = statusText(c);
  }
}, 1000);
connect();
