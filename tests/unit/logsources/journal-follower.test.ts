// The journal follower against a stand-in journalctl (a script that records its arguments and
// prints entries as `journalctl --output=json` does, then dies): entries handed on, the cursor
// kept and passed back as --after-cursor, a restart with backoff after each death.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalFollower, type JournalEntry, type JournalNote, type JournalPosition } from '../../../agent/src/logsources/journal-follower.js';
import { positionFile } from '../../../agent/src/logsources/positions.js';

const FAKE = `
const fs = require('node:fs');
const [calls, ...args] = process.argv.slice(2);
fs.appendFileSync(calls, JSON.stringify(args) + '\\n');
const run = fs.readFileSync(calls, 'utf8').trim().split('\\n').length;
const e = (i, msg, id = 'sshd') => JSON.stringify({ __CURSOR: 's=1;i=' + i, __REALTIME_TIMESTAMP: '1', MESSAGE: msg, SYSLOG_IDENTIFIER: id });
if (run === 1) process.stdout.write(e(1, 'Failed password for root from 192.0.2.2 port 1 ssh2') + '\\n' + 'not json\\n' + e(2, [70, 97, 105, 108]) + '\\n');
if (run === 2) process.stdout.write(e(3, 'third', 'sshd-session') + '\\n');
process.exit(3);
`;

t.test('entries, cursor, restart with backoff', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'vpsfw-journal-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'journalctl.js');
  const calls = join(dir, 'calls');
  writeFileSync(script, FAKE);
  const entries: JournalEntry[] = [];
  const notes: JournalNote[] = [];
  const positions = positionFile<JournalPosition>(dir, 'sshd', 'journal:ssh.service');
  const j = new JournalFollower({ unit: 'ssh.service', positions, onEntries: (e) => entries.push(...e), onNote: (n) => notes.push(n), command: [process.execPath, script, calls], backoffMs: { first: 50, max: 200, reset: 60_000 } });
  j.start();
  t.teardown(() => j.stop());
  for (let i = 0; i < 200 && notes.filter((n) => n.what === 'exited').length < 3; i++) await new Promise((r) => setTimeout(r, 25));
  const runs = readFileSync(calls, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]);
  t.ok(runs.length >= 3, 'started again after each exit');
  t.ok(runs[0]!.includes('--follow') && runs[0]!.includes('--output=json') && runs[0]!.includes('--unit=ssh.service'));
  t.ok(runs[0]!.includes('--lines=0'), 'the first start begins at the end');
  t.ok(runs[1]!.includes('--after-cursor=s=1;i=2'), 'a restart resumes after the last entry');
  t.ok(runs[2]!.includes('--after-cursor=s=1;i=3'));
  t.same(entries, [
    { message: 'Failed password for root from 192.0.2.2 port 1 ssh2', program: 'sshd' },
    { message: 'Fail', program: 'sshd' },
    { message: 'third', program: 'sshd-session' },
  ], 'a byte-array MESSAGE is decoded; a line that is not JSON is skipped');
  const delays = notes.filter((n): n is Extract<JournalNote, { what: 'exited' }> => n.what === 'exited').map((n) => n.restartInMs);
  t.same(delays.slice(0, 3), [50, 100, 200], 'the backoff doubles to its limit');
  t.same(positions.load(), { cursor: 's=1;i=3' }, 'the cursor is in the state directory');
  const again = new JournalFollower({ unit: 'ssh.service', positions, onEntries: () => undefined, onNote: () => undefined, command: [process.execPath, script, calls] });
  await j.stop();
  again.start();
  await new Promise((r) => setTimeout(r, 300));
  await again.stop();
  const last = readFileSync(calls, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]).at(-1)!;
  t.ok(last.includes('--after-cursor=s=1;i=3'), 'a new follower (an agent restart) resumes from the saved cursor');
});
