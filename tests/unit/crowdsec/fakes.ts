// Fakes for the CrowdSec units: a ban sink with the store's rules for CrowdSec (the allowlist
// wins, a ban is never shortened, only CrowdSec's own bans are lifted for it; the store's own
// tests hold it to them), a recording event emitter, and a delay the test releases by hand (so
// waits are counted, never slept).
import type { BanEntry, BanOrigin, BanRequest, BanResult } from '../../../agent/src/bans/store.js';
import type { AgentEvent } from '../../../agent/src/events/bus.js';
import type { BanSink } from '../../../agent/src/crowdsec/follower.js';

export class FakeSink implements BanSink {
  readonly bans = new Map<string, BanEntry>();
  flushes = 0;
  constructor(readonly allowlisted: Set<string> = new Set(), readonly now = () => 1_000_000) {}
  ban(req: BanRequest): BanResult {
    if (this.allowlisted.has(req.target)) return { kind: 'allowlisted' };
    if (req.target === '0.0.0.0') return { kind: 'refused', reason: 'unspecified' };
    const old = this.bans.get(req.target);
    const until = this.now() + (req.durationMs ?? 3_600_000);
    if (old && old.until >= until) return { kind: 'already', entry: old };
    const entry: BanEntry = { address: req.target, family: req.target.includes(':') ? 6 : 4, since: this.now(), until, reason: req.reason, by: req.by, origin: req.origin, offense: 1, ...(req.scenario === undefined ? {} : { scenario: req.scenario }) };
    this.bans.set(req.target, entry);
    return { kind: 'banned', entry };
  }
  /** Bans made through bulkBan (a full pull's path), to tell them from ban()'s. */
  bulkBans = 0;
  bulkBan(req: BanRequest): BanResult['kind'] {
    this.bulkBans++;
    return this.ban(req).kind;
  }
  async unban(target: string, only?: { origin: BanOrigin }): Promise<boolean> {
    const old = this.bans.get(target);
    if (!old || (only && old.origin !== only.origin)) return false;
    this.bans.delete(target);
    return true;
  }
  async flushed(): Promise<void> {
    this.flushes++;
  }
  /** Bulk loads begun. */
  bulks = 0;
  async bulk<T>(load: () => Promise<T>): Promise<T> {
    this.bulks++;
    return load();
  }
}

export function recordingEvents(): { emit: (e: AgentEvent) => void; lines: AgentEvent[]; of(event: string): AgentEvent[] } {
  const lines: AgentEvent[] = [];
  return { lines, emit: (e) => void lines.push(e), of: (event) => lines.filter((l) => l.event === event) };
}

/** A delay released by the test: `waits` has each requested length; `next()` ends the oldest. */
export function manualDelay() {
  const waits: number[] = [];
  const pending: Array<() => void> = [];
  const delay = (ms: number, signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      waits.push(ms);
      pending.push(resolve);
      signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
  return { delay, waits, next: () => pending.shift()?.() };
}

/** Waits (bounded) for a condition that the code under test reaches by itself. */
export async function eventually(what: string, f: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!f()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
