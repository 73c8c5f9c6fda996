// The ban store's kernel writes waiting for `ipset restore`, as rows of 32-bit words: the table,
// the timeout (0: a lift) and the key. No object or string is made per entry until the kernel
// reads it: during a bulk load thousands of entries wait while ipset works, and objects that wait
// that long are promoted to the old generation (8 to 24 MiB of it over a load of 100,000 CrowdSec
// decisions, as fast as ipset was). Batches are taken into the caller's one buffer: a copy per
// batch, garbage a hundred times over a bulk load, held the malloc heap 3 MiB higher.

/** Words per row: the table's index, the seconds, and the widest key (an IPv6 network: 4 words and the prefix). */
export const ROW = 7;
const FIRST_ROWS = 1024;
/** Rows kept once drained: a bulk load's few batches in flight reuse the queue; a larger burst's memory is given back. */
const KEPT_ROWS = 8192;

export class PendingWrites {
  #rows = new Uint32Array(ROW * FIRST_ROWS);
  /** Rows before `head` are taken; rows from `tail` on are free. */
  #head = 0;
  #tail = 0;

  get length(): number {
    return this.#tail - this.#head;
  }

  push(table: number, seconds: number, key: Uint32Array): void {
    if ((this.#tail + 1) * ROW > this.#rows.length) this.#makeRoom();
    const at = this.#tail++ * ROW;
    this.#rows[at] = table;
    this.#rows[at + 1] = seconds;
    this.#rows.set(key, at + 2);
  }

  /** Takes off the first rows, as many as `into` holds (fewer if there are not so many), copied into it; returns how many. */
  take(into: Uint32Array): number {
    const count = Math.min(Math.floor(into.length / ROW), this.length);
    into.set(this.#rows.subarray(this.#head * ROW, (this.#head + count) * ROW));
    this.#head += count;
    if (this.#head === this.#tail) {
      this.#head = this.#tail = 0;
      if (this.#rows.length > ROW * KEPT_ROWS) this.#rows = new Uint32Array(ROW * FIRST_ROWS);
    }
    return count;
  }

  #makeRoom(): void {
    if (this.#head > 0) {
      this.#rows.copyWithin(0, this.#head * ROW, this.#tail * ROW);
      this.#tail -= this.#head;
      this.#head = 0;
    }
    if ((this.#tail + 1) * ROW <= this.#rows.length) return;
    const bigger = new Uint32Array(this.#rows.length * 2);
    bigger.set(this.#rows.subarray(0, this.#tail * ROW));
    this.#rows = bigger;
  }
}
