// The agent's events as objects, for whoever subscribes (the dashboard): each line the logger
// writes, as `{event, level, msg, time, ...fields}`. It stands where the events bus
// (agent/src/events/bus.ts) will: subscribers depend on EventFeed only. With no subscriber a log
// line costs one test more.
import type { Level, LogFn } from 'pino';

export interface AgentEvent {
  event: string;
  level: string;
  msg: string;
  time: string;
  [field: string]: unknown;
}

export interface EventFeed {
  /** Calls `listener` with every event from now on; returns the unsubscribe function. */
  subscribe(listener: (e: AgentEvent) => void): () => void;
}

const LABELS: Record<number, Level> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

export class LogTap implements EventFeed {
  readonly #listeners = new Set<(e: AgentEvent) => void>();

  subscribe(listener: (e: AgentEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** pino's `hooks.logMethod`: writes the line, then hands subscribers the object it was made from. */
  logMethod(): (this: unknown, args: Parameters<LogFn>, method: LogFn, level: number) => void {
    const listeners = this.#listeners;
    return function (args, method, level) {
      method.apply(this, args);
      if (listeners.size === 0) return;
      const [fields, msg] = args as unknown as [Record<string, unknown>, string | undefined];
      if (typeof fields !== 'object' || fields === null || typeof fields.event !== 'string') return;
      const e: AgentEvent = { ...fields, event: fields.event, level: LABELS[level] ?? String(level), msg: msg ?? '', time: new Date().toISOString() };
      for (const l of listeners) l(e);
    };
  }
}
