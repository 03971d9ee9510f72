// view.js - drawing the page: the connection badge, the containers table,
// the events timeline, the images table and the system panel.
//
// DESIGN: functions of what they are given; the only state kept here is
// the daemon's operations table (system.info "operations"), which says in
// which states each button is enabled, and the events timeline. Nothing
// is read back from the DOM. Everything drawn from the daemon goes through
// textContent, never innerHTML.

export const $ = (sel) => document.querySelector(sel);
const MAX_EVENTS = 300;
const BUTTONS = ["start", "stop", "restart", "pause", "resume", "remove", "logs", "shell", "attach"];

let rules = null;  // the daemon's operations table; until it arrives no button is enabled
const events = [];

export function el(tag, props, ...kids) {
  const n = document.createElement(tag);
  Object.assign(n, props || {});
  for (const k of kids) if (k !== null && k !== undefined) n.append(k);
  return n;
}

export const key = (name, tag) => `${name}:${tag}`;

export function setConn(kind, text) {
  const c = $("#conn");
  c.dataset.state = kind;
  c.textContent = text;
}

export function fatal(text) {
  const f = $("#fatal");
  f.textContent = text;
  f.hidden = !text;
}

export function setRules(operations) {
  rules = operations || null;
}

// May the button op act on a container in state st? The dashboard removes
// with force, so remove's withForce states count; where the operation would
// change nothing (stop of an exited container), the button is off.
export function allowed(op, st) {
  if (op === "shell") return st === "running";  // an exec: into a running container only
  if (op === "attach") return ["created", "running", "paused"].includes(st);  // its terminal (tty containers)
  const r = rules && rules[op];
  if (!r || (r.unchanged || []).includes(st)) return false;
  return (r.states || []).includes(st) || (op === "remove" && (r.withForce || []).includes(st));
}

function ago(iso) {
  if (!iso) return "";
  let s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  s %= 60;
  if (m < 60) return `${m}m ${s}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

function statusText(c) {
  if (c.state === "running" || c.state === "paused") return "up " + ago(c.startedAt);
  if (c.state === "exited") return c.exitCode === null || c.exitCode === undefined ? "exited" : `exit ${c.exitCode}`;
  return "";
}

// "0.0.0.0:8080→80/tcp" per published port, one a line ("[::1]:8080→80/tcp"
// for IPv6); the network mode instead when it is not private. A line may
// break before the arrow (a phone's narrow table).
function portsCell(c) {
  const td = el("td", {className: "ports"});
  if (c.network && c.network !== "private") {
    td.textContent = c.network;
    return td;
  }
  for (const p of c.ports || []) {
    const ip = p.hostIp || "0.0.0.0";
    td.append(el("span", {}, `${ip.includes(":") ? `[${ip}]` : ip}:${p.hostPort}`, el("wbr"),
                 `→${p.containerPort}/${p.protocol || "tcp"}`));
  }
  return td;
}

const SVG = "http://www.w3.org/2000/svg";
const SPARK_W = 48, SPARK_H = 14;

// One sparkline of values (null: unknown) scaled to at least floor, and the latest value as text.
function spark(what, values, floor, text) {
  const known = values.filter((v) => v !== null);
  const box = el("span", {className: "spark"});
  box.dataset.what = what;
  if (values.length === 0) {  // the first sample is only the base of the next
    box.append(`${what} …`);
    box.title = `${what}: the first figures come within 10 s`;
    return box;
  }
  if (known.length === 0) {
    box.append(`${what} n/a`);
    box.title = `${what}: not reported (its cgroup controller is not delegated to the daemon)`;
    return box;
  }
  const max = Math.max(floor, ...known);
  const step = values.length > 1 ? SPARK_W / (values.length - 1) : 0;
  const pts = values.map((v, i) => v === null ? null : `${(i * step).toFixed(1)},${(SPARK_H - 1 - (v / max) * (SPARK_H - 2)).toFixed(1)}`)
    .filter((p) => p !== null).join(" ");
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("width", SPARK_W);
  svg.setAttribute("height", SPARK_H);
  svg.setAttribute("viewBox", `0 0 ${SPARK_W} ${SPARK_H}`);
  svg.setAttribute("role", "img");
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", pts);
  svg.append(line);
  const last = known[known.length - 1];
  svg.setAttribute("aria-label", `${what} over the last 5 minutes, now ${text(last)}`);
  box.append(svg, el("span", {className: "spark-now", textContent: text(last)}));
  return box;
}

// The CPU and memory cell of a container from its samples ([{t, cpu, mem}]).
function statsCell(c, samples) {
  const td = el("td", {className: "stats"});
  if (c.state !== "running" && samples.length === 0) return td;
  td.append(spark("CPU", samples.map((s) => s.cpu), 5, (v) => v.toFixed(v < 10 ? 1 : 0) + "%"),
            spark("mem", samples.map((s) => s.mem), 1 << 20, size));
  return td;
}

// containers: Map key -> container object; rowErrors: Map key -> message;
// onAction(op, container) runs a button; samplesOf(key) gives its CPU and memory samples.
export function renderContainers(containers, rowErrors, synced, onAction, samplesOf) {
  const rows = [...containers.values()].sort((a, b) => key(a.name, a.tag).localeCompare(key(b.name, b.tag)));
  $("#containers tbody").replaceChildren(...rows.map((c) => {
    const k = key(c.name, c.tag);
    return renderRow(c, rowErrors.get(k), onAction, samplesOf(k));
  }));
  $("#empty").hidden = rows.length > 0 || !synced;
}

// New samples for these keys: their stats cells are redrawn in place (focus stays put).
export function updateStats(containers, keys, samplesOf) {
  for (const k of keys) {
    const tr = document.querySelector(`#containers tbody tr[data-key="${CSS.escape(k)}"]`);
    const c = containers.get(k);
    if (tr && c) tr.querySelector("td.stats").replaceWith(statsCell(c, samplesOf(k)));
  }
}

function renderRow(c, error, onAction, samples) {
  const k = key(c.name, c.tag);
  const actions = el("td", {className: "actions"});
  for (const op of BUTTONS) {
    if (op === "attach" && !c.tty) continue;
    const b = el("button", {type: "button", textContent: op, disabled: !allowed(op, c.state)});
    b.setAttribute("aria-label", `${op} ${k}`);
    b.dataset.action = op;
    b.addEventListener("click", () => onAction(op, c));
    actions.append(b);
  }
  if (error) actions.append(el("span", {className: "row-error", textContent: error}));
  const tr = el("tr", {},
    el("td", {textContent: c.name}), el("td", {textContent: c.tag}), el("td", {textContent: c.image || ""}),
    el("td", {className: "state state-" + c.state, textContent: c.state}),
    el("td", {textContent: statusText(c)}), el("td", {textContent: c.pid ?? ""}), portsCell(c),
    statsCell(c, samples), actions);
  tr.dataset.key = k;
  tr.dataset.state = c.state;
  return tr;
}

// Uptimes tick without a request and without redrawing rows (focus stays put).
export function tickUptimes(containers) {
  for (const tr of document.querySelectorAll("#containers tbody tr")) {
    const c = containers.get(tr.dataset.key);
    if (c && (c.state === "running" || c.state === "paused")) tr.children[4].textContent = statusText(c);
  }
}

export function addEvent(e) {
  events.unshift(e);
  events.length = Math.min(events.length, MAX_EVENTS);
  renderEvents();
}

function describe(e) {
  const who = `${e.name}:${e.tag}`;
  if (e.type === "container.state") return `${who} → ${e.state}` + (e.exitCode !== undefined ? ` (exit ${e.exitCode})` : "");
  if (e.type === "container.removed") return `${who} removed`;
  if (e.type === "container.failed") return `${who} failed: ${e.error}`;
  if (e.type === "image.progress") return `${e.ref} ${e.phase}`;
  if (e.type === "exec.started") return `${who} exec ${e.execId.slice(0, 12)} started`;
  if (e.type === "exec.exited") return `${who} exec ${e.execId.slice(0, 12)} exited (${e.exitCode})`;
  return e.type;
}

export function renderEvents() {
  const f = $("#event-filter").value.trim();
  const items = events.filter((e) => !f || (e.name || "").includes(f))
    .map((e) => el("li", {}, el("time", {textContent: (e.time || "").slice(11, 19)}), describe(e)));
  $("#events").replaceChildren(...items);
}

function size(n) {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;
}

// images: image.list's result; onRemove(ref) resolves, or throws an error to show.
export function renderImages(images, onRemove) {
  const rows = images.map((i) => {
    const b = el("button", {type: "button", textContent: "remove"});
    b.setAttribute("aria-label", `remove image ${i.ref}`);
    const err = el("span", {className: "row-error"});
    b.addEventListener("click", async () => {
      if (!confirm(`Remove image ${i.ref}?`)) return;
      try { await onRemove(i.ref); } catch (e) { err.textContent = e.message; }
    });
    return el("tr", {}, el("td", {textContent: i.ref}), el("td", {textContent: size(i.size)}),
              el("td", {textContent: (i.createdAt || "").slice(0, 10)}), el("td", {className: "actions"}, b, err));
  });
  $("#images tbody").replaceChildren(...rows);
}

// info: system.info's result; checks: system.check's.
export function renderSystem(info, checks) {
  const cg = info.cgroup.delegated ? `delegated (${info.cgroup.controllers || "no controllers"})`
                                   : `not delegated: ${info.cgroup.reason || ""}`;
  const rows = [["version", info.version], ["rootless", info.rootless ? "yes" : "no"], ["uid", info.uid],
                ["id mapping", info.idmap], ["cgroup", cg],
                ...Object.entries(info.tools).map(([t, v]) => [t, v || "missing"]),
                ["max containers", info.maxContainers], ["workers", info.workers]];
  $("#info").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {textContent: k}), el("dd", {textContent: String(v)})]));
  $("#checks").replaceChildren(...checks.map((c) => el("li", {className: c.ok ? "ok" : "fail"},
    `${c.ok ? "✓" : "✗"} ${c.check}: ${c.detail}`, c.ok || !c.fix ? null : el("span", {className: "fix", textContent: c.fix}))));
}
