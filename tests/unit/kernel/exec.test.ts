// The process runner with harmless local commands: stdin is fed, output collected, and every kind
// of failure (non-zero exit, missing program) becomes a KernelCommandError naming the command.
import t from 'tap';
import { realRunner } from '../../../agent/src/kernel/exec.js';

t.test('feeds stdin and collects stdout', async (t) => {
  t.same(await realRunner().run('cat', [], 'line 1\nline 2\n'), { code: 0, stdout: 'line 1\nline 2\n', stderr: '' });
});

t.test('input in pieces: made only as the command reads them, all of it arrives in order', async (t) => {
  let made = 0;
  function* pieces() {
    for (let i = 0; i < 200; i++) {
      made++;
      yield `${String(i).padStart(4, '0')}${'.'.repeat(65_531)}\n`;
    }
  }
  const it = pieces();
  const run = realRunner().run('sh', ['-c', 'sleep 0.2; wc -l; cat >/dev/null'], it);
  await new Promise((r) => setTimeout(r, 100));
  t.ok(made < 200, `not made in advance: ${made} of 200 before the command read`);
  const r = await run;
  t.equal(r.stdout.trim(), '200');
  t.equal(made, 200);
  const order = await realRunner().run('cut', ['-c1-4'], (function* () {
    for (let i = 0; i < 50; i++) yield `${String(i).padStart(4, '0')}${'.'.repeat(100_000)}\n`;
  })());
  t.same(order.stdout.trim().split('\n').map(Number), Array.from({ length: 50 }, (_, i) => i));
});

t.test('a command that exits without reading input in pieces: its status, no hang', async (t) => {
  function* endless() {
    for (;;) yield 'x'.repeat(65_536);
  }
  await t.rejects(realRunner().run('false', [], endless()), { code: 'VPSFW_ERR_KERNEL_COMMAND', command: /^false/ });
});

t.test('arguments are passed as they are, never through a shell', async (t) => {
  const r = await realRunner().run('printf', ['%s|', 'a b', '$(id)', ';']);
  t.equal(r.stdout, 'a b|$(id)|;|');
});

t.test('a non-zero exit rejects with the command, the status and stderr', async (t) => {
  await t.rejects(realRunner().run('sh', ['-c', 'echo bad thing >&2; exit 3']), {
    code: 'VPSFW_ERR_KERNEL_COMMAND',
    command: /^sh -c /,
    stderr: 'bad thing\n',
    message: /exit 3\): bad thing$/,
  });
});

t.test('a command that exits without reading its input is still reported by its status', async (t) => {
  await t.rejects(realRunner().run('false', [], 'x'.repeat(1 << 20)), { code: 'VPSFW_ERR_KERNEL_COMMAND', command: /^false/ });
});

t.test('a missing program rejects with a kernel command error', async (t) => {
  await t.rejects(realRunner().run('vpsfw-no-such-program', ['x']), { code: 'VPSFW_ERR_KERNEL_COMMAND', message: /vpsfw-no-such-program x/ });
});

t.test('a prefix runs the command under another program (as tests do with ip netns exec)', async (t) => {
  const r = await realRunner(['env', 'VPSFW_T=1']).run('sh', ['-c', 'echo $VPSFW_T']);
  t.equal(r.stdout, '1\n');
});
