// The last events of the bus, numbered and stamped, for the dashboard to poll
// (`GET /api/events?after=N`): the last RECENT_EVENTS at most, so a flood of bans costs the listener
// a bounded amount whoever is watching. The periodic stats event and per-packet accept lines are
// left out: the dashboard plots the counters.
import type { AgentEvent, EventBus } from '../events/bus.js';

export const RECENT_EVENTS = 500;
const SKIPPED = new Set(['stats', 'accept']);

/** An event as the dashboard gets it: numbered, with the time it was heard (ISO 8601). */
export type RecentEvent = AgentEvent & { seq: number; time: string };

export interface EventPage {
  /** Pass as `after` next time. */
  next: number;
  /** Events after `after` that the ring no longer holds. */
  missed: number;
  events: RecentEvent[];
}

export class RecentEvents {
  readonly #ring: RecentEvent[] = [];
  readonly #size: number;
  #seq = 0;
  readonly #unsubscribe: () => void;
  readonly #now: () => number;

  constructor(bus: EventBus, size = RECENT_EVENTS, now: () => number = Date.now) {
    this.#size = size;
    this.#now = now;
    this.#unsubscribe = bus.on((e) => this.#add(e));
  }

  /** Events numbered above `after`, oldest first, at most `limit` (the newest ones). */
  since(after: number, limit = 100): EventPage {
    // A number from before a restart of the agent: start again.
    const seen = after > this.#seq ? 0 : Math.max(0, after);
    const first = this.#seq - this.#ring.length;
    const from = Math.max(seen, first, this.#seq - this.#size, this.#seq - limit);
    return { next: this.#seq, missed: from - seen, events: this.#ring.slice(from - first) };
  }

  close(): void {
    this.#unsubscribe();
  }

  #add(e: AgentEvent): void {
    if (SKIPPED.has(e.event)) return;
    // An Error would serialize as {}: keep what says what went wrong.
    const err = e.err instanceof Error ? { err: { type: e.err.name, message: e.err.message } } : {};
    this.#ring.push({ ...e, ...err, seq: ++this.#seq, time: new Date(this.#now()).toISOString() });
    // Trimmed in halves, not one at a time: a burst of bans costs no copy per event.
    if (this.#ring.length >= 2 * this.#size) this.#ring.splice(0, this.#size);
  }
}
