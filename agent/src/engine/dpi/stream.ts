// Per-flow stream state for TCP payload inspection: the last bytes of the flow (so a pattern
// split across segments is seen whole), the next sequence number expected, and whether the flow
// has already been blocked. Bounded in flows (the least recently seen evicted, idle ones expired)
// and in bytes per flow: every flow's window is a fixed stretch of one arena, `stride` bytes (the
// most any payload rule needs), reused for the flow's whole life.
import { elapsed32, stamp32 } from '../../tables/ms32.js';
import { SlotTable } from '../../tables/slot-table.js';
import type { Verdict } from '../verdict.js';

/** Columns by slot, read and written by the matcher (dpi/matcher.ts). */
export class FlowTable extends SlotTable {
  readonly #idleMs: number;
  #stride: number;
  /** Next byte expected from the sender (TCP sequence space). */
  readonly nextSeq: Uint32Array;
  /** The last `windowLength` bytes inspected and accepted, at `windowAt(slot)` in `arena`. */
  readonly windowLength: Uint16Array;
  arena: Uint8Array;
  /** Payload bytes inspected so far (for a rule's depth), stopping at 2^32 - 1. */
  readonly seen: Uint32Array;
  /** When the flow was last seen (tables/ms32.ts). */
  readonly lastSeen: Uint32Array;
  /** 0, or 1 + the index in #verdicts of the verdict for the rest of the flow (a drop/reject rule matched). */
  readonly #blocked: Uint16Array;
  /** One per rule and action ever blocking (a reload makes new verdict objects for the same rules). */
  readonly #verdicts: Verdict[] = [];
  readonly #verdictIndex = new Map<string, number>();

  /** `width`: the flow key's (packet/flow.ts), one family's. */
  constructor(width: number, maxFlows: number, idleMs: number, stride: number) {
    super(width, maxFlows);
    this.#idleMs = idleMs;
    this.#stride = stride;
    this.nextSeq = new Uint32Array(maxFlows);
    this.windowLength = new Uint16Array(maxFlows);
    this.arena = new Uint8Array(maxFlows * stride);
    this.seen = new Uint32Array(maxFlows);
    this.lastSeen = new Uint32Array(maxFlows);
    this.#blocked = new Uint16Array(maxFlows);
  }

  get stride(): number {
    return this.#stride;
  }

  /** The flow's slot, or -1; a flow idle too long is dropped here, lazily. */
  get(key: Uint32Array, now: number): number {
    const s = this.find(key);
    if (s < 0) return s;
    if (elapsed32(now, this.lastSeen[s]!) > this.#idleMs) {
      this.delete(s);
      return -1;
    }
    this.touch(s);
    return s;
  }

  /** A flow begins at its SYN (nextSeq = ISN + 1) or, if we missed that, at the first segment seen. */
  open(key: Uint32Array, nextSeq: number, now: number): number {
    let s = this.find(key);
    if (s < 0) s = this.insert(key);
    else this.touch(s);
    this.nextSeq[s] = nextSeq;
    this.windowLength[s] = 0;
    this.seen[s] = 0;
    this.lastSeen[s] = stamp32(now);
    this.#blocked[s] = 0;
    return s;
  }

  sweep(now: number): void {
    for (const s of this.slots()) if (elapsed32(now, this.lastSeen[s]!) > this.#idleMs) this.delete(s);
  }

  windowAt(slot: number): number {
    return slot * this.#stride;
  }

  blocked(slot: number): Verdict | null {
    const b = this.#blocked[slot]!;
    return b === 0 ? null : this.#verdicts[b - 1]!;
  }

  block(slot: number, v: Verdict): void {
    const name = `${v.action} ${v.by.kind}:${v.by.name}`;
    let i = this.#verdictIndex.get(name);
    if (i === undefined) this.#verdictIndex.set(name, (i = this.#verdicts.push(v) - 1));
    this.#blocked[slot] = i + 1;
  }

  /** Counts inspected bytes, stopping at the column's largest value (a depth is smaller). */
  addSeen(slot: number, bytes: number): void {
    this.seen[slot] = Math.min(0xffffffff, this.seen[slot]! + bytes);
  }

  /**
   * Appends inspected bytes (`length` of them from `start` in `buf`) to the window, keeping the
   * last `carry` (at most the stride). Copied: the packet's buffer goes back to the kernel.
   */
  remember(slot: number, buf: Buffer, start: number, length: number, carry: number): void {
    const keep = Math.min(carry, this.#stride);
    if (keep === 0) return;
    const w = slot * this.#stride;
    if (length >= keep) {
      buf.copy(this.arena, w, start + length - keep, start + length);
      this.windowLength[slot] = keep;
      return;
    }
    const had = this.windowLength[slot]!;
    const old = Math.min(had, keep - length);
    this.arena.copyWithin(w, w + had - old, w + had);
    buf.copy(this.arena, w + old, start, start + length);
    this.windowLength[slot] = old + length;
  }

  /** After a reload whose rules need another window size: each flow keeps what still fits. */
  setStride(stride: number): void {
    if (stride === this.#stride) return;
    const arena = new Uint8Array(this.max * stride);
    for (const s of this.slots()) {
      const keep = Math.min(this.windowLength[s]!, stride);
      const from = s * this.#stride + this.windowLength[s]! - keep;
      arena.set(this.arena.subarray(from, from + keep), s * stride);
      this.windowLength[s] = keep;
    }
    this.arena = arena;
    this.#stride = stride;
  }
}

/** a - b in 32-bit sequence space, as a signed number. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}
