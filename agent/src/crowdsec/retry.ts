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

/** What a role says of its outages: its name and LAPI, and its words for each kind of failure. */
export interface OutageRole {
  name: 'bouncer' | 'machine';
  url: string;
  refused: (message: string) => { msg: string } & Record<string, unknown>;
  unreachable: (message: string) => { msg: string } & Record<string, unknown>;
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

  /**
   * A failure as the role's event, or null when this outage was said already: `crowdsec-auth-failed`
   * (error) when the LAPI refused the credentials, else `crowdsec-unreachable` (warn). `role` gives
   * the role's own words and fields for each.
   */
  failure(err: unknown, now: number, retryInMs: number, role: OutageRole): { auth: boolean; event: AgentEvent | null } {
    this.failures++;
    this.#since ??= now;
    const auth = err instanceof LapiError && err.code === 'VPSFW_ERR_CROWDSEC_AUTH';
    const kind = auth ? 'auth' : err instanceof LapiError ? err.code : 'other';
    const say = kind !== this.#said;
    this.#said = kind;
    if (!say) return { auth, event: null };
    const message = err instanceof Error ? err.message : String(err);
    const code = err instanceof LapiError ? err.code : undefined;
    const status = err instanceof LapiError ? err.status : undefined;
    const own = auth ? role.refused(message) : role.unreachable(message);
    const event = auth ? 'crowdsec-auth-failed' : 'crowdsec-unreachable';
    return { auth, event: { event, level: auth ? 'error' : 'warn', role: role.name, url: role.url, code, ...(auth ? { status } : {}), err: message, retryInMs, ...own } };
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
