// Log sources end to end in one process: files followed, lines parsed and counted, bans handed to
// a fake sink as the spec's BanRequest; own addresses refused; a reload keeps unchanged sources
// where they are and restarts changed ones.
import t from 'tap';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogSources } from '../../../agent/src/logsources/sources.js';
import type { LogBanRequest } from '../../../agent/src/logsources/kinds.js';
import { Policy, type PolicyInput } from '../../../agent/src/policy/schema.js';

const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };
const specs = (logSources: PolicyInput['logSources']) => Policy.parse({ version: 1, logSources }).logSources;
const fail = (ip: string, port: number) => `Failed password for tuser from ${ip} port ${port} ssh2\n`;

async function until(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!pred()) throw new Error(`timed out waiting for ${what}`);
}

t.test('sshd and eve sources ban through the sink; own addresses never', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-sources-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const auth = join(dir, 'auth.log');
  const eve = join(dir, 'eve.json');
  writeFileSync(auth, '');
  writeFileSync(eve, '');
  const asked: LogBanRequest[] = [];
  const sources = new LogSources({ stateDir: join(dir, 'state'), sink: (r) => (asked.push(r), { kind: r.target === '192.0.2.66' ? 'allowlisted' : 'banned' }), log: quiet, isOwnAddress: (a) => a === '198.51.100.1', pollMs: 50 });
  t.teardown(() => sources.stop());
  await sources.update(specs([
    { name: 'sshd', kind: 'sshd', file: auth, maxRetry: 3, findTime: '10m', ban: '2h' },
    { name: 'ids', kind: 'suricata-eve', file: eve, minSeverity: 2 },
  ]));
  appendFileSync(auth, fail('192.0.2.2', 1) + fail('192.0.2.2', 2) + fail('198.51.100.1', 3).repeat(3));
  appendFileSync(auth, fail('192.0.2.2', 4));
  appendFileSync(eve, JSON.stringify({ event_type: 'alert', src_ip: '2001:db8:1::2', alert: { signature_id: 9, signature: 'x', severity: 1 } }) + '\n');
  appendFileSync(eve, JSON.stringify({ event_type: 'alert', src_ip: '192.0.2.66', alert: { signature_id: 9, signature: 'x', severity: 1 } }) + '\n');
  await until(() => asked.length >= 3, 'three bans asked');
  t.same(asked[0], { target: '192.0.2.2', durationMs: 7_200_000, reason: '3 sshd authentication failures within 10m', by: 'log:sshd', origin: 'log' });
  t.same(asked.slice(1).map((r) => [r.target, r.by, r.durationMs]).sort(), [['192.0.2.66', 'log:ids', 3_600_000], ['2001:db8:1::2', 'log:ids', 3_600_000]]);
  t.notOk(asked.some((r) => r.target === '198.51.100.1'), 'this host\'s own address is never handed on');
  const stats = Object.fromEntries(sources.stats().map((s) => [s.name, s]));
  t.match(stats.sshd, { bans: 1, refused: 1, records: 6 });
  t.match(stats.ids, { bans: 1, refused: 1 });
});

t.test('reload: an unchanged source keeps its count; a changed one restarts from its saved position', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-sources-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const auth = join(dir, 'auth.log');
  writeFileSync(auth, '');
  const asked: LogBanRequest[] = [];
  const sources = new LogSources({ stateDir: join(dir, 'state'), sink: (r) => (asked.push(r), { kind: 'banned' }), log: quiet, isOwnAddress: () => false, pollMs: 50 });
  t.teardown(() => sources.stop());
  const sshd = { name: 'sshd', kind: 'sshd' as const, file: auth, maxRetry: 2 };
  await sources.update(specs([sshd]));
  appendFileSync(auth, fail('192.0.2.2', 1));
  await until(() => sources.stats()[0]!.records === 1, 'the first line');
  await sources.update(specs([sshd, { name: 'other', kind: 'suricata-eve', file: join(dir, 'eve.json') }]));
  appendFileSync(auth, fail('192.0.2.2', 2));
  await until(() => asked.length === 1, 'the ban: the count survived the reload');
  await sources.update(specs([{ ...sshd, maxRetry: 3 }]));
  t.same(sources.stats().map((s) => s.name), ['sshd'], 'a removed source stops');
  appendFileSync(auth, fail('192.0.2.3', 3) + fail('192.0.2.3', 4) + fail('192.0.2.3', 5));
  await until(() => asked.length === 2, 'a ban from the restarted source');
  t.equal(asked[1]!.target, '192.0.2.3');
  t.equal(sources.stats()[0]!.records, 3, 'the restarted source read on from its position: no line twice');
});
