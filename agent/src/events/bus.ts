// The one stream of events: every module that has something to say (a ban, a reload, a drop, an
// overflow) emits it here once; the logger writes each as a JSON line, and whoever else listens
// (the dashboard, the CrowdSec reporter) gets the same object. docs/events.md lists them all.
import type { Logger } from '../log/logger.js';

export type EventLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug';

export interface AgentEvent {
  event: string;
  level: EventLevel;
  /** A short human summary (the log line's `msg`). */
  msg: string;
  [field: string]: unknown;
}

export type EventListener = (e: AgentEvent) => void;

export class EventBus {
  readonly #listeners = new Set<EventListener>();
  readonly #onError: (err: unknown) => void;

  /** `onError`: a listener that throws is reported there; the others still hear the event. */
  constructor(onError: (err: unknown) => void = () => undefined) {
    this.#onError = onError;
  }

  /** Returns the function that stops listening. */
  on(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(e: AgentEvent): void {
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch (err) {
        this.#onError(err);
      }
    }
  }
}

/** Writes every event as one JSON line at its level: `event`, the fields, `msg`. */
export function logEvents(bus: EventBus, log: Logger): () => void {
  return bus.on(({ level, msg, ...fields }) => log[level](fields, msg));
}
