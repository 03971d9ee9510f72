// app.js - the dashboard: a live view over the v1 WebSocket API
// (docs/API.md), put together from rpc.js (the connection), view.js
// (drawing), logs.js (the logs panel), terminal.js (a shell in a
// container), stats.js (CPU and memory for the sparklines) and forms.js
// (create, pull).
//
// DESIGN: the containers are a model built from events, never by polling:
// on (re)connect the page subscribes with `since` the last seq it saw, or
// with `initial` when it has nothing, the daemon restarted (a new bootId)
// or the seq is gone. Each container.state event updates the model at
// once and re-reads that container (image, pid, times). The buttons follow
// the daemon's operations table from system.info, read on each connect.

import * as rpc from "./rpc.js";
import {$, key, setConn, fatal, setRules, renderContainers, updateStats, tickUptimes, addEvent, renderEvents, renderImages,
        renderSystem} from "./view.js";
import * as logs from "./logs.js";
import {openTerminal} from "./terminal.js";
import * as stats from "./stats.js";
import {bindForms, onPullProgress} from "./forms.js";

const model = {
  containers: new Map(),  // "name:tag" -> container object
  rowErrors: new Map(),   // "name:tag" -> the message of its last failed action
  bootId: null,
  lastSeq: 0,
  synced: false,          // the initial snapshot is complete
};
const refreshing = new Set();

const render = () => renderContainers(model.containers, model.rowErrors, model.synced, act, stats.samplesOf);

// ---- the container model: initial snapshot, then events ----

async function subscribe() {
  const resume = model.bootId !== null && model.synced;
  try {
    const r = await rpc.call("events.subscribe", resume ? {since: model.lastSeq} : {initial: true});
    if (resume && r.bootId !== model.bootId) return resync();  // the daemon restarted: nothing carries over
    if (!resume) {
      model.containers.clear();
      model.synced = false;
    }
    model.bootId = r.bootId;
    if (resume) render();
  } catch (e) {
    if (e.reason === "gone") return resync();  // too far behind: start over from a snapshot
    throw e;
  }
}

function resync() {
  model.bootId = null;
  model.synced = false;
  model.lastSeq = 0;
  return subscribe();
}

async function refreshContainer(name, tag) {
  const k = key(name, tag);
  if (refreshing.has(k)) return;
  refreshing.add(k);
  try {
    model.containers.set(k, await rpc.call("container.inspect", {name, tag}));
  } catch (e) {
    if (e.reason === "not_found") model.containers.delete(k);
  } finally {
    refreshing.delete(k);
    render();
  }
}

function onEvent(e) {
  if (e.type === "heartbeat") return;
  if (e.type === "lagged") {
    model.synced = true;
    model.lastSeq = Math.max(model.lastSeq, e.seq);
    subscribe();
    return;
  }
  if (e.type === "initial.end") {
    model.synced = true;
    model.lastSeq = e.seq;
    render();
    loadImages();
    return;
  }
  if (e.seq && !e.initial) model.lastSeq = Math.max(model.lastSeq, e.seq);
  const k = key(e.name, e.tag);
  if (e.type === "container.state") {
    const c = model.containers.get(k) || {name: e.name, tag: e.tag, image: "", pid: null};
    model.containers.set(k, Object.assign(c, {state: e.state, revision: e.revision,
                                             exitCode: e.exitCode === undefined ? c.exitCode : e.exitCode}));
    refreshContainer(e.name, e.tag);
    logs.onState(e);
  } else if (e.type === "container.removed" || e.type === "container.failed") {
    model.containers.delete(k);
    model.rowErrors.delete(k);
    stats.forget(k);
  } else if (e.type === "image.progress") {
    onPullProgress(e);
    if (e.phase === "done") loadImages();
  }
  if (!e.initial) addEvent(e);
  render();
}

function onNotify(msg) {
  if (msg.method === "event") onEvent(msg.params);
  else if (msg.method === "log") logs.onLog(msg.params);
  else if (msg.method === "log.end") logs.onLogEnd(msg.params);
}

// ---- actions and the side panels ----

async function act(op, c) {
  const k = key(c.name, c.tag);
  if (op === "logs") return logs.showLogs(c.name, c.tag, true);
  if (op === "shell" || op === "attach") return openTerminal(c.name, c.tag, op, !!c.stdin);
  const p = {name: c.name, tag: c.tag};
  if (op === "remove") {
    if (!confirm(`Remove ${k}?` + (c.state === "exited" || c.state === "created" ? "" : " It will be stopped first.")))
      return;
    p.force = true;
  }
  model.rowErrors.delete(k);
  render();
  try {
    await rpc.call("container." + op, p);
  } catch (e) {
    model.rowErrors.set(k, e.message);
    render();
  }
}

async function loadImages() {
  try {
    renderImages(await rpc.call("image.list"), async (ref) => {
      await rpc.call("image.remove", {ref});
      loadImages();
    });
  } catch (e) { /* shown again on the next connection */ }
}

async function loadSystem() {
  try {
    const info = await rpc.call("system.info");
    setRules(info.operations);
    render();
    renderSystem(info, await rpc.call("system.check"));
  } catch (e) { /* shown again on the next connection */ }
}

// ---- start ----

window.lcdDropConnection = rpc.drop;  // for tests and for a laptop waking up
bindForms(loadImages);
$("#event-filter").addEventListener("input", renderEvents);
setInterval(() => tickUptimes(model.containers), 1000);
stats.startPolling(model.containers, (keys) => updateStats(model.containers, keys, stats.samplesOf));
rpc.connect({
  status: setConn,
  fatal,
  open() {
    loadSystem();
    subscribe();
    loadImages();
  },
  notify: onNotify,
});
