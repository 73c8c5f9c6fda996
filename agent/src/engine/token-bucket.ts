// Token buckets: `rate` tokens per `per` ms, at most `burst` stored. Two numbers per bucket; the
// refill is computed when a token is asked for, so idle buckets cost nothing.
import { WORDS } from '../tables/address-key.js';
import { ByFamily } from '../tables/by-family.js';
import { elapsed32, stamp32 } from '../tables/ms32.js';
import { SlotTable } from '../tables/slot-table.js';

export interface Rate {
  rate: number;
  per: number;
  burst: number;
}

/** What `take` found: no token left, a token from a bucket the source already had, or a new bucket's. */
export const EMPTY = 0;
export const TAKEN = 1;
export const FIRST = 2;
export type Take = typeof EMPTY | typeof TAKEN | typeof FIRST;

/** One bucket: a limit over everything (all SYNs, say). */
export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #last = -Infinity;

  constructor(rate: Rate) {
    this.#perMs = rate.rate / rate.per;
    this.#burst = rate.burst;
    this.#tokens = rate.burst;
  }

  take(now: number): boolean {
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#last) * this.#perMs);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

class BucketTable extends SlotTable {
  // Tokens as 32-bit floats: exact for any burst the schema allows, half the bytes.
  readonly tokens: Float32Array;
  /** When a token was last asked for (tables/ms32.ts). */
  readonly last: Uint32Array;

  constructor(width: number, max: number) {
    super(width, max);
    this.tokens = new Float32Array(max);
    this.last = new Uint32Array(max);
  }
}

/** One bucket per source address; at the cap the source heard from least recently makes room. */
export class TokenBuckets {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #tables: ByFamily<BucketTable>;

  /**
   * `previous`: the buckets this limit had under the last policy. Their tables are taken over
   * when they have the same size (a reload then allocates nothing and a source keeps its
   * tokens, which the new burst caps at the next take); otherwise they are left to the collector.
   */
  constructor(rate: Rate, maxKeys: number, previous?: TokenBuckets) {
    this.#perMs = rate.rate / rate.per;
    this.#burst = rate.burst;
    this.#tables = previous && previous.#tables.v4.max === maxKeys ? previous.#tables : new ByFamily((family) => new BucketTable(WORDS[family], maxKeys));
  }

  /** Takes one token from the bucket of the address `key` holds (tables/address-key.ts). */
  take(key: Uint32Array, now: number): Take {
    const t = this.#tables.of(key);
    let s = t.find(key);
    if (s < 0) {
      s = t.insert(key);
      t.tokens[s] = this.#burst - 1;
      t.last[s] = stamp32(now);
      return FIRST;
    }
    t.touch(s);
    const tokens = Math.min(this.#burst, t.tokens[s]! + elapsed32(now, t.last[s]!) * this.#perMs);
    t.last[s] = stamp32(now);
    if (tokens < 1) {
      t.tokens[s] = tokens;
      return EMPTY;
    }
    t.tokens[s] = tokens - 1;
    return TAKEN;
  }

  forget(key: Uint32Array): void {
    const t = this.#tables.of(key);
    const s = t.find(key);
    if (s >= 0) t.delete(s);
  }

  /**
   * Drops buckets that have refilled completely and have not been used for `idleMs`: with
   * `idleMs` 0 every full bucket goes (it holds no information but that the source was seen).
   */
  sweep(now: number, idleMs = 0): void {
    for (const t of this.#tables.both) {
      for (const s of t.slots()) {
        const idle = elapsed32(now, t.last[s]!);
        if (idle >= idleMs && t.tokens[s]! + idle * this.#perMs >= this.#burst) t.delete(s);
      }
    }
  }

  get size(): number {
    return this.#tables.size;
  }
}
