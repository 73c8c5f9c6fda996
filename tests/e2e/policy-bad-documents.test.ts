// Bad policies never crash the checker: a document nested 10,000 or 100,000 levels deep, or holding
// a 20 MB value, gives `path: message (got value)` with a short value from `vpsfw check`, `vpsfw
// render` and `vpsfw run` alike (the daemon's loader runs in a child process), as the installed
// command runs them. `run` goes inside a lab namespace, though it stops before touching the kernel.
import t from 'tap';
import { VPSFW_BIN } from '../../agent/src/demo/agent-process.js';
import { writeBadPolicies } from '../lib/bad-policies.js';
import { labFor } from '../lib/netns.js';

t.test('check, render and run: exit 1, the field and a short value, no stack trace', async (t) => {
  const lab = await labFor(t);
  const dir = t.testdir({});
  for (const bad of writeBadPolicies(dir)) {
    for (const cmd of ['check', 'render', 'run']) {
      const extra = cmd === 'run' ? ['--control', `${dir}/control.sock`, '--state-dir', `${dir}/state`] : [];
      const r = await lab.status(lab.server, process.execPath, [VPSFW_BIN, cmd, '--policy', bad.file, ...extra], { timeoutMs: 60_000 });
      const what = `${cmd}, ${bad.name}`;
      t.equal(r.code, 1, `${what}: exit 1`);
      t.ok(r.stderr.split('\n').some((l) => bad.line.test(l)), `${what}: names the field, shows a short value`);
      t.notMatch(r.stderr, /RangeError|maxBuffer|unexpected error|\n\s+at /, `${what}: no crash`);
      t.ok(r.stderr.length < 1000, `${what}: a short message (${r.stderr.length} characters)`);
      t.ok(r.stdout.length < 4000, `${what}: a short log (${r.stdout.length} characters; run's fatal event)`);
    }
  }
});
