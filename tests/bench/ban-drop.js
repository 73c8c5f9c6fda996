// The ban-drop section: what a banned source's flood costs the server, by where it is dropped, in
// one lab and one run. One flow of small UDP datagrams from one banned address (an alias on the
// attacker's link), the sender pinned to CPU 0 and flat out. On veth the receiving side's work
// runs on the sending core (the softirq after each send), so the sender's rate is what each way
// of dropping leaves it, and 1e9 / rate is the ns one packet costs that core, sending included:
// the difference between two rows is the difference of their receive paths. On a shared machine
// the rate also follows the sender's share of its core; its CPU time per packet does not (the
// softirq work is in it: udp-flood.c), so both are reported, with what ksoftirqd took instead.
// Rows rotate within each round, so drift in the machine's other load falls on all of them. Each
// reports its median rate and the median of each round's difference to the reference; and its
// CPU time per packet, median and best: other load only ever adds to it, so the best run of each
// row is the one least disturbed (as hot-path.js reports its best round).
import { readdirSync, readFileSync } from 'node:fs';
import { CONNTRACK_RULE, FLOOD_PORT, loadavg, median, SENDER_CPU, udpArrived, udpFlood } from './measure.js';
import { KernelFirewall } from '../../agent/dist/kernel/apply.js';
import { realRunner } from '../../agent/dist/kernel/exec.js';
import { setNames } from '../../agent/dist/kernel/names.js';
import { renderKernel } from '../../agent/dist/kernel/render.js';
import { parsePolicy } from '../../agent/dist/policy/load.js';
import { benchPolicy } from './policy.js';
import { attachXdp, banInXdp, detachXdp } from './xdp.js';

/** The server's end of the attacker's link (lab.ts names it s1): where the flood comes in. */
const SERVER_DEV = 's1';
/** Datagrams of each check of the XDP program (bounded; the sender stops at 2 s too). */
const CHECK_PACKETS = 2000;

const BAN_SET = setNames(4).ban;
const plan = renderKernel(parsePolicy(benchPolicy, 'bench').policy);
const banned = (k) => k.lab.exec(k.lab.server, 'ipset', ['add', BAN_SET, k.source.ip4, '-exist']);
const filterDrop = ['INPUT', '-m', 'set', '--match-set', BAN_SET, 'src', '-j', 'DROP'];

function xdpRow(mode) {
  return {
    name: `xdp-${mode}`,
    what: `the bench's XDP program (tests/bench/xdp-drop.c), ${mode === 'generic' ? '`xdpgeneric` (after the skb is built)' : '`xdpdrv` (native on veth)'}, the source in its map`,
    up: async (k) => {
      const attached = await attachXdp(k.lab, k.lab.server, SERVER_DEV, k.xdpObject, mode);
      for (const a of [k.source.ip4, k.source.ip6]) await banInXdp(k.lab, k.lab.server, attached, a);
      k.checks[mode] ??= await checkXdp(k);
    },
    down: (k) => detachXdp(k.lab, k.lab.server, SERVER_DEV, mode),
  };
}

/** Each row puts its way of dropping into the server namespace (`up`) and takes it out again (`down`, also after a failed `up`). */
export const BAN_DROP_ROWS = [
  { name: 'none', what: "no rules (the built-in chains vpsfw's layout hooks, empty), no drop: the flood reaches the UDP socket (the reference)", up: async () => {}, down: async () => {} },
  {
    name: 'vpsfw-raw',
    what: "vpsfw's rules as rendered (bench policy, KernelFirewall.apply), the source in the ban set: raw PREROUTING, before conntrack",
    up: async (k) => {
      await k.fw.apply(plan);
      await banned(k);
    },
    down: (k) => k.fw.remove(),
  },
  {
    // vpsfw's other rules stay out: its mangle INPUT chain would queue the flood (the bench
    // policy's payload rule watches the port) and drop it there, before filter, with no agent reading.
    name: 'filter',
    what: 'the same set dropped in filter INPUT (`-m set --match-set vpsfw-ban4 src -j DROP`, then a conntrack accept rule: a stateful firewall), no rules of vpsfw',
    up: async (k) => {
      await k.lab.exec(k.lab.server, 'ipset', ['restore'], { input: plan.ipset });
      await banned(k);
      await k.lab.exec(k.lab.server, 'iptables', ['-w', '-I', ...filterDrop]);
      await k.lab.exec(k.lab.server, 'iptables', ['-w', '-A', ...CONNTRACK_RULE]);
    },
    down: async (k) => {
      await k.lab.status(k.lab.server, 'iptables', ['-w', '-D', ...filterDrop]);
      await k.lab.status(k.lab.server, 'iptables', ['-w', '-D', ...CONNTRACK_RULE]);
      await k.fw.remove();
    },
  },
  xdpRow('generic'),
  xdpRow('native'),
];

/** `count` datagrams (bounded by count and 2 s) from `from` to the server's address of its family; how many reached its UDP layer. */
async function sendFrom(k, from, to, count) {
  const family = from.includes(':') ? 6 : 4;
  const before = await udpArrived(k.lab, family);
  await k.lab.exec(k.lab.attacker.ns, 'taskset', ['-c', SENDER_CPU, k.tools.udpFlood, to, String(FLOOD_PORT), '2', '18', String(count), from], { timeoutMs: 15_000 });
  await new Promise((r) => setTimeout(r, 200));
  return (await udpArrived(k.lab, family)) - before;
}

/**
 * The program does what it says, in both families: the attacker's own (unbanned) addresses get
 * through, the banned IPv6 address does not (the IPv4 one is the flood itself). Throws otherwise:
 * a drop that drops the wrong packets measures nothing.
 */
async function checkXdp(k) {
  const { attacker } = k.lab;
  const result = {
    passed4: await sendFrom(k, attacker.ip4, attacker.server4, CHECK_PACKETS),
    passed6: await sendFrom(k, attacker.ip6, attacker.server6, CHECK_PACKETS),
    banned6: await sendFrom(k, k.source.ip6, attacker.server6, CHECK_PACKETS),
    sent: CHECK_PACKETS,
  };
  if (result.passed4 < CHECK_PACKETS * 0.9 || result.passed6 < CHECK_PACKETS * 0.9 || result.banned6 > 0) throw new Error(`ban-drop: the XDP program misjudged its checks (${JSON.stringify(result)})`);
  return result;
}

const counter = (k, ns, dev, name) => k.lab.exec(ns, 'cat', [`/sys/class/net/${dev}/statistics/${name}`]).then((r) => Number(r.stdout));
/** Packets the veth pair lost on its own (the sender's tx_dropped: the receiver's ring full; the receiver's rx_dropped). */
const vethDrops = async (k) => (await counter(k, k.lab.attacker.ns, 'eth0', 'tx_dropped')) + (await counter(k, k.lab.server, SERVER_DEV, 'rx_dropped'));

/** ksoftirqd of the sender's core: softirq work the kernel deferred to it is not in the sender's own time. */
const ksoftirqd = readdirSync('/proc').find((p) => /^\d+$/.test(p) && readFileSync(`/proc/${p}/comm`, 'utf8').trim() === `ksoftirqd/${SENDER_CPU}`);
/** Its CPU time so far, ms (utime and stime, fields 14 and 15, in USER_HZ: 100 on Linux). */
function ksoftirqdMs() {
  const stat = readFileSync(`/proc/${ksoftirqd}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

async function floodOnce(k, seconds) {
  await k.lab.status(k.lab.server, 'conntrack', ['-F']);
  const veth = await vethDrops(k);
  const softirq = ksoftirqdMs();
  const flood = await udpFlood(k.lab, k.tools, seconds, [k.source.ip4]);
  const ksoftirqdCpuMs = ksoftirqdMs() - softirq;
  const lost = (await vethDrops(k)) - veth;
  const ct = await k.lab.status(k.lab.server, 'conntrack', ['-C']);
  return { sentPps: flood.sentPps, cpuNsPerPacket: flood.cpuNsPerPacket, arrivedPps: flood.pps, vethDrops: lost, ksoftirqdCpuMs, conntrack: Number(ct.stdout.trim()), load: loadavg() };
}

/** ns a packet costs the sender's core at `pps`. */
const nsAt = (pps) => 1e9 / pps;

/**
 * Runs the section: `rounds` rounds of every row for `seconds` each, in an order rotated every
 * round. `xdpObject` is the built xdp-drop.c (tools.js buildXdp).
 */
export async function banDrop(lab, tools, xdpObject, { rounds, seconds }) {
  const k = { lab, tools, xdpObject, source: await lab.attackerAlias(0), fw: new KernelFirewall(realRunner(['ip', 'netns', 'exec', lab.server])), checks: {} };
  // iptables-nft keeps a table's built-in chains, empty, once a rule was in it: put them there
  // before the first round, so the reference meets the same empty chains in every round.
  await k.fw.apply(plan);
  await k.fw.remove();
  const loadBefore = loadavg();
  const runs = new Map(BAN_DROP_ROWS.map((r) => [r.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < BAN_DROP_ROWS.length; i++) {
      const row = BAN_DROP_ROWS[(round + i) % BAN_DROP_ROWS.length];
      process.stderr.write(`bench: ban-drop round ${round + 1}: ${row.name} ...\n`);
      try {
        await row.up(k);
        runs.get(row.name).push({ round, ...(await floodOnce(k, seconds)) });
      } finally {
        await row.down(k);
      }
    }
  }
  // Each round's rows share that round's machine: their differences drift less than the medians.
  const paired = (name) => Math.round(median(runs.get(name).map((r) => nsAt(r.sentPps) - nsAt(runs.get('none').find((o) => o.round === r.round).sentPps))));
  const best = (name) => Math.min(...runs.get(name).map((r) => r.cpuNsPerPacket));
  const rows = BAN_DROP_ROWS.map((row) => {
    const r = runs.get(row.name);
    const sentPps = median(r.map((x) => x.sentPps));
    return {
      name: row.name,
      what: row.what,
      sentPps,
      nsPerPacket: Math.round(nsAt(sentPps)),
      nsOverNone: paired(row.name),
      cpuNsPerPacket: median(r.map((x) => x.cpuNsPerPacket)),
      cpuNsBest: best(row.name),
      cpuBestOverNone: best(row.name) - best('none'),
      cpuBestOverRaw: best(row.name) - best('vpsfw-raw'),
      arrivedPps: median(r.map((x) => x.arrivedPps)),
      vethDrops: median(r.map((x) => x.vethDrops)),
      ksoftirqdCpuMs: median(r.map((x) => x.ksoftirqdCpuMs)),
      conntrackMax: Math.max(...r.map((x) => x.conntrack)),
      runs: r,
    };
  });
  return { source: k.source.ip4, device: SERVER_DEV, rounds, seconds, payloadBytes: 18, loadBefore, loadAfter: loadavg(), checks: k.checks, rows };
}
