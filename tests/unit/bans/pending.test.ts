// The store's kernel writes waiting as rows of words: taken in order into the caller's buffer,
// through growth and compaction, never more than the buffer holds; pushes after a take never
// change what it copied out.
import t from 'tap';
import { PendingWrites, ROW } from '../../../agent/src/bans/pending.js';

const key = (...words: number[]) => Uint32Array.from(words);
/** The table, seconds and first key word of each of the first `n` rows of a batch. */
const rowsOf = (batch: Uint32Array, n: number) => Array.from({ length: n }, (_, i) => Array.from(batch.subarray(i * ROW, i * ROW + 3)));

t.test('taken in order, as many as the buffer holds; pushes after a take never change it', async (t) => {
  const p = new PendingWrites();
  p.push(0, 60, key(1));
  p.push(3, 0, key(2, 3, 4, 5, 48));
  p.push(1, 30, key(9, 9, 9, 9));
  t.equal(p.length, 3);
  const two = new Uint32Array(2 * ROW);
  t.equal(p.take(two), 2);
  t.same(rowsOf(two, 2), [[0, 60, 1], [3, 0, 2]]);
  t.same(Array.from(two.subarray(ROW + 2, ROW + 7)), [2, 3, 4, 5, 48], 'the widest key whole');
  for (let i = 0; i < 5000; i++) p.push(2, i, key(i));
  t.same(rowsOf(two, 2), [[0, 60, 1], [3, 0, 2]], 'unchanged by growth and compaction');
  t.equal(p.length, 5001);
  const one = new Uint32Array(ROW);
  t.equal(p.take(one), 1);
  t.same(rowsOf(one, 1), [[1, 30, 9]]);
  const big = new Uint32Array(10_000 * ROW);
  t.equal(p.take(big), 5000, 'fewer than the buffer holds: all there are');
  t.same(rowsOf(big, 5000).map((r) => r[1]), Array.from({ length: 5000 }, (_, i) => i));
  t.equal(p.length, 0);
  t.equal(p.take(big), 0, 'nothing left');
});

t.test('compaction keeps what is waiting, in order', async (t) => {
  const p = new PendingWrites();
  const seen: number[] = [];
  const batch = new Uint32Array(600 * ROW);
  let next = 0;
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 700; i++) p.push(0, next++, key(1));
    const n = p.take(batch);
    t.equal(n, 600);
    for (const r of rowsOf(batch, n)) seen.push(r[1]!);
  }
  for (let n; (n = p.take(batch)) > 0; ) for (const r of rowsOf(batch, n)) seen.push(r[1]!);
  t.same(seen, Array.from({ length: next }, (_, i) => i));
});
