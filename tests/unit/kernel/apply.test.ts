// KernelFirewall against a scripted runner: which commands apply and remove run, in which order,
// that jumps are inserted only when missing, and that remove tolerates what is already gone. The
// real kernel is exercised in tests/e2e/kernel.test.ts.
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

t.test('apply: sets, then each family restored, then missing jumps inserted at the top', async (t) => {
  const k = scripted((l) => l.includes(' -C '));
  await new KernelFirewall(k.runner).apply(plan);
  t.same(k.lines(), [
    'ipset restore',
    'iptables-restore -w --noflush',
    'iptables -w -C INPUT -j VPSFW-INPUT',
    'iptables -w -I INPUT 1 -j VPSFW-INPUT',
    'iptables -w -C OUTPUT -j VPSFW-OUTPUT',
    'iptables -w -I OUTPUT 1 -j VPSFW-OUTPUT',
    'ip6tables-restore -w --noflush',
    'ip6tables -w -C INPUT -j VPSFW-INPUT',
    'ip6tables -w -I INPUT 1 -j VPSFW-INPUT',
    'ip6tables -w -C OUTPUT -j VPSFW-OUTPUT',
    'ip6tables -w -I OUTPUT 1 -j VPSFW-OUTPUT',
  ]);
  t.same(k.calls.filter((c) => c.input !== undefined).map((c) => c.input), ['SET SCRIPT', 'V4 DOC', 'V6 DOC'], 'documents go in on stdin');
});

t.test('apply: jumps already there are not added again', async (t) => {
  const k = scripted();
  await new KernelFirewall(k.runner).apply(plan);
  t.notOk(k.lines().some((l) => l.includes(' -I ')));
});

t.test('apply: a failing restore stops the apply with the kernel error', async (t) => {
  const k = scripted((l) => l.startsWith('ip6tables-restore'));
  await t.rejects(new KernelFirewall(k.runner).apply(plan), { code: 'VPSFW_ERR_KERNEL_COMMAND', command: /ip6tables-restore/ });
  t.notOk(k.lines().some((l) => l.startsWith('ip6tables -w -I')), 'no jump to a chain that was not restored');
});

t.test('remove: every copy of each jump, then chains, then sets; nothing there is fine', async (t) => {
  let deletes = 0;
  // Two copies of the v4 INPUT jump (a crashed run may leave more than one), nothing else at all.
  const k = scripted((l) => !(l === 'iptables -w -D INPUT -j VPSFW-INPUT' && ++deletes <= 2));
  await new KernelFirewall(k.runner).remove();
  t.equal(k.lines().filter((l) => l === 'iptables -w -D INPUT -j VPSFW-INPUT').length, 3, 'deleted until none is left');
  t.notOk(k.lines().some((l) => l.includes(' -X ')), 'chains that cannot be flushed are not there to delete');
  const destroyed = k.lines().filter((l) => l.startsWith('ipset destroy')).map((l) => l.split(' ')[2]);
  t.same(destroyed.sort(), ['ban4', 'ban6', 'bannet4', 'bannet6', 'deny4', 'deny6', 'allow4', 'allow6'].flatMap((s) => [`vpsfw-${s}`, `vpsfw-${s}-new`]).sort());
});

t.test('remove: present chains are all flushed, then deleted, after the jumps', async (t) => {
  const k = scripted((l) => l.includes(' -D '));
  await new KernelFirewall(k.runner).remove();
  const v4 = k.lines().filter((l) => l.startsWith('iptables '));
  t.same(v4, [
    'iptables -w -D INPUT -j VPSFW-INPUT',
    'iptables -w -D OUTPUT -j VPSFW-OUTPUT',
    'iptables -w -F VPSFW-INPUT',
    'iptables -w -F VPSFW-OUTPUT',
    'iptables -w -F VPSFW-ESTABLISHED',
    'iptables -w -X VPSFW-INPUT',
    'iptables -w -X VPSFW-OUTPUT',
    'iptables -w -X VPSFW-ESTABLISHED',
  ]);
  t.ok(k.lines().indexOf('ip6tables -w -X VPSFW-ESTABLISHED') < k.lines().findIndex((l) => l.startsWith('ipset')), 'sets go last: rules refer to them');
});

t.test('remove: only the chains that could be flushed are deleted', async (t) => {
  const k = scripted((l) => l.includes(' -D ') || l === 'iptables -w -F VPSFW-OUTPUT');
  await new KernelFirewall(k.runner).remove();
  t.same(k.lines().filter((l) => l.startsWith('iptables -w -X')), ['iptables -w -X VPSFW-INPUT', 'iptables -w -X VPSFW-ESTABLISHED']);
});

t.test('remove: an error that is not a failed command is not swallowed', async (t) => {
  const runner: CommandRunner = { run: async () => Promise.reject(new TypeError('bug')) };
  await t.rejects(new KernelFirewall(runner).remove(), TypeError);
});

t.test('installed: only when every chain exists in both families', async (t) => {
  t.equal(await new KernelFirewall(scripted().runner).installed(), true);
  t.equal(await new KernelFirewall(scripted((l) => l === 'ip6tables -w -S VPSFW-OUTPUT').runner).installed(), false);
  t.equal(await new KernelFirewall(scripted((l) => l === 'iptables -w -S VPSFW-ESTABLISHED').runner).installed(), false, 'the fast-path chain counts too');
});
