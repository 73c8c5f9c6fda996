// Watches what the queue was sent but the agent never judged (kernel/counters.ts, Unjudged) and
// says so when it starts and when it stops: one event each, not one per check.
import type { EventBus } from '../events/bus.js';

export class OverflowWatch {
  readonly #events: EventBus;
  readonly #failMode: () => 'open' | 'closed';
  #last = 0;
  #episode: { since: number; packets: number } | null = null;

  constructor(events: EventBus, failMode: () => 'open' | 'closed') {
    this.#events = events;
    this.#failMode = failMode;
  }

  /** `unjudged`: the total so far; `now`: epoch ms. */
  update(unjudged: number, now: number): void {
    const fresh = unjudged - this.#last;
    this.#last = unjudged;
    if (fresh > 0) {
      if (this.#episode === null) {
        const open = this.#failMode() === 'open';
        this.#episode = { since: now, packets: 0 };
        this.#events.emit({
          event: 'overflow',
          level: 'warn',
          msg: `the queue could not take everything: ${open ? 'the excess goes on unjudged (fail-open)' : 'the excess is dropped (fail-closed)'}`,
          failMode: open ? 'open' : 'closed',
          unjudged: fresh,
        });
      }
      this.#episode.packets += fresh;
    } else if (this.#episode !== null) {
      this.#events.emit({ event: 'overflow-end', level: 'info', msg: 'the queue keeps up again', unjudged: this.#episode.packets, seconds: Math.round((now - this.#episode.since) / 1000) });
      this.#episode = null;
    }
  }

  get overflowing(): boolean {
    return this.#episode !== null;
  }
}
