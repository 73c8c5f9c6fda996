// The policy's log sources, running: one follower (a file or a unit's journal) and one kind each,
// the bans they ask for handed to a ban sink (the ban store). A reload restarts the sources whose
// settings changed and leaves the others reading where they are; a source's position lives in the
// state directory, so a restart loses no line and counts none twice.
import type { LogSource } from '../policy/schema.js';
import { FileFollower, type FilePosition, type FollowNote } from './file-follower.js';
import { JournalFollower, type JournalNote, type JournalPosition } from './journal-follower.js';
import { sshdKind, suricataEveKind, type KindHandler, type LogBanRequest, type LogRecord } from './kinds.js';
import { ownAddresses } from './own-addresses.js';
import { positionFile } from './positions.js';

/** The ban store as log sources see it: it refuses what must never be banned (null, multicast, allowlisted). */
export type BanSink = (req: LogBanRequest) => { kind: string };

/** The logger's shape as used here (pino's Logger has it). */
export interface LogPort {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface LogSourcesDeps {
  stateDir: string;
  sink: BanSink;
  log: LogPort;
  now?: () => number;
  /** This host's own addresses, never banned (default: the interfaces' addresses). */
  isOwnAddress?: (address: string) => boolean;
  /** journalctl and its leading arguments (tests give a stand-in). */
  journalctl?: readonly string[];
  /** File poll interval (a file system watch wakes the follower sooner). */
  pollMs?: number;
}

export interface LogSourceStats {
  name: string;
  kind: LogSource['kind'];
  records: number;
  failures: number;
  bans: number;
  refused: number;
}

interface Running {
  spec: string;
  kind: KindHandler;
  stop(): Promise<void>;
  stats: LogSourceStats;
}

export class LogSources {
  readonly #d: LogSourcesDeps;
  readonly #now: () => number;
  readonly #isOwn: (address: string) => boolean;
  readonly #running = new Map<string, Running>();
  readonly #sweep: NodeJS.Timeout;

  constructor(d: LogSourcesDeps) {
    this.#d = d;
    this.#now = d.now ?? Date.now;
    this.#isOwn = d.isOwnAddress ?? ownAddresses(this.#now);
    this.#sweep = setInterval(() => this.#sweepAll(), 60_000).unref();
  }

  /** Makes the running sources those of `specs`: new ones start, changed ones restart, gone ones stop. */
  async update(specs: readonly LogSource[]): Promise<void> {
    const wanted = new Map(specs.map((s) => [s.name, s]));
    for (const [name, r] of this.#running) {
      const s = wanted.get(name);
      if (s && JSON.stringify(s) === r.spec) continue;
      await r.stop();
      this.#running.delete(name);
    }
    for (const s of specs) if (!this.#running.has(s.name)) this.#running.set(s.name, await this.#start(s));
  }

  async stop(): Promise<void> {
    clearInterval(this.#sweep);
    for (const r of this.#running.values()) await r.stop();
    this.#running.clear();
  }

  stats(): LogSourceStats[] {
    return [...this.#running.values()].map((r) => ({ ...r.stats }));
  }

  #sweepAll(): void {
    for (const r of this.#running.values()) r.kind.sweep(this.#now());
  }

  async #start(s: LogSource): Promise<Running> {
    const stats: LogSourceStats = { name: s.name, kind: s.kind, records: 0, failures: 0, bans: 0, refused: 0 };
    const kind = s.kind === 'sshd' ? sshdKind(s) : suricataEveKind(s);
    const onFailure = (address: string, failures: number) => {
      stats.failures++;
      this.#d.log.debug({ event: 'log-failure', source: s.name, address, failures }, `${s.name}: failure ${failures} from ${address}`);
    };
    const handle = (recs: LogRecord[]) => {
      const now = this.#now();
      for (const rec of recs) {
        stats.records++;
        const req = kind.handle(rec, now, onFailure);
        if (req) this.#ban(s.name, req, stats);
      }
    };
    const file = s.file;
    const unit = s.kind === 'sshd' ? s.journal : undefined;
    const base = { source: s.name, kind: s.kind, ...(file !== undefined ? { file } : { unit }) };
    let stop: () => Promise<void>;
    if (file !== undefined) {
      const f = new FileFollower({
        path: file,
        positions: positionFile<FilePosition>(this.#d.stateDir, s.name, `file:${file}`),
        onLines: (lines) => handle(lines.map((line) => ({ line }))),
        onNote: (n) => this.#note(base, n),
        ...(this.#d.pollMs !== undefined ? { pollMs: this.#d.pollMs } : {}),
      });
      await f.start();
      stop = () => f.stop();
    } else {
      const j = new JournalFollower({
        unit: unit!,
        positions: positionFile<JournalPosition>(this.#d.stateDir, s.name, `journal:${unit}`),
        onEntries: (entries) => handle(entries),
        onNote: (n) => this.#note(base, n),
        ...(this.#d.journalctl ? { command: this.#d.journalctl } : {}),
      });
      j.start();
      stop = () => j.stop();
    }
    return { spec: JSON.stringify(s), stats, kind, stop };
  }

  #ban(source: string, req: LogBanRequest, stats: LogSourceStats): void {
    const outcome = this.#isOwn(req.target) ? 'own-address' : this.#d.sink(req).kind;
    if (outcome === 'banned') stats.bans++;
    else if (outcome !== 'already') {
      stats.refused++;
      this.#d.log.info({ event: 'log-ban-refused', source, address: req.target, why: outcome }, `${source}: ${req.target} not banned (${outcome})`);
    }
  }

  #note(base: object, n: FollowNote | JournalNote): void {
    const { what, ...rest } = n;
    const fields = { event: 'log-source', ...base, state: what, ...rest };
    if (what === 'error' || what === 'exited' || what === 'missing') this.#d.log.warn(fields, `log source ${(base as { source: string }).source}: ${what}`);
    else this.#d.log.info(fields, `log source ${(base as { source: string }).source}: ${what}`);
  }
}
