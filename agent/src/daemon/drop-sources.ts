// The sources whose packets were refused most, for `vpsfw top` and the status snapshot: those the
// agent refused (judged) and those the kernel's static rules refused and showed it (NFLOG samples,
// makeObserver in daemon/packet-handler.ts). Counted on the packet path for refused packets only,
// keyed by the packet's own address bytes (no string is made), in a small table per family whose
// least recently refused source makes room: a source refused again and again stays, a spoofed
// flood's one-packet sources pass through.
// A source not in the table enters it at one refused packet in ENTRY_EVERY: a flood of new sources
// then costs mostly a lookup per packet rather than an eviction each (about 0.3 against 0.5 µs a
// packet, measured on a busy 2-core VM), and a source refused often enters within a few packets;
// its count starts there.
// Packets the kernel drops in raw (bans, denied networks) never reach the agent and are not counted
// here (the kernel counters count them), nor refused packets no detector asks to see.
import { sourceKey } from '../engine/match.js';
import type { Packet } from '../packet/types.js';
import { addressText, WORDS } from '../tables/address-key.js';
import { ByFamily } from '../tables/by-family.js';
import { SlotTable } from '../tables/slot-table.js';

/** Sources of each family remembered. */
export const DROP_SOURCES = 4096;
export const ENTRY_EVERY = 4;

class DropTable extends SlotTable {
  readonly drops: Float64Array;

  constructor(width: number, max: number) {
    super(width, max);
    this.drops = new Float64Array(max);
  }
}

export interface DropSource {
  address: string;
  drops: number;
}

export class DropSources {
  readonly #tables: ByFamily<DropTable>;
  #misses = 0;

  constructor(max = DROP_SOURCES) {
    this.#tables = new ByFamily((family) => new DropTable(WORDS[family], max));
  }

  count(p: Packet): void {
    const key = sourceKey(p);
    const t = this.#tables.of(key);
    let s = t.find(key);
    if (s >= 0) t.touch(s);
    else if (++this.#misses % ENTRY_EVERY !== 0) return;
    else {
      s = t.insert(key);
      t.drops[s] = 0;
    }
    t.drops[s]!++;
  }

  /** The `n` sources with the most refused packets, most first. */
  top(n: number): DropSource[] {
    if (n <= 0) return [];
    const best: Array<{ t: DropTable; s: number }> = [];
    for (const t of this.#tables.both) {
      for (const s of t.slots()) {
        if (best.length === n && t.drops[s]! <= best[n - 1]!.t.drops[best[n - 1]!.s]!) continue;
        let i = best.length === n ? n - 1 : best.length;
        best[i] = { t, s };
        for (; i > 0 && best[i - 1]!.t.drops[best[i - 1]!.s]! < t.drops[s]!; i--) [best[i - 1], best[i]] = [best[i]!, best[i - 1]!];
      }
    }
    return best.map(({ t, s }) => ({ address: addressText(t.keyOf(s)), drops: t.drops[s]! }));
  }
}
