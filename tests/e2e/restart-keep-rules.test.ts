// Protection outlives the agent process: with --keep-rules (what the units run), a banned source
// flooding the server gets no packet through at any moment of a restart, a closed port stays
// closed while no agent runs, and fail-closed admits no new connection in the gap.
import t from 'tap';
import { startAgent } from '../../agent/src/demo/agent-process.js';
import { probe } from '../../agent/src/demo/probes.js';
import type { PolicyInput } from '../../agent/src/policy/schema.js';
import { agentLab, testPolicy } from '../lib/agent-lab.js';

// Twenty seconds of flood around two agent lifetimes.
t.setTimeout(600_000);

/** Counts UDP datagrams per source address on a port, and says the counts on SIGUSR2. */
const COUNTER = `
const dgram = require('node:dgram');
const bySource = {};
const s = dgram.createSocket({ type: 'udp6', ipv6Only: false });
s.on('message', (_m, r) => { const a = r.address.replace(/^::ffff:/, ''); bySource[a] = (bySource[a] || 0) + 1; }).bind(Number(process.argv[1]));
process.on('SIGUSR2', () => process.stdout.write(JSON.stringify(bySource) + '\\n'));
setTimeout(() => process.exit(0), 120000);
`;

/** A bounded flood: one datagram every 2 ms from `from` for `ms`. */
const FLOOD = `
const dgram = require('node:dgram');
const [host, port, from, ms] = process.argv.slice(1);
const s = dgram.createSocket('udp4');
s.bind({ address: from }, () => {
  const timer = setInterval(() => s.send('x', Number(port), host), 2);
  setTimeout(() => { clearInterval(timer); s.close(); }, Number(ms));
});
`;

for (const failMode of ['open', 'closed'] as const) {
  t.test(`fail-${failMode}: a restart never lets a banned source through, nor anything the policy refuses`, async (t) => {
    const policy: PolicyInput = testPolicy({ queue: { failMode }, rules: [...testPolicy().rules!, { name: 'udp-app', action: 'accept', protocol: 'udp', localPorts: [5353] }] });
    const { lab, agent } = await agentLab(t, policy, ['--keep-rules']);
    const counter = lab.spawn(lab.server, process.execPath, ['-e', COUNTER, '5353'], { stdio: ['ignore', 'pipe', 'ignore'] });
    t.teardown(() => counter.kill());
    const banned = await lab.attackerAlias(0);
    t.equal((await agent.cli(['ban', banned.ip4, '--for', '1h'])).code, 0, 'banned');

    // The flood runs across a stop and a start of the agent, rules kept in force meanwhile.
    const flood = lab.exec(lab.attacker.ns, process.execPath, ['-e', FLOOD, lab.attacker.server4, '5353', banned.ip4, '6000'], { timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 1000));
    t.equal(await agent.stop(), 0, 'the agent stops, leaving the kernel state');
    t.match((await lab.exec(lab.server, 'ipset', ['list', 'vpsfw-ban4'])).stdout, banned.ip4, 'the ban is still in the kernel');
    const closed = await probe(lab, lab.client.ns, lab.client.server4, 9090);
    t.equal(closed.connected, false, 'no agent: a closed port stays closed (the kernel decides it)');
    const open = await probe(lab, lab.client.ns, lab.client.server4, 8080);
    if (failMode === 'open') t.equal(open.replies, 1, 'fail-open: what the policy accepts goes on, unjudged');
    else t.equal(open.connected, false, 'fail-closed: no new connection is admitted while no agent judges');
    const again = await startAgent({ ns: lab.server, policy, stateDir: agent.stateDir, extraArgs: ['--keep-rules'] });
    t.teardown(() => again.stop());
    await flood;
    const counts = await new Promise<Record<string, number>>((resolve) => {
      counter.stdout!.once('data', (d: Buffer) => resolve(JSON.parse(String(d)) as Record<string, number>));
      counter.kill('SIGUSR2');
    });
    t.equal(counts[banned.ip4] ?? 0, 0, 'not one datagram of the banned flood arrived, before, during or after the gap');
    t.equal((await probe(lab, lab.client.ns, lab.client.server4, 8080)).replies, 1, 'the new agent judges again');
    t.match(again.events.find((e) => e.event === 'start'), { bansRestored: 1 }, 'and holds the ban');
  });
}
