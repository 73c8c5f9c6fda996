// Ban integrity through a running agent, on a real kernel in a lab: addresses that are never a real
// source are refused whoever asks (and nothing reaches the kernel set); an old state file holding
// such bans no longer keeps the bans after them out of the kernel; a truncated state file after a
// reboot (empty kernel sets) still puts every good ban in the kernel and reports the bad lines; a
// ban only the kernel holds (made just before a crash) is adopted.
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, type AgentEvent } from '../../agent/src/demo/agent-process.js';
import { probe, startService } from '../../agent/src/demo/probes.js';
import { agentLab, SERVICE_PORTS, testPolicy } from '../lib/agent-lab.js';
import { labFor, type Lab } from '../lib/netns.js';

/** The entries of one of our ban sets in the server namespace (none when it is not there). */
async function kernelBans(lab: Lab, set: string): Promise<string[]> {
  const r = await lab.status(lab.server, 'ipset', ['save', set]);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('add '))
    .map((l) => l.split(' ')[2]!)
    .sort();
}

const errorMessages = (events: AgentEvent[]) => events.filter((e) => e.event === 'error').map((e) => String((e.err as { message?: unknown } | undefined)?.message));

async function labWithService(t: { teardown(fn: () => unknown): void }): Promise<{ lab: Lab; stateDir: string }> {
  const lab = await labFor(t);
  const service = startService(lab, lab.server, SERVICE_PORTS);
  t.teardown(() => service.kill());
  return { lab, stateDir: mkdtempSync(join(tmpdir(), 'vpsfw-state-')) };
}

t.test('vpsfw ban of ::, 0.0.0.0, broadcast, multicast: refused with the reason, nothing in the kernel set', async (t) => {
  const { lab, agent } = await agentLab(t, testPolicy());
  for (const [address, why] of [
    ['::', /^vpsfw ban: :: is the unspecified address, never a real source: not banned$/m],
    ['0.0.0.0', /^vpsfw ban: 0\.0\.0\.0 is the unspecified address, never a real source: not banned$/m],
    ['255.255.255.255', /255\.255\.255\.255 is the broadcast address/],
    ['ff02::1', /ff02::1 is a multicast address \(ff00::\/8\)/],
  ] as const) {
    const r = await agent.cli(['ban', address]);
    t.equal(r.code, 1, `${address}: exit 1`);
    t.match(r.stderr, why);
  }
  t.same(await kernelBans(lab, 'vpsfw-ban4'), [], 'no IPv4 entry');
  t.same(await kernelBans(lab, 'vpsfw-ban6'), [], 'no IPv6 entry');
  t.match((await agent.cli(['bans'])).stdout, /no bans/);
  t.equal((await agent.cli(['ban', lab.attacker.ip4])).code, 0, 'a real address is still banned');
  t.same(await kernelBans(lab, 'vpsfw-ban4'), [lab.attacker.ip4]);
});

t.test('a state file holding bans of 0.0.0.0 and :: (an older release): every other ban reaches the kernel', async (t) => {
  const { lab, stateDir } = await labWithService(t);
  const now = Date.now();
  const ban = (address: string) => JSON.stringify({ type: 'ban', address, family: address.includes(':') ? 6 : 4, since: now, until: now + 3_600_000, reason: 'flood', by: 'detector:synFlood', offense: 1 });
  writeFileSync(join(stateDir, 'bans.json'), ['{"version":2}', ban(lab.attacker.ip4), ban('0.0.0.0'), ban('203.0.113.5'), ban('::'), ban(lab.attacker.ip6), ban('2001:db8:99::5')].join('\n') + '\n');
  const agent = await startAgent({ ns: lab.server, policy: testPolicy(), stateDir });
  t.teardown(() => agent.stop());
  t.match(agent.events.find((e) => e.event === 'start'), { bansRestored: 4 });
  t.same(await kernelBans(lab, 'vpsfw-ban4'), [lab.attacker.ip4, '203.0.113.5'].sort());
  t.same(await kernelBans(lab, 'vpsfw-ban6'), ['2001:db8:99::5', lab.attacker.ip6].sort());
  t.equal((await probe(lab, lab.attacker.ns, lab.attacker.server6, 8080)).connected, false, 'the ban after both null ones drops its source');
  const errors = errorMessages(agent.events);
  t.ok(errors.some((m) => /the ban of 0\.0\.0\.0 is not restored: 0\.0\.0\.0 is the unspecified address/.test(m)), 'the null bans are reported');
  t.ok(errors.some((m) => /the ban of :: is not restored/.test(m)));
});

t.test('a truncated state file after a reboot: every good ban is in the kernel after start, each bad line reported', async (t) => {
  const { lab, stateDir } = await labWithService(t);
  const policy = testPolicy();
  const first = await startAgent({ ns: lab.server, policy, stateDir });
  for (const address of [lab.attacker.ip4, lab.attacker.ip6, '203.0.113.6']) t.equal((await first.cli(['ban', address, '--for', '1h'])).code, 0, `ban ${address}`);
  t.equal(await first.stop(), 0);

  // The file as a crash halfway through an older write, or a disk, leaves it: a record of the wrong
  // shape, and the last line cut short.
  const file = join(stateDir, 'bans.json');
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  t.equal(lines.length, 4, 'a header and three bans');
  const wrongShape = JSON.stringify({ type: 'ban', address: '203.0.113.7', since: 0, until: 'later', reason: 'x', by: 'control', offense: 1 });
  const cut = JSON.stringify({ type: 'ban', address: '203.0.113.8', family: 4, since: 0, until: Date.now() + 3_600_000, reason: 'x', by: 'control', origin: 'control', offense: 1 }).slice(0, 50);
  writeFileSync(file, [lines[0], wrongShape, ...lines.slice(1), cut].join('\n'));
  // A reboot: the kernel's sets are empty (or gone).
  for (const set of ['vpsfw-ban4', 'vpsfw-ban6']) await lab.status(lab.server, 'ipset', ['flush', set]);

  const second = await startAgent({ ns: lab.server, policy, stateDir });
  t.teardown(() => second.stop());
  t.match(second.events.find((e) => e.event === 'start'), { bansRestored: 3 });
  t.same(await kernelBans(lab, 'vpsfw-ban4'), [lab.attacker.ip4, '203.0.113.6'].sort(), 'the IPv4 bans are in the kernel');
  t.same(await kernelBans(lab, 'vpsfw-ban6'), [lab.attacker.ip6], 'and the IPv6 one');
  for (const server of [lab.attacker.server4, lab.attacker.server6]) t.equal((await probe(lab, lab.attacker.ns, server, 8080)).connected, false, `banned source cannot reach ${server}`);
  const errors = errorMessages(second.events);
  t.ok(errors.some((m) => m.includes(`${file} line 2: until: expected a time in ms (got "later")`)), 'the wrong shape, with its line');
  t.ok(errors.some((m) => m.startsWith(`${file} line 6: not valid JSON`)), 'the truncated line, with its number');
});

t.test('a ban only the kernel holds (made after the last save, then a crash) is adopted', async (t) => {
  const { lab, stateDir } = await labWithService(t);
  const policy = testPolicy({ queue: { failMode: 'open' } });
  const first = await startAgent({ ns: lab.server, policy, stateDir });
  first.child.kill('SIGKILL');
  await first.exited;
  await first.stop();
  await lab.exec(lab.server, 'ipset', ['add', 'vpsfw-ban4', lab.attacker.ip4, 'timeout', '600']);

  const second = await startAgent({ ns: lab.server, policy, stateDir });
  t.teardown(() => second.stop());
  t.match(second.events.find((e) => e.event === 'start'), { bansRestored: 1 });
  const bans = JSON.parse((await second.cli(['bans', '--json'])).stdout) as Array<Record<string, unknown>>;
  t.match(bans, [{ address: lab.attacker.ip4, by: 'kernel', origin: 'kernel' }]);
  t.ok((bans[0]!.until as number) - Date.now() <= 600_000, 'for the time the kernel had left');
  t.equal((await probe(lab, lab.attacker.ns, lab.attacker.server4, 8080)).connected, false, 'still dropped');
  t.same(await kernelBans(lab, 'vpsfw-ban4'), [lab.attacker.ip4]);
});
