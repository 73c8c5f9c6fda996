// The under-attack rows, with the agent already running in the server namespace: a legitimate
// client (10 connections/s, below the SYN detector's per-source rate) alone, during a SYN flood
// from one source, and during a SYN flood from sources cycling through the whole benchmarking
// range; for each flood, the time from its start to the agent's first ban of a flooding source.
// The floods come from syn-flood.c (syn-load.js): pinned to the sender core, bounded by count,
// time and rate.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WEB_PORT } from './policy.js';
import { BENCH_RANGE_HOSTS, FIRST_HOST, synFlood } from './syn-load.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const CLIENT_RATE = 10;
/** SYNs per second of each flood. */
const FLOOD_RATE = 50_000;

/** The legitimate client for `seconds`: its counts, and the share and rate of connections it completed. */
async function client(lab, seconds) {
  const r = await lab.exec(lab.client.ns, process.execPath, [join(here, 'connect-loop.js'), lab.client.server4, String(WEB_PORT), String(seconds), String(CLIENT_RATE)], { timeoutMs: seconds * 1000 + 15_000 });
  const c = JSON.parse(r.stdout);
  return { ...c, completedPct: c.attempted ? Math.round((1000 * c.completed) / c.attempted) / 10 : null, completedPerSecond: Math.round((10 * c.completed) / seconds) / 10 };
}
const inBenchRange = (address) => /^198\.1[89]\./.test(address);

/** The agent's own counters (`vpsfw status --json` over its control socket). */
export async function agentStatus(lab, controlPath) {
  const r = await lab.status(lab.server, process.execPath, [join(here, '../../bin/vpsfw.js'), 'status', '--json', '--control', controlPath], { timeoutMs: 10_000 });
  try {
    const s = JSON.parse(r.stdout);
    return { queue: s.queue, verdicts: s.verdicts, decidedBy: s.decidedBy, tracked: s.tracked, bans: s.bans, memory: s.memory };
  } catch {
    return { error: r.stderr.trim() || `status exited ${r.code}` };
  }
}

/** The client during a flood from `sources` sources, and the agent's first ban of one of them. */
async function during(lab, tools, agent, seconds, sources) {
  const [c, flood] = await Promise.all([client(lab, seconds), synFlood(lab, tools, { port: WEB_PORT, sources, count: seconds * FLOOD_RATE, rate: FLOOD_RATE, seconds })]);
  const ban = agent.lines.stdout
    .map((l) => JSON.parse(l))
    .find((e) => e.event === 'ban' && inBenchRange(e.address) && Date.parse(e.time) >= flood.startedAt);
  return {
    sources,
    floodPps: flood.pps,
    flood: { sent: flood.sent, errors: flood.errors, seconds: flood.seconds, contained: flood.contained },
    firstBan: ban ? { address: ban.address, reason: ban.reason, ms: Date.parse(ban.time) - flood.startedAt } : null,
    client: c,
  };
}

export async function underAttack(lab, tools, agent, controlPath, seconds) {
  const alone = await client(lab, seconds);
  const single = await during(lab, tools, agent, seconds, 1);
  const afterSingle = await agentStatus(lab, controlPath);
  const random = await during(lab, tools, agent, seconds, BENCH_RANGE_HOSTS);
  return {
    agentStatus: { afterSingleSource: afterSingle, afterRandomSources: await agentStatus(lab, controlPath) },
    clientRate: CLIENT_RATE,
    floodRate: FLOOD_RATE,
    alone,
    singleSource: { source: FIRST_HOST, ...single },
    randomSources: random,
  };
}
