// The loading order: --policy FILE, else cosmiconfig's `vpsfw` search, else the built-in default;
// the errors a missing or broken file gives, and a deep or huge one (the field and a short value,
// never a crash); the hash is of the file's bytes.
import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatIssue, PolicyInvalidError } from '../../../agent/src/errors.js';
import { BUILTIN_SOURCE, loadPolicy } from '../../../agent/src/policy/load.js';
import { writeBadPolicies } from '../../lib/bad-policies.js';

const doc = { version: 1, queue: { num: 7 } };

t.test('--policy FILE wins', async (t) => {
  const dir = t.testdir({ 'p.json': JSON.stringify(doc), 'vpsfw.config.json': JSON.stringify({ version: 1, queue: { num: 9 } }) });
  const p = await loadPolicy({ file: join(dir, 'p.json'), searchFrom: dir });
  t.equal(p.policy.queue.num, 7);
  t.equal(p.source, join(dir, 'p.json'));
});

for (const [name, files] of [
  ['vpsfw.config.json', { 'vpsfw.config.json': JSON.stringify(doc) }],
  ['.vpsfwrc (JSON)', { '.vpsfwrc': JSON.stringify(doc) }],
  ['.vpsfwrc.yaml', { '.vpsfwrc.yaml': 'version: 1\nqueue:\n  num: 7\n' }],
  ['vpsfw.config.yaml', { 'vpsfw.config.yaml': 'version: 1\nqueue: { num: 7 }\n' }],
  ['vpsfw.config.js', { 'vpsfw.config.js': `export default ${JSON.stringify(doc)};` }],
  ['package.json#vpsfw', { 'package.json': JSON.stringify({ name: 'x', vpsfw: doc }) }],
] as const) {
  t.test(`cosmiconfig finds ${name}`, async (t) => {
    const dir = t.testdir(files as Record<string, string>);
    const p = await loadPolicy({ searchFrom: dir });
    t.equal(p.policy.queue.num, 7);
  });
}

t.test('nothing found: the built-in default', async (t) => {
  const p = await loadPolicy({ searchFrom: t.testdir({}) });
  t.equal(p.source, BUILTIN_SOURCE);
  t.equal(p.policy.defaults.inbound, 'drop');
});

t.test('a missing --policy file is an error, never a fallback', async (t) => {
  await t.rejects(loadPolicy({ file: '/nonexistent/vpsfw.json' }), { code: 'VPSFW_ERR_POLICY_NOT_FOUND' });
});

t.test('a file that is not JSON names itself', async (t) => {
  const dir = t.testdir({ 'p.json': '{ version: 1' });
  await t.rejects(loadPolicy({ file: join(dir, 'p.json') }), { code: 'VPSFW_ERR_POLICY_INVALID', message: /p\.json[\s\S]*not valid JSON/ });
});

t.test('the same document always has the same hash; another has another', async (t) => {
  const dir = t.testdir({});
  writeFileSync(join(dir, 'a.json'), JSON.stringify(doc));
  writeFileSync(join(dir, 'b.json'), JSON.stringify({ ...doc, queue: { num: 8 } }));
  const [a1, a2, b] = await Promise.all([loadPolicy({ file: join(dir, 'a.json') }), loadPolicy({ file: join(dir, 'a.json') }), loadPolicy({ file: join(dir, 'b.json') })]);
  t.equal(a1.hash, a2.hash);
  t.not(a1.hash, b.hash);
});

t.test('the hash is of the file as written: its bytes, not the document', async (t) => {
  const dir = t.testdir({ 'a.json': JSON.stringify(doc), 'spaced.json': JSON.stringify(doc, null, 2), 'vpsfw.config.json': JSON.stringify(doc, null, 1) });
  const sha = (file: string) => createHash('sha256').update(readFileSync(join(dir, file))).digest('hex').slice(0, 16);
  t.equal((await loadPolicy({ file: join(dir, 'a.json') })).hash, sha('a.json'));
  t.equal((await loadPolicy({ file: join(dir, 'spaced.json') })).hash, sha('spaced.json'), 'the same document written otherwise is another file');
  t.equal((await loadPolicy({ searchFrom: dir })).hash, sha('vpsfw.config.json'), 'a file cosmiconfig found too');
});

t.test('nested 10,000 and 100,000 deep, a 20 MB value: the field and a short value, never a crash', async (t) => {
  for (const bad of writeBadPolicies(t.testdir({}))) {
    const err = await loadPolicy({ file: bad.file }).catch((e: unknown) => e);
    t.type(err, PolicyInvalidError, bad.name);
    const issues = (err as PolicyInvalidError).issues;
    t.equal(issues.length, 1, bad.name);
    t.match(formatIssue(issues[0]!), bad.line, bad.name);
    t.ok((err as Error).message.length < 500, `${bad.name}: the message is short (${(err as Error).message.length})`);
  }
});
