// rpc.js - the connection to the daemon (docs/API.md): the token, one
// WebSocket with reconnect and backoff, JSON-RPC calls matched by id.
//
// DESIGN: nothing here touches the page. connect() takes the listeners
// the page gives it: status(kind, text) for the connection badge,
// fatal(text) for a refusal that retrying cannot fix, open() after each
// (re)connect and notify(msg) for every notification. The token comes in
// the URL fragment (#token=...), is kept in sessionStorage (never in the
// address bar) and presented as the subprotocol bearer.<token>.

const TOKEN_KEY = "lcd-token";
const BACKOFF_MIN = 500, BACKOFF_MAX = 10000;

let ws = null;
let nextId = 1;
let backoff = BACKOFF_MIN;
let opened = false;  // once connected, a later connect is a reconnect
let listen = null;
const pending = new Map();  // id -> {resolve, reject}

// A JSON-RPC error: message for people, reason (docs/API.md's reasons) and
// param (the request field at fault, when one is) for code.
export class RpcError extends Error {
  constructor(e) {
    super(e.message);
    this.code = e.code;
    this.data = e.data || {};
    this.reason = this.data.reason;
    this.param = this.data.param;
  }
}

function token() {
  const m = location.hash.match(/token=([0-9a-fA-F]+)/);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, m[1]);
    history.replaceState(null, "", location.pathname + location.search);  // keep it out of sight
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

// A refused WebSocket tells the page nothing; a plain GET tells why.
async function refusal(tok) {
  try {
    const r = await fetch("/v1/healthz", {headers: {Authorization: "Bearer " + tok}, cache: "no-store"});
    if (r.status === 401) return "The daemon refused the token (401). Open the URL the daemon printed at start " +
                                 "(it ends in #token=…); the token changes every time the daemon starts.";
    if (r.status === 403) return "The daemon refused this page's host or origin (403): see --allow-host.";
  } catch (e) {
    /* down: the WebSocket retries */
  }
  return null;
}

async function open() {
  const tok = token();
  if (!tok) {
    listen.status("error", "no token");
    listen.fatal("No API token: open the URL the daemon printed at start (it ends in #token=…).");
    return;
  }
  const why = await refusal(tok);
  if (why) {
    listen.status("error", "refused");
    listen.fatal(why);
    return;
  }
  listen.fatal("");
  listen.status(opened ? "reconnecting" : "connecting", opened ? "reconnecting…" : "connecting…");
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const sock = new WebSocket(`${proto}//${location.host}/v1/ws`, ["light-containerd.v1", "bearer." + tok]);
  ws = sock;
  sock.onopen = () => {
    backoff = BACKOFF_MIN;
    opened = true;
    listen.status("connected", "connected");
    listen.open();
  };
  sock.onmessage = (m) => receive(JSON.parse(m.data));
  sock.onclose = () => {
    if (ws !== sock) return;
    ws = null;
    for (const p of pending.values()) p.reject(new Error("connection lost"));
    pending.clear();
    const wait = backoff;
    backoff = Math.min(backoff * 2, BACKOFF_MAX);
    listen.status("reconnecting", `disconnected; retrying in ${(wait / 1000).toFixed(1)} s`);
    setTimeout(open, wait);
  };
}

function receive(msg) {
  if (msg.id !== undefined && msg.id !== null && pending.has(msg.id)) {
    const p = pending.get(msg.id);
    pending.delete(msg.id);
    if (msg.error) p.reject(new RpcError(msg.error)); else p.resolve(msg.result);
  } else if (msg.method) {
    listen.notify(msg);
  }
}

export function connect(listeners) {
  listen = listeners;
  open();
}

// For tests and for a laptop waking up: drop the connection now (it comes back).
export function drop() {
  if (ws) ws.close();
}

// A stream WebSocket at path (an exec: the Kubernetes channel protocol),
// with the token as the subprotocol beside it; binary frames as ArrayBuffers.
export function openStream(path) {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const tok = token();
  const sock = new WebSocket(`${proto}//${location.host}${path}`, ["v5.channel.k8s.io", ...(tok ? ["bearer." + tok] : [])]);
  sock.binaryType = "arraybuffer";
  return sock;
}

// The result of method, or an RpcError (or Error when not connected).
export function call(method, params) {
  return new Promise((resolve, reject) => {
    if (!ws || ws.readyState !== WebSocket.OPEN) return reject(new Error("not connected"));
    const id = nextId++;
    pending.set(id, {resolve, reject});
    const msg = {jsonrpc: "2.0", id, method};
    if (params !== undefined) msg.params = params;
    ws.send(JSON.stringify(msg));
  });
}
