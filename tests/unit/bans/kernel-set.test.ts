// The ban store's kernel side against a runner that behaves as `ipset restore` does: it writes the
// lines before the first one it refuses and stops there ("Error in line N: ..."). One refused entry
// never takes the rest of a batch down; a kernel that refuses everything costs a bounded number of
// processes; networks go to the range sets; the sets are read back. The real kernel:
// tests/e2e/bans-kernel-set.test.ts.
import t from 'tap';
import { ipsetBanKernel, MAX_REFUSED, parseBanSave } from '../../../agent/src/bans/kernel-set.js';
import type { KernelEntry } from '../../../agent/src/bans/store.js';
import { KernelCommandError } from '../../../agent/src/errors.js';
import type { CommandRunner } from '../../../agent/src/kernel/exec.js';

/** A fake ipset: `refuse` says why a line is refused (or null); written lines are kept. */
function fakeIpset(refuse: (line: string) => string | null, saved: Record<string, string> = {}) {
  const written: string[] = [];
  const commands: string[] = [];
  const runner: CommandRunner = {
    async run(cmd, args, input) {
      commands.push([cmd, ...args].join(' '));
      if (args[0] === 'save') {
        const text = saved[args[1]!];
        if (text === undefined) throw new KernelCommandError(`ipset save ${args[1]}`, `ipset v7.17: The set with the given name does not exist\n`, 1);
        return { code: 0, stdout: text, stderr: '' };
      }
      if (args[0] !== 'restore') return { code: 0, stdout: '', stderr: '' };
      const script = typeof input === 'string' ? input : [...(input ?? [])].join('');
      const lines = script.split('\n').filter((l) => l !== '');
      for (const [i, line] of lines.entries()) {
        const why = refuse(line);
        if (why !== null) throw new KernelCommandError('ipset restore', `ipset v7.17: Error in line ${i + 1}: ${why}\n`, 1);
        written.push(line);
      }
      return { code: 0, stdout: '', stderr: '' };
    },
  };
  return { runner, written, commands, restores: () => commands.filter((c) => c === 'ipset restore').length };
}

const entries = (targets: string[]): KernelEntry[] => targets.map((target) => ({ target, family: target.includes(':') ? 6 : 4, seconds: 60 }));
const NULL = 'Null-valued element, cannot be stored in a hash type of set';

t.test('a refused entry in the middle of a batch: the others are written, the bad one reported with the kernel message', async (t) => {
  const k = fakeIpset((l) => (l.includes(' 0.0.0.0 ') ? NULL : null));
  const batch = entries(['192.0.2.1', '192.0.2.2', '0.0.0.0', '192.0.2.3', '192.0.2.4']);
  const errors = await ipsetBanKernel(k.runner).add(() => batch);
  t.same(k.written, ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4'].map((a) => `add vpsfw-ban4 ${a} timeout 60 -exist`));
  t.equal(errors.length, 1);
  t.type(errors[0], KernelCommandError);
  t.match(errors[0], { code: 'VPSFW_ERR_KERNEL_COMMAND', message: `ipset restore (add vpsfw-ban4 0.0.0.0 timeout 60 -exist) failed (exit 1): ${NULL}` });
  t.equal(k.restores(), 2, 'one more process, going on from the line after');
});

t.test('refused first, last and twice in a row: every good entry still written', async (t) => {
  const bad = new Set(['10.0.0.1', '10.0.0.5', '10.0.0.6', '10.0.0.9']);
  const k = fakeIpset((l) => (bad.has(l.split(' ')[2]!) ? 'refused' : null));
  const all = Array.from({ length: 9 }, (_, i) => `10.0.0.${i + 1}`);
  const errors = await ipsetBanKernel(k.runner).add(() => entries(all));
  t.same(k.written.map((l) => l.split(' ')[2]), all.filter((a) => !bad.has(a)));
  t.same(errors.map((e) => /add vpsfw-ban4 (\S+)/.exec(e.message)?.[1]), [...bad]);
});

t.test('a kernel that refuses line after line: a bounded number of processes, the rest reported unwritten', async (t) => {
  const k = fakeIpset(() => 'Hash is full, cannot add more elements');
  const errors = await ipsetBanKernel(k.runner).add(() => entries(Array.from({ length: 1000 }, (_, i) => `10.1.${i >> 8}.${i & 255}`)));
  t.equal(k.restores(), MAX_REFUSED);
  t.equal(errors.length, MAX_REFUSED + 1);
  t.match(errors.at(-1), { message: new RegExp(`${1000 - MAX_REFUSED} more entries not written: the kernel refused ${MAX_REFUSED} in one batch`) });
});

t.test('a failure with no line to go on from is reported, never thrown', async (t) => {
  const runner: CommandRunner = { run: async () => Promise.reject(new KernelCommandError('ipset restore', 'ipset: command not found', 127)) };
  const errors = await ipsetBanKernel(runner).add(() => entries(['192.0.2.1']));
  t.match(errors, [{ message: /command not found/ }]);
});

t.test('networks go to the range sets, addresses to the ban sets; del finds the same set', async (t) => {
  const k = fakeIpset(() => null);
  const kernel = ipsetBanKernel(k.runner);
  await kernel.add(() => entries(['198.51.100.0/24', '2001:db8::/32', '2001:db8::1']));
  t.same(k.written, ['add vpsfw-bannet4 198.51.100.0/24 timeout 60 -exist', 'add vpsfw-bannet6 2001:db8::/32 timeout 60 -exist', 'add vpsfw-ban6 2001:db8::1 timeout 60 -exist']);
  await kernel.del('198.51.100.0/24', 4);
  await kernel.del('192.0.2.1', 4);
  t.same(k.commands.slice(-2), ['ipset del vpsfw-bannet4 198.51.100.0/24 -exist', 'ipset del vpsfw-ban4 192.0.2.1 -exist']);
});

t.test('list: every ban set of both families; a set that is not there holds nothing', async (t) => {
  const k = fakeIpset(() => null, {
    'vpsfw-ban4': 'create vpsfw-ban4 hash:ip family inet hashsize 1024 maxelem 1048576 timeout 3600 bucketsize 12 initval 0x1\nadd vpsfw-ban4 192.0.2.2 timeout 3590\nadd vpsfw-ban4 192.0.2.9 timeout 0\n',
    'vpsfw-ban6': 'create vpsfw-ban6 hash:ip family inet6 timeout 3600\nadd vpsfw-ban6 2001:db8:1::2 timeout 12\n',
    'vpsfw-bannet4': 'create vpsfw-bannet4 hash:net family inet timeout 3600\nadd vpsfw-bannet4 198.51.100.0/24 timeout 50\n',
  });
  t.same(await ipsetBanKernel(k.runner).list(), [
    { target: '192.0.2.2', family: 4, secondsLeft: 3590 },
    { target: '192.0.2.9', family: 4, secondsLeft: 0 },
    { target: '198.51.100.0/24', family: 4, secondsLeft: 50 },
    { target: '2001:db8:1::2', family: 6, secondsLeft: 12 },
  ]);
  t.same(k.commands, ['ipset save vpsfw-ban4', 'ipset save vpsfw-bannet4', 'ipset save vpsfw-ban6', 'ipset save vpsfw-bannet6']);
  const broken: CommandRunner = { run: async () => Promise.reject(new KernelCommandError('ipset save', 'Kernel error received: Operation not permitted', 1)) };
  await t.rejects(ipsetBanKernel(broken).list(), /Operation not permitted/, 'any other failure is one');
});

t.test('parseBanSave skips other sets and junk', async (t) => {
  t.same(parseBanSave('add foreign 192.0.2.1\n\nadd vpsfw-ban4\ngarbage\nadd vpsfw-ban4 192.0.2.3 timeout 5\n', 'vpsfw-ban4', 4), [{ target: '192.0.2.3', family: 4, secondsLeft: 5 }]);
});
