// The ban store's kernel side on a real kernel, in a lab's server namespace, no agent: one entry
// the kernel refuses in the middle of a batch never takes the rest of the batch down (ipset stops
// at the first bad line, the writer goes on after it and reports it with ipset's message); range
// bans go to the hash:net sets, are read back with their timeouts, and deleted.
import t from 'tap';
import { ipsetBanKernel } from '../../agent/src/bans/kernel-set.js';
import type { KernelEntry } from '../../agent/src/bans/store.js';
import { realRunner, type CommandRunner } from '../../agent/src/kernel/exec.js';
import { setNames } from '../../agent/src/kernel/names.js';
import { renderKernel } from '../../agent/src/kernel/render.js';
import { parsePolicy } from '../../agent/src/policy/load.js';
import { labFor } from '../lib/netns.js';

/** Our sets as the rules create them; the range sets too, where the rules do not make them yet. */
async function banSets(t: { teardown(fn: () => unknown): void }): Promise<CommandRunner> {
  const lab = await labFor(t);
  const runner = realRunner(['ip', 'netns', 'exec', lab.server]);
  await runner.run('ipset', ['restore'], renderKernel(parsePolicy({ version: 1 }, 'test').policy).ipset);
  const have = (await runner.run('ipset', ['list', '-n'])).stdout.split('\n');
  for (const family of [4, 6] as const) {
    const set = setNames(family).banNet;
    if (!have.includes(set)) await runner.run('ipset', ['create', set, 'hash:net', 'family', family === 4 ? 'inet' : 'inet6', 'timeout', '3600']);
  }
  return runner;
}

const members = async (runner: CommandRunner, set: string) =>
  (await runner.run('ipset', ['save', set])).stdout
    .split('\n')
    .filter((l) => l.startsWith('add '))
    .map((l) => l.split(' ')[2]);

t.test('a refused entry in the middle of a batch: every other entry is in the kernel, the bad one reported with the kernel message', async (t) => {
  const runner = await banSets(t);
  const good4 = Array.from({ length: 300 }, (_, i) => `198.18.${i >> 7}.${(i & 127) + 1}`);
  const good6 = ['2001:db8:77::1', '2001:db8:77::2'];
  // As an older release would have sent them: the null addresses in the middle.
  const batch: KernelEntry[] = [
    ...good4.slice(0, 150).map((target) => ({ target, family: 4 as const, seconds: 600 })),
    { target: '0.0.0.0', family: 4, seconds: 600 },
    ...good4.slice(150).map((target) => ({ target, family: 4 as const, seconds: 600 })),
    { target: '::', family: 6, seconds: 600 },
    ...good6.map((target) => ({ target, family: 6 as const, seconds: 600 })),
  ];
  const errors = await ipsetBanKernel(runner).add(() => batch);
  t.same((await members(runner, 'vpsfw-ban4')).sort(), [...good4].sort(), 'all 300 IPv4 bans are in the kernel');
  t.same((await members(runner, 'vpsfw-ban6')).sort(), good6, 'and the IPv6 ones after the second bad line');
  t.equal(errors.length, 2);
  t.match(errors[0]?.message, /^ipset restore \(add vpsfw-ban4 0\.0\.0\.0 timeout 600 -exist\) failed \(exit 1\): .*Null-valued element/);
  t.match(errors[1]?.message, /add vpsfw-ban6 :: timeout 600 -exist/);
});

t.test('range bans: written to the hash:net sets, read back, deleted', async (t) => {
  const runner = await banSets(t);
  const kernel = ipsetBanKernel(runner);
  t.same(
    await kernel.add(() => [
      { target: '203.0.113.0/24', family: 4, seconds: 600 },
      { target: '2001:db8:bad::/48', family: 6, seconds: 300 },
      { target: '192.0.2.7', family: 4, seconds: 600 },
    ]),
    [],
  );
  const listed = await kernel.list();
  t.match(listed, [{ target: '192.0.2.7', family: 4 }, { target: '203.0.113.0/24', family: 4 }, { target: '2001:db8:bad::/48', family: 6 }]);
  t.ok(listed.find((b) => b.target === '2001:db8:bad::/48')!.secondsLeft <= 300, 'with their timeouts');
  t.ok((await runner.run('ipset', ['test', 'vpsfw-bannet4', '203.0.113.77']).then(() => true, () => false)), 'an address inside the range is in the set');
  await kernel.del('203.0.113.0/24', 4);
  await kernel.del('2001:db8:bad::/48', 6);
  t.same((await kernel.list()).map((b) => b.target), ['192.0.2.7']);
});
