// KernelFirewall against a scripted runner: which commands apply and remove run, in which order,
// that jumps are inserted at the top when missing or pushed down, that the first layout goes, and
// that remove tolerates what is already gone. The real kernel is exercised in tests/e2e/kernel.test.ts.
import t from 'tap';
import { KernelCommandError } from '../../../agent/src/errors.js';
import { KernelFirewall } from '../../../agent/src/kernel/apply.js';
import type { CommandRunner } from '../../../agent/src/kernel/exec.js';
import type { KernelPlan } from '../../../agent/src/kernel/render.js';

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

/** `iptables -S BUILTIN` listings where our jump sits at `at` (0: missing). */
const listing = (at: number) => (line: string) => {
  const m = / -t (\w+) -S (\S+)$/.exec(line);
  if (!m) return '';
  const jump = { PREROUTING: 'VPSFW-RAW', INPUT: m[1] === 'filter' ? 'VPSFW-REJECT' : 'VPSFW-INPUT', OUTPUT: m[1] === 'filter' ? 'VPSFW-REJECT' : 'VPSFW-OUTPUT' }[m[2]!];
  const rules = ['-A X -j ufw-before-input', '-A X -j nixos-fw'].map((r) => r.replace('X', m[2]!));
  if (at > 0) rules.splice(at - 1, 0, `-A ${m[2]} -j ${jump}`);
  return [`-P ${m[2]} ACCEPT`, ...rules].join('\n');
};

const HOOK_LINES = (tool: string) => [
  [`${tool} -w -t raw -S PREROUTING`, `${tool} -w -t raw -I PREROUTING 1 -j VPSFW-RAW`],
  [`${tool} -w -t mangle -S INPUT`, `${tool} -w -t mangle -I INPUT 1 -j VPSFW-INPUT`],
  [`${tool} -w -t mangle -S OUTPUT`, `${tool} -w -t mangle -I OUTPUT 1 -j VPSFW-OUTPUT`],
  [`${tool} -w -t filter -S INPUT`, `${tool} -w -t filter -I INPUT 1 -j VPSFW-REJECT`],
  [`${tool} -w -t filter -S OUTPUT`, `${tool} -w -t filter -I OUTPUT 1 -j VPSFW-REJECT`],
];

t.test('apply: sets, then each family restored, then missing jumps inserted at the top of raw, mangle and filter', async (t) => {
  const k = scripted((l) => / -[FD] /.test(l), listing(0));
  await new KernelFirewall(k.runner).apply(plan);
  const ours = k.lines().filter((l) => !/ -t filter -[FD] VPSFW-(INPUT|OUTPUT|ESTABLISHED)$| -t filter -D (INPUT|OUTPUT) -j VPSFW-(INPUT|OUTPUT)$/.test(l));
  t.same(ours, ['ipset restore', 'iptables-restore -w --noflush', ...HOOK_LINES('iptables').flat(), 'ip6tables-restore -w --noflush', ...HOOK_LINES('ip6tables').flat()]);
  t.same(k.calls.filter((c) => c.input !== undefined).map((c) => c.input), ['SET SCRIPT', 'V4 DOC', 'V6 DOC'], 'documents go in on stdin');
});

t.test('apply: jumps at the top are left; one pushed down is moved back up, never missing', async (t) => {
  const top = scripted((l) => / -[FD] /.test(l), listing(1));
  await new KernelFirewall(top.runner).apply(plan);
  t.notOk(top.lines().some((l) => l.includes(' -I ')), 'already first: nothing to do');
  const down = scripted((l) => / -F /.test(l) || / -D (INPUT|OUTPUT) -j VPSFW-(INPUT|OUTPUT)$/.test(l), listing(3));
  await new KernelFirewall(down.runner).apply(plan);
  const v4 = down.lines().filter((l) => l.startsWith('iptables -w -t mangle') && l.includes('INPUT'));
  t.same(v4, ['iptables -w -t mangle -S INPUT', 'iptables -w -t mangle -I INPUT 1 -j VPSFW-INPUT', 'iptables -w -t mangle -D INPUT 4'], 'a new jump first, then the old one (now fourth) goes');
});

t.test('apply: the first layout (filter-table chains) goes once the new rules are in force', async (t) => {
  const k = scripted((l) => l.includes(' -D ') && !l.includes('-D INPUT -j VPSFW-INPUT'), listing(1));
  let legacyInput = 1;
  const runner: CommandRunner = {
    run: (cmd, args, input) => (args.join(' ') === '-w -t filter -D INPUT -j VPSFW-INPUT' && legacyInput-- <= 0 ? Promise.reject(new KernelCommandError('x', 'gone', 1)) : k.runner.run(cmd, args, input)),
  };
  await new KernelFirewall(runner).apply(plan);
  const v4 = k.lines().filter((l) => l.startsWith('iptables ') && l.includes(' -t filter') && /VPSFW-(INPUT|ESTABLISHED|OUTPUT)$/.test(l));
  t.same(v4, [
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
});

t.test('apply: a failing restore stops the apply with the kernel error', async (t) => {
  const k = scripted((l) => l.startsWith('ip6tables-restore') || / -[FD] /.test(l), listing(0));
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
  t.equal(await new KernelFirewall(scripted().runner).installed(), true);
  t.equal(await new KernelFirewall(scripted((l) => l === 'ip6tables -w -t mangle -S VPSFW-OUTPUT').runner).installed(), false);
  t.equal(await new KernelFirewall(scripted((l) => l === 'iptables -w -t raw -S VPSFW-RAW').runner).installed(), false, 'the raw chain counts too');
});

t.test('hooks: where each jump is, both families', async (t) => {
  const hooks = await new KernelFirewall(scripted(undefined, listing(2)).runner).hooks();
  t.equal(hooks.length, 10);
  t.ok(hooks.every((h) => h.position === 2));
  t.same(hooks[0], { family: 4, table: 'raw', builtin: 'PREROUTING', chain: 'VPSFW-RAW', position: 2 });
  t.ok((await new KernelFirewall(scripted(undefined, listing(0)).runner).hooks()).every((h) => h.position === 0), 'missing: 0');
});
