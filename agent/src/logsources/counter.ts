// Counting sshd's failures per source within `findTime`, one per failed attempt: the lines one
// attempt writes ("Invalid user" then "Failed password for invalid user", "Failed password" then
// "Connection closed by authenticating user") count once, by their session (address and client
// port). Pure (time is an argument) and bounded: both tables forget their oldest entry at the cap.
import type { SshdEvent } from './sshd.js';

export interface CounterOptions {
  maxRetry: number;
  findTimeMs: number;
  /** Sources and sessions remembered at most (each). */
  cap?: number;
}

export type CountResult =
  | { kind: 'ignored' }
  | { kind: 'counted'; failures: number }
  | { kind: 'ban'; failures: number }
  | { kind: 'forgiven'; failures: number };

interface Session {
  /** Something in this session has counted. */
  counted: boolean;
  /** It began with "Invalid user": the first "Failed …" line is that same attempt. */
  invalidUser: boolean;
  failedSeen: boolean;
  at: number;
}

const DEFAULT_CAP = 100_000;

export class FailureCounter {
  readonly #maxRetry: number;
  readonly #findTime: number;
  readonly #cap: number;
  /** Failure times by source, oldest first (fewer than maxRetry: the one that reaches it bans); Map order is least recently used first. */
  readonly #sources = new Map<string, number[]>();
  readonly #sessions = new Map<string, Session>();

  constructor(o: CounterOptions) {
    this.#maxRetry = o.maxRetry;
    this.#findTime = o.findTimeMs;
    this.#cap = o.cap ?? DEFAULT_CAP;
  }

  get sources(): number {
    return this.#sources.size;
  }

  record(e: SshdEvent, now: number): CountResult {
    if (e.kind === 'success') {
      const had = this.#sources.get(e.address);
      this.#sources.delete(e.address);
      if (e.port !== 0) this.#sessions.delete(`${e.address} ${e.port}`);
      return { kind: 'forgiven', failures: had ? this.#live(had, now).length : 0 };
    }
    if (e.port !== 0 && !this.#countsInSession(e, now)) return { kind: 'ignored' };
    const times = this.#live(this.#sources.get(e.address) ?? [], now);
    times.push(now);
    this.#sources.delete(e.address);
    if (times.length >= this.#maxRetry) return { kind: 'ban', failures: times.length };
    this.#sources.set(e.address, times);
    if (this.#sources.size > this.#cap) this.#sources.delete(this.#sources.keys().next().value!);
    return { kind: 'counted', failures: times.length };
  }

  /** Drops what the sessions and windows no longer need (called now and then). */
  sweep(now: number): void {
    for (const [k, times] of this.#sources) if (this.#live(times, now).length === 0) this.#sources.delete(k);
    for (const [k, s] of this.#sessions) if (now - s.at > this.#findTime) this.#sessions.delete(k);
  }

  #live(times: number[], now: number): number[] {
    while (times.length > 0 && now - times[0]! >= this.#findTime) times.shift();
    return times;
  }

  #countsInSession(e: SshdEvent, now: number): boolean {
    const key = `${e.address} ${e.port}`;
    let s = this.#sessions.get(key);
    if (s === undefined || now - s.at > this.#findTime) s = { counted: false, invalidUser: false, failedSeen: false, at: now };
    this.#sessions.delete(key);
    this.#sessions.set(key, s);
    if (this.#sessions.size > this.#cap) this.#sessions.delete(this.#sessions.keys().next().value!);
    s.at = now;
    let counts: boolean;
    if (e.kind === 'closing') counts = !s.counted;
    else if (e.invalidUser) {
      counts = !s.invalidUser;
      s.invalidUser = true;
    } else {
      counts = !(s.invalidUser && !s.failedSeen);
      s.failedSeen = true;
    }
    if (counts) s.counted = true;
    return counts;
  }
}
