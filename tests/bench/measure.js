// Measurements inside the benchmark lab: processes started pinned to a core and stopped with a
// bounded wait, delivered UDP packets (the server namespace's own counters), queue counters,
// round-trip latency, TCP throughput, peak RSS. Every load is bounded in count and time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { AGENT_NODE_ENV, AGENT_NODE_FLAGS } from '../../agent/dist/demo/agent-process.js';

const here = fileURLToPath(new URL('.', import.meta.url));

export const FLOOD_PORT = 9000;
export const ECHO_PORT = 9001;
export const SENDER_CPU = '0';
export const CONSUMER_CPU = '1';
/** What any stateful firewall costs: the fair ceiling for established traffic. */
export const CONNTRACK_RULE = ['INPUT', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT'];

/** The middle value (of an even count, the upper of the two middle ones). */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The machine's load averages, as `uptime` shows them. */
export const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** kB (as /proc prints them) in MiB, to a tenth. */
export const mibOfKb = (kb) => Math.round(Number(kb) / 102.4) / 10;

/**
 * Starts `cmd` pinned to `cpu` in `ns` (with `env` added to this process's environment); resolves
 * once a line on stdout or stderr satisfies `ready`.
 */
export async function startPinned(lab, ns, cpu, cmd, args, ready, timeoutMs = 30_000, env = {}) {
  const child = lab.spawn(ns, 'taskset', ['-c', cpu, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const lines = { stdout: [], stderr: [] };
  let exitCode;
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve((exitCode = code))));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${cmd} ${args.join(' ')}: not ready after ${timeoutMs} ms; stderr: ${lines.stderr.slice(-5).join(' | ')}`)), timeoutMs);
    const onLine = (stream) => (line) => {
      lines[stream].push(line);
      if (ready(line)) clearTimeout(timer), resolve();
    };
    createInterface({ input: child.stdout }).on('line', onLine('stdout'));
    createInterface({ input: child.stderr }).on('line', onLine('stderr'));
    exited.then((code) => (clearTimeout(timer), reject(new Error(`${cmd} exited (${code}) before it was ready; stderr: ${lines.stderr.slice(-5).join(' | ')}`))));
  }).catch((err) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    pid: child.pid,
    lines,
    /** SIGTERM, then SIGKILL after 10 s; resolves with the exit code. */
    async stop() {
      if (exitCode === undefined) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/**
 * The full agent (agent.js: `vpsfw run` on a queue backend) in the server namespace, pinned to the
 * consumer core, with the Node flags and environment the installed units give it. `dir` holds
 * policy.json and gets the control socket and the state directory. `http`: the listener's address.
 */
export function startAgent(lab, backend, dir, timeoutMs = 30_000, http = undefined) {
  const args = [...AGENT_NODE_FLAGS, join(here, 'agent.js'), backend, join(dir, 'policy.json'), join(dir, 'control.sock'), join(dir, 'state'), ...(http ? [http] : [])];
  return startPinned(lab, lab.server, CONSUMER_CPU, process.execPath, args, (l) => l.includes('"event":"start"'), timeoutMs, AGENT_NODE_ENV);
}

/** Peak resident set (VmHWM) of a process, in MiB; null once it is gone. */
export function peakRssMiB(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? mibOfKb(m[1]) : null;
  } catch {
    return null;
  }
}

/** A socket on the flooded port that nobody reads, for `seconds`: packets count as arrived, none is answered. */
export function startUdpSink(lab, seconds) {
  const script = `import socket,time\ns=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM)\ns.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_V6ONLY,0)\ns.bind(('::',${FLOOD_PORT}))\ntime.sleep(${seconds})`;
  return lab.spawn(lab.server, '/usr/bin/python3', ['-c', script], { stdio: 'ignore' });
}

/** UDP datagrams of `family` that reached the server's UDP layer (delivered, no port, or dropped at a full socket). */
export async function udpArrived(lab, family = 4) {
  const keys = ['InDatagrams', 'NoPorts', 'InErrors'];
  if (family === 6) {
    const { stdout } = await lab.exec(lab.server, 'cat', ['/proc/net/snmp6']);
    const value = new Map(stdout.split('\n').map((l) => l.trim().split(/\s+/)));
    return keys.reduce((sum, k) => sum + Number(value.get(`Udp6${k}`)), 0);
  }
  const { stdout } = await lab.exec(lab.server, 'cat', ['/proc/net/snmp']);
  const [names, values] = stdout.split('\n').filter((l) => l.startsWith('Udp:')).map((l) => l.split(/\s+/).slice(1));
  return keys.reduce((sum, k) => sum + Number(values[names.indexOf(k)]), 0);
}

/** queue_dropped + user_dropped of a queue, from the server namespace's nfnetlink_queue table. */
export async function queueDrops(lab, num = 0) {
  const { stdout } = await lab.exec(lab.server, 'cat', ['/proc/net/netfilter/nfnetlink_queue']);
  for (const line of stdout.split('\n')) {
    const f = line.trim().split(/\s+/).map(Number);
    if (f[0] === num && f.length >= 7) return { queueDropped: f[5], userDropped: f[6] };
  }
  return { queueDropped: 0, userDropped: 0 };
}

/**
 * The sender floods the server for `seconds` (one flow, or one from each of the attacker's
 * addresses in `sources`); packets per second sent and arrived past the firewall, and the sender's
 * CPU time per packet sent.
 */
export async function udpFlood(lab, tools, seconds, sources = []) {
  const before = await udpArrived(lab);
  // SOURCES comes after PAYLOAD_BYTES and MAX_PACKETS: given as the sender's defaults.
  const flows = sources.length ? ['18', '100000000', sources.join(',')] : [];
  const r = await lab.exec(lab.attacker.ns, 'taskset', ['-c', SENDER_CPU, tools.udpFlood, lab.attacker.server4, String(FLOOD_PORT), String(seconds), ...flows], { timeoutMs: seconds * 1000 + 15_000 });
  // Let the queue empty before counting.
  await new Promise((r) => setTimeout(r, 300));
  const after = await udpArrived(lab);
  const sent = JSON.parse(r.stdout);
  return { sentPps: Math.round(sent.sent / sent.seconds), pps: Math.round((after - before) / sent.seconds), cpuNsPerPacket: Math.round((sent.cpu * 1e9) / sent.sent) };
}

/** Round trips of `count` datagrams, each the first of a new flow, to the echo service. */
export async function udpRtt(lab, tools, count) {
  const r = await lab.exec(lab.attacker.ns, 'taskset', ['-c', SENDER_CPU, tools.udpRtt, 'ping', lab.attacker.server4, String(ECHO_PORT), String(count)], { timeoutMs: count * 250 + 10_000 });
  return JSON.parse(r.stdout);
}

/** The share of all cores busy during the next second. */
async function busyShare() {
  const times = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return { total: f.reduce((a, b) => a + b, 0), idle: f[3] + f[4] };
  };
  const a = times();
  await new Promise((r) => setTimeout(r, 1000));
  const b = times();
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}

/**
 * Waits (at most `maxMs`) for a second in which the machine is idle: on a shared machine, a run
 * that overlaps someone else's load measures theirs too. Resolves with the milliseconds waited.
 */
export async function untilIdle(maxMs = 60_000) {
  const start = Date.now();
  while ((await busyShare()) > 0.1 && Date.now() - start < maxMs);
  return Date.now() - start;
}

/** TCP throughput of one established flow (iperf3, `seconds` long, started on an idle machine) from the client peer, in Gbit/s. */
export async function tcpThroughput(lab, seconds) {
  const server = await startPinned(lab, lab.server, CONSUMER_CPU, 'iperf3', ['-s', '-1', '-p', '5201', '--forceflush'], (l) => /Server listening/.test(l));
  try {
    await untilIdle();
    const r = await lab.exec(lab.client.ns, 'taskset', ['-c', SENDER_CPU, 'iperf3', '-c', lab.client.server4, '-p', '5201', '-t', String(seconds), '-J'], { timeoutMs: seconds * 1000 + 20_000 });
    return Math.round(JSON.parse(r.stdout).end.sum_received.bits_per_second / 1e7) / 100;
  } finally {
    await server.stop();
  }
}
