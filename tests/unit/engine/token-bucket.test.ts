// Token buckets: burst at once, then the rate; refill computed on access; per-source independence;
// bounded source count (least recently used goes); sweep drops only full (and idle enough) buckets.
import t from 'tap';
import { EMPTY, FIRST, TAKEN, TokenBucket, TokenBuckets } from '../../../agent/src/engine/token-bucket.js';
import { addressKey } from '../../../agent/src/tables/address-key.js';

// addressKey fills one shared array: each source keeps its own copy.
const A = addressKey('192.0.2.1').slice();
const B = addressKey('192.0.2.2').slice();
const C = addressKey('2001:db8::1').slice();
const D = addressKey('2001:db8::2').slice();

const takeN = (b: TokenBuckets, key: Uint32Array, n: number, now: number) => {
  let ok = 0;
  for (let i = 0; i < n; i++) if (b.take(key, now) !== EMPTY) ok++;
  return ok;
};

t.test('exactly `burst` at once, then one per 1/rate', async (t) => {
  const b = new TokenBuckets({ rate: 10, per: 1000, burst: 5 }, 100);
  t.equal(b.take(A, 0), FIRST, 'the first token of a new bucket');
  t.equal(b.take(A, 0), TAKEN, 'the next from the same bucket');
  t.equal(takeN(b, A, 3, 0), 3, 'the rest of the burst');
  t.equal(b.take(A, 0), EMPTY, 'the next one at the same instant');
  t.equal(b.take(A, 99), EMPTY, 'not before 100 ms');
  t.equal(b.take(A, 100), TAKEN, 'one token after 100 ms');
  t.equal(b.take(A, 100), EMPTY);
  t.equal(takeN(b, A, 20, 10_000), 5, 'a long pause refills to burst, not beyond');
});

t.test('sources are independent, IPv4 and IPv6 alike', async (t) => {
  const b = new TokenBuckets({ rate: 1, per: 1000, burst: 2 }, 100);
  t.equal(takeN(b, A, 3, 0), 2);
  t.equal(takeN(b, B, 3, 0), 2, 'B has its own bucket');
  t.equal(takeN(b, C, 3, 0), 2, 'so has an IPv6 source');
  t.equal(b.size, 3);
  b.forget(A);
  t.equal(b.take(A, 0), FIRST, 'forgotten: a fresh bucket');
});

t.test('bounded, per family: the source heard from least recently makes room', async (t) => {
  const b = new TokenBuckets({ rate: 1, per: 1000, burst: 1 }, 2);
  b.take(A, 0);
  b.take(B, 0);
  b.take(A, 0);
  b.take(C, 0);
  b.take(D, 0);
  t.equal(b.size, 4, 'each family has the whole limit');
  b.take(addressKey('192.0.2.3'), 0);
  t.equal(b.size, 4);
  t.equal(b.take(B, 0), FIRST, 'B was evicted, so it starts full again');
  t.equal(b.take(C, 0), EMPTY, 'the IPv6 sources were not touched');
});

t.test('sweep drops buckets that have refilled, keeps the rest; with idleMs, only long-idle ones', async (t) => {
  const b = new TokenBuckets({ rate: 1, per: 1000, burst: 2 }, 100);
  b.take(A, 0);
  takeN(b, B, 2, 500);
  b.sweep(1000);
  t.equal(b.size, 1, 'A is full again at 1000 ms; B is not');
  b.sweep(2500);
  t.equal(b.size, 0);
  b.take(A, 3000);
  b.sweep(10_000, 60_000);
  t.equal(b.size, 1, 'full, but used within idleMs: kept');
  b.sweep(63_000, 60_000);
  t.equal(b.size, 0);
});

t.test('one bucket for everything', async (t) => {
  const b = new TokenBucket({ rate: 10, per: 1000, burst: 2 });
  t.ok(b.take(0));
  t.ok(b.take(0));
  t.notOk(b.take(0));
  t.ok(b.take(100), 'refilled by one after 100 ms');
  t.notOk(b.take(100));
});
