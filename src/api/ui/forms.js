// forms.js - the create and pull forms.
//
// DESIGN: the daemon validates; the page only turns the fields into
// params and puts a refusal beside the field it names. An error's
// data.param (docs/API.md) is the request field at fault, and each form
// has a slot per field (.field-error[data-for=FIELD]); an error naming no
// field of the form goes to the form's status line. Editing a field
// clears its error. Besides a missing image, the page refuses only what
// it cannot turn into params: a ports entry (docker's -p syntax) it
// cannot read, beside the ports field, before anything is sent.

import {$} from "./view.js";
import {call} from "./rpc.js";

let creating = false;  // a create is under way: pull progress goes to its status line

// "sh -c 'echo hi; sleep 1'" -> ["sh", "-c", "echo hi; sleep 1"]: quotes group, nothing else is special.
export function splitWords(s) {
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

// A refusal of one field found in the page, before any request.
class FieldError extends Error {
  constructor(param, message) {
    super(message);
    this.param = param;
  }
}

const PORT_RE = /^(?:(?:\[([^\]]+)\]|([^:[\]/]+)):)?(\d+):(\d+)(?:\/(tcp|udp))?$/;
const PORT_SYNTAX = "[IP:]HOST:CONTAINER[/tcp|udp]";

// docker's -p syntax, entries separated by commas or spaces:
// "8080:80, 127.0.0.1:5353:53/udp [::1]:8081:80" -> container.create's ports.
// Throws a FieldError naming the first entry it cannot read.
export function parsePorts(s) {
  return s.split(/[\s,]+/).filter(Boolean).map((entry) => {
    const m = PORT_RE.exec(entry);
    if (!m) throw new FieldError("ports", `"${entry}" is not ${PORT_SYNTAX}`);
    const [hostPort, containerPort] = [Number(m[3]), Number(m[4])];
    if (!(hostPort >= 1 && hostPort <= 65535 && containerPort >= 1 && containerPort <= 65535))
      throw new FieldError("ports", `"${entry}": ports are 1..65535`);
    const p = {hostPort, containerPort, protocol: m[5] || "tcp"};
    const ip = m[1] ?? m[2];
    if (ip) p.hostIp = ip;
    return p;
  });
}

function clearErrors(form) {
  for (const s of form.querySelectorAll(".field-error")) s.textContent = "";
}

// Put message beside field; false when the form has no slot for it.
function fieldError(form, field, message) {
  const slot = field ? form.querySelector(`.field-error[data-for="${CSS.escape(field)}"]`) : null;
  if (slot) slot.textContent = message;
  return slot !== null;
}

// The form's fields as container.create's params; throws a FieldError.
function createParams(f) {
  const p = {image: f.get("image").trim()};
  if (!p.image) throw new FieldError("image", "image is required");
  for (const n of ["name", "tag", "hostname"]) if (f.get(n).trim()) p[n] = f.get(n).trim();
  if (f.get("cmd").trim()) p.cmd = splitWords(f.get("cmd"));
  const env = f.get("env").split("\n").map((s) => s.trim()).filter(Boolean);
  if (env.length) p.env = env;
  if (f.get("network") !== "private") p.network = f.get("network");
  const ports = parsePorts(f.get("ports"));
  if (ports.length) p.ports = ports;
  return p;
}

async function onCreate(ev) {
  ev.preventDefault();
  const form = ev.target;
  const f = new FormData(form);
  const status = $("#create-status");
  clearErrors(form);
  let p;
  try {
    p = createParams(f);
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    status.textContent = "";
    return fieldError(form, e.param, e.message);
  }
  creating = true;
  status.textContent = "creating…";
  try {
    const c = await call("container.create", p);
    if (f.get("start")) await call("container.start", {name: c.name, tag: c.tag});
    status.textContent = `${c.name}:${c.tag} ${f.get("start") ? "started" : "created"}`;
  } catch (e) {
    status.textContent = fieldError(form, e.param, e.message) ? "" : e.message;
  } finally {
    creating = false;
  }
}

// An image.progress event.
export function onPullProgress(e) {
  if (creating) $("#create-status").textContent = `${e.phase} ${e.ref}…`;
}

function onPull(pulled) {
  return async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const ref = new FormData(form).get("ref").trim();
    clearErrors(form);
    if (!ref) return;
    const slot = form.querySelector('.field-error[data-for="ref"]');
    slot.textContent = "pulling…";
    try {
      await call("image.pull", {ref});
      slot.textContent = "";
      pulled();
    } catch (e) {
      slot.textContent = e.message;
    }
  };
}

// pulled() runs after a pull from the form succeeds.
export function bindForms(pulled) {
  $("#create").addEventListener("submit", onCreate);
  $("#pull").addEventListener("submit", onPull(pulled));
  for (const form of [$("#create"), $("#pull")])
    form.addEventListener("input", (e) => fieldError(form, e.target.name, ""));
}
