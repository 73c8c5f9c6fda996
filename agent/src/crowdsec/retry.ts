// What the bouncer (follower.ts) and the machine (reporter.ts) share: the dependencies each takes
// besides its own, the wait between tries while the LAPI fails, and what each says of an outage.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentEvent } from '../events/bus.js';
import { LapiError } from './lapi-error.js';

export interface RoleDeps {
  emit: (e: AgentEvent) => void;
  now: () => number;
  /** Waits, or rejects when the signal aborts; replaced by tests. */
  delay?: (ms: number, signal: AbortSignal) => Promise<unknown>;
}

/** The role's wait: the tests' delay, or a timer the signal cancels. */
export function delayOf(d: RoleDeps): (ms: number, signal: AbortSignal) => Promise<unknown> {
  return d.delay ?? ((ms, signal) => sleep(ms, undefined, { signal }));
}

/** The wait after the n-th failure in a row: `baseMs`, doubling with each, at most `maxMs` (never below `baseMs`). */
export function backoffMs(baseMs: number, maxMs: number, failuresInRow: number): number {
  return Math.min(baseMs * 2 ** (failuresInRow - 1), Math.max(maxMs, baseMs));
}

/**
 * One role's outages: its failures counted, one line when an outage begins (one more only if it
 * then fails differently: unreachable, then refused), one when it ends; never one per try.
 */
export class Outages {
  failures = 0;
  /** Since when the LAPI has failed (null: it has not), and the kind of failure last said. */
  #since: number | null = null;
  #said = '';

  /** A failure: whether the LAPI refused the credentials, and whether to say so now. */
  failed(err: unknown, now: number): { auth: boolean; say: boolean; message: string } {
    this.failures++;
    this.#since ??= now;
    const auth = err instanceof LapiError && err.code === 'VPSFW_ERR_CROWDSEC_AUTH';
    const kind = auth ? 'auth' : err instanceof LapiError ? err.code : 'other';
    const say = kind !== this.#said;
    this.#said = kind;
    return { auth, say, message: err instanceof Error ? err.message : String(err) };
  }

  /** It works: how long it had been down (ms), or null when it had not. */
  ended(now: number): number | null {
    if (this.#since === null) return null;
    const down = now - this.#since;
    this.#since = null;
    this.#said = '';
    return down;
  }
}
