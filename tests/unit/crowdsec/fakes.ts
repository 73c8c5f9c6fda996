// Fakes for the CrowdSec units: a ban sink with the store's rules for CrowdSec (the allowlist
// wins, a ban is never shortened, only CrowdSec's own bans are lifted for it), a recording event
// log, and a delay the test releases by hand (so waits are counted, never slept).
import type { BanOrigin, BanRequest, BanResult, BanSink, SinkEntry } from '../../../agent/src/crowdsec/ban-sink.js';
import type { EventLog } from '../../../agent/src/crowdsec/event-log.js';

export class FakeSink implements BanSink {
  readonly bans = new Map<string, SinkEntry>();
  flushes = 0;
  constructor(readonly allowlisted: Set<string> = new Set(), readonly now = () => 1_000_000) {}
  ban(req: BanRequest): BanResult {
    if (this.allowlisted.has(req.target)) return { kind: 'allowlisted' };
    if (req.target === '0.0.0.0') return { kind: 'refused', reason: 'unspecified' };
    const old = this.bans.get(req.target);
    const until = this.now() + (req.durationMs ?? 3_600_000);
    if (old && old.until >= until) return { kind: 'already', entry: old };
    const entry = { address: req.target, since: this.now(), until, reason: req.reason, by: req.by, origin: req.origin, scenario: req.scenario };
    this.bans.set(req.target, entry);
    return { kind: 'banned', entry };
  }
  async unban(target: string, only: { origin: BanOrigin }): Promise<boolean> {
    const old = this.bans.get(target);
    if (!old || old.origin !== only.origin) return false;
    this.bans.delete(target);
    return true;
  }
  async flushed(): Promise<void> {
    this.flushes++;
  }
}

export type Logged = { level: 'info' | 'warn' | 'error'; event: string; msg: string; [k: string]: unknown };

export function recordingLog(): EventLog & { lines: Logged[]; of(event: string): Logged[] } {
  const lines: Logged[] = [];
  const at = (level: Logged['level']) => (fields: { event: string }, msg: string) => void lines.push({ level, ...fields, msg });
  return { lines, info: at('info'), warn: at('warn'), error: at('error'), of: (event) => lines.filter((l) => l.event === event) };
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
