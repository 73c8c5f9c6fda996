// `npm run bench`: one run, one lab, the same load for every row. Needs root, gcc,
// libnetfilter-queue-dev, iperf3, conntrack, and a build (`npm run build`, the addon in agent/native).
// Usage: node tests/bench/run.js [--rounds N] [--seconds N] [--rtt-count N] [--rows A,B,...] [--no-doc]
//   --rows  only these rows and sections (default: all): the UDP rows by name (kernel, c-baseline,
//           ...), tcp, ban-drop, attack, memory, agent-memory; a run of some rows leaves the main
//           generated part of docs/benchmarks.md alone (ban-drop, a block of its own, is written
//           whenever it ran)
// Writes tests/bench/results/<date>T<hhmm>-<commit>.json and the generated parts of docs/benchmarks.md.
// ban-drop also needs clang, libbpf-dev and bpftool (the XDP program).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { makeLab } from '../../agent/dist/demo/lab.js';
import { startService } from '../../agent/dist/demo/probes.js';
import { KernelFirewall } from '../../agent/dist/kernel/apply.js';
import { realRunner } from '../../agent/dist/kernel/exec.js';
import { MARK_MASK, PASS_MARK } from '../../agent/dist/kernel/names.js';
import { renderKernel } from '../../agent/dist/kernel/render.js';
import { parsePolicy } from '../../agent/dist/policy/load.js';
import { candidatePaths } from '../../agent/dist/queue/native-binding.js';
import { agentMemory } from './agent-memory.js';
import { underAttack } from './attack.js';
import { CONNTRACK_RULE, CONSUMER_CPU, ECHO_PORT, FLOOD_PORT, loadavg, median, peakRssMiB, queueDrops, SENDER_CPU, startAgent, startPinned, startUdpSink, tcpThroughput, udpFlood, udpRtt } from './measure.js';
import { benchPolicy, WEB_PORT } from './policy.js';
import { banDrop } from './ban-drop.js';
import { writeBanDropReport, writeReport } from './report.js';
import { routeBenchRange } from './syn-load.js';
import { buildTools, buildXdp } from './tools.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '../..');
const { values: opt } = parseArgs({ options: { rounds: { type: 'string', default: '3' }, seconds: { type: 'string', default: '5' }, 'rtt-count': { type: 'string', default: '2000' }, rows: { type: 'string' }, 'no-doc': { type: 'boolean', default: false } } });
const seconds = Number(opt.seconds);
const rttCount = Number(opt['rtt-count']);
const rounds = Number(opt.rounds);
if (!(seconds > 0 && seconds <= 30) || !(rttCount > 0 && rttCount <= 20_000) || !(rounds >= 1 && rounds <= 9)) throw new Error('--seconds must be in (0, 30], --rtt-count in 1..20000, --rounds in 1..9');
const MAXLEN = '1024';
const nativeBuilt = candidatePaths().some((p) => existsSync(p));

const node = process.execPath;
const consumer = (kind) => [node, join(here, 'consumer.js'), kind, '0', MAXLEN];

/** The UDP rows: what stands between the flood and the server's UDP layer. */
const rows = [
  { name: 'kernel', what: 'kernel only, no rules' },
  { name: 'c-baseline', what: 'C consumer (libnetfilter_queue), accepts all', queue: true, c: true, cmd: (t) => [t.cBaseline, '0', MAXLEN] },
  // The kernel evaluates the agent's rules on the sender's core: where that core is the limit, this
  // row tells the rules' cost from the agent's.
  { name: 'c-agent-rules', what: "C consumer behind the agent's rules (bench policy), accepts all", queue: true, c: true, agentRules: true, cmd: (t) => [t.cBaseline, '0', MAXLEN] },
  { name: 'nfqueue-npm', what: 'npm `nfqueue` binding, accepts all', queue: true, cmd: () => consumer('nfqueue') },
  { name: 'native-raw', what: 'vpsfw addon, verdicts filled in bulk', queue: true, native: true, cmd: () => consumer('native-raw') },
  { name: 'native', what: 'vpsfw addon via NativeQueue, accepts all', queue: true, native: true, cmd: () => consumer('native') },
  { name: 'agent-nfqueue', what: 'vpsfw agent, realistic policy, `nfqueue` backend', agent: 'nfqueue' },
  { name: 'agent-native', what: 'vpsfw agent, realistic policy, native backend', agent: 'native', native: true },
  // The same agent with its HTTP listener on and Prometheus' load on it: /metrics once a second.
  { name: 'agent-http', what: 'the same, HTTP listener on, /metrics scraped every second', agent: 'native', native: true, http: true },
];
const SECTIONS = ['tcp', 'ban-drop', 'attack', 'memory', 'agent-memory'];
const ALL = [...rows.map((r) => r.name), ...SECTIONS];
const selected = opt.rows === undefined ? ALL : opt.rows.split(',').map((n) => n.trim());
const unknown = selected.filter((n) => !ALL.includes(n));
if (unknown.length || !selected.length) throw new Error(`--rows: unknown ${unknown.join(', ') || '(empty)'}; choose from ${ALL.join(', ')}`);
const want = (name) => selected.includes(name);
const writeDoc = !opt['no-doc'] && selected.length === ALL.length;

const agentRules = renderKernel(parsePolicy(benchPolicy, 'bench').policy);
const serverFirewall = (lab) => new KernelFirewall(realRunner(['ip', 'netns', 'exec', lab.server]));
// The bare queue rule of the queue rows. NativeQueue's accept is NF_REPEAT with PASS_MARK: the
// packet runs INPUT again, and the rule must let it by as the agent's rules do.
const passed = `0x${PASS_MARK.toString(16)}/0x${MARK_MASK.toString(16)}`;
const iptables = (lab, op) => lab.exec(lab.server, 'iptables', [op, 'INPUT', '-p', 'udp', '-m', 'multiport', '--dports', `${FLOOD_PORT},${ECHO_PORT}`, '-m', 'mark', '!', '--mark', passed, '-j', 'NFQUEUE', '--queue-num', '0']);

const HTTP = '127.0.0.1:9469';

/** The agent on the bench policy; resolves once it has started. */
function startBenchAgent(lab, backend, work, http = undefined) {
  writeFileSync(join(work, 'policy.json'), JSON.stringify(benchPolicy));
  return startAgent(lab, backend, work, 30_000, http);
}

async function startConsumer(lab, row, tools, work) {
  if (row.agent) return startBenchAgent(lab, row.agent, work, row.http ? HTTP : undefined);
  await (row.agentRules ? serverFirewall(lab).apply(agentRules) : iptables(lab, '-A'));
  const [cmd, ...args] = row.cmd(tools);
  return startPinned(lab, lab.server, CONSUMER_CPU, cmd, args, (l) => l === 'ready');
}

async function measureRow(lab, row, tools, work) {
  const proc = row.name === 'kernel' ? undefined : await startConsumer(lab, row, tools, work);
  // On the sender's core, as a Prometheus on the same host would take a core from the agent's neighbours.
  const scraper = row.http ? await startPinned(lab, lab.server, SENDER_CPU, node, [join(here, 'scraper.js'), `http://${HTTP}/metrics`, join(work, 'state', 'http-token'), String(seconds * 4 + 60)], (l) => l === 'ready') : undefined;
  try {
    const rtt = await udpRtt(lab, tools, rttCount);
    const flood = await udpFlood(lab, tools, seconds);
    const drops = proc ? await queueDrops(lab) : undefined;
    const rssMiB = proc && !row.c ? peakRssMiB(proc.pid) : null;
    return { ...flood, drops, rtt, rssMiB, ...(scraper ? { scrapes: Number(scraper.lines.stdout.at(-1)) } : {}) };
  } finally {
    await scraper?.stop();
    await proc?.stop();
    if (row.agentRules) await serverFirewall(lab).remove();
    else if (row.queue) await iptables(lab, '-D');
  }
}

/** One row over its rounds: median pps and latency, worst RSS, and every run. */
function summarize(row, runs) {
  const pick = (f) => median(runs.map(f));
  return {
    name: row.name,
    what: row.what,
    pps: pick((r) => r.pps),
    sentPps: pick((r) => r.sentPps),
    drops: runs[0].drops ? { queueDropped: pick((r) => r.drops.queueDropped), userDropped: pick((r) => r.drops.userDropped) } : undefined,
    rtt: { p50us: pick((r) => r.rtt.p50us), p99us: pick((r) => r.rtt.p99us), lost: runs.reduce((a, r) => a + r.rtt.lost, 0) },
    rssMiB: runs.some((r) => r.rssMiB !== null) ? Math.max(...runs.map((r) => r.rssMiB ?? 0)) : null,
    ...(runs[0].scrapes !== undefined ? { scrapes: pick((r) => r.scrapes) } : {}),
    runs,
  };
}

function machine() {
  const commit = execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain'], { encoding: 'utf8' }).trim() !== '';
  return { date: new Date().toISOString(), commit: dirty ? `${commit}+dirty` : commit, cpu: cpus()[0]?.model, cpus: cpus().length, kernel: execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim(), node: process.version, loadBefore: loadavg() };
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'vpsfw-bench-'));
  const lab = await makeLab();
  const background = [];
  try {
    const tools = buildTools(work);
    const ttl = String(600);
    background.push(startUdpSink(lab, ttl));
    background.push(lab.spawn(lab.server, tools.udpRtt, ['echo', String(ECHO_PORT), ttl], { stdio: 'ignore' }));
    background.push(startService(lab, lab.server, [WEB_PORT]));
    await new Promise((r) => setTimeout(r, 500));

    const benchRange = await routeBenchRange(lab);
    const results = { machine: machine(), settings: { rounds, seconds, rttCount, queueMaxLen: Number(MAXLEN), payloadBytes: 18, rows: selected, benchRange }, udp: [], tcp: [], banDrop: null, attack: null, memory: null, agentMemory: null };
    // Background load on a shared machine comes and goes: every row runs once per round, rounds
    // repeat, and each row reports its median (every run is kept in the JSON).
    const runs = new Map(rows.map((r) => [r.name, []]));
    for (let round = 1; round <= rounds; round++) {
      for (const row of rows) {
        if (!want(row.name) || (row.native && !nativeBuilt)) continue;
        process.stderr.write(`bench: round ${round}: ${row.name} ...\n`);
        runs.get(row.name).push(await measureRow(lab, row, tools, work));
      }
    }
    for (const row of rows.filter((r) => want(r.name))) {
      const r = runs.get(row.name);
      results.udp.push(r.length ? summarize(row, r) : { name: row.name, what: row.what, skipped: 'native addon not built' });
    }
    // iperf3 varies by ±5–10 % from run to run here (where the receiver's softirq work lands,
    // other load): no rules, conntrack only and the agent alternate, in an order rotated every
    // round, for three times the UDP rows' rounds (9 by default; tests/bench/fast-path.js measured
    // a 9-round median ratio steady to a few per cent); the medians are reported. Conntrack alone
    // is what any stateful firewall costs: the fair ceiling.
    const agentBackend = nativeBuilt ? 'native' : 'nfqueue';
    const tcp = { kernel: [], conntrack: [], agent: [] };
    const tcpRounds = rounds * 3;
    const tcpRows = {
      kernel: async () => tcp.kernel.push(await tcpThroughput(lab, seconds)),
      conntrack: async () => {
        await lab.exec(lab.server, 'iptables', ['-A', ...CONNTRACK_RULE]);
        try {
          tcp.conntrack.push(await tcpThroughput(lab, seconds));
        } finally {
          await lab.exec(lab.server, 'iptables', ['-D', ...CONNTRACK_RULE]);
        }
      },
      agent: async () => {
        const running = await startBenchAgent(lab, agentBackend, work);
        try {
          tcp.agent.push(await tcpThroughput(lab, seconds));
        } finally {
          await running.stop();
        }
      },
    };
    const names = Object.keys(tcpRows);
    for (let round = 0; want('tcp') && round < tcpRounds; round++) {
      process.stderr.write(`bench: tcp round ${round + 1} of ${tcpRounds} ...\n`);
      for (let i = 0; i < names.length; i++) await tcpRows[names[(round + i) % names.length]]();
    }
    if (want('tcp')) {
      // Each round's runs share the machine's state of the moment: their ratio drifts less than the medians do.
      const paired = (runs) => median(runs.map((g, i) => g / tcp.kernel[i]));
      results.tcp.push({ name: 'kernel', what: 'no rules', gbps: median(tcp.kernel), pairedRatio: 1, runs: tcp.kernel });
      results.tcp.push({ name: 'conntrack', what: 'one rule: conntrack ESTABLISHED,RELATED accept', gbps: median(tcp.conntrack), pairedRatio: paired(tcp.conntrack), runs: tcp.conntrack });
      results.tcp.push({ name: `agent-${agentBackend}`, what: 'agent running (fast path)', gbps: median(tcp.agent), pairedRatio: paired(tcp.agent), runs: tcp.agent });
    }
    if (want('ban-drop')) results.banDrop = await banDrop(lab, tools, buildXdp(work), { rounds, seconds });
    if (want('attack')) {
      process.stderr.write('bench: under attack ...\n');
      const running = await startBenchAgent(lab, agentBackend, work);
      try {
        results.attack = { backend: agentBackend, ...(await underAttack(lab, tools, running, join(work, 'control.sock'), seconds)), rssMiB: peakRssMiB(running.pid) };
      } finally {
        await running.stop();
      }
    }
    if (want('memory')) {
      process.stderr.write('bench: memory ...\n');
      results.memory = JSON.parse(execFileSync(node, ['--expose-gc', join(here, 'memory.js'), '100000'], { encoding: 'utf8', timeout: 120_000 }));
    }
    // Last: it leaves 100k half-open connections in the server's conntrack table for a minute.
    if (want('agent-memory')) {
      process.stderr.write('bench: agent memory ...\n');
      results.agentMemory = nativeBuilt ? await agentMemory(lab, tools, work) : { skipped: 'native addon not built' };
    }
    results.machine.loadAfter = loadavg();

    const dir = join(here, 'results');
    mkdirSync(dir, { recursive: true });
    // Date and minute in the name: two runs at one commit both stay.
    const file = join(dir, `${results.machine.date.slice(0, 16).replace(':', '')}-${results.machine.commit}.json`);
    writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
    const doc = join(root, 'docs/benchmarks.md');
    const writeBanDrop = !opt['no-doc'] && results.banDrop !== null;
    if (writeDoc) writeReport(doc, results);
    if (writeBanDrop) writeBanDropReport(doc, results);
    process.stdout.write(JSON.stringify(results, null, 2) + '\n');
    process.stderr.write(`bench: wrote ${file}${writeDoc || writeBanDrop ? ' and docs/benchmarks.md' : ''}\n`);
  } finally {
    for (const p of background) p.kill();
    await lab.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
