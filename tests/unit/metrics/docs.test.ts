// docs/observability.md says only what is true of the metrics: every metric the agent exports is
// in its table and every metric it names is exported; its scrape configuration, alert rules and
// PromQL examples are what Prometheus' own checker accepts.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Exposition } from '../../../agent/src/metrics/exposition.js';
import { families } from '../../lib/exposition.js';
import { fakeStatus } from '../../lib/status.js';

const doc = readFileSync(new URL('../../../docs/observability.md', import.meta.url), 'utf8');
const blocks = (lang: string) => [...doc.matchAll(new RegExp('```' + lang + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
const promtool = (...args: string[]) => spawnSync('promtool', args, { encoding: 'utf8' });

t.test('the table and the exposition name the same metrics', async (t) => {
  const exported = [...families((await new Exposition().render(fakeStatus(), undefined)).body).keys()].sort();
  const table = doc.slice(doc.indexOf('## Metrics'), doc.indexOf('### Why prom-client'));
  const documented = [...new Set([...table.matchAll(/`(vpsfw_[a-z0-9_]+)`/g)].map((m) => m[1]!))].sort();
  t.same(documented, exported);
  const named = new Set([...doc.matchAll(/\b(vpsfw_[a-z0-9_]+)/g)].map((m) => m[1]!));
  for (const n of named) t.ok(exported.includes(n), `${n}, named in the doc, is exported`);
});

t.test('the scrape configuration and the alert rules pass promtool', async (t) => {
  const [scrape, rules] = blocks('yaml');
  const dir = t.testdir({});
  writeFileSync(join(dir, 'prometheus.yml'), scrape!);
  // The token file is the host's: syntax only.
  const c = promtool('check', 'config', '--syntax-only', join(dir, 'prometheus.yml'));
  t.equal(c.status, 0, c.stdout + c.stderr);
  writeFileSync(join(dir, 'rules.yml'), rules!);
  const r = promtool('check', 'rules', join(dir, 'rules.yml'));
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.match(r.stdout, /SUCCESS: 4 rules found/);
});

t.test('the PromQL examples parse', async (t) => {
  const exprs = blocks('promql').flatMap((b) => b.split('\n')).filter((l) => l.trim() && !l.startsWith('#'));
  t.ok(exprs.length >= 4);
  const file = join(t.testdir({}), 'rules.yml');
  writeFileSync(file, JSON.stringify({ groups: [{ name: 'doc', rules: exprs.map((expr, i) => ({ record: `doc:e${i}`, expr })) }] }));
  const r = promtool('check', 'rules', file);
  t.equal(r.status, 0, r.stdout + r.stderr);
});
