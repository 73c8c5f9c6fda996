// The engine's and the ban store's state tables: a hash from fixed-width keys (32-bit words) to
// dense slot numbers, capped, with the least recently used entry making room at the cap. A table
// keeps its values in typed-array columns indexed by slot (a subclass's own), so a hundred thousand
// sources or flows cost a few megabytes in a handful of arrays, and nothing for the garbage
// collector to trace, instead of an object and a string each.
//
// Open addressing with linear probing over an index of slot numbers; deletion shifts the probe
// run back (no tombstones, so a flood of short-lived keys cannot slow lookups down). The hash is
// seeded per table (V8's Math.random is seeded from the system's entropy, and nothing the agent
// sends reveals it; node:crypto would cost the daemon 2 MiB to load), so an attacker cannot choose
// sources that collide. Keys and columns are
// allocated for `max` slots at once but the kernel backs only the pages written (slots are handed
// out from the bottom, freed ones reused first); the index starts small and grows, at most two
// thirds full: an idle agent holds little, and a growing table copies nothing but its index.
const EMPTY = -1;
const FIRST_INDEX = 128;
/** 2^-32: maps a 32-bit hash onto an index of any length. */
const SCALE = 1 / 4294967296;

export class SlotTable {
  /** Words per key. */
  readonly width: number;
  readonly max: number;
  /** Entries made room for at the cap. */
  evictions = 0;
  #size = 0;
  readonly #keys: Uint32Array;
  /** Recency list (head: least recent) over live slots; free slots chain through `next`. */
  readonly #prev: Int32Array;
  readonly #next: Int32Array;
  #head = EMPTY;
  #tail = EMPTY;
  #free = EMPTY;
  /** Slots ever handed out: every slot below is live or free. */
  #used = 0;
  #index = new Int32Array(FIRST_INDEX).fill(EMPTY);
  /** The index's length at `max` entries: one and a half slots per entry. */
  readonly #fullIndex: number;
  readonly #seed = (Math.random() * 2 ** 32) | 0;

  constructor(width: number, max: number) {
    if (!Number.isSafeInteger(width) || width < 1) throw new RangeError(`key width must be a positive integer (got ${width})`);
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`table size must be a positive integer (got ${max})`);
    this.width = width;
    this.max = max;
    this.#keys = new Uint32Array(max * width);
    this.#prev = new Int32Array(max);
    this.#next = new Int32Array(max);
    this.#fullIndex = Math.max(FIRST_INDEX, Math.ceil(max * 1.5));
  }

  get size(): number {
    return this.#size;
  }

  /** The slot holding `key` (its first `width` words from `at`), or -1. */
  find(key: Uint32Array, at = 0): number {
    if (this.#size === 0) return EMPTY;
    const index = this.#index;
    const w = this.width;
    for (let i = this.#home(key, at); ; i = i + 1 === index.length ? 0 : i + 1) {
      const s = index[i]!;
      if (s === EMPTY) return EMPTY;
      if (this.#equal(s * w, key, at)) return s;
    }
  }

  /**
   * A new slot for `key`, which must not be present (find first). At the cap the least recently
   * used entry goes (the caller's columns for the new slot hold stale values: set them all).
   */
  insert(key: Uint32Array, at = 0): number {
    if (this.#size >= this.max) {
      this.evictions++;
      this.delete(this.#head);
    }
    // Half full at most while it grows; at its full length, max entries fill two thirds of it.
    if (this.#index.length < this.#fullIndex && this.#size * 2 >= this.#index.length) this.#growIndex();
    let s: number;
    if (this.#free !== EMPTY) {
      s = this.#free;
      this.#free = this.#next[s]!;
    } else {
      s = this.#used++;
    }
    const w = this.width;
    for (let i = 0; i < w; i++) this.#keys[s * w + i] = key[at + i]!;
    this.#file(s, this.#index);
    this.#link(s);
    this.#size++;
    return s;
  }

  /** Removes a live slot. */
  delete(slot: number): void {
    const index = this.#index;
    const n = index.length;
    let i = this.#home(this.#keys, slot * this.width);
    while (index[i] !== slot) i = i + 1 === n ? 0 : i + 1;
    // Backward shift: pull later members of the probe run into the hole.
    for (let j = i + 1 === n ? 0 : i + 1; ; j = j + 1 === n ? 0 : j + 1) {
      const s = index[j]!;
      if (s === EMPTY) break;
      const home = this.#home(this.#keys, s * this.width);
      // s may move into the hole at i only if its home is not in (i, j] cyclically.
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        index[i] = s;
        i = j;
      }
    }
    index[i] = EMPTY;
    this.#unlink(slot);
    this.#next[slot] = this.#free;
    this.#free = slot;
    this.#size--;
  }

  /** Marks a slot as just used: the last to be evicted. */
  touch(slot: number): void {
    if (slot === this.#tail) return;
    this.#unlink(slot);
    this.#link(slot);
  }

  /** Live slots from least to most recently used. Deleting the slot just returned is allowed. */
  *slots(): Generator<number> {
    for (let s = this.#head; s !== EMPTY; ) {
      const next = this.#next[s]!;
      yield s;
      s = next;
    }
  }

  /** Slots ever handed out: every live slot is below it. */
  get extent(): number {
    return this.#used;
  }

  /** Whether a slot below `extent` holds a key (a freed one keeps its stale words, filed nowhere). */
  live(slot: number): boolean {
    return this.find(this.#keys, slot * this.width) === slot;
  }

  /** The key words of a live slot (a view: copy it to keep it). */
  keyOf(slot: number): Uint32Array {
    return this.#keys.subarray(slot * this.width, (slot + 1) * this.width);
  }

  /** Doubles the index (up to its full length) and files every live slot again. */
  #growIndex(): void {
    const index = new Int32Array(Math.min(this.#fullIndex, this.#index.length * 2)).fill(EMPTY);
    for (let s = this.#head; s !== EMPTY; s = this.#next[s]!) this.#file(s, index);
    this.#index = index;
  }

  #file(s: number, index: Int32Array): void {
    let i = this.#home(this.#keys, s * this.width, index.length);
    while (index[i] !== EMPTY) i = i + 1 === index.length ? 0 : i + 1;
    index[i] = s;
  }

  /** Where in the index the key's probe run starts. */
  #home(key: Uint32Array, at: number, length = this.#index.length): number {
    let h = this.#seed;
    for (let i = 0; i < this.width; i++) {
      h = Math.imul(h ^ key[at + i]!, 0x9e3779b1);
      h ^= h >>> 16;
    }
    h = Math.imul(h ^ (h >>> 13), 0x85ebca6b);
    return Math.floor(((h ^ (h >>> 16)) >>> 0) * SCALE * length);
  }

  #equal(base: number, key: Uint32Array, at: number): boolean {
    for (let i = 0; i < this.width; i++) if (this.#keys[base + i] !== key[at + i]) return false;
    return true;
  }

  #link(s: number): void {
    this.#prev[s] = this.#tail;
    this.#next[s] = EMPTY;
    if (this.#tail === EMPTY) this.#head = s;
    else this.#next[this.#tail] = s;
    this.#tail = s;
  }

  #unlink(s: number): void {
    const p = this.#prev[s]!;
    const n = this.#next[s]!;
    if (p === EMPTY) this.#head = n;
    else this.#next[p] = n;
    if (n === EMPTY) this.#tail = p;
    else this.#prev[n] = p;
  }
}
