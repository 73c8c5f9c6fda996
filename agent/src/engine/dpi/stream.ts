// Per-flow stream state for TCP payload inspection: the last bytes of the flow (so a pattern
// split across segments is seen whole), the next sequence number expected, and whether the flow
// has already been blocked. Bounded in flows (the oldest evicted, idle ones expired) and in bytes
// per flow (a fixed window, reused for the flow's whole life).
import { BoundedMap } from '../bounded-map.js';
import type { Verdict } from '../verdict.js';

export interface FlowState {
  /** Next byte expected from the sender (TCP sequence space). */
  nextSeq: number;
  /** The last `windowLength` bytes already inspected and accepted, at the start of `window`. */
  window: Buffer;
  windowLength: number;
  /** Payload bytes inspected so far (for a rule's depth). */
  seen: number;
  lastSeen: number;
  /** Set once a drop/reject rule matched: the verdict for the rest of the flow. */
  blocked: Verdict | null;
}

const EMPTY = Buffer.alloc(0);

export class FlowTable {
  readonly #flows: BoundedMap<string, FlowState>;
  readonly #idleMs: number;

  constructor(maxFlows: number, idleMs: number) {
    this.#flows = new BoundedMap(maxFlows);
    this.#idleMs = idleMs;
  }

  /** The flow's state, unless it has been idle too long (then it is dropped here, lazily). */
  get(key: string, now: number): FlowState | undefined {
    const s = this.#flows.get(key);
    if (s !== undefined && now - s.lastSeen > this.#idleMs) {
      this.#flows.delete(key);
      return undefined;
    }
    return s;
  }

  /** A flow begins at its SYN (nextSeq = ISN + 1) or, if we missed that, at the first segment seen. */
  open(key: string, nextSeq: number, now: number): FlowState {
    const s: FlowState = { nextSeq, window: EMPTY, windowLength: 0, seen: 0, lastSeen: now, blocked: null };
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

/** The window's bytes, as a view. */
export function tailOf(s: FlowState): Buffer {
  return s.window.subarray(0, s.windowLength);
}

/**
 * Appends inspected bytes to the window, keeping the last `carry`. The window is allocated once
 * per flow (again only if a reload changes `carry`) and copied into: the packet's buffer goes back
 * to the kernel, and a stream of any length costs `carry` bytes.
 */
export function remember(s: FlowState, data: Buffer, carry: number): void {
  if (s.window.length !== carry) {
    const w = carry > 0 ? Buffer.allocUnsafeSlow(carry) : EMPTY;
    const keep = Math.min(s.windowLength, carry);
    s.window.copy(w, 0, s.windowLength - keep, s.windowLength);
    s.window = w;
    s.windowLength = keep;
  }
  if (carry === 0) return;
  const w = s.window;
  if (data.length >= carry) {
    data.copy(w, 0, data.length - carry);
    s.windowLength = carry;
    return;
  }
  const keep = Math.min(s.windowLength, carry - data.length);
  w.copy(w, 0, s.windowLength - keep, s.windowLength); // overlapping copy: Buffer#copy is a memmove
  data.copy(w, keep);
  s.windowLength = keep + data.length;
}

/** a - b in 32-bit sequence space, as a signed number. */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}
