// KernelFirewall against a scripted runner: which commands apply and remove run, in which order,
// that jumps are inserted at the top when missing or pushed down, that the first layout goes, and
// that remove tolerates what is already gone. The real kernel is exercised in tests/e2e/kernel.test.ts.
import t from 'tap';
import { KernelCommandError } from '../../../agent/src/errors.js';
import { KernelFirewall } from '../../../agent/src/kernel/apply.js';
import type { CommandRunner } from '../../../agent/src/kernel/exec.js';
import type { KernelPlan } from '../../../agent/src/kernel/render.js';
import { TABLE_CHAINS } from '../../../agent/src/kernel/names.js';

const plan: KernelPlan = { ipv4: 'V4 DOC', ipv6: 'V6 DOC', ipset: 'SET SCRIPT' };

/** Records every command; `fails` decides which ones exit non-zero, `stdout` what they print. */
function scripted(fails: (line: string) => boolean = () => false, stdout: (line: string) => string = () => '') {
  const calls: Array<{ line: string; input: string | undefined }> = [];
  const runner: CommandRunner = {
    async run(cmd, args, input) {
      const line = [cmd, ...args].join(' ');
      calls.push({ line, input });
      if (fails(line)) throw new KernelCommandError(line, 'scripted failure', 1);
      return { code: 0, stdout: stdout(line), stderr: '' };
    },
  };
  return { runner, calls, lines: () => calls.map((c) => c.line) };
}

/**
 * `iptables-save` of a family where each of our jumps sits at `at` (0: missing) among two foreign
 * ones; `legacy` adds the first layout's filter chains.
 */
const saved = (at: number, legacy = false) => (line: string) => {
  if (!/^ip6?tables-save$/.test(line)) return '';
  const table = (name: string, hooks: Array<[string, string]>, chains: string[]) => [
    `*${name}`,
    ...hooks.map(([builtin]) => `:${builtin} ACCEPT [0:0]`),
    ...chains.map((c) => `:${c} - [0:0]`),
    ...hooks.flatMap(([builtin, jump]) => {
      const rules = [`-A ${builtin} -j ufw-before-x`, `-A ${builtin} -j nixos-fw`];
      if (at > 0) rules.splice(at - 1, 0, `-A ${builtin} -j ${jump}`);
      return rules;
    }),
    'COMMIT',
  ];
  return [
    ...table('raw', [['PREROUTING', 'VPSFW-RAW']], ['VPSFW-RAW']),
    ...table('mangle', [['INPUT', 'VPSFW-INPUT'], ['OUTPUT', 'VPSFW-OUTPUT']], ['VPSFW-INPUT', 'VPSFW-OUTPUT', 'VPSFW-ESTABLISHED']),
    ...table('filter', [['INPUT', 'VPSFW-REJECT'], ['OUTPUT', 'VPSFW-REJECT']], ['VPSFW-REJECT', ...(legacy ? ['VPSFW-INPUT', 'VPSFW-ESTABLISHED', 'VPSFW-OUTPUT'] : [])]),
  ].join('\n');
};

const INSERTS = (tool: string) => [
  `${tool} -w -t raw -I PREROUTING 1 -j VPSFW-RAW`,
  `${tool} -w -t mangle -I INPUT 1 -j VPSFW-INPUT`,
  `${tool} -w -t mangle -I OUTPUT 1 -j VPSFW-OUTPUT`,
  `${tool} -w -t filter -I INPUT 1 -j VPSFW-REJECT`,
  `${tool} -w -t filter -I OUTPUT 1 -j VPSFW-REJECT`,
];

t.test('apply: sets, then each family restored and read back once, then missing jumps inserted at the top of raw, mangle and filter', async (t) => {
  const k = scripted(undefined, saved(0));
  await new KernelFirewall(k.runner).apply(plan);
  t.same(k.lines(), ['ipset restore', 'iptables-restore -w --noflush', 'iptables-save', ...INSERTS('iptables'), 'ip6tables-restore -w --noflush', 'ip6tables-save', ...INSERTS('ip6tables')]);
  t.same(k.calls.filter((c) => c.input !== undefined).map((c) => c.input), ['SET SCRIPT', 'V4 DOC', 'V6 DOC'], 'documents go in on stdin');
});

t.test('apply: jumps at the top are left; one pushed down is moved back up, never missing', async (t) => {
  const top = scripted(undefined, saved(1));
  await new KernelFirewall(top.runner).apply(plan);
  t.same(top.lines(), ['ipset restore', 'iptables-restore -w --noflush', 'iptables-save', 'ip6tables-restore -w --noflush', 'ip6tables-save'], 'already first: nothing else to do');
  const down = scripted(undefined, saved(3));
  await new KernelFirewall(down.runner).apply(plan);
  const v4 = down.lines().filter((l) => l.startsWith('iptables -w -t mangle') && l.includes('INPUT'));
  t.same(v4, ['iptables -w -t mangle -I INPUT 1 -j VPSFW-INPUT', 'iptables -w -t mangle -D INPUT 4'], 'a new jump first, then the old one (now fourth) goes');
});

t.test('apply: the first layout (filter-table chains) goes once the new rules are in force', async (t) => {
  let legacyInput = 1;
  const k = scripted((l) => (l === 'iptables -w -t filter -D INPUT -j VPSFW-INPUT' ? legacyInput-- <= 0 : l.includes(' -D ') && l.includes('-j VPSFW-')), saved(1, true));
  await new KernelFirewall(k.runner).apply(plan);
  const v4 = k.lines().filter((l) => l.startsWith('iptables ') && l.includes(' -t filter') && /VPSFW-(INPUT|ESTABLISHED|OUTPUT)$/.test(l));
  t.same(v4, [
    'iptables -w -t filter -D INPUT -j VPSFW-INPUT',
    'iptables -w -t filter -D INPUT -j VPSFW-INPUT',
    'iptables -w -t filter -D OUTPUT -j VPSFW-OUTPUT',
    'iptables -w -t filter -F VPSFW-INPUT',
    'iptables -w -t filter -F VPSFW-ESTABLISHED',
    'iptables -w -t filter -F VPSFW-OUTPUT',
    'iptables -w -t filter -X VPSFW-INPUT',
    'iptables -w -t filter -X VPSFW-ESTABLISHED',
    'iptables -w -t filter -X VPSFW-OUTPUT',
  ]);
  t.ok(k.lines().indexOf('iptables -w -t filter -D INPUT -j VPSFW-INPUT') > k.lines().indexOf('iptables-restore -w --noflush'), 'after the new rules');
  const clean = scripted(undefined, saved(1));
  await new KernelFirewall(clean.runner).apply(plan);
  t.notOk(clean.lines().some((l) => l.includes(' -t filter -')), 'none there: nothing tried');
});

t.test('apply: a failing restore stops the apply with the kernel error', async (t) => {
  const k = scripted((l) => l.startsWith('ip6tables-restore'), saved(0));
  await t.rejects(new KernelFirewall(k.runner).apply(plan), { code: 'VPSFW_ERR_KERNEL_COMMAND', command: /ip6tables-restore/ });
  t.notOk(k.lines().some((l) => l.startsWith('ip6tables -w -t') && l.includes(' -I ')), 'no jump to a chain that was not restored');
});

t.test('remove: every copy of each jump, then chains, then sets; nothing there is fine', async (t) => {
  let deletes = 0;
  // Two copies of the v4 mangle INPUT jump (a crashed run may leave more than one), nothing else at all.
  const k = scripted((l) => !(l === 'iptables -w -t mangle -D INPUT -j VPSFW-INPUT' && ++deletes <= 2));
  await new KernelFirewall(k.runner).remove();
  t.equal(k.lines().filter((l) => l === 'iptables -w -t mangle -D INPUT -j VPSFW-INPUT').length, 3, 'deleted until none is left');
  t.notOk(k.lines().some((l) => l.includes(' -X ')), 'chains that cannot be flushed are not there to delete');
  const destroyed = k.lines().filter((l) => l.startsWith('ipset destroy')).map((l) => l.split(' ')[2]);
  t.same(destroyed.sort(), ['ban4', 'ban6', 'bannet4', 'bannet6', 'deny4', 'deny6', 'allow4', 'allow6'].flatMap((s) => [`vpsfw-${s}`, `vpsfw-${s}-new`]).sort());
});

t.test('remove: per table, present chains are all flushed, then deleted, after the jumps', async (t) => {
  const k = scripted((l) => l.includes(' -D '));
  await new KernelFirewall(k.runner).remove();
  const raw = k.lines().filter((l) => l.startsWith('iptables -w -t raw'));
  t.same(raw, ['iptables -w -t raw -D PREROUTING -j VPSFW-RAW', 'iptables -w -t raw -F VPSFW-RAW', 'iptables -w -t raw -X VPSFW-RAW']);
  const mangle = k.lines().filter((l) => l.startsWith('iptables -w -t mangle'));
  t.same(mangle.slice(0, 2), ['iptables -w -t mangle -D INPUT -j VPSFW-INPUT', 'iptables -w -t mangle -D OUTPUT -j VPSFW-OUTPUT']);
  t.ok(mangle.findIndex((l) => l.includes(' -X ')) > mangle.findLastIndex((l) => l.includes(' -F ')), 'every flush before any delete');
  const filter = k.lines().filter((l) => l.startsWith('iptables -w -t filter'));
  t.ok(filter.includes('iptables -w -t filter -X VPSFW-REJECT') && filter.includes('iptables -w -t filter -X VPSFW-INPUT'), 'the reject chain and any first-layout chain');
  t.ok(k.lines().findLastIndex((l) => l.startsWith('ip6tables')) < k.lines().findIndex((l) => l.startsWith('ipset')), 'sets go last: rules refer to them');
});

t.test('remove: an error that is not a failed command is not swallowed', async (t) => {
  const runner: CommandRunner = { run: async () => Promise.reject(new TypeError('bug')) };
  await t.rejects(new KernelFirewall(runner).remove(), TypeError);
});

t.test('installed: only when every chain exists in both families', async (t) => {
  const all = (line: string) => (/^ip6?tables-save$/.test(line) ? ['*raw', ...TABLE_CHAINS.raw.map((c) => `:${c} - [0:0]`), 'COMMIT', '*mangle', ...TABLE_CHAINS.mangle.map((c) => `:${c} - [0:0]`), 'COMMIT', '*filter', ':VPSFW-REJECT - [0:0]', 'COMMIT'].join('\n') : '');
  t.equal(await new KernelFirewall(scripted(undefined, all).runner).installed(), true);
  t.equal(await new KernelFirewall(scripted(undefined, (l) => (l === 'ip6tables-save' ? all(l).replace(':VPSFW-OUTPUT - [0:0]\n', '') : all(l))).runner).installed(), false, 'one chain missing in one family');
  t.equal(await new KernelFirewall(scripted(undefined, saved(1)).runner).installed(), false, 'the raw, mangle and filter chains all count');
});

t.test('hooks: where each jump is, both families', async (t) => {
  const hooks = await new KernelFirewall(scripted(undefined, saved(2)).runner).hooks();
  t.equal(hooks.length, 10);
  t.ok(hooks.every((h) => h.position === 2));
  t.same(hooks[0], { family: 4, table: 'raw', builtin: 'PREROUTING', chain: 'VPSFW-RAW', position: 2 });
  t.ok((await new KernelFirewall(scripted(undefined, saved(0)).runner).hooks()).every((h) => h.position === 0), 'missing: 0');
});
