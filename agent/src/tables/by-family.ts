// A table of each family: IPv4 keys are narrower (tables/address-key.ts, packet/flow.ts), and a
// key's length says which table it belongs to. Each table has the whole limit to itself.
import type { SlotTable } from './slot-table.js';

export class ByFamily<T extends SlotTable> {
  readonly v4: T;
  readonly v6: T;

  constructor(make: (family: 4 | 6) => T) {
    this.v4 = make(4);
    this.v6 = make(6);
    if (this.v4.width === this.v6.width) throw new RangeError('the two families need keys of different widths');
  }

  /** The table a key of this length belongs to. */
  of(key: Uint32Array): T {
    return key.length === this.v4.width ? this.v4 : this.v6;
  }

  get both(): readonly [T, T] {
    return [this.v4, this.v6];
  }

  get size(): number {
    return this.v4.size + this.v6.size;
  }

  get evictions(): number {
    return this.v4.evictions + this.v6.evictions;
  }
}
