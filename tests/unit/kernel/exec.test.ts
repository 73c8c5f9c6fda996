// The process runner with harmless local commands: stdin is fed, output collected, and every kind
// of failure (non-zero exit, missing program) becomes a KernelCommandError naming the command.
import t from 'tap';
import { realRunner } from '../../../agent/src/kernel/exec.js';

t.test('feeds stdin and collects stdout', async (t) => {
  t.same(await realRunner().run('cat', [], 'line 1\nline 2\n'), { code: 0, stdout: 'line 1\nline 2\n', stderr: '' });
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
