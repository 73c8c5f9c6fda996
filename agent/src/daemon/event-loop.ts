// How late the event loop runs: the packet path judges whole batches synchronously, so a slow
// batch, a long collection or a huge ban list shows up here before it shows up as queue drops.
// Node's histogram wakes every RESOLUTION_MS and records how long that took; the delay is what
// exceeds the resolution. Readings cover windows of at least WINDOW_MS, so every reader (status,
// metrics, `vpsfw top`) sees the same last window instead of resetting each other's.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export const RESOLUTION_MS = 20;
export const WINDOW_MS = 10_000;

/** Milliseconds beyond the resolution. */
export interface EventLoopDelay {
  p50: number;
  p99: number;
  max: number;
  /** The window these cover (the last completed one; until there is one, the time since start). */
  windowSeconds: number;
}

export class EventLoopMonitor {
  readonly #h: IntervalHistogram;
  readonly #now: () => number;
  #since: number;
  #last: EventLoopDelay | undefined;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#since = now();
    this.#h = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    this.#h.enable();
  }

  read(): EventLoopDelay {
    const now = this.#now();
    if (now - this.#since < WINDOW_MS) return this.#last ?? this.#summary(now);
    this.#last = this.#summary(now);
    this.#h.reset();
    this.#since = now;
    return this.#last;
  }

  stop(): void {
    this.#h.disable();
  }

  #summary(now: number): EventLoopDelay {
    const h = this.#h;
    // Before its first wake-up the histogram has no samples (its percentiles read 0, its max a huge sentinel).
    const late = (ns: number) => (h.count === 0 ? 0 : Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 100) / 100));
    return { p50: late(h.percentile(50)), p99: late(h.percentile(99)), max: late(h.max), windowSeconds: Math.round((now - this.#since) / 100) / 10 };
  }
}
