// terminal.js - the terminal panel: a shell in a running container (an
// exec of sh), or the terminal of a container created with tty (attach),
// in xterm.js (vendor/, MIT), over the daemon's streams (docs/API.md,
// Streams: the Kubernetes channel protocol).
//
// DESIGN: one terminal at a time; opening another ends the first (a
// shell's process ends with its connection; an attached container runs
// on). Keys go out as stdin frames [0, ...],
// the panel's size as resize frames [4, {"Width","Height"}] (the fit addon
// follows the panel); output frames [1]/[2] are written to the terminal as
// bytes; the status frame [3] says how the process ended. A terminal whose
// connection drops says so and is not reopened by itself: a new shell is a
// new process.

import {Terminal} from "./vendor/xterm.mjs";
import {FitAddon} from "./vendor/addon-fit.mjs";
import {$} from "./view.js";
import {openStream} from "./rpc.js";

const enc = new TextEncoder();
let session = null;  // {term, sock, fit, observer, ended}

function frame(channel, bytes) {
  const b = new Uint8Array(1 + bytes.length);
  b[0] = channel;
  b.set(bytes, 1);
  return b;
}

function setStatus(text) {
  $("#term-status").textContent = text;
}

function end(s) {
  if (s.ended) return;
  s.ended = true;
  s.observer.disconnect();
  if (s.sock.readyState <= WebSocket.OPEN) s.sock.close();
}

function sendSize(s) {
  if (s.sock.readyState === WebSocket.OPEN)
    s.sock.send(frame(4, enc.encode(JSON.stringify({Width: s.term.cols, Height: s.term.rows}))));
}

// "Success", or "exited with code N", or the daemon's message.
function statusText(st, what) {
  if (st.status === "Success") return `the ${what} exited (code 0)`;
  const cause = st.details && st.details.causes && st.details.causes[0];
  if (cause && cause.reason === "ExitCode") return `the ${what} exited (code ${cause.message})`;
  return `ended: ${st.message || st.reason || "unknown error"}`;
}

// mode "shell": sh by exec; "attach": the container's own terminal (typed
// keys go to it when it was created with stdin).
export function openTerminal(name, tag, mode, withStdin) {
  if (session) end(session);
  const box = $("#term");
  box.replaceChildren();
  $("#term-of").textContent = `in ${name}:${tag}`;
  setStatus("connecting…");
  const term = new Terminal({cursorBlink: true, fontSize: 13, scrollback: 2000});
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(box);
  fit.fit();
  const attach = mode === "attach";
  const what = attach ? "container" : "process";
  const path = `/v1/containers/${encodeURIComponent(name)}/${encodeURIComponent(tag)}/` +
               (attach ? (withStdin ? "attach?stdin=1" : "attach") : "exec?command=sh&stdin=1&tty=1");
  const s = {term, fit, sock: openStream(path), ended: false, status: null};
  s.observer = new ResizeObserver(() => { if (!s.ended) fit.fit(); });
  s.observer.observe(box);
  session = s;
  term.onData((d) => { if (s.sock.readyState === WebSocket.OPEN) s.sock.send(frame(0, enc.encode(d))); });
  term.onResize(() => sendSize(s));
  s.sock.onmessage = (m) => {
    const b = new Uint8Array(m.data);
    if (b.length === 0) return;
    if (b[0] === 1 && b.length === 1) {  // the process runs
      setStatus(attach ? `attached to ${name}:${tag}` : `sh in ${name}:${tag}`);
      sendSize(s);
      term.focus();
    } else if (b[0] === 1 || b[0] === 2) {
      term.write(b.subarray(1));
    } else if (b[0] === 3) {
      s.status = JSON.parse(new TextDecoder().decode(b.subarray(1)));
      setStatus(statusText(s.status, what));
    }
  };
  s.sock.onclose = (ev) => {
    if (!s.status && session === s)
      setStatus(`the connection closed (${ev.code}${ev.reason ? ": " + ev.reason : ""}); ` +
                (attach ? "the container runs on" : "the shell is gone"));
    end(s);
  };
}
