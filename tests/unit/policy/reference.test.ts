// docs/policy.md and docs/policy.schema.json are generated from the schema: this fails when the
// committed copies are stale (run `npm run docs`).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { policyJsonSchema, policyReferenceMarkdown } from '../../../agent/src/policy/reference.js';

t.test('docs/policy.md is the generated reference', async (t) => {
  t.equal(readFileSync(new URL('../../../docs/policy.md', import.meta.url), 'utf8'), policyReferenceMarkdown());
});

t.test('docs/policy.schema.json is the generated JSON Schema', async (t) => {
  t.same(JSON.parse(readFileSync(new URL('../../../docs/policy.schema.json', import.meta.url), 'utf8')), policyJsonSchema());
});
