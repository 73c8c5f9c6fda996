// SYN floods from the benchmarking range (RFC 2544: 198.18.0.0/15), sent by syn-flood.c from the
// attacker namespace, and the lab routing that keeps the server's answers to those sources inside
// the lab: the server routes the range to the attacker namespace, which holds none of it and
// forwards nothing, so the SYN-ACKs die in its routing step (no RST, no ICMP: with forwarding off
// the kernel drops them silently).
import { SENDER_CPU } from './measure.js';

export const BENCH_RANGE = '198.18.0.0/15';
/** Host addresses syn-flood.c sends from in BENCH_RANGE (its network and broadcast addresses skipped). */
export const BENCH_RANGE_HOSTS = 131_070;
/** The source of a one-source flood (`sources` 1): the range's first host address. */
export const FIRST_HOST = '198.18.0.1';

async function sysctl(lab, ns, key) {
  return (await lab.exec(ns, 'sysctl', ['-n', key])).stdout.trim();
}

/**
 * Routes BENCH_RANGE from the server to the attacker namespace and checks that the server's
 * reverse-path filter lets the spoofed sources in; resolves with the settings it found.
 */
export async function routeBenchRange(lab) {
  await lab.exec(lab.server, 'ip', ['route', 'add', BENCH_RANGE, 'via', lab.attacker.ip4]);
  await lab.exec(lab.attacker.ns, 'sysctl', ['-qw', 'net.ipv4.ip_forward=0']);
  const [{ dev }] = JSON.parse((await lab.exec(lab.server, 'ip', ['-j', 'route', 'get', lab.attacker.ip4])).stdout);
  // The input route lookup for a spoofed source is where rp_filter would refuse it (EXDEV).
  const check = await lab.status(lab.server, 'ip', ['route', 'get', lab.attacker.server4, 'from', FIRST_HOST, 'iif', dev]);
  if (check.code !== 0) throw new Error(`the server would drop SYNs from ${BENCH_RANGE} on ${dev}: ${check.stderr.trim()}`);
  return {
    serverRpFilter: { all: Number(await sysctl(lab, lab.server, 'net.ipv4.conf.all.rp_filter')), [dev]: Number(await sysctl(lab, lab.server, `net.ipv4.conf.${dev}.rp_filter`)) },
    attackerForwarding: Number(await sysctl(lab, lab.attacker.ns, 'net.ipv4.ip_forward')),
  };
}

const SERVER_COUNTERS = ['IpInReceives', 'IpInHdrErrors', 'TcpInSegs', 'TcpInCsumErrors', 'TcpExtIPReversePathFilter', 'TcpExtSyncookiesSent'];
const ATTACKER_COUNTERS = ['IpInReceives', 'IpInAddrErrors', 'IpInNoRoutes', 'TcpOutRsts', 'IcmpOutMsgs'];

async function nstat(lab, ns, names) {
  return JSON.parse((await lab.exec(ns, 'nstat', ['-asz', '--json', ...names])).stdout).kernel;
}

/** The counters that show where the flood's packets went. */
async function counters(lab) {
  const [link] = JSON.parse((await lab.exec(lab.attacker.ns, 'ip', ['-j', '-s', 'link', 'show', 'dev', 'eth0'])).stdout);
  return { server: await nstat(lab, lab.server, SERVER_COUNTERS), attacker: await nstat(lab, lab.attacker.ns, ATTACKER_COUNTERS), attackerTx: link.stats64.tx.packets };
}

function containment(before, after, sent) {
  const d = (side, k) => (after[side][k] ?? 0) - (before[side][k] ?? 0);
  return {
    serverIpIn: d('server', 'IpInReceives'),
    serverTcpIn: d('server', 'TcpInSegs'),
    serverChecksumErrors: d('server', 'IpInHdrErrors') + d('server', 'TcpInCsumErrors'),
    serverRpFilterDrops: d('server', 'TcpExtIPReversePathFilter'),
    serverSyncookiesSent: d('server', 'TcpExtSyncookiesSent'),
    // The server's answers reaching the attacker namespace, and how many of them it dropped unanswered.
    attackerIpIn: d('attacker', 'IpInReceives'),
    attackerDropped: d('attacker', 'IpInAddrErrors') + d('attacker', 'IpInNoRoutes'),
    attackerRsts: d('attacker', 'TcpOutRsts'),
    attackerIcmp: d('attacker', 'IcmpOutMsgs'),
    // Whatever the attacker namespace sent besides the SYNs: an ARP exchange or two, never answers.
    attackerOtherTx: after.attackerTx - before.attackerTx - sent,
  };
}

/**
 * SYNs to the server's `port` on the attacker's link, from the first `sources` host addresses of
 * BENCH_RANGE in turn (1: FIRST_HOST alone), pinned to the sender core, bounded by `count`,
 * `seconds` and `rate` (packets/s). Resolves when it ends (and the answers have settled) with what
 * was sent and where the packets went; `startedAt` is when it was spawned.
 */
export async function synFlood(lab, tools, { port, sources, count, rate, seconds }) {
  const before = await counters(lab);
  const args = ['-d', lab.attacker.server4, '-p', String(port), '-s', BENCH_RANGE, '-n', String(sources), '-t', String(seconds), '-c', String(count), '-r', String(rate)];
  const startedAt = Date.now();
  const r = await lab.exec(lab.attacker.ns, 'taskset', ['-c', SENDER_CPU, tools.synFlood, ...args], { timeoutMs: seconds * 1000 + 15_000 });
  const sent = JSON.parse(r.stdout);
  await new Promise((resolve) => setTimeout(resolve, 500));
  return { startedAt, sent: sent.sent, errors: sent.errors, seconds: sent.seconds, pps: Math.round(sent.sent / sent.seconds), contained: containment(before, await counters(lab), sent.sent) };
}
