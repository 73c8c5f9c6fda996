// docs/grafana-dashboard.json: importable (a datasource input, every panel on it), every query is
// PromQL that Prometheus' own checker accepts, and it asks only for metrics the agent exports.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Exposition } from '../../../agent/src/metrics/exposition.js';
import { families } from '../../lib/exposition.js';
import { fakeStatus } from '../../lib/status.js';

interface Panel {
  title: string;
  datasource: { uid: string };
  targets: Array<{ expr: string }>;
}
const dashboard = JSON.parse(readFileSync(new URL('../../../docs/grafana-dashboard.json', import.meta.url), 'utf8')) as {
  __inputs: Array<{ name: string; pluginId: string }>;
  panels: Panel[];
  templating: { list: Array<{ query: { query: string } }> };
};

/** What PromQL names that is neither a function, a keyword, a label nor a Grafana variable: the metrics. */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\$\w+/g, '');
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset']);
  return [...bare.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(\s*\()?/g)].filter((m) => !m[2] && !keywords.has(m[1]!)).map((m) => m[1]!);
}

const exprs = [...dashboard.panels.flatMap((p) => p.targets.map((x) => x.expr)), ...dashboard.templating.list.map((v) => v.query.query.replace(/^label_values\((\w+),.*\)$/, '$1'))];

t.test('the names are read right (the check below would pass on a reader that reads none)', async (t) => {
  t.same(metricNames('topk(10, sum by (by) (rate(vpsfw_verdicts_total{instance=~"$instance",action!="accept"}[$__rate_interval])))'), ['vpsfw_verdicts_total']);
  t.same(metricNames('time() - max(vpsfw_start_time_seconds{a="b c"}) * 60'), ['vpsfw_start_time_seconds']);
  t.same(metricNames('a_total / on (instance) b_info'), ['a_total', 'b_info']);
});

t.test('importable: one datasource input that every panel uses', async (t) => {
  t.same(dashboard.__inputs.map((i) => [i.name, i.pluginId]), [['DS_PROMETHEUS', 'prometheus']]);
  t.ok(dashboard.panels.length >= 10);
  for (const p of dashboard.panels) {
    t.equal(p.datasource.uid, '${DS_PROMETHEUS}', p.title);
    t.ok(p.targets.length > 0, `${p.title} has queries`);
  }
});

t.test('only metrics the agent exports', async (t) => {
  const exported = new Set(families((await new Exposition().render(fakeStatus(), undefined)).body).keys());
  const used = new Set(exprs.flatMap(metricNames));
  t.ok(used.size >= 15, `${used.size} metrics used`);
  for (const name of used) t.ok(exported.has(name), `${name} is exported by the agent`);
});

t.test('every query is PromQL: promtool check rules', async (t) => {
  // Grafana's variables as a Prometheus rule file cannot have them.
  const rules = exprs.map((e, i) => ({ record: `check:q${i}`, expr: e.replace(/\$__rate_interval/g, '5m').replace(/\$instance/g, '.*') }));
  const file = join(t.testdir({}), 'rules.yml');
  writeFileSync(file, JSON.stringify({ groups: [{ name: 'grafana', rules }] }));
  const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
  t.equal(r.error, undefined, 'promtool runs (Debian package prometheus)');
  t.equal(r.status, 0, r.stdout + r.stderr);
  t.match(r.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
});
