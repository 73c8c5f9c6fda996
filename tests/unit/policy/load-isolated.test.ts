// The daemon's policy loading in a child process: the same LoadedPolicy (frozen) as loading in
// process, and the same errors (an invalid policy's issues with path and value, a missing file's
// code), for a file, a search and the built-in default.
import t from 'tap';
import { join } from 'node:path';
import { PolicyInvalidError } from '../../../agent/src/errors.js';
import { loadPolicy, type LoadOptions } from '../../../agent/src/policy/load.js';
import { loadPolicyIsolated } from '../../../agent/src/policy/load-isolated.js';

const doc = { version: 1, queue: { num: 7 }, rules: [{ name: 'web', action: 'accept', protocol: 'tcp', ports: [80, '8000-8100'], source: ['192.0.2.0/24'] }], detectors: { portScan: { ban: false } } };

t.test('the same result as loading here: a file, a search, the default', async (t) => {
  const dir = t.testdir({ 'p.json': JSON.stringify(doc), 'found': { 'vpsfw.config.json': JSON.stringify(doc) }, 'empty': {} });
  const cases: LoadOptions[] = [{ file: join(dir, 'p.json') }, { searchFrom: join(dir, 'found') }, { searchFrom: join(dir, 'empty') }, {}];
  for (const opts of cases) {
    const [here, there] = await Promise.all([loadPolicy(opts), loadPolicyIsolated(opts)]);
    t.same(there, here, JSON.stringify(opts));
    t.ok(Object.isFrozen(there.policy.rules[0] ?? there.policy.rules), 'frozen all the way down');
  }
});

t.test('the same errors: issues with path and value, codes', async (t) => {
  const dir = t.testdir({ 'bad.json': JSON.stringify({ version: 1, queue: { num: -1 }, rules: [{ name: 'x', action: 'allow' }] }), 'broken.json': '{' });
  const err = await loadPolicyIsolated({ file: join(dir, 'bad.json') }).catch((e: unknown) => e);
  t.type(err, PolicyInvalidError);
  t.same((err as PolicyInvalidError).issues, [
    { path: 'queue.num', message: 'Too small: expected number to be >=0', value: -1 },
    { path: 'rules.0.action', message: 'Invalid option: expected one of "accept"|"drop"|"reject"', value: 'allow' },
  ]);
  t.equal((err as PolicyInvalidError).source, join(dir, 'bad.json'));
  await t.rejects(loadPolicyIsolated({ file: join(dir, 'broken.json') }), { code: 'VPSFW_ERR_POLICY_INVALID', message: /broken\.json[\s\S]*not valid JSON/ });
  await t.rejects(loadPolicyIsolated({ file: '/nonexistent/vpsfw.json' }), { code: 'VPSFW_ERR_POLICY_NOT_FOUND', message: /\/nonexistent\/vpsfw\.json/ });
});
