// The ban state file: records round-trip through JSON lines, written whole or not at all (a
// temporary file synced, renamed, the directory synced); version 1 documents from earlier releases
// are read; a missing file is empty; a line that holds no record (a truncated last line, the wrong
// shape) is reported with its number and why while every other record is read; records from before
// origins get one; an unknown version is an error the store reports.
import t from 'tap';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonStateFile } from '../../../agent/src/bans/state-file.js';
import type { BanRecord } from '../../../agent/src/bans/store.js';

const dir = mkdtempSync(join(tmpdir(), 'vpsfw-state-'));
const collect = async (file: ReturnType<typeof jsonStateFile>) => {
  const records: unknown[] = [];
  const bad: string[] = [];
  for await (const batch of file.load((where, why) => bad.push(`${where}: ${why}`))) records.push(...batch);
  return { records, bad };
};
const ban = (i: number): BanRecord => ({ type: 'ban', address: `192.0.2.${i % 250}`, family: 4, since: i, until: i + 1000, reason: 'SYN rate over 20/1s', by: 'detector:synFlood', origin: 'agent', offense: 1 });

t.test('records round-trip, one per line after a header, in chunks', async (t) => {
  const path = join(dir, 'sub', 'bans.json');
  const records: BanRecord[] = [
    ...Array.from({ length: 2000 }, (_, i) => ban(i)),
    { type: 'ban', address: '203.0.113.0/24', family: 4, since: 1, until: 2, reason: 'r', by: 'crowdsec', origin: 'crowdsec', scenario: 'crowdsecurity/ssh-bf', offense: 1 },
    { type: 'offender', address: '2001:db8::1', count: 3, last: 5 },
  ];
  await jsonStateFile(path).save(records);
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  t.equal(lines[0], '{"version":2}');
  t.equal(lines.length, 2003, 'more than one 64 KiB chunk');
  t.same(await collect(jsonStateFile(path)), { records, bad: [] });
  let batches = 0;
  for await (const batch of jsonStateFile(path).load(() => t.fail('no bad line'))) if (batch.length > 0) batches++;
  t.ok(batches > 10, `read a chunk at a time (${batches} batches)`);
  t.equal(statSync(path).mode & 0o777, 0o600, 'readable by the agent only');
  t.notOk(existsSync(`${path}.tmp`), 'no temporary file left');
});

t.test('saving is durable: the temporary file is synced before the rename, the directory after', async (t) => {
  const ops: string[] = [];
  const fs = await import('node:fs/promises');
  const { jsonStateFile: mocked } = await t.mockImport<typeof import('../../../agent/src/bans/state-file.js')>('../../../agent/src/bans/state-file.js', {
    'node:fs/promises': {
      ...fs,
      open: async (path: string, ...rest: [string, number?]) => {
        const handle = await fs.open(path, ...rest);
        const name = path.endsWith('.tmp') ? 'tmp' : path.endsWith('.json') ? 'file' : 'dir';
        return Object.assign(Object.create(handle) as typeof handle, {
          write: (...args: Parameters<typeof handle.write>) => (ops.push(`write ${name}`), handle.write(...args)),
          sync: () => (ops.push(`sync ${name}`), handle.sync()),
          close: () => (ops.push(`close ${name}`), handle.close()),
        });
      },
      rename: async (from: string, to: string) => (ops.push('rename'), fs.rename(from, to)),
    },
  });
  const path = join(dir, 'durable', 'bans.json');
  await mocked(path).save([ban(1)]);
  t.same(ops.filter((op, i) => op !== ops[i - 1]), ['write tmp', 'sync tmp', 'close tmp', 'rename', 'sync dir', 'close dir']);
  t.same((await collect(jsonStateFile(path))).records, [ban(1)]);
});

t.test('a truncated last line and records of the wrong shape: each reported with its line, every good record read', async (t) => {
  const path = join(dir, 'broken.json');
  const good = [ban(1), ban(2), ban(3)];
  const lines = [
    '{"version":2}',
    JSON.stringify(good[0]),
    JSON.stringify({ ...good[1], until: 'later' }),
    JSON.stringify(good[1]),
    '',
    '[1,2]',
    JSON.stringify({ ...good[1], address: 'nowhere' }),
    JSON.stringify({ type: 'offender', address: '192.0.2.9', count: 1.5, last: 0 }),
    JSON.stringify({ ...good[1], origin: 'martians' }),
    JSON.stringify({ ...good[1], type: 'other' }),
    JSON.stringify(good[2]),
    JSON.stringify(ban(4)).slice(0, 40),
  ];
  writeFileSync(path, lines.join('\n'));
  const { records, bad } = await collect(jsonStateFile(path));
  t.same(records, good);
  t.same(bad, [
    'line 3: until: expected a time in ms (got "later")',
    'line 6: expected a ban or offender record (got [1,2])',
    'line 7: address: expected an IPv4 or IPv6 address or network (got "nowhere")',
    'line 8: count: expected a whole number (got 1.5)',
    'line 9: origin: expected one of agent, control, crowdsec, log, kernel (got "martians")',
    'line 10: type: expected "ban" or "offender" (got "other")',
    `line 12: not valid JSON (${(() => {
      try {
        JSON.parse(lines[11]!);
      } catch (err) {
        return (err as Error).message;
      }
    })()})`,
  ]);
});

t.test('records saved before origins existed: the decider gives the origin', async (t) => {
  const path = join(dir, 'old.json');
  const old = (by: string) => ({ type: 'ban', address: '192.0.2.1', family: 4, since: 1, until: 2, reason: 'r', by, offense: 1 });
  writeFileSync(path, ['{"version":2}', ...['control', 'detector:synFlood', 'kernel'].map((by) => JSON.stringify(old(by)))].join('\n') + '\n');
  t.same((await collect(jsonStateFile(path))).records.map((r) => (r as BanRecord & { type: 'ban' }).origin), ['control', 'agent', 'kernel']);
});

t.test('a version 1 document is read, on one line or pretty-printed; its bad records are reported', async (t) => {
  const v1 = { version: 1, bans: [{ address: '192.0.2.9', family: 4, since: 1, until: 2, reason: 'r', by: 'b', offense: 2 }, { address: 7 }], offenders: [{ address: '192.0.2.9', count: 2, last: 1 }] };
  const want = [{ ...v1.bans[0], type: 'ban', origin: 'agent' }, { ...v1.offenders[0], type: 'offender' }];
  for (const text of [JSON.stringify(v1), JSON.stringify(v1, null, 2)]) {
    const path = join(dir, 'v1.json');
    writeFileSync(path, text);
    t.same(await collect(jsonStateFile(path)), { records: want, bad: ['bans[1]: address: expected an IPv4 or IPv6 address or network (got 7)'] });
  }
});

t.test('no file: nothing; an unknown version or a broken version 1 document: an error naming the file', async (t) => {
  t.same(await collect(jsonStateFile(join(dir, 'none.json'))), { records: [], bad: [] });
  const path = join(dir, 'bad.json');
  writeFileSync(path, '{"version":9}\n');
  await t.rejects(collect(jsonStateFile(path)), /bad\.json: unknown ban state version 9/);
  writeFileSync(path, '{"version":1,"bans":[');
  await t.rejects(collect(jsonStateFile(path)), SyntaxError);
});
