// The ban state file: records round-trip through JSON lines, written whole or not at all (a
// temporary file renamed); version 1 documents from earlier releases are read; a missing file is
// empty; an unknown version or broken JSON is an error the daemon logs.
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonStateFile } from '../../../agent/src/bans/state-file.js';
import type { BanRecord } from '../../../agent/src/bans/store.js';

const dir = mkdtempSync(join(tmpdir(), 'vpsfw-state-'));
const collect = async (it: AsyncIterable<readonly unknown[]>) => {
  const out: unknown[] = [];
  for await (const batch of it) out.push(...batch);
  return out;
};
const ban = (i: number): BanRecord => ({ type: 'ban', address: `192.0.2.${i % 250}`, family: 4, since: i, until: i + 1000, reason: 'SYN rate over 20/1s', by: 'detector:synFlood', offense: 1 });

t.test('records round-trip, one per line after a header, in chunks', async (t) => {
  const path = join(dir, 'sub', 'bans.json');
  const records: BanRecord[] = [...Array.from({ length: 2000 }, (_, i) => ban(i)), { type: 'offender', address: '2001:db8::1', count: 3, last: 5 }];
  await jsonStateFile(path).save(records);
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  t.equal(lines[0], '{"version":2}');
  t.equal(lines.length, 2002, 'more than one 64 KiB chunk');
  t.same(await collect(jsonStateFile(path).load()), records);
  let batches = 0;
  for await (const batch of jsonStateFile(path).load()) if (batch.length > 0) batches++;
  t.ok(batches > 10, `read a chunk at a time (${batches} batches)`);
  t.equal(statSync(path).mode & 0o777, 0o600, 'readable by the agent only');
  t.notOk(existsSync(`${path}.tmp`), 'no temporary file left');
});

t.test('a version 1 document is read, on one line or pretty-printed', async (t) => {
  const v1 = { version: 1, bans: [{ address: '192.0.2.9', family: 4, since: 1, until: 2, reason: 'r', by: 'b', offense: 2 }], offenders: [{ address: '192.0.2.9', count: 2, last: 1 }] };
  const want = [{ ...v1.bans[0], type: 'ban' }, { ...v1.offenders[0], type: 'offender' }];
  for (const text of [JSON.stringify(v1), JSON.stringify(v1, null, 2)]) {
    const path = join(dir, 'v1.json');
    writeFileSync(path, text);
    t.same(await collect(jsonStateFile(path).load()), want);
  }
});

t.test('no file: nothing; unknown version or broken JSON: an error naming the file', async (t) => {
  t.same(await collect(jsonStateFile(join(dir, 'none.json')).load()), []);
  const path = join(dir, 'bad.json');
  writeFileSync(path, '{"version":9}\n');
  await t.rejects(collect(jsonStateFile(path).load()), /bad\.json: unknown ban state version 9/);
  writeFileSync(path, '{"version":2}\n{"type":"ban",\n');
  await t.rejects(collect(jsonStateFile(path).load()), SyntaxError);
});
