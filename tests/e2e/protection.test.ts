// Protection that never lapses, on a real kernel: a stop during a reload ends with everything or
// nothing; `vpsfw reload` reports a refusal; queue overflow never admits what the policy refuses
// (fail-open) and is counted as the kernel counts it; the unspecified address is never banned; a
// restart with --keep-rules keeps bans and refusals in force; reloads do not grow the agent.
import t, { type Test } from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, VPSFW_BIN, type AgentProcess } from '../../agent/src/demo/agent-process.js';
import type { PolicyInput } from '../../agent/src/policy/schema.js';
import { agentLab, kernelSnapshot, testPolicy } from '../lib/agent-lab.js';
import { labFor, type Lab } from '../lib/netns.js';
import { tcp6 } from '../lib/packets.js';

const status = async (agent: AgentProcess) => JSON.parse((await agent.cli(['status', '--json'])).stdout) as {
  queue: { received: number; unjudged: number; kernel: { inQueue: number; queueDropped: number } | null };
  kernel: { counters: { queued: number; unspecifiedSource: number } };
  bans: { active: number };
  memory: { rss: number };
  reloads: { accepted: number; rejected: number };
};

t.test('a stop during a reload ends with everything or nothing, 20 times', async (t) => {
  const lab = await labFor(t);
  const before = await kernelSnapshot(lab);
  let nothing = 0;
  for (let i = 0; i < 20; i++) {
    const agent = await startAgent({ ns: lab.server, policy: testPolicy() });
    agent.writePolicy(testPolicy({ denyNetworks: [`203.0.113.${i}/32`] }));
    const reload = agent.cli(['reload']);
    // Let the reload get under way (its child process is loading the policy), then stop.
    await new Promise((r) => setTimeout(r, 50 + (i % 5) * 60));
    t.equal(await agent.stop(), 0, `run ${i}: exit 0`);
    await reload;
    if ((await kernelSnapshot(lab)) === before) nothing++;
  }
  t.equal(nothing, 20, 'without --keep-rules the agent removes everything, whenever the stop comes');

  const kept = await startAgent({ ns: lab.server, policy: testPolicy(), extraArgs: ['--keep-rules'] });
  kept.writePolicy(testPolicy({ denyNetworks: ['203.0.113.99/32'] }));
  const reload = kept.cli(['reload']);
  await new Promise((r) => setTimeout(r, 100));
  t.equal(await kept.stop(), 0);
  await reload;
  const after = await kernelSnapshot(lab);
  t.match(after, /VPSFW-INPUT/, 'with --keep-rules everything stays in force, for the rules unit to remove');
  t.match((await lab.exec(lab.server, 'iptables', ['-t', 'mangle', '-S', 'INPUT'])).stdout, /-j VPSFW-INPUT/, 'jump and chain together');
  await lab.exec(lab.server, process.execPath, [VPSFW_BIN, 'cleanup']);
  t.equal(await kernelSnapshot(lab), before, 'and `vpsfw cleanup` removes it');
});

t.test('vpsfw reload waits for the outcome: exit 0 and the hash, or exit 1 naming the field', async (t) => {
  const { agent } = await agentLab(t, testPolicy());
  agent.writePolicy(testPolicy({ denyNetworks: ['203.0.113.0/24'] }));
  const ok = await agent.cli(['reload']);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /reloaded .* \(policy [0-9a-f]{16}\)/);
  agent.writePolicy({ version: 1, rules: [{ name: 'bad', action: 'accept', protocol: 'tcp', localPorts: [0] }] });
  const bad = await agent.cli(['reload']);
  t.equal(bad.code, 1, 'a rejected policy fails the command');
  t.match(bad.stderr, /rules\.0\.localPorts\.0: .*\(got 0\)/, 'with the field and the value');
  agent.writePolicy(testPolicy({ queue: { num: 5 } }));
  const restart = await agent.cli(['reload']);
  t.equal(restart.code, 1);
  t.match(restart.stderr, /queue\.num: cannot change while running: restart the service \(got 5\)/);
  t.match((await status(agent)).reloads, { accepted: 1, rejected: 2 });
});

/** A UDP listener in the server namespace that counts datagrams per port, and says the count on SIGUSR2. */
const COUNTER = `
const dgram = require('node:dgram');
const counts = {};
for (const port of process.argv.slice(1).map(Number)) {
  counts[port] = 0;
  dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 22 }).on('message', () => counts[port]++).bind(port);
}
process.on('SIGUSR2', () => process.stdout.write(JSON.stringify(counts) + '\\n'));
setTimeout(() => process.exit(0), 120000);
`;
/** Sends N datagrams to each port, as fast as the socket takes them. */
const BLAST = `
const dgram = require('node:dgram');
const [host, n, ...ports] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
let left = Number(n) * ports.length;
for (let i = 0; i < Number(n); i++) for (const p of ports) s.send('x', Number(p), host, () => { if (--left === 0) s.close(); });
`;

async function overflow(t: Test, failMode: 'open' | 'closed') {
  const policy: PolicyInput = testPolicy({
    queue: { failMode, maxLen: 16 },
    rules: [{ name: 'app', action: 'accept', protocol: 'udp', localPorts: [5353] }],
    // A rate limit makes the open port's datagrams something the agent judges (so they are queued).
    rateLimits: [{ name: 'app-rate', protocol: 'udp', localPorts: [5353], rate: 100_000, burst: 100_000 }],
  });
  const { lab, agent } = await agentLab(t, policy);
  const counter = lab.spawn(lab.server, process.execPath, ['-e', COUNTER, '5353', '5354'], { stdio: ['ignore', 'pipe', 'ignore'] });
  t.teardown(() => counter.kill());
  await new Promise((r) => setTimeout(r, 500));
  // The agent stopped: the queue fills after 16 packets; what it cannot take meets the fail mode.
  agent.child.kill('SIGSTOP');
  await lab.exec(lab.client.ns, process.execPath, ['-e', BLAST, lab.client.server4, '200', '5353', '5354']);
  await new Promise((r) => setTimeout(r, 300));
  agent.child.kill('SIGCONT');
  await new Promise((r) => setTimeout(r, 1500));
  const counts = await new Promise<Record<string, number>>((resolve) => {
    counter.stdout!.once('data', (d: Buffer) => resolve(JSON.parse(String(d)) as Record<string, number>));
    counter.kill('SIGUSR2');
  });
  const s = await status(agent);
  t.equal(counts['5354'], 0, `fail-${failMode}: not one datagram reached the closed port`);
  t.equal(s.kernel.counters.queued, 200, 'the kernel queued the 200 to the open port (counted by our NFQUEUE rule)');
  t.equal(s.queue.unjudged, s.kernel.counters.queued - s.queue.received - (s.queue.kernel?.inQueue ?? 0), 'unjudged is what the kernel queued less what the agent judged');
  t.ok(s.queue.unjudged >= 150, `most overflowed (${s.queue.unjudged} unjudged, ${s.queue.received} judged)`);
  if (failMode === 'open') t.equal(counts['5353'], 200, 'fail-open: every datagram to the open port arrived, judged or not');
  else {
    t.equal(counts['5353'], s.queue.received, 'fail-closed: only the judged ones arrived');
    t.equal(s.queue.unjudged, s.queue.kernel?.queueDropped, 'and the kernel counted the rest as dropped by the full queue');
  }
  await agent.waitFor((e) => e.event === 'overflow' && e.failMode === failMode, 15_000, 'the overflow event');
  await agent.waitFor((e) => e.event === 'overflow-end', 15_000, 'the overflow-end event');
}

t.test('overflow, fail-open: never reaches a closed port; counted', async (t) => overflow(t, 'open'));
t.test('overflow, fail-closed: dropped; counted as the kernel counts it', async (t) => overflow(t, 'closed'));

t.test('a spoofed source :: is dropped in the kernel and never banned; vpsfw ban :: is refused', async (t) => {
  const { lab, agent } = await agentLab(t, testPolicy({ detectors: { synFlood: { perSource: { rate: 1, burst: 2 } } } }));
  const frames = Array.from({ length: 50 }, (_, i) => tcp6({ src: '::', dst: lab.attacker.server6, srcPort: 1000 + i, dstPort: 8080, flags: 0x02 }).toString('hex'));
  await sendRaw6(lab, frames);
  const s = await status(agent);
  t.equal(s.kernel.counters.unspecifiedSource, 50, 'each counted by the kernel');
  t.equal(s.bans.active, 0, 'nobody banned');
  const refused = await agent.cli(['ban', '::']);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /::.*(never|cannot|unspecified)/i, 'a clear refusal naming the address');
  t.notMatch((await lab.exec(lab.server, 'ipset', ['list', 'vpsfw-ban6'])).stdout, /^::$/m, 'the set holds no ::');
});

/** Sends raw IPv6 packets (hex) from the attacker's side of its link. */
async function sendRaw6(lab: Lab, frames: string[]): Promise<void> {
  const script = `import socket,sys
s=socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
for h in sys.stdin.read().split():
    p=bytes.fromhex(h); dst=socket.inet_ntop(socket.AF_INET6, p[24:40])
    s.sendto(p,(dst,0))
`;
  await lab.exec(lab.attacker.ns, 'python3', ['-c', script], { input: frames.join('\n') });
}

t.test('reloads do not grow the agent: at the sizing point (100,000 bans), 100 reloads stay within 10 % of its memory without them', async (t) => {
  const stateDir = mkdtempSync(join(tmpdir(), 'vpsfw-state-'));
  t.teardown(() => rmSync(stateDir, { recursive: true, force: true }));
  mkdirSync(stateDir, { recursive: true });
  const until = Date.now() + 3_600_000;
  const records = Array.from({ length: 100_000 }, (_, i) => JSON.stringify({ type: 'ban', address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, family: 4, since: Date.now(), until, reason: 'test', by: 'control', offense: 1 }));
  writeFileSync(join(stateDir, 'bans.json'), [JSON.stringify({ version: 2 }), ...records, ''].join('\n'));
  const lab = await labFor(t);
  const agent = await startAgent({ ns: lab.server, policy: testPolicy(), stateDir });
  t.teardown(() => agent.stop());
  t.equal((await status(agent)).bans.active, 100_000, 'the bans restored');
  const settle = async () => {
    await new Promise((r) => setTimeout(r, 1500));
    return (await status(agent)).memory.rss;
  };
  // A first reload allocates what every reload needs once; the baseline is after it.
  await agent.cli(['reload']);
  const base = await settle();
  for (let i = 0; i < 100; i++) {
    agent.writePolicy(testPolicy({ denyNetworks: [`203.0.113.${i}/32`] }));
    const r = await agent.cli(['reload']);
    if (r.code !== 0) t.fail(`reload ${i}: ${r.stderr}`);
  }
  const after = await settle();
  t.comment(`RSS ${(base / 1048576).toFixed(1)} MiB before, ${(after / 1048576).toFixed(1)} MiB after 100 reloads`);
  t.ok(after <= base * 1.1, `within 10 % (${((after / base - 1) * 100).toFixed(1)} %)`);
  t.ok(after < 80 * 1024 * 1024, 'under 80 MiB');
});
