// The file follower on a real file system, driven step by step (wake()), with a position store in
// a temporary state directory: every line once, none missed, across partial lines, rotation by
// rename and by copytruncate mid-stream, restarts, and a file truncated and rewritten.
import t from 'tap';
import { appendFileSync, copyFileSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileFollower, type FilePosition, type FollowNote } from '../../../agent/src/logsources/file-follower.js';
import { positionFile } from '../../../agent/src/logsources/positions.js';

function fixture(t: Tap.Test, dir?: string) {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'vpsfw-follow-'));
  if (!dir) t.teardown(() => rmSync(d, { recursive: true, force: true }));
  const path = join(d, 'auth.log');
  return { dir: d, path };
}

function follower(dir: string, path: string, opts: { now?: () => number } = {}) {
  const lines: string[] = [];
  const notes: FollowNote[] = [];
  const f = new FileFollower({
    path,
    positions: positionFile<FilePosition>(join(dir, 'state'), 'sshd', `file:${path}`),
    onLines: (l) => lines.push(...l),
    onNote: (n) => notes.push(n),
    pollMs: 3_600_000,
    drainMs: 1000,
    chunkBytes: 16,
    ...(opts.now ? { now: opts.now } : {}),
  });
  return { f, lines, notes };
}

const n = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i}`);
const text = (from: number, to: number) => n(from, to).map((l) => l + '\n').join('');

t.test('first start reads from the end; partial lines wait for their newline', async (t) => {
  const { dir, path } = fixture(t);
  writeFileSync(path, text(0, 3));
  const { f, lines, notes } = follower(dir, path);
  await f.start();
  t.teardown(() => f.stop());
  t.match(notes[0], { what: 'opened', from: 'end' });
  appendFileSync(path, 'line 3\nline');
  await f.wake();
  t.same(lines, ['line 3']);
  appendFileSync(path, ' 4\n');
  await f.wake();
  t.same(lines, ['line 3', 'line 4'], 'the held partial line completes, once');
});

t.test('restart resumes where it stopped: no line twice, none missed (partial line re-read whole)', async (t) => {
  const { dir, path } = fixture(t);
  writeFileSync(path, '');
  const a = follower(dir, path);
  await a.f.start();
  appendFileSync(path, text(0, 5) + 'line 5 par');
  await a.f.wake();
  await a.f.stop();
  appendFileSync(path, 'tial\n' + text(6, 8));
  const b = follower(dir, path);
  await b.f.start();
  t.teardown(() => b.f.stop());
  t.match(b.notes[0], { what: 'opened', from: 'saved' });
  await b.f.wake();
  t.same([...a.lines, ...b.lines], [...n(0, 5), 'line 5 partial', ...n(6, 8)]);
});

t.test('rotation by rename mid-stream: the old file to its end, its late lines too, then the new one from its start', async (t) => {
  let now = 0;
  const { dir, path } = fixture(t);
  writeFileSync(path, '');
  const { f, lines, notes } = follower(dir, path, { now: () => now });
  await f.start();
  t.teardown(() => f.stop());
  appendFileSync(path, text(0, 3));
  await f.wake();
  appendFileSync(path, text(3, 5));
  renameSync(path, path + '.1');
  appendFileSync(path + '.1', text(5, 6)); // the writer has not reopened yet
  writeFileSync(path, text(6, 8));
  await f.wake();
  t.ok(notes.some((x) => x.what === 'rotated'));
  appendFileSync(path + '.1', text(8, 9));
  appendFileSync(path, text(9, 10));
  await f.wake();
  t.same([...lines].sort(), n(0, 10).sort(), 'every line once');
  now += 5000;
  await f.wake();
  appendFileSync(path + '.1', 'line never read\n');
  await f.wake();
  t.notOk(lines.includes('line never read'), 'the old file is let go once its writer has been quiet a while');
});

t.test('copytruncate mid-stream: what was written since the last read is taken from the copy', async (t) => {
  const { dir, path } = fixture(t);
  writeFileSync(path, '');
  const { f, lines, notes } = follower(dir, path);
  await f.start();
  t.teardown(() => f.stop());
  appendFileSync(path, text(0, 3));
  await f.wake();
  appendFileSync(path, text(3, 6));
  copyFileSync(path, path + '.1');
  truncateSync(path, 0);
  appendFileSync(path, text(6, 7));
  await f.wake();
  t.ok(notes.some((x) => x.what === 'truncated'));
  t.same(lines, n(0, 7));
});

t.test('truncated and rewritten past the old offset (no copy): detected by the bytes before the offset', async (t) => {
  const { dir, path } = fixture(t);
  writeFileSync(path, '');
  const { f, lines, notes } = follower(dir, path);
  await f.start();
  t.teardown(() => f.stop());
  appendFileSync(path, text(0, 2));
  await f.wake();
  writeFileSync(path, 'new 0 ' + 'x'.repeat(30) + '\nnew 1\n');
  await f.wake();
  t.ok(notes.some((x) => x.what === 'truncated'));
  t.same(lines, [...n(0, 2), 'new 0 ' + 'x'.repeat(30), 'new 1']);
});

/** A follower that read lines 0 and 1, then stopped; lines 2 and 3 were written after. */
async function stoppedBehind(dir: string, path: string): Promise<ReturnType<typeof follower>> {
  writeFileSync(path, '');
  const a = follower(dir, path);
  await a.f.start();
  appendFileSync(path, text(0, 2));
  await a.f.wake();
  await a.f.stop();
  appendFileSync(path, text(2, 4));
  return a;
}

t.test('rotated while stopped: the rest of the old file, then the new file whole', async (t) => {
  const { dir, path } = fixture(t);
  const a = await stoppedBehind(dir, path);
  renameSync(path, path + '.1');
  writeFileSync(path, text(4, 6));
  const b = follower(dir, path);
  await b.f.start();
  t.teardown(() => b.f.stop());
  t.match(b.notes[0], { what: 'opened', from: 'rotated-copy' });
  t.same([...a.lines, ...b.lines], n(0, 6));
});

t.test('copytruncated while stopped: the rest from the copy, then the file from its start', async (t) => {
  const { dir, path } = fixture(t);
  const a = await stoppedBehind(dir, path);
  copyFileSync(path, path + '.1');
  writeFileSync(path, text(4, 5));
  const b = follower(dir, path);
  await b.f.start();
  t.teardown(() => b.f.stop());
  t.same([...a.lines, ...b.lines], n(0, 5));
});

t.test('a missing file is waited for; long and malformed lines never stop the follower', async (t) => {
  const { dir, path } = fixture(t);
  const { f, lines, notes } = follower(dir, path);
  await f.start();
  t.teardown(() => f.stop());
  t.match(notes[0], { what: 'missing' });
  writeFileSync(path, 'first\n' + 'z'.repeat(70 * 1024) + '\n\u0000\xff bytes\nlast\n');
  await f.wake();
  t.same(lines, ['first', '\u0000\xff bytes', 'last']);
  t.ok(notes.some((x) => x.what === 'skipped-long-line'));
});
