// logs.js - the logs panel: the last lines of one container, then its
// output live (container.logs with follow, "log" and "log.end"
// notifications; docs/API.md).
//
// DESIGN: one container is followed at a time; choosing another unfollows
// the first. When the daemon ends a follow (the container stopped), the
// panel says why, and following resumes by itself when that container
// runs again. The panel keeps at most MAX_LINES lines.

import {$, el} from "./view.js";
import {call} from "./rpc.js";

const MAX_LINES = 2000;
const TAIL = 200;

let follow = null;  // {name, tag} whose logs are shown
let ended = false;  // the daemon ended the follow

const followed = (p) => follow !== null && p.name === follow.name && p.tag === follow.tag;

function append(l) {
  const pre = $("#logs");
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.append(el("span", {className: l.stream, textContent: l.text + "\n"}));
  while (pre.childNodes.length > MAX_LINES) pre.firstChild.remove();
  if (atEnd) pre.scrollTop = pre.scrollHeight;
}

// Show name:tag's logs; reset clears what another container showed.
export async function showLogs(name, tag, reset) {
  if (follow) call("logs.unfollow", follow).catch(() => {});
  follow = {name, tag};
  ended = false;
  $("#logs-of").textContent = `of ${name}:${tag}`;
  const status = $("#logs-status");
  status.textContent = "following…";
  if (reset) $("#logs").replaceChildren();
  try {
    const r = await call("container.logs", {name, tag, tail: TAIL, follow: true});
    if (reset) $("#logs").replaceChildren();
    for (const l of r.lines) append(l);
  } catch (e) {
    status.textContent = e.message;
  }
}

export function onLog(p) {
  if (followed(p)) append(p);
}

export function onLogEnd(p) {
  if (!followed(p)) return;
  ended = true;
  $("#logs-status").textContent = `stopped following (${p.reason})`;
}

// A container.state event: the followed container running again is followed again.
export function onState(e) {
  if (ended && followed(e) && e.state === "running") showLogs(e.name, e.tag, false);
}
