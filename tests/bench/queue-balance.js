// A one-off experiment: would one queue per worker (`--queue-balance`) help on this 2-core machine?
// The C consumer (c-baseline.c: accepts everything, the practical ceiling) on one queue, against
// two of them on queues 0 and 1 behind `--queue-balance 0:1`, both pinned to CPU 1 or one per CPU
// (the sender is on CPU 0), under the same UDP flood. The kernel picks a balanced queue by a hash of
// the addresses alone, so the flood comes in FLOWS flows from as many attacker addresses; a last
// arrangement sends the same number of flows from one address (ports only) to show that.
// Usage: node tests/bench/queue-balance.js [--rounds N] [--seconds N]   (root; prints JSON)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeLab } from '../../agent/dist/demo/lab.js';
import { FLOOD_PORT, loadavg, median, queueDrops, startPinned, startUdpSink, udpFlood } from './measure.js';
import { buildTools } from './tools.js';

const FLOWS = 8;
const MAXLEN = '1024';

const ARRANGEMENTS = [
  { name: 'one-queue', what: 'one consumer, queue 0, CPU 1', target: ['--queue-num', '0'], consumers: [{ queue: 0, cpu: '1' }] },
  { name: 'balance-cpu1', what: '--queue-balance 0:1, both consumers on CPU 1', target: ['--queue-balance', '0:1'], consumers: [{ queue: 0, cpu: '1' }, { queue: 1, cpu: '1' }] },
  { name: 'balance-per-cpu', what: '--queue-balance 0:1, queue 0 on CPU 1, queue 1 on CPU 0 (with the sender)', target: ['--queue-balance', '0:1'], consumers: [{ queue: 0, cpu: '1' }, { queue: 1, cpu: '0' }] },
  { name: 'balance-ports-only', what: 'as balance-per-cpu, the flows from one address', target: ['--queue-balance', '0:1'], consumers: [{ queue: 0, cpu: '1' }, { queue: 1, cpu: '0' }], oneAddress: true },
];

async function measure(lab, tools, arrangement, sources, seconds) {
  const rule = ['INPUT', '-p', 'udp', '--dport', String(FLOOD_PORT), '-j', 'NFQUEUE', ...arrangement.target];
  const consumers = [];
  await lab.exec(lab.server, 'iptables', ['-A', ...rule]);
  try {
    for (const c of arrangement.consumers) consumers.push(await startPinned(lab, lab.server, c.cpu, tools.cBaseline, [String(c.queue), MAXLEN], (l) => l === 'ready'));
    const flood = await udpFlood(lab, tools, seconds, arrangement.oneAddress ? sources.map(() => sources[0]) : sources);
    const drops = [];
    for (const c of arrangement.consumers) drops.push(await queueDrops(lab, c.queue));
    const received = [];
    for (const p of consumers.splice(0)) {
      await p.stop();
      received.push(JSON.parse(p.lines.stdout.at(-1)).received);
    }
    return { ...flood, received, drops };
  } finally {
    for (const p of consumers) await p.stop();
    await lab.exec(lab.server, 'iptables', ['-D', ...rule]);
  }
}

async function main() {
  const { values: opt } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '5' } } });
  const rounds = Number(opt.rounds);
  const seconds = Number(opt.seconds);
  if (!(rounds >= 1 && rounds <= 9) || !(seconds > 0 && seconds <= 30)) throw new Error('--rounds must be in 1..9, --seconds in (0, 30]');
  const work = mkdtempSync(join(tmpdir(), 'vpsfw-queue-balance-'));
  const lab = await makeLab();
  const sink = startUdpSink(lab, rounds * ARRANGEMENTS.length * (seconds + 10) + 30);
  try {
    const tools = buildTools(work);
    const sources = [];
    for (let n = 0; n < FLOWS; n++) sources.push((await lab.attackerAlias(n)).ip4);
    const loadBefore = loadavg();
    // Rounds alternate the arrangements: the machine is shared and its load comes and goes.
    const runs = new Map(ARRANGEMENTS.map((a) => [a.name, []]));
    for (let round = 1; round <= rounds; round++) {
      for (const a of ARRANGEMENTS) {
        process.stderr.write(`queue-balance: round ${round}: ${a.name} ...\n`);
        runs.get(a.name).push(await measure(lab, tools, a, sources, seconds));
      }
    }
    const arrangements = ARRANGEMENTS.map((a) => ({ name: a.name, what: a.what, pps: median(runs.get(a.name).map((r) => r.pps)), runs: runs.get(a.name) }));
    process.stdout.write(JSON.stringify({ date: new Date().toISOString(), loadBefore, loadAfter: loadavg(), flows: FLOWS, seconds, rounds, arrangements }, null, 2) + '\n');
  } finally {
    sink.kill();
    await lab.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
