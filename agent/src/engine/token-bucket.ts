// Token buckets: `rate` tokens per `per` ms, at most `burst` stored. Two numbers per key; the
// refill is computed when a token is asked for, so idle keys cost nothing.
import { BoundedMap } from './bounded-map.js';

export interface Rate {
  rate: number;
  per: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  last: number;
}

export class TokenBuckets<K> {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #buckets: BoundedMap<K, Bucket>;

  constructor(rate: Rate, maxKeys: number) {
    this.#perMs = rate.rate / rate.per;
    this.#burst = rate.burst;
    this.#buckets = new BoundedMap(maxKeys);
  }

  /** Takes one token for `key`; false when it has none left. */
  take(key: K, now: number): boolean {
    const b = this.#buckets.get(key);
    if (b === undefined) {
      this.#buckets.set(key, { tokens: this.#burst - 1, last: now });
      return true;
    }
    b.tokens = Math.min(this.#burst, b.tokens + (now - b.last) * this.#perMs);
    b.last = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  forget(key: K): void {
    this.#buckets.delete(key);
  }

  /** Drops keys whose bucket has refilled completely: they hold no information. */
  sweep(now: number): void {
    for (const [k, b] of this.#buckets) if (b.tokens + (now - b.last) * this.#perMs >= this.#burst) this.#buckets.delete(k);
  }

  get size(): number {
    return this.#buckets.size;
  }
}
