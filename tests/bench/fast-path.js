// The fast path on its own: what established traffic pays for the rules in the server namespace.
// Per rule set and round: one iperf3 TCP flow (client pinned to CPU 0, server to CPU 1; what the
// benchmark's TCP rows measure), then small datagrams of one established UDP flow for 2 s (every
// packet pays the rules, which TCP's large segments hide: the per-packet cost in ns). Rule sets
// alternate within a round, rotated each round, each run started on an idle machine, so
// background load falls on all of them alike; each figure is also divided by the same round's
// no-rules figure, and the median of those paired ratios is reported with the medians.
// Needs root, iperf3, gcc and a build (`npm run build`).
// Usage: node tests/bench/fast-path.js [--rounds N] [--seconds S]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { makeLab } from '../../agent/dist/demo/lab.js';
import { KernelFirewall } from '../../agent/dist/kernel/apply.js';
import { realRunner } from '../../agent/dist/kernel/exec.js';
import { CHAINS } from '../../agent/dist/kernel/names.js';
import { renderKernel } from '../../agent/dist/kernel/render.js';
import { parsePolicy } from '../../agent/dist/policy/load.js';
import { CONNTRACK_RULE, CONSUMER_CPU, ECHO_PORT, loadavg, median, SENDER_CPU, startAgent, startPinned, tcpThroughput, udpArrived, untilIdle } from './measure.js';
import { benchPolicy } from './policy.js';
import { buildTools } from './tools.js';

const { values: opt } = parseArgs({ options: { rounds: { type: 'string', default: '7' }, seconds: { type: 'string', default: '4' } } });
const rounds = Number(opt.rounds);
const seconds = Number(opt.seconds);
if (!(rounds >= 1 && rounds <= 30) || !(seconds > 0 && seconds <= 30)) throw new Error('--rounds must be in 1..30, --seconds in (0, 30]');
const UDP_SECONDS = 2;


// The bench policy fail-open: with nobody reading the queue, the first packet of each flow passes.
const plan = renderKernel(parsePolicy({ ...benchPolicy, queue: { ...benchPolicy.queue, failMode: 'open' } }, 'bench').policy);
// The least any layout of ours costs: the jump and the fast-path goto, then nothing.
const gotoOnly = plan.ipv4
  .split('\n')
  .filter((l) => !l.startsWith(`-A ${CHAINS.established} `) && !new RegExp(`^-A ${CHAINS.input} .*(agent verdict reject|-i lo )`).test(l))
  .join('\n');

/** A rule set: `up` puts it into the server namespace, `down` takes it out again. */
const SETS = [
  { name: 'none', what: 'no rules', up: async () => {}, down: async () => {} },
  { name: 'conntrack', what: 'one rule: conntrack ESTABLISHED,RELATED accept', up: (k) => k.ipt('-A', ...CONNTRACK_RULE), down: (k) => k.ipt('-D', ...CONNTRACK_RULE) },
  { name: 'goto-only', what: 'our jump and the fast-path goto, nothing else', up: (k) => k.fw.apply({ ...plan, ipv4: gotoOnly }), down: (k) => k.fw.remove() },
  { name: 'rendered', what: 'the rules as rendered (bench policy, fail-open)', up: (k) => k.fw.apply(plan), down: (k) => k.fw.remove() },
  {
    name: 'agent',
    what: 'the agent running (bench policy, fail-closed)',
    up: async (k) => {
      writeFileSync(join(k.work, 'policy.json'), JSON.stringify(benchPolicy));
      k.agent = await startAgent(k.lab, 'native', k.work);
    },
    down: async (k) => {
      await k.agent?.stop();
      k.agent = undefined;
    },
  },
];

/**
 * Packets per second of one established UDP flow of small datagrams: the server answers the first
 * (so conntrack calls the flow ESTABLISHED) and reads no more. The bench policy accepts the port
 * and watches no payload on it, so the flood takes the fast path.
 */
async function establishedUdp(k) {
  const answerOnce = `import socket,time\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('0.0.0.0',${ECHO_PORT}))\nprint('ready',flush=True)\nd,a=s.recvfrom(64)\ns.sendto(b'x',a)\ntime.sleep(${UDP_SECONDS + 30})`;
  const answerer = await startPinned(k.lab, k.lab.server, CONSUMER_CPU, '/usr/bin/python3', ['-c', answerOnce], (l) => l === 'ready');
  try {
    await untilIdle();
    const before = await udpArrived(k.lab);
    const r = await k.lab.exec(k.lab.attacker.ns, 'taskset', ['-c', SENDER_CPU, k.tools.udpFlood, k.lab.attacker.server4, String(ECHO_PORT), String(UDP_SECONDS)], { timeoutMs: UDP_SECONDS * 1000 + 15_000 });
    return Math.round(((await udpArrived(k.lab)) - before) / JSON.parse(r.stdout).seconds);
  } finally {
    await answerer.stop();
  }
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'vpsfw-fastpath-'));
  const lab = await makeLab();
  const runner = realRunner(['ip', 'netns', 'exec', lab.server]);
  const k = { lab, work, tools: buildTools(work), fw: new KernelFirewall(runner), ipt: (...a) => runner.run('iptables', ['-w', ...a]), agent: undefined };
  const tcp = new Map(SETS.map((s) => [s.name, []]));
  const udp = new Map(SETS.map((s) => [s.name, []]));
  const load = { before: loadavg() };
  try {
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < SETS.length; i++) {
        const s = SETS[(round + i) % SETS.length];
        await s.up(k);
        try {
          tcp.get(s.name).push(await tcpThroughput(lab, seconds));
          udp.get(s.name).push(await establishedUdp(k));
        } finally {
          await s.down(k);
        }
      }
      process.stderr.write(`fast-path: round ${round + 1} of ${rounds} (Gbit/s / pps): ${SETS.map((s) => `${s.name} ${tcp.get(s.name).at(-1)} / ${udp.get(s.name).at(-1)}`).join(', ')}; load ${loadavg()}\n`);
    }
  } finally {
    await k.agent?.stop();
    await lab.destroy();
    rmSync(work, { recursive: true, force: true });
  }
  load.after = loadavg();
  const paired = (xs, base) => Math.round(median(xs.map((x, i) => x / base[i])) * 1000) / 1000;
  const summary = (runs, ref) => ({ median: median(runs), min: Math.min(...runs), max: Math.max(...runs), xNone: paired(runs, ref.get('none')), xConntrack: paired(runs, ref.get('conntrack')), runs });
  const sets = SETS.map((s) => {
    const u = udp.get(s.name);
    // What one established packet costs over no rules at all, from the medians.
    const nsPerPacket = Math.round(1e9 / median(u) - 1e9 / median(udp.get('none')));
    return { name: s.name, what: s.what, tcpGbps: summary(tcp.get(s.name), tcp), udpPps: { ...summary(u, udp), nsPerPacket } };
  });
  process.stdout.write(JSON.stringify({ rounds, seconds, udpSeconds: UDP_SECONDS, load, sets }, null, 2) + '\n');
}

await main();
