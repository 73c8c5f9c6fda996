// Token buckets: `rate` tokens per `per` ms, at most `burst` stored. Two numbers per bucket; the
// refill is computed when a token is asked for, so idle buckets cost nothing.
import { ADDRESS_WORDS } from '../tables/address-key.js';
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

/** One bucket per source address; at the cap the source heard from least recently makes room. */
export class TokenBuckets extends SlotTable {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #tokens: Float64Array;
  readonly #last: Float64Array;

  constructor(rate: Rate, maxKeys: number) {
    super(ADDRESS_WORDS, maxKeys);
    this.#perMs = rate.rate / rate.per;
    this.#burst = rate.burst;
    this.#tokens = new Float64Array(maxKeys);
    this.#last = new Float64Array(maxKeys);
  }

  /** Takes one token from the bucket of the address `key` holds (tables/address-key.ts). */
  take(key: Uint32Array, now: number): Take {
    let s = this.find(key);
    if (s < 0) {
      s = this.insert(key);
      this.#tokens[s] = this.#burst - 1;
      this.#last[s] = now;
      return FIRST;
    }
    this.touch(s);
    const tokens = Math.min(this.#burst, this.#tokens[s]! + (now - this.#last[s]!) * this.#perMs);
    this.#last[s] = now;
    if (tokens < 1) {
      this.#tokens[s] = tokens;
      return EMPTY;
    }
    this.#tokens[s] = tokens - 1;
    return TAKEN;
  }

  forget(key: Uint32Array): void {
    const s = this.find(key);
    if (s >= 0) this.delete(s);
  }

  /**
   * Drops buckets that have refilled completely and have not been used for `idleMs`: with
   * `idleMs` 0 every full bucket goes (it holds no information but that the source was seen).
   */
  sweep(now: number, idleMs = 0): void {
    for (const s of this.slots()) {
      if (now - this.#last[s]! >= idleMs && this.#tokens[s]! + (now - this.#last[s]!) * this.#perMs >= this.#burst) this.delete(s);
    }
  }
}
