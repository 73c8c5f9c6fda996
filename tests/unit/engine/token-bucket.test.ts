// Token buckets: burst at once, then the rate; refill computed on access; per-key independence;
// bounded key count; sweep drops only full buckets.
import t from 'tap';
import { TokenBuckets } from '../../../agent/src/engine/token-bucket.js';

const takeN = (b: TokenBuckets<string>, key: string, n: number, now: number) => {
  let ok = 0;
  for (let i = 0; i < n; i++) if (b.take(key, now)) ok++;
  return ok;
};

t.test('exactly `burst` at once, then one per 1/rate', async (t) => {
  const b = new TokenBuckets<string>({ rate: 10, per: 1000, burst: 5 }, 100);
  t.equal(takeN(b, 'a', 5, 0), 5, 'the whole burst');
  t.notOk(b.take('a', 0), 'the next one at the same instant');
  t.notOk(b.take('a', 99), 'not before 100 ms');
  t.ok(b.take('a', 100), 'one token after 100 ms');
  t.notOk(b.take('a', 100));
  t.equal(takeN(b, 'a', 20, 10_000), 5, 'a long pause refills to burst, not beyond');
});

t.test('keys are independent', async (t) => {
  const b = new TokenBuckets<string>({ rate: 1, per: 1000, burst: 2 }, 100);
  t.equal(takeN(b, 'a', 3, 0), 2);
  t.equal(takeN(b, 'b', 3, 0), 2, 'b has its own bucket');
  t.equal(b.size, 2);
  b.forget('a');
  t.equal(takeN(b, 'a', 3, 0), 2, 'forgotten: a fresh bucket');
});

t.test('bounded: the oldest key makes room', async (t) => {
  const b = new TokenBuckets<string>({ rate: 1, per: 1000, burst: 1 }, 3);
  for (const k of ['a', 'b', 'c', 'd']) b.take(k, 0);
  t.equal(b.size, 3);
  t.ok(b.take('a', 0), 'a was evicted, so it starts full again');
  t.notOk(b.take('d', 0), 'd was kept');
});

t.test('sweep drops buckets that have refilled, keeps the rest', async (t) => {
  const b = new TokenBuckets<string>({ rate: 1, per: 1000, burst: 2 }, 100);
  b.take('a', 0);
  takeN(b, 'b', 2, 500);
  b.sweep(1000);
  t.equal(b.size, 1, 'a is full again at 1000 ms; b is not');
  b.sweep(2500);
  t.equal(b.size, 0);
});
