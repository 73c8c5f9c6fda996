// `npm run bench:crowdsec`: vpsfw's bouncer side by side with Debian's crowdsec-firewall-bouncer
// (iptables mode), in one run, against one throwaway LAPI (tests/lib/crowdsec.ts), each in a lab
// of its own:
//   1. the time from `cscli decisions add --ip` to the first dropped packet of that source, both
//      at their default poll interval (10 s) and both at 1 s: the source pings each server every
//      10 ms; the first echo request left unanswered is the drop;
//   2. the time from the process's start until 100,000 decisions are in the kernel, and the
//      process's peak resident memory (VmHWM) by then (at most 15 minutes each); for vpsfw, the
//      round trips of echo requests it judges meanwhile (its packet path during the load), and its
//      peak again once its state file holds them all (the write after a load is part of it), over
//      --runs fresh agents (the peak varies from run to run with the garbage collector's timing).
// Usage: node --import=./node_modules/@tapjs/typescript/dist/esm/import.mjs tests/bench/crowdsec.ts
//          [--samples N] [--decisions N] [--runs N] [--sections latency,vpsfw-load,bouncer-load]
// Writes tests/bench/results/<date>T<hhmm>-crowdsec.json; docs/benchmarks.md quotes it.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { startAgent } from '../../agent/src/demo/agent-process.js';
import { makeLab, type Lab } from '../../agent/src/demo/lab.js';
import { startLapi, type Lapi } from '../lib/crowdsec.js';

const SECTIONS = ['latency', 'vpsfw-load', 'bouncer-load'];
const { values: opt } = parseArgs({ options: { samples: { type: 'string', default: '3' }, decisions: { type: 'string', default: '100000' }, runs: { type: 'string', default: '3' }, sections: { type: 'string', default: SECTIONS.join(',') } } });
const samples = Number(opt.samples);
const decisions = Number(opt.decisions);
const runs = Number(opt.runs);
const sections = new Set(opt.sections.split(','));
if (!(samples >= 1 && samples <= 9) || !(decisions >= 1 && decisions <= 200_000) || !(runs >= 1 && runs <= 9)) throw new Error('--samples in 1..9, --decisions in 1..200000, --runs in 1..9');
for (const s of sections) if (!SECTIONS.includes(s)) throw new Error(`--sections: ${JSON.stringify(s)} is none of ${SECTIONS.join(', ')}`);
const here = fileURLToPath(new URL('.', import.meta.url));
const PING_INTERVAL_S = 0.01;
/** How long each side may take to load the decisions; what it holds by then is its result. */
const LOAD_LIMIT_MS = 900_000;

const mib = (kb: number) => Math.round(kb / 102.4) / 10;
function vmHwmKb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function policy(lapi: Lapi, key: string, pollInterval = '10s') {
  return {
    version: 1,
    rules: [
      { name: 'web', action: 'accept', protocol: 'tcp', ports: [8080] },
      { name: 'ping', action: 'accept', protocol: 'icmp' },
    ],
    // The latency probe pings 100 times a second: not a flood to ban for.
    detectors: { icmpFlood: { enabled: false } },
    crowdsec: { url: lapi.url, bouncerKeyFile: key, pollInterval },
  };
}

/** Starts crowdsec-firewall-bouncer in a namespace (iptables mode, its rules and sets in that namespace only). */
async function startBouncer(lab: Lab, lapi: Lapi, key: string, every = '10s'): Promise<{ child: ChildProcess; started: number; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-cfb-'));
  const cfg = join(dir, 'bouncer.yaml');
  writeFileSync(
    cfg,
    `mode: iptables
pid_dir: ${dir}/
update_frequency: ${every}
daemonize: false
log_mode: stdout
log_level: info
api_url: ${lapi.url}
api_key: ${key}
disable_ipv6: false
deny_action: DROP
deny_log: false
supported_decisions_types:
  - ban
blacklists_ipv4: crowdsec-blacklists
blacklists_ipv6: crowdsec6-blacklists
ipset_type: nethash
ipset_size: 262144
iptables_chains:
  - INPUT
prometheus:
  enabled: false
`,
  );
  const started = Date.now();
  const child = lab.spawn(lab.server, 'crowdsec-firewall-bouncer', ['-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 30_000;
  while (!(await lab.status(lab.server, 'ipset', ['list', '-n'])).stdout.includes('crowdsec-blacklists')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`crowdsec-firewall-bouncer did not start: ${out.slice(-2000)}`);
    await sleep(100);
  }
  return { child, started, dir };
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

/** Pings from `local` every 10 ms, `count` times; resolves with the reception times (epoch ms) of the replies. */
function pinger(lab: Lab, local: string, count: number) {
  const child = lab.spawn(lab.attacker.ns, 'ping', ['-n', '-D', '-i', String(PING_INTERVAL_S), '-W', '1', '-c', String(count), '-I', local, lab.attacker.server4], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const done = new Promise<number[]>((resolve) => child.once('exit', () => resolve([...out.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from/gm)].map((m) => Number(m[1]) * 1000))));
  return { child, done };
}

/** The first echo request after `t0` that got no answer: the last reply after t0, plus an interval. */
function firstDropAfter(replies: number[], t0: number): number | null {
  const after = replies.filter((r) => r >= t0);
  if (after.length === 0) return null;
  return after[after.length - 1]! + PING_INTERVAL_S * 1000 - t0;
}

async function setCount(lab: Lab, set: string): Promise<number> {
  const r = await lab.status(lab.server, 'ipset', ['list', '-t', set]);
  return Number(/Number of entries: (\d+)/.exec(r.stdout)?.[1] ?? 0);
}

/** Waits (bounded) until the agent's state file holds `n` bans; returns how many it holds. */
async function savedBans(path: string, n: number): Promise<number> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    let held = 0;
    try {
      held = (readFileSync(path, 'utf8').match(/"type":"ban"/g) ?? []).length;
    } catch {
      // Not written yet.
    }
    if (held >= n || Date.now() > deadline) return held;
    await sleep(200);
  }
}

async function main() {
  const lapi = await startLapi();
  const labs: Lab[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];
  try {
    const lab = async () => {
      const l = await makeLab();
      labs.push(l);
      await lapi.connect(l.server);
      return l;
    };
    const keyFile = async (name: string) => lapi.secretFile(`${name}.key`, await lapi.addBouncer(name));

    // 1. Decision to first dropped packet, both at once on the same decision: at the default poll
    // interval (10 s, where the wait for the next poll is most of it), and at 1 s (where what each
    // does with an answer shows).
    let alias = 20;
    const latencyAt = async (pollS: number, n: number) => {
      const vLab = await lab();
      const bLab = await lab();
      const agent = await startAgent({ ns: vLab.server, policy: policy(lapi, await keyFile(`vpsfw-latency-${pollS}`), `${pollS}s`) });
      cleanups.push(() => agent.stop());
      await agent.waitFor((e) => e.event === 'crowdsec-sync', 60_000, 'the start-up pull');
      const bouncer = await startBouncer(bLab, lapi, await lapi.addBouncer(`cfb-latency-${pollS}`), `${pollS}s`);
      cleanups.push(async () => (await stopChild(bouncer.child), rmSync(bouncer.dir, { recursive: true, force: true })));
      const out: { vpsfw: number[]; bouncer: number[] } = { vpsfw: [], bouncer: [] };
      for (let i = 0; i < n; i++) {
        const { ip4 } = await vLab.attackerAlias(alias);
        await bLab.attackerAlias(alias++);
        const pings = Math.ceil((2 * pollS + 5) / PING_INTERVAL_S);
        const pv = pinger(vLab, ip4, pings);
        const pb = pinger(bLab, ip4, pings);
        // A random phase against both poll loops.
        await sleep(1000 + Math.random() * pollS * 1000);
        const t0 = Date.now();
        await lapi.cscli(['decisions', 'add', '--ip', ip4, '--duration', '1h', '--reason', 'bench/latency']);
        const [rv, rb] = await Promise.all([pv.done, pb.done]);
        const v = firstDropAfter(rv, t0);
        const b = firstDropAfter(rb, t0);
        if (v === null || b === null) throw new Error(`sample ${i}: no replies after the decision (vpsfw ${rv.length}, bouncer ${rb.length})`);
        out.vpsfw.push(Math.round(v));
        out.bouncer.push(Math.round(b));
        process.stderr.write(`poll ${pollS} s, sample ${i + 1}: vpsfw ${Math.round(v)} ms, crowdsec-firewall-bouncer ${Math.round(b)} ms\n`);
      }
      for (const c of cleanups.splice(0)) await c();
      return { pollS, ...out, vpsfwMedian: median(out.vpsfw), bouncerMedian: median(out.bouncer) };
    };
    const latency = sections.has('latency') ? [await latencyAt(10, samples), await latencyAt(1, samples + 2)] : null;
    await lapi.cscli(['decisions', 'delete', '--all']).catch(() => undefined);

    // 2. 100,000 decisions loaded from the start.
    const file = join(lapi.dir, 'import.json');
    writeFileSync(file, JSON.stringify(Array.from({ length: decisions }, (_, i) => ({ duration: '4h', scope: 'ip', type: 'ban', value: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, reason: 'bench/load' }))));
    const importStarted = Date.now();
    await lapi.cscli(['decisions', 'import', '-i', file]);
    process.stderr.write(`imported ${decisions} decisions in ${Date.now() - importStarted} ms\n`);

    const vpsfwLoad = [];
    for (let run = 0; sections.has('vpsfw-load') && run < runs; run++) {
      const vLoad = await lab();
      const vStarted = Date.now();
      const loader = await startAgent({ ns: vLoad.server, policy: policy(lapi, await keyFile(`vpsfw-load-${run}`)) });
      cleanups.push(() => loader.stop());
      // The packet path while it loads: echo requests are judged by the agent one by one, so their
      // round trips say how long its event loop is held.
      const echo = vLoad.spawn(vLoad.client.ns, 'ping', ['-n', '-i', '0.02', '-W', '1', vLoad.client.server4], { stdio: ['ignore', 'pipe', 'ignore'] });
      let echoOut = '';
      echo.stdout!.on('data', (d) => (echoOut += d));
      const sync = await loader.waitFor((e) => e.event === 'crowdsec-sync', LOAD_LIMIT_MS, 'the 100,000 decisions');
      const peakAtSyncMiB = mib(vmHwmKb(loader.child.pid!));
      await stopChild(echo, 'SIGINT');
      const rtts = [...echoOut.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
      const sent = Number(/(\d+) packets transmitted/.exec(echoOut)?.[1] ?? 0);
      const packetPath = { echoSent: sent, echoAnswered: rtts.length, rttMedianMs: median(rtts), rttMaxMs: Math.max(...rtts) };
      const inKernel = await setCount(vLoad, 'vpsfw-ban4');
      const saved = await savedBans(join(loader.stateDir, 'bans.json'), decisions);
      const status = JSON.parse((await loader.cli(['status', '--json'])).stdout) as { memory: { rss: number; heapUsed: number } };
      const result = { msFromStart: Date.now() - vStarted, pullMs: Number(sync.durationMs), banned: Number(sync.banned), inKernel, saved, peakAtSyncMiB, peakRssMiB: mib(vmHwmKb(loader.child.pid!)), rssAfterMiB: Math.round(status.memory.rss / 104857.6) / 10, heapUsedMiB: Math.round(status.memory.heapUsed / 104857.6) / 10, packetPath };
      process.stderr.write(`vpsfw, run ${run + 1}: ${JSON.stringify(result)}\n`);
      vpsfwLoad.push(result);
      for (const c of cleanups.splice(0)) await c();
    }

    let bouncerLoad = null;
    if (sections.has('bouncer-load')) {
      const bLoad = await lab();
      const b2 = await startBouncer(bLoad, lapi, await lapi.addBouncer('cfb-load'));
      cleanups.push(async () => (await stopChild(b2.child), rmSync(b2.dir, { recursive: true, force: true })));
      // Bounded: what it has loaded by then is the result.
      const deadline = Date.now() + LOAD_LIMIT_MS;
      let n = 0;
      while ((n = await setCount(bLoad, 'crowdsec-blacklists')) < decisions && Date.now() < deadline) await sleep(50);
      bouncerLoad = { msFromStart: Date.now() - b2.started, inKernel: n, complete: n >= decisions, peakRssMiB: mib(vmHwmKb(b2.child.pid!)) };
      process.stderr.write(`crowdsec-firewall-bouncer: ${JSON.stringify(bouncerLoad)}\n`);
      for (const c of cleanups.splice(0)) await c();
    }

    const commit = (await import('node:child_process')).execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const result = { date: new Date().toISOString(), commit, loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '), samples, decisions, runs, sections: [...sections], latencyMs: latency, load: { vpsfw: vpsfwLoad, bouncer: bouncerLoad } };
    const stamp = result.date.slice(0, 16).replace(/[-:]/g, '').replace(/^(\d{8})T/, (_, d) => `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6)}T`);
    writeFileSync(join(here, 'results', `${stamp}-${commit}-crowdsec.json`), JSON.stringify(result, null, 2) + '\n');
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } finally {
    for (const c of cleanups) await c().catch(() => undefined);
    for (const l of labs) await l.destroy();
    await lapi.destroy();
  }
}

await main();
