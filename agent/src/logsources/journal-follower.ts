// Follows one systemd unit's journal through `journalctl --follow --output=json`: each entry's
// cursor is kept (saved after every batch), so a restart resumes after the last entry handed on;
// the first start begins at the journal's end. If journalctl dies it is started again after a
// backoff that doubles up to a limit (and starts over once a run has lasted). The cursor is
// written at most every SAVE_MS (a busy journal hands on entries one by one) and at stop.
import { spawn, type ChildProcess } from 'node:child_process';
import type { PositionStore } from './file-follower.js';
import { LineSplitter } from './lines.js';

export interface JournalEntry {
  message: string;
  /** SYSLOG_IDENTIFIER: the program that wrote it. */
  program: string | undefined;
}

export interface JournalPosition {
  cursor: string;
}

export type JournalNote =
  | { what: 'started'; unit: string; from: 'end' | 'saved' }
  | { what: 'exited'; unit: string; code: number | null; signal: string | null; restartInMs: number; stderr: string }
  | { what: 'skipped-long-line'; unit: string; bytes: number }
  | { what: 'error'; unit: string; err: unknown };

export interface JournalFollowerOptions {
  unit: string;
  positions: PositionStore<JournalPosition>;
  onEntries(entries: JournalEntry[]): void;
  onNote(note: JournalNote): void;
  /** The program and its leading arguments (tests give a stand-in). */
  command?: readonly string[];
  /** Restart delays: the first, doubling to `max`; back to the first after a run longer than `reset`. */
  backoffMs?: { first: number; max: number; reset: number };
  maxLineBytes?: number;
  now?: () => number;
}

const FIELDS = 'MESSAGE,SYSLOG_IDENTIFIER';
const SAVE_MS = 250;

export class JournalFollower {
  readonly #o: JournalFollowerOptions;
  #child: ChildProcess | null = null;
  #cursor: string | null;
  #delay: number;
  #timer: NodeJS.Timeout | null = null;
  #saveTimer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(o: JournalFollowerOptions) {
    this.#o = o;
    this.#cursor = o.positions.load()?.cursor ?? null;
    this.#delay = this.#backoff.first;
  }

  get #backoff() {
    return this.#o.backoffMs ?? { first: 1000, max: 30_000, reset: 60_000 };
  }

  start(): void {
    if (this.#stopped || this.#child) return;
    const from = this.#cursor === null ? ['--lines=0'] : [`--after-cursor=${this.#cursor}`];
    const [cmd, ...pre] = this.#o.command ?? ['journalctl'];
    const args = [...pre, '--follow', '--output=json', `--output-fields=${FIELDS}`, '--no-pager', '--quiet', `--unit=${this.#o.unit}`, ...from];
    const startedAt = (this.#o.now ?? Date.now)();
    let stderr = '';
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    this.#o.onNote({ what: 'started', unit: this.#o.unit, from: this.#cursor === null ? 'end' : 'saved' });
    const lines = new LineSplitter(this.#o.maxLineBytes ?? 64 * 1024, (bytes) => this.#o.onNote({ what: 'skipped-long-line', unit: this.#o.unit, bytes }));
    child.stdout!.on('data', (chunk: Buffer) => this.#entries(lines.push(chunk)));
    child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    child.on('error', (err) => this.#o.onNote({ what: 'error', unit: this.#o.unit, err }));
    child.on('close', (code, signal) => {
      this.#child = null;
      if (this.#stopped) return;
      const ranMs = (this.#o.now ?? Date.now)() - startedAt;
      if (ranMs > this.#backoff.reset) this.#delay = this.#backoff.first;
      this.#o.onNote({ what: 'exited', unit: this.#o.unit, code, signal, restartInMs: this.#delay, stderr: stderr.trim() });
      this.#timer = setTimeout(() => this.start(), this.#delay);
      this.#timer.unref();
      this.#delay = Math.min(this.#delay * 2, this.#backoff.max);
    });
  }

  #entries(lines: string[]): void {
    const out: JournalEntry[] = [];
    let cursor: string | null = null;
    for (const line of lines) {
      let e: { __CURSOR?: unknown; MESSAGE?: unknown; SYSLOG_IDENTIFIER?: unknown };
      try {
        e = JSON.parse(line) as typeof e;
      } catch {
        continue;
      }
      if (typeof e.__CURSOR === 'string') cursor = e.__CURSOR;
      // journalctl prints a message that is not valid UTF-8 as an array of bytes.
      const message = typeof e.MESSAGE === 'string' ? e.MESSAGE : Array.isArray(e.MESSAGE) ? Buffer.from(e.MESSAGE.filter((b): b is number => typeof b === 'number')).toString('utf8') : null;
      if (message !== null) out.push({ message, program: typeof e.SYSLOG_IDENTIFIER === 'string' ? e.SYSLOG_IDENTIFIER : undefined });
    }
    if (out.length > 0) this.#o.onEntries(out);
    if (cursor !== null) {
      this.#cursor = cursor;
      this.#saveTimer ??= setTimeout(() => this.#save(), SAVE_MS);
    }
  }

  #save(): void {
    if (this.#saveTimer) clearTimeout(this.#saveTimer);
    this.#saveTimer = null;
    if (this.#cursor !== null) this.#o.positions.save({ cursor: this.#cursor });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    const child = this.#child;
    if (child) {
      const closed = new Promise<void>((r) => child.once('close', () => r()));
      child.kill('SIGTERM');
      await closed;
    }
    // After the last entry handed on, whatever the timer had left to write.
    if (this.#saveTimer) this.#save();
  }
}
