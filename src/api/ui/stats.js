// stats.js - each running container's CPU and memory over the last five
// minutes, for the sparklines in the containers table (container.stats,
// docs/API.md).
//
// DESIGN: the page polls container.stats for every running container every
// POLL_MS (a modest rate: 100 containers are 20 requests a second) and
// keeps at most WINDOW_MS of samples per container; a container that stops
// running keeps what it had until it is removed. CPU is the share of one
// core between two samples (cpuUsageUsec's growth over the wall time);
// memory is memoryBytes. A field the daemon reports as null (a controller
// not delegated) stays null: the sparkline then says "n/a". No DOM here.

import {call} from "./rpc.js";

export const POLL_MS = 5000;
const WINDOW_MS = 5 * 60 * 1000;

const series = new Map();  // "name:tag" -> {samples: [{t, cpu, mem}], last: {t, usec} | null}

// The samples of key k (oldest first): {t, cpu (percent of a core, or null), mem (bytes, or null)}.
export function samplesOf(k) {
  const s = series.get(k);
  return s ? s.samples : [];
}

export function forget(k) {
  series.delete(k);
}

async function sample(k, c) {
  let r;
  try {
    r = await call("container.stats", {name: c.name, tag: c.tag});
  } catch (e) {
    return;  // stopped meanwhile, or not connected: the next round tries again
  }
  const now = Date.now();
  const s = series.get(k) || {samples: [], last: null};
  series.set(k, s);
  let cpu = null;
  if (r.cpuUsageUsec !== null && s.last && s.last.usec !== null && now > s.last.t)
    cpu = Math.max(0, (r.cpuUsageUsec - s.last.usec) / ((now - s.last.t) * 1000) * 100);
  s.last = {t: now, usec: r.cpuUsageUsec};
  if (s.last.usec !== null && cpu === null && s.samples.length === 0) return;  // the first: a base for the next
  s.samples.push({t: now, cpu, mem: r.memoryBytes});
  while (s.samples.length && now - s.samples[0].t > WINDOW_MS) s.samples.shift();
}

// Every POLL_MS: sample each running container of containers (a Map), then onUpdate(keys sampled).
export function startPolling(containers, onUpdate) {
  const round = async () => {
    const running = [...containers.entries()].filter(([, c]) => c.state === "running");
    await Promise.all(running.map(([k, c]) => sample(k, c)));
    onUpdate(running.map(([k]) => k));
  };
  round();
  return setInterval(round, POLL_MS);
}
