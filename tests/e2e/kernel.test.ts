// The kernel layer on a real kernel, with no agent: render → apply → traffic → remove, inside a lab's
// server namespace (the firewall code runs there through `ip netns exec`). What needs no judgement
// is proved with real connections: denied networks and bans drop in raw (open flows too), the
// static rules refuse closed ports with nobody on the queue, the allowlist returns, established
// flows take the fast path, fail-open lets queued packets pass with nobody on the queue and
// fail-closed does not, the kernel builds the RST for a reject-marked packet, a flow marked done
// is queued no more, IPv6 neighbour discovery survives a ban. Foreign rules and sets (as NixOS'
// firewall or ufw keep) are there throughout and come out untouched; apply is idempotent and
// remove leaves the tables as they were.
import t, { type Test } from 'tap';
import { ipsetBanKernel } from '../../agent/src/bans/kernel-set.js';
import { pingCount, probe, startService } from '../../agent/src/demo/probes.js';
import { KernelFirewall } from '../../agent/src/kernel/apply.js';
import { realRunner, type CommandRunner } from '../../agent/src/kernel/exec.js';
import { CONNMARK_DONE_IN, MARK_MASK, REJECT_MARK } from '../../agent/src/kernel/names.js';
import { renderKernel, type KernelPlan } from '../../agent/src/kernel/render.js';
import { parsePolicy } from '../../agent/src/policy/load.js';
import type { PolicyInput } from '../../agent/src/policy/schema.js';
import { kernelSnapshot } from '../lib/agent-lab.js';
import { labFor, type Lab } from '../lib/netns.js';

/** 22: accepted by the foreign nixos-fw chain; 7070: dropped by the foreign ufw-like chain. */
const PORTS = [22, 7070, 8080, 9090];

/** 8080 and 22 open, 9090 open too unless said otherwise; the rest closed; every SYN judged (synFlood). */
const OPEN: NonNullable<PolicyInput['rules']> = [{ name: 'open', action: 'accept', protocol: 'tcp', localPorts: [22, 8080, 9090] }];
const planOf = (doc: Omit<PolicyInput, 'version'>): KernelPlan => renderKernel(parsePolicy({ version: 1, rules: OPEN, ...doc }, 'test').policy);

interface KernelLab {
  lab: Lab;
  runner: CommandRunner;
  fw: KernelFirewall;
}

/** A lab whose server runs the answering service and already has foreign rules and a foreign set. */
async function kernelLab(t: Test): Promise<KernelLab> {
  const lab = await labFor(t);
  const service = startService(lab, lab.server, PORTS);
  t.teardown(() => service.kill());
  const runner = realRunner(['ip', 'netns', 'exec', lab.server]);
  for (const tables of ['iptables', 'ip6tables']) {
    const ipt = (...args: string[]) => runner.run(tables, ['-w', ...args]);
    await ipt('-N', 'nixos-fw');
    await ipt('-A', 'nixos-fw', '-p', 'tcp', '--dport', '22', '-j', 'ACCEPT');
    await ipt('-A', 'nixos-fw', '-j', 'RETURN');
    await ipt('-A', 'INPUT', '-j', 'nixos-fw');
    await ipt('-N', 'ufw-user-input');
    await ipt('-A', 'ufw-user-input', '-p', 'tcp', '--dport', '7070', '-j', 'DROP');
    await ipt('-A', 'INPUT', '-j', 'ufw-user-input');
  }
  await runner.run('ipset', ['create', 'foreign', 'hash:ip']);
  await runner.run('ipset', ['add', 'foreign', '192.0.2.99']);
  return { lab, runner, fw: new KernelFirewall(runner) };
}

/** Packets counted by the rules of ours whose comment is `vpsfw: <comment>`, in any table. */
async function packets(k: KernelLab, family: 4 | 6, comment: string): Promise<number> {
  let found = false;
  let n = 0;
  for (const table of ['raw', 'mangle', 'filter']) {
    const { stdout } = await k.runner.run(family === 4 ? 'iptables-save' : 'ip6tables-save', ['-c', '-t', table]);
    for (const line of stdout.split('\n').filter((l) => l.includes('-A VPSFW-') && l.includes(`--comment "vpsfw: ${comment}"`))) {
      found = true;
      n += Number(/^\[(\d+):/.exec(line)?.[1]);
    }
  }
  if (!found) throw new Error(`no rule with comment ${comment} in IPv${family}`);
  return n;
}

/** Resolves once the rule with this comment has counted more than `than` packets (bounded wait). */
async function counted(k: KernelLab, family: 4 | 6, comment: string, than: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await packets(k, family, comment)) > than) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`IPv${family}: ${comment} never counted more than ${than}`);
}

/** Eight chunks 400 ms apart from the attacker (or `local`): a flow that stays open long enough to be cut. */
const longFlow = (lab: Lab, family: 4 | 6, local?: string) =>
  probe(lab, lab.attacker.ns, family === 4 ? lab.attacker.server4 : lab.attacker.server6, 8080, { chunks: Array.from({ length: 8 }, (_, i) => `chunk ${i}`), gapMs: 400, ...(local === undefined ? {} : { local }) });

/** Connects from the attacker (optionally from one of its other addresses) to the server. */
const fromAttacker = (lab: Lab, family: 4 | 6, port: number, local?: string) =>
  probe(lab, lab.attacker.ns, family === 4 ? lab.attacker.server4 : lab.attacker.server6, port, local === undefined ? {} : { local });
const fromClient = (lab: Lab, family: 4 | 6, port: number) => probe(lab, lab.client.ns, family === 4 ? lab.client.server4 : lab.client.server6, port);

t.test('apply is idempotent, replaces only our rules, and remove leaves the tables exactly as before', async (t) => {
  const k = await kernelLab(t);
  const before = await kernelSnapshot(k.lab);
  t.equal(await k.fw.installed(), false);

  const open = planOf({ denyNetworks: ['203.0.113.0/24'] });
  await k.fw.apply(open);
  const once = await kernelSnapshot(k.lab);
  t.not(once, before, 'the plan is in the kernel');
  t.equal(await k.fw.installed(), true);
  await k.fw.apply(open);
  // Refilled sets are new sets swapped in, each with its own random hash seed: the one difference allowed.
  const seedless = (s: string) => s.replace(/ initval 0x[0-9a-f]+/g, '');
  t.equal(seedless(await kernelSnapshot(k.lab)), seedless(once), 'applying twice is applying once');

  for (const tables of ['iptables', 'ip6tables']) {
    const rules = async (table: string, chain: string) => (await k.runner.run(tables, ['-w', '-t', table, '-S', chain])).stdout.split('\n').filter((l) => l.startsWith('-A '));
    t.same(await rules('filter', 'INPUT'), ['-A INPUT -j VPSFW-REJECT', '-A INPUT -j nixos-fw', '-A INPUT -j ufw-user-input'], `${tables}: one jump of ours in filter INPUT, first; foreign jumps kept`);
    t.same(await rules('mangle', 'INPUT'), ['-A INPUT -j VPSFW-INPUT'], `${tables}: mangle INPUT`);
    t.same(await rules('raw', 'PREROUTING'), ['-A PREROUTING -j VPSFW-RAW'], `${tables}: raw PREROUTING`);
    t.match((await k.runner.run(tables, ['-w', '-S', 'nixos-fw'])).stdout, /--dport 22 -j ACCEPT\n-A nixos-fw -j RETURN/, `${tables}: foreign chain not flushed`);
  }

  await k.fw.apply(planOf({ queue: { failMode: 'closed' } }));
  const queue = (await k.runner.run('iptables', ['-w', '-t', 'mangle', '-S', 'VPSFW-QUEUE'])).stdout;
  t.match(queue, /NFQUEUE --queue-num 0/, 'the new plan is in');
  t.notMatch(queue, /queue-bypass/, 'the old rules are gone');
  t.notMatch((await k.runner.run('ipset', ['list', 'vpsfw-deny4'])).stdout, /203\.0\.113/, 'deny set refilled, old networks gone');
  t.match((await k.runner.run('ipset', ['list', 'foreign'])).stdout, /192\.0\.2\.99/, 'foreign set untouched');

  await k.fw.remove();
  t.equal(await kernelSnapshot(k.lab), before, 'iptables-save, ip6tables-save and ipset list as before apply');
  t.equal(await k.fw.installed(), false);
  await k.fw.remove();
  t.equal(await kernelSnapshot(k.lab), before, 'remove with nothing installed changes nothing');
});

t.test('remove repairs leftovers: duplicate jumps, a chain without jump, a stray temporary set', async (t) => {
  const k = await kernelLab(t);
  const before = await kernelSnapshot(k.lab);
  await k.fw.apply(planOf({}));
  await k.runner.run('iptables', ['-w', '-t', 'mangle', '-A', 'INPUT', '-j', 'VPSFW-INPUT']);
  await k.runner.run('ip6tables', ['-w', '-t', 'mangle', '-D', 'OUTPUT', '-j', 'VPSFW-OUTPUT']);
  // A chain of the first layout, left by an older version.
  await k.runner.run('iptables', ['-w', '-N', 'VPSFW-ESTABLISHED']);
  await k.runner.run('ipset', ['create', 'vpsfw-deny4-new', 'hash:net', 'maxelem', '1048576']);
  await k.fw.remove();
  t.equal(await kernelSnapshot(k.lab), before);
});

t.test('denied networks are dropped in raw; fail-open lets what the rules accept pass with no agent, never what they refuse', async (t) => {
  const k = await kernelLab(t);
  await k.fw.apply(planOf({ queue: { failMode: 'open' }, denyNetworks: ['203.0.113.0/24', '2001:db8:bad::/48'], rules: [{ name: 'open', action: 'accept', protocol: 'tcp', localPorts: [8080] }] }));
  for (const family of [4, 6] as const) {
    const denied = family === 4 ? k.lab.denied4 : k.lab.denied6;
    t.equal((await fromAttacker(k.lab, family, 8080, denied)).connected, false, `IPv${family}: denied source cannot connect`);
    t.ok((await packets(k, family, 'denied network')) > 0, `IPv${family}: dropped by the deny rule`);
    const queuedBefore = await packets(k, family, 'judged by the agent');
    t.equal((await fromAttacker(k.lab, family, 8080)).replies, 1, `IPv${family}: other source connects (bypass)`);
    t.ok((await packets(k, family, 'judged by the agent')) > queuedBefore, `IPv${family}: its new connection went to the queue`);
    t.equal((await fromAttacker(k.lab, family, 9090)).connected, false, `IPv${family}: a closed port stays closed with nobody judging`);
    t.ok((await packets(k, family, 'default inbound')) > 0, `IPv${family}: refused by the kernel's default rule`);
  }
});

t.test('fail-closed: with no agent new connections fail; the allowlist returns to the rules after ours', async (t) => {
  const k = await kernelLab(t);
  await k.fw.apply(planOf({ queue: { failMode: 'closed' }, bans: { allowlist: ['127.0.0.0/8', '::1/128', `${k.lab.client.ip4}/32`, `${k.lab.client.ip6}/128`] } }));
  for (const family of [4, 6] as const) {
    t.equal((await fromAttacker(k.lab, family, 8080)).connected, false, `IPv${family}: queued with nobody listening, refused`);
    t.equal((await fromAttacker(k.lab, family, 22)).connected, false, `IPv${family}: our chain comes before the foreign ACCEPT on 22`);
    t.equal((await fromClient(k.lab, family, 8080)).replies, 1, `IPv${family}: allowlisted source never queued`);
    t.equal((await fromClient(k.lab, family, 7070)).connected, false, `IPv${family}: allowlisted is RETURN, not ACCEPT: the foreign DROP still applies`);
  }
});

t.test('the default allowlist (loopback) needs no lookup: loopback returns at lo, loopback sources from outside never reach us', async (t) => {
  const k = await kernelLab(t);
  await k.fw.apply(planOf({ queue: { failMode: 'closed' } }));
  t.teardown(() => k.fw.remove());
  t.notMatch((await k.runner.run('iptables-save', ['-t', 'mangle'])).stdout, /vpsfw-allow4/, 'no allowlist lookup rendered');
  for (const host of ['127.0.0.1', '::1']) t.equal((await probe(k.lab, k.lab.server, host, 8080)).replies, 1, `${host}: answered with no agent, fail-closed`);
  // Frames built by hand on the attacker's link, to the server's MAC: from loopback (5 per family),
  // then from the attacker's own addresses, which must reach the queue rule (the method works).
  const mac = (await k.lab.exec(k.lab.server, 'cat', ['/sys/class/net/s1/address'])).stdout.trim();
  const rx = async () => Number((await k.lab.exec(k.lab.server, 'cat', ['/sys/class/net/s1/statistics/rx_packets'])).stdout);
  const send = (src4: string, src6: string) =>
    k.lab.exec(k.lab.attacker.ns, '/usr/bin/python3', [
      '-c',
      `import logging; logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import Ether, IP, IPv6, UDP, sendp
e = Ether(dst="${mac}")
sendp([e/IP(src="${src4}", dst="${k.lab.attacker.server4}")/UDP(sport=4000, dport=9090)/b"x"] * 5 + [e/IPv6(src="${src6}", dst="${k.lab.attacker.server6}")/UDP(sport=4000, dport=9090)/b"x"] * 5, iface="eth0", verbose=0)`,
    ]);
  // UDP to 9090 is refused by the default rule: counting there shows the frames reached our rules.
  const judged = async () => [await packets(k, 4, 'default inbound'), await packets(k, 6, 'default inbound')];
  const before = { rx: await rx(), judged: await judged() };
  await send('127.0.0.1', '::1');
  t.ok((await rx()) - before.rx >= 10, 'the loopback-sourced frames reached the server');
  t.same(await judged(), before.judged, 'and the kernel dropped them before our rules, in both families');
  await send(k.lab.attacker.ip4, k.lab.attacker.ip6);
  const after = await judged();
  t.ok(after[0]! >= before.judged[0]! + 5 && after[1]! >= before.judged[1]! + 5, 'the same frames from the attacker\'s addresses reach our rules');
});

t.test('ban set entries drop their source over IPv4 and IPv6, survive a reload, and go away when deleted', async (t) => {
  const k = await kernelLab(t);
  const plan = planOf({ queue: { failMode: 'open' } });
  await k.fw.apply(plan);
  const bans = ipsetBanKernel(k.runner);
  const { ip4, ip6 } = k.lab.attacker;
  await bans.add(() => [
    { target: ip4, family: 4, seconds: 600 },
    { target: ip6, family: 6, seconds: 600 },
  ]);
  for (const family of [4, 6] as const) {
    t.equal((await fromAttacker(k.lab, family, 8080)).connected, false, `IPv${family}: banned source cannot connect`);
    t.equal((await fromClient(k.lab, family, 8080)).replies, 1, `IPv${family}: others can`);
  }
  const listed = await bans.list();
  t.match(listed, [{ target: ip4, family: 4 }, { target: ip6, family: 6 }]);
  t.ok(listed.every((b) => b.secondsLeft > 500 && b.secondsLeft <= 600), 'per-entry timeouts read back');

  await bans.add(() => [{ target: ip4, family: 4, seconds: 30 }]);
  t.ok((await bans.list()).find((b) => b.target === ip4)!.secondsLeft <= 30, 're-adding updates the timeout');

  await k.fw.apply(plan);
  t.equal((await bans.list()).length, 2, 'a reload keeps the bans');
  t.equal((await fromAttacker(k.lab, 4, 8080)).connected, false, 'and they still drop');

  await bans.del(ip4, 4);
  await bans.del(ip6, 6);
  await bans.del(ip6, 6);
  t.same(await bans.list(), [], 'deleted (deleting a missing ban is fine)');
  for (const family of [4, 6] as const) {
    t.equal((await fromAttacker(k.lab, family, 8080)).replies, 1, `IPv${family}: unbanned source connects`);
  }
});

t.test('a packet with the reject mark is answered by the kernel with a TCP reset', async (t) => {
  const k = await kernelLab(t);
  await k.fw.apply(planOf({ queue: { failMode: 'open' } }));
  // Stands in for the agent's NF_REPEAT: the mark is set before our mangle chain sees the packet.
  const mark = `0x${REJECT_MARK.toString(16)}/0x${MARK_MASK.toString(16)}`;
  for (const tables of ['iptables', 'ip6tables']) {
    await k.runner.run(tables, ['-w', '-t', 'mangle', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '9090', '-j', 'MARK', '--set-xmark', mark]);
  }
  for (const family of [4, 6] as const) {
    t.match(await fromAttacker(k.lab, family, 9090), { connected: false, error: 'ECONNREFUSED' }, `IPv${family}: refused at once, not timed out`);
    t.equal((await fromAttacker(k.lab, family, 8080)).replies, 1, `IPv${family}: unmarked traffic passes`);
  }
});

t.test('payload rules queue established packets on their ports; a flow marked done is queued no more', async (t) => {
  const k = await kernelLab(t);
  await k.fw.apply(planOf({ queue: { failMode: 'open' }, payloadRules: [{ name: 'whole-flow', protocol: 'tcp', localPorts: [8080, 9090], pattern: { text: 'x' }, action: 'log' }] }));
  const chunks = ['a'.repeat(100), 'b'.repeat(100), 'c'.repeat(100), 'd'.repeat(100), 'e'.repeat(100)];
  t.equal((await probe(k.lab, k.lab.client.ns, k.lab.client.server4, 8080, { chunks, gapMs: 50 })).replies, chunks.length, 'the flow works through the queue (bypass)');
  const whole = await packets(k, 4, 'payload rule whole-flow');
  t.ok(whole >= chunks.length, `every data segment of the watched flow is queued (${whole})`);
  t.ok((await packets(k, 4, 'payload inspection')) >= whole, 'marked packets go to the queue');
  // What the agent's done verdict leaves behind: the connmark bit on the flow (set here by conntrack).
  const before = await packets(k, 4, 'payload rule whole-flow');
  const flow = probe(k.lab, k.lab.client.ns, k.lab.client.server4, 9090, { chunks, gapMs: 300 });
  await counted(k, 4, 'payload rule whole-flow', before);
  const mark = `0x${CONNMARK_DONE_IN.toString(16)}`;
  await k.runner.run('iptables', ['-w', '-t', 'mangle', '-I', 'PREROUTING', '-p', 'tcp', '--dport', '9090', '-m', 'conntrack', '--ctstate', 'ESTABLISHED', '-j', 'CONNMARK', '--set-xmark', `${mark}/${mark}`]);
  const atDone = await packets(k, 4, 'payload rule whole-flow');
  t.equal((await flow).replies, chunks.length, 'the flow goes on');
  t.equal(await packets(k, 4, 'payload rule whole-flow'), atDone, 'and no more of it is queued');
  t.ok((await packets(k, 4, 'inspected enough')) >= 2, 'its packets go on at the done check');
  t.equal(await packets(k, 6, 'payload rule whole-flow'), 0, 'no IPv6 traffic, no IPv6 count');
});

t.test('established flows take the fast path: only their SYN is queued', async (t) => {
  const k = await kernelLab(t);
  await k.fw.apply(planOf({ queue: { failMode: 'open' } }));
  for (const family of [4, 6] as const) {
    const queued = await packets(k, family, 'judged by the agent');
    const fast = await packets(k, family, 'fast path');
    const chunks = ['a', 'b', 'c', 'd'];
    const r = await probe(k.lab, k.lab.client.ns, family === 4 ? k.lab.client.server4 : k.lab.client.server6, 8080, { chunks, gapMs: 50 });
    t.equal(r.replies, chunks.length, `IPv${family}: the flow works`);
    t.equal((await packets(k, family, 'judged by the agent')) - queued, 1, `IPv${family}: the SYN went to the queue, nothing else`);
    t.ok((await packets(k, family, 'fast path')) - fast >= chunks.length, `IPv${family}: every data segment took the fast path`);
  }
});

t.test('a ban cuts a flow that is already established; an allowlisted source is never cut', async (t) => {
  const k = await kernelLab(t);
  await k.fw.apply(planOf({ queue: { failMode: 'open' }, bans: { allowlist: [`${k.lab.client.ip4}/32`, `${k.lab.client.ip6}/128`] } }));
  const bans = ipsetBanKernel(k.runner);
  for (const family of [4, 6] as const) {
    const address = family === 4 ? k.lab.attacker.ip4 : k.lab.attacker.ip6;
    const before = await packets(k, family, 'fast path');
    const flow = longFlow(k.lab, family);
    // Banned once the flow is established and its first data went through.
    await counted(k, family, 'fast path', before + 1);
    await bans.add(() => [{ target: address, family, seconds: 600 }]);
    const r = await flow;
    t.ok(r.connected && r.replies >= 1 && r.replies < 8, `IPv${family}: the open flow got answers, then none after the ban (${r.replies} of 8)`);
    t.ok((await packets(k, family, 'banned')) > 0, `IPv${family}: dropped by the ban rule in raw`);
    await bans.del(address, family);

    // The store never bans an allowlisted source; if the set holds one anyway, the allowlist wins.
    await bans.add(() => [{ target: family === 4 ? k.lab.client.ip4 : k.lab.client.ip6, family, seconds: 600 }]);
    const chunks = ['a', 'b', 'c'];
    t.equal((await probe(k.lab, k.lab.client.ns, family === 4 ? k.lab.client.server4 : k.lab.client.server6, 8080, { chunks, gapMs: 50 })).replies, chunks.length, `IPv${family}: allowlisted and in the ban set: new and established packets pass`);
  }
});

t.test('a network denied by a reload cuts its open flows', async (t) => {
  const k = await kernelLab(t);
  await k.fw.apply(planOf({ queue: { failMode: 'open' } }));
  for (const family of [4, 6] as const) {
    const local = family === 4 ? k.lab.denied4 : k.lab.denied6;
    const before = await packets(k, family, 'fast path');
    const flow = longFlow(k.lab, family, local);
    await counted(k, family, 'fast path', before + 1);
    await k.fw.apply(planOf({ queue: { failMode: 'open' }, denyNetworks: ['203.0.113.0/24', '2001:db8:bad::/48'] }));
    const r = await flow;
    t.ok(r.connected && r.replies >= 1 && r.replies < 8, `IPv${family}: answers until the reload, none after (${r.replies} of 8)`);
    t.ok((await packets(k, family, 'denied network')) > 0, `IPv${family}: dropped by the deny rule in raw`);
    await k.fw.apply(planOf({ queue: { failMode: 'open' } }));
  }
});

t.test('IPv6 neighbour discovery from a banned source is still answered', async (t) => {
  const k = await kernelLab(t);
  await k.fw.apply(planOf({ queue: { failMode: 'open' } }));
  await ipsetBanKernel(k.runner).add(() => [{ target: k.lab.attacker.ip6, family: 6, seconds: 600 }]);
  const { ns, server6 } = k.lab.attacker;
  await k.lab.exec(ns, 'ip', ['-6', 'neigh', 'flush', 'dev', 'eth0']);
  // The echo request is dropped by the ban; the neighbour solicitation before it must not be.
  t.equal(await pingCount(k.lab, ns, server6, { count: 1, deadlineS: 2 }), 0, 'the banned source gets no echo reply (dropped in raw)');
  t.match((await k.lab.exec(ns, 'ip', ['-6', 'neigh', 'show', server6, 'dev', 'eth0'])).stdout, /lladdr [0-9a-f:]+/, 'but the server answered its neighbour solicitation');
});
