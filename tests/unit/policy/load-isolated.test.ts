// The daemon's policy loading in a child process: the same LoadedPolicy (frozen) as loading in
// process, without the document, and the same errors (an invalid policy's issues with path and
// value, a missing file's code), for a file, a search and the built-in default; a deep or huge
// document gives its field and a short value, and a valid policy larger than any pipe buffer comes
// back whole.
import t from 'tap';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { formatIssue, PolicyInvalidError } from '../../../agent/src/errors.js';
import { loadPolicy, type LoadOptions } from '../../../agent/src/policy/load.js';
import { loadPolicyIsolated } from '../../../agent/src/policy/load-isolated.js';
import { writeBadPolicies } from '../../lib/bad-policies.js';

const doc = { version: 1, queue: { num: 7 }, rules: [{ name: 'web', action: 'accept', protocol: 'tcp', ports: [80, '8000-8100'], source: ['192.0.2.0/24'] }], detectors: { portScan: { ban: false } } };

t.test('the same result as loading here: a file, a search, the default', async (t) => {
  const dir = t.testdir({ 'p.json': JSON.stringify(doc), 'found': { 'vpsfw.config.json': JSON.stringify(doc) }, 'empty': {} });
  const cases: LoadOptions[] = [{ file: join(dir, 'p.json') }, { searchFrom: join(dir, 'found') }, { searchFrom: join(dir, 'empty') }, {}];
  for (const opts of cases) {
    const [{ document: _, ...here }, there] = await Promise.all([loadPolicy(opts), loadPolicyIsolated(opts)]);
    t.same(there, here, JSON.stringify(opts));
    t.notOk('document' in there, 'the document is not sent back');
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

t.test('nested 10,000 and 100,000 deep, a 20 MB value: the same issue as here, the field and a short value', async (t) => {
  for (const bad of writeBadPolicies(t.testdir({}))) {
    const [here, there] = await Promise.all([loadPolicy({ file: bad.file }).catch((e: unknown) => e), loadPolicyIsolated({ file: bad.file }).catch((e: unknown) => e)]);
    t.type(there, PolicyInvalidError, bad.name);
    t.same((there as PolicyInvalidError).issues, (here as PolicyInvalidError).issues, bad.name);
    t.match(formatIssue((there as PolicyInvalidError).issues[0]!), bad.line, bad.name);
  }
});

t.test('a policy with more problems than are listed: the count comes across', async (t) => {
  const file = join(t.testdir({}), 'many.json');
  writeFileSync(file, JSON.stringify({ version: 1, denyNetworks: Array.from({ length: 5000 }, (_, i) => `nowhere-${i}`) }));
  const err = (await loadPolicyIsolated({ file }).catch((e: unknown) => e)) as PolicyInvalidError;
  t.equal(err.total, 5000);
  t.ok(err.issues.length < 100);
});

t.test('a valid policy larger than 16 MiB comes back whole', async (t) => {
  const file = join(t.testdir({}), 'large.json');
  const denyNetworks = Array.from({ length: 400_000 }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}/32`);
  writeFileSync(file, JSON.stringify({ version: 1, denyNetworks }));
  const loaded = await loadPolicyIsolated({ file });
  t.equal(loaded.policy.denyNetworks.length, 400_000);
  t.ok(JSON.stringify(loaded.policy).length > 16 << 20, 'more than the old 16 MiB limit');
});
