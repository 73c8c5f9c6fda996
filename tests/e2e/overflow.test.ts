// Queue overflow never admits what the policy refuses, and is counted as the kernel counts it;
// the unspecified address is dropped in the kernel and never banned.
import t, { type Test } from 'tap';
import type { PolicyInput } from '../../agent/src/policy/schema.js';
import { agentLab, agentStatus, testPolicy } from '../lib/agent-lab.js';
import type { Lab } from '../lib/netns.js';
import { tcp6 } from '../lib/packets.js';
import { waitFor } from '../lib/wait.js';

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
  const s = await agentStatus(agent);
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
  // The frames can wait a moment on the attacker's neighbour discovery of the server: once 0 of 50
  // were counted by a reading taken as the sender ended.
  const s = await waitFor('the kernel to count 50', 10_000, async () => {
    const now = await agentStatus(agent);
    return now.kernel.counters.unspecifiedSource >= 50 && now;
  }).catch(async (err: Error) => {
    throw new Error(`${err.message}: counted ${(await agentStatus(agent)).kernel.counters.unspecifiedSource}`);
  });
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

