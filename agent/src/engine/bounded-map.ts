// A Map with a size cap: when full, the entry inserted longest ago makes room. Every per-source
// and per-flow table in the engine is one, so a flood of random sources costs bounded memory.

export class BoundedMap<K, V> extends Map<K, V> {
  readonly max: number;
  evictions = 0;

  constructor(max: number) {
    super();
    this.max = max;
  }

  override set(key: K, value: V): this {
    if (this.size >= this.max && !this.has(key)) {
      const oldest = this.keys().next();
      if (!oldest.done) {
        this.delete(oldest.value);
        this.evictions++;
      }
    }
    return super.set(key, value);
  }
}
