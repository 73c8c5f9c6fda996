// Per-flow stream state for TCP payload inspection: the last bytes of the flow (so a pattern
// split across segments is seen whole), the next sequence number expected, and whether the flow
// has already been blocked. Bounded in flows (oldest evicted) and in bytes per flow (the carry).
import { BoundedMap } from '../bounded-map.js';

export interface FlowState {
  /** Next byte expected from the sender (TCP sequence space). */
  nextSeq: number;
  /** The last bytes already inspected and accepted. */
  tail: Buffer;
  /** Payload bytes inspected so far (for a rule's depth). */
  seen: number;
  lastSeen: number;
  /** Set once a drop/reject rule matched: the rest of the flow is dropped too. */
  blockedBy: string | null;
}

const EMPTY = Buffer.alloc(0);

export class FlowTable {
  readonly #flows: BoundedMap<string, FlowState>;
  readonly #idleMs: number;

  constructor(maxFlows: number, idleMs: number) {
    this.#flows = new BoundedMap(maxFlows);
    this.#idleMs = idleMs;
  }

  get(key: string): FlowState | undefined {
    return this.#flows.get(key);
  }

  /** A flow begins at its SYN (nextSeq = ISN + 1) or, if we missed that, at the first segment seen. */
  open(key: string, nextSeq: number, now: number): FlowState {
    const s: FlowState = { nextSeq, tail: EMPTY, seen: 0, lastSeen: now, blockedBy: null };
    this.#flows.set(key, s);
    return s;
  }

  close(key: string): void {
    this.#flows.delete(key);
  }

  sweep(now: number): void {
    for (const [k, s] of this.#flows) if (now - s.lastSeen > this.#idleMs) this.#flows.delete(k);
  }

  get size(): number {
    return this.#flows.size;
  }

  get evictions(): number {
    return this.#flows.evictions;
  }
}

/** Keeps the last `carry` bytes of `tail + data` (a copy: the packet buffer goes back to the kernel). */
export function nextTail(tail: Buffer, data: Buffer, carry: number): Buffer {
  if (carry <= 0) return EMPTY;
  if (data.length >= carry) return Buffer.from(data.subarray(data.length - carry));
  const keep = Math.min(tail.length, carry - data.length);
  return Buffer.concat([tail.subarray(tail.length - keep), data]);
}

/** a - b in 32-bit sequence space, as a signed number. */
export function seqDiff(a: number, b: number): number {
  return ((a - b) | 0);
}
