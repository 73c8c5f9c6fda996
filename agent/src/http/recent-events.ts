// The last events, numbered, for the dashboard to poll (`GET /api/events?after=N`): the last
// RECENT_EVENTS at most, so a flood of bans costs the listener a bounded amount whoever is watching. The
// periodic stats event and per-packet accept lines are left out: the dashboard plots the counters.
import type { AgentEvent, EventFeed } from '../log/tap.js';

export const RECENT_EVENTS = 500;
const SKIPPED = new Set(['stats', 'accept']);

export interface EventPage {
  /** Pass as `after` next time. */
  next: number;
  /** Events after `after` that the ring no longer holds. */
  missed: number;
  events: Array<AgentEvent & { seq: number }>;
}

export class RecentEvents {
  readonly #ring: Array<AgentEvent & { seq: number }> = [];
  readonly #size: number;
  #seq = 0;
  readonly #unsubscribe: () => void;

  constructor(feed: EventFeed, size = RECENT_EVENTS) {
    this.#size = size;
    this.#unsubscribe = feed.subscribe((e) => this.#add(e));
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
    this.#ring.push({ ...e, ...err, seq: ++this.#seq });
    // Trimmed in halves, not one at a time: a burst of bans costs no copy per event.
    if (this.#ring.length >= 2 * this.#size) this.#ring.splice(0, this.#size);
  }
}
