// The running agent's memory at the sizing point, kernel included: the agent (native
// backend, pinned like the other agent rows) starts with 100k bans in its state file, restores
// them into the kernel set, then accepts one SYN from each of 100k sources to a port a payload
// rule watches (so each opens a flow's inspection state). Read at start, after the flows, and
// at the end: the agent's own counters, its VmRSS and VmHWM, and what the kernel holds (ban set
// entries, conntrack entries).
// Usage: node tests/bench/agent-memory.js   (root; builds its own lab and removes it; prints JSON)
// run.js calls agentMemory() in its lab.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeLab } from '../../agent/dist/demo/lab.js';
import { startService } from '../../agent/dist/demo/probes.js';
import { setNames } from '../../agent/dist/kernel/names.js';
import { agentStatus } from './attack.js';
import { mibOfKb as mib, startAgent } from './measure.js';
import { benchPolicy, WEB_PORT } from './policy.js';
import { routeBenchRange, synFlood } from './syn-load.js';
import { buildTools } from './tools.js';

const COUNT = 100_000;
/** SYNs per second: a load the agent judges without queue drops (with this row's queue length). */
const SYN_RATE = 20_000;
const BAN_MS = 3_600_000;
const SETTLE_MS = 10_000;

/**
 * The bench policy, plus a payload rule on the web port, a total SYN rate above the load, room for
 * the bans, and a queue deep enough that no SYN is lost to a pause of the agent's (at 1024 it
 * dropped 1-3 % of them at 20k/s, scavenges of 5-30 ms included): this row measures memory.
 */
/** The limits are the sizing point's (they are the defaults too, stated so a change shows here). */
const policy = {
  ...benchPolicy,
  queue: { ...benchPolicy.queue, maxLen: 16_384 },
  payloadRules: [...benchPolicy.payloadRules, { name: 'web-marker', protocol: 'tcp', ports: [WEB_PORT], pattern: { text: 'EVIL-MARKER' }, action: 'drop' }],
  detectors: { synFlood: { total: { rate: 10 * SYN_RATE, burst: COUNT } } },
  bans: { maxEntries: COUNT },
  limits: { sources: COUNT, flows: COUNT },
};

/**
 * The ban state file as the agent writes it (agent/src/bans/state-file.ts: a header, then one
 * record per line): COUNT running bans on 172.16.0.0/12, which send no traffic.
 */
function banState(now) {
  const lines = [JSON.stringify({ version: 2 })];
  for (let i = 1; i <= COUNT; i++) {
    const address = `172.${16 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    lines.push(JSON.stringify({ type: 'ban', address, family: 4, since: now, until: now + BAN_MS, reason: 'bench', by: 'bench', offense: 1 }));
  }
  return lines.join('\n') + '\n';
}


/** Resident and peak, and how much of the resident set is the process's own (anonymous) memory rather than mapped files (Node's binary above all). */
function processMemory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return { rssMiB: mib(/VmRSS:\s+(\d+) kB/.exec(status)[1]), hwmMiB: mib(/VmHWM:\s+(\d+) kB/.exec(status)[1]), anonymousMiB: mib(/Anonymous:\s+(\d+) kB/.exec(rollup)[1]) };
}

async function snapshot(lab, agent, controlPath) {
  const s = await agentStatus(lab, controlPath);
  const set = (await lab.exec(lab.server, 'ipset', ['list', setNames(4).ban, '-t'])).stdout;
  return {
    agent: { tracked: s.tracked, bans: s.bans, queue: s.queue, verdicts: s.verdicts, heapMiB: s.memory && mib(s.memory.heapTotal / 1024), error: s.error },
    ...processMemory(agent.pid),
    kernel: {
      banSetEntries: Number(/Number of entries: (\d+)/.exec(set)?.[1] ?? NaN),
      conntrackEntries: Number((await lab.exec(lab.server, 'conntrack', ['-C'])).stdout.trim()),
    },
  };
}

/** Runs the row in `lab` (routed for the bench range, a service listening on WEB_PORT); `work` is a scratch directory. */
export async function agentMemory(lab, tools, work) {
  const dir = join(work, 'agent-memory');
  mkdirSync(join(dir, 'state'), { recursive: true });
  writeFileSync(join(dir, 'policy.json'), JSON.stringify(policy));
  writeFileSync(join(dir, 'state', 'bans.json'), banState(Date.now()));
  const controlPath = join(dir, 'control.sock');
  // Earlier rows' half-open connections would still be counted for up to a minute.
  await lab.exec(lab.server, 'conntrack', ['-F']);
  const agent = await startAgent(lab, 'native', dir, 120_000);
  try {
    const start = await snapshot(lab, agent, controlPath);
    const flood = await synFlood(lab, tools, { port: WEB_PORT, sources: COUNT, count: COUNT, rate: SYN_RATE, seconds: 30 });
    const afterFlows = await snapshot(lab, agent, controlPath);
    // What the agent keeps once the load has passed (its periodic work goes on).
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const settled = await snapshot(lab, agent, controlPath);
    return {
      count: COUNT,
      limits: policy.limits,
      bansRestored: JSON.parse(agent.lines.stdout.find((l) => l.includes('"event":"start"'))).bansRestored,
      start,
      flood: { sent: flood.sent, pps: flood.pps, seconds: flood.seconds, contained: flood.contained },
      afterFlows,
      settled,
      peakMiB: processMemory(agent.pid).hwmMiB,
    };
  } finally {
    await agent.stop();
  }
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'vpsfw-agent-memory-'));
  const lab = await makeLab();
  let service;
  try {
    const tools = buildTools(work);
    await routeBenchRange(lab);
    // A listener, so the server answers each SYN and conntrack keeps the half-open connection.
    service = startService(lab, lab.server, [WEB_PORT]);
    await new Promise((r) => setTimeout(r, 500));
    process.stdout.write(JSON.stringify(await agentMemory(lab, tools, work), null, 2) + '\n');
  } finally {
    service?.kill();
    await lab.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
