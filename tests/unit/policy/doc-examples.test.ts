// Every JSON policy the docs show is a valid policy: a reader copies them as they are.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { parsePolicy } from '../../../agent/src/policy/load.js';

const REPO = new URL('../../../', import.meta.url);
const pages = ['README.md', ...readdirSync(new URL('docs/', REPO)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

for (const page of pages) {
  const text = readFileSync(new URL(page, REPO), 'utf8');
  const policies = [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((j) => /^\s*\{\s*"version"/.test(j));
  if (policies.length === 0) continue;
  t.test(page, async (t) => {
    for (const [i, json] of policies.entries()) t.doesNotThrow(() => parsePolicy(JSON.parse(json), `${page} #${i + 1}`), `${page}: policy #${i + 1} is valid`);
  });
}
