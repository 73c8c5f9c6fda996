// The under-attack rows, with the agent already running in the server namespace: a legitimate
// client (10 connections/s, below the SYN detector's per-source rate) alone, during a SYN flood
// from one source (and the time from the flood's start to the agent's ban event), and during a
// SYN flood from random sources. hping3 runs pinned to the sender core, bounded by a packet count
// and a timeout.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SENDER_CPU } from './measure.js';
import { WEB_PORT } from './policy.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const CLIENT_RATE = 10;

async function client(lab, seconds) {
  const r = await lab.exec(lab.client.ns, process.execPath, [join(here, 'connect-loop.js'), lab.client.server4, String(WEB_PORT), String(seconds), String(CLIENT_RATE)], { timeoutMs: seconds * 1000 + 15_000 });
  return JSON.parse(r.stdout);
}

/** hping3 SYNs to the web port, `count` of them `intervalUs` apart (nominal); resolves with the packets sent per second. */
async function synFlood(lab, extra, count, intervalUs) {
  const timeoutMs = Math.ceil((count * intervalUs) / 1000) * 3 + 10_000;
  const t0 = Date.now();
  const r = await lab.status(lab.attacker.ns, 'taskset', ['-c', SENDER_CPU, 'hping3', '-q', '-S', '-p', String(WEB_PORT), '-i', `u${intervalUs}`, '-c', String(count), ...extra, lab.attacker.server4], { timeoutMs });
  const sent = Number(/(\d+) packets transmitted/.exec(r.stdout + r.stderr)?.[1] ?? NaN);
  return Math.round(sent / ((Date.now() - t0) / 1000));
}

const pct = (c) => (c.attempted ? Math.round((1000 * c.completed) / c.attempted) / 10 : null);

/** The agent's own counters (`vpsfw status --json` over its control socket). */
async function agentStatus(lab, controlPath) {
  const r = await lab.status(lab.server, process.execPath, [join(here, '../../bin/vpsfw.js'), 'status', '--json', '--control', controlPath], { timeoutMs: 10_000 });
  try {
    const s = JSON.parse(r.stdout);
    return { queue: s.queue, verdicts: s.verdicts, decidedBy: s.decidedBy, bans: s.bans };
  } catch {
    return { error: r.stderr.trim() || `status exited ${r.code}` };
  }
}

export async function underAttack(lab, agent, controlPath, seconds) {
  const alone = await client(lab, seconds);

  // Nominal 50k SYN/s; hping3 reaches what one core gives it.
  const intervalUs = 20;
  const count = seconds * 50_000;
  const start = Date.now();
  const [single, singlePps] = await Promise.all([client(lab, seconds), synFlood(lab, [], count, intervalUs)]);
  const ban = agent.lines.stdout.map((l) => JSON.parse(l)).find((e) => e.event === 'ban' && e.address === lab.attacker.ip4);

  const afterSingle = await agentStatus(lab, controlPath);
  const [random, randomPps] = await Promise.all([client(lab, seconds), synFlood(lab, ['--rand-source'], count, intervalUs)]);
  return {
    agentStatus: { afterSingleSource: afterSingle, afterRandomSources: await agentStatus(lab, controlPath) },
    clientRate: CLIENT_RATE,
    alone: { ...alone, completedPct: pct(alone) },
    singleSource: { floodPps: singlePps, msToBan: ban ? Date.parse(ban.time) - start : null, banReason: ban?.reason ?? null, client: { ...single, completedPct: pct(single) } },
    randomSources: { floodPps: randomPps, client: { ...random, completedPct: pct(random) } },
  };
}
