// What each kind of log source makes of a record: the ban it asks for, or nothing. Pure but for
// the counting state each holds (bounded); time comes in as an argument.
import type { SshdSource, SuricataEveSource } from '../policy/schema.js';
import { formatDuration } from '../policy/units.js';
import { FailureCounter } from './counter.js';
import { parseEveAlert } from './eve.js';
import { parseSshdMessage, sshdMessageOfJournal, sshdMessageOfLine } from './sshd.js';

/** A ban a log source asks for: the spec's BanRequest, as log sources fill it. */
export interface LogBanRequest {
  target: string;
  durationMs: number;
  reason: string;
  /** "log:<source name>" */
  by: string;
  origin: 'log';
}

/** A record as a follower hands it on: a file's line, or a journal entry's message and program. */
export type LogRecord = { line: string } | { message: string; program: string | undefined };

export interface KindHandler {
  /** The ban this record asks for, if any; `onFailure` hears each counted failure (sshd). */
  handle(rec: LogRecord, now: number, onFailure?: (address: string, failures: number) => void): LogBanRequest | null;
  sweep(now: number): void;
}

export function sshdKind(s: SshdSource): KindHandler {
  const counter = new FailureCounter({ maxRetry: s.maxRetry, findTimeMs: s.findTime });
  const by = `log:${s.name}`;
  const reason = `${s.maxRetry} sshd authentication failures within ${formatDuration(s.findTime)}`;
  return {
    handle(rec, now, onFailure) {
      const message = 'line' in rec ? sshdMessageOfLine(rec.line) : sshdMessageOfJournal(rec.message, rec.program);
      const e = message === null ? null : parseSshdMessage(message);
      if (e === null) return null;
      const r = counter.record(e, now);
      if (r.kind === 'counted') onFailure?.(e.address, r.failures);
      return r.kind === 'ban' ? { target: e.address, durationMs: s.ban, reason, by, origin: 'log' } : null;
    },
    sweep: (now) => counter.sweep(now),
  };
}

export function suricataEveKind(s: SuricataEveSource): KindHandler {
  const by = `log:${s.name}`;
  const opts = { minSeverity: s.minSeverity, banMs: s.ban, signatures: s.signatures };
  return {
    handle(rec) {
      if (!('line' in rec)) return null;
      const a = parseEveAlert(rec.line, opts);
      return a === null ? null : { target: a.address, durationMs: a.durationMs, reason: a.reason, by, origin: 'log' };
    },
    sweep: () => undefined,
  };
}
