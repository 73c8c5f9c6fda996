// Follows a log file as `tail -F` would, and more carefully: across rotation by rename (the old
// file is read to its end, and on while its writer still appends, before the new one is read from
// its start) and by copytruncate (the lines written since the last read are taken from the copy),
// across restarts (the position is saved after every read: device, inode, offset and the bytes just
// before it, so a truncated and rewritten file is told from the same file grown), with a partial
// last line held until its newline arrives. Memory is bounded: reads are in chunks, and a line
// longer than `maxLineBytes` is skipped whole.
import { watch, type FSWatcher } from 'node:fs';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LineSplitter } from './lines.js';

export interface FilePosition {
  dev: number;
  ino: number;
  /** The end of the last complete line handed on. */
  offset: number;
  /** Base64 of the bytes just before `offset` (at most TAIL_BYTES). */
  tail: string;
}

export interface PositionStore<P> {
  load(): P | null;
  save(p: P): void;
}

/** What the follower tells its owner (for logs): never an error thrown at it. */
export type FollowNote =
  | { what: 'opened'; path: string; from: 'end' | 'start' | 'saved' | 'rotated-copy' }
  | { what: 'rotated'; path: string }
  | { what: 'truncated'; path: string }
  | { what: 'missing'; path: string }
  | { what: 'skipped-long-line'; path: string; bytes: number }
  | { what: 'error'; path: string; err: unknown };

export interface FileFollowerOptions {
  path: string;
  positions: PositionStore<FilePosition>;
  onLines(lines: string[]): void;
  onNote(note: FollowNote): void;
  /** Poll interval; a file system watch wakes it sooner. */
  pollMs?: number;
  /** How long a rotated-away file is still read after it last grew (its writer may not have reopened yet). */
  drainMs?: number;
  maxLineBytes?: number;
  chunkBytes?: number;
  now?: () => number;
}

const TAIL_BYTES = 64;
const ROTATED_SUFFIX = /^[.-][\w.-]*$/;
const COMPRESSED = /\.(gz|xz|bz2|zst|lz4|z)$/i;

/** One open file being read: its identity, how far it is read, the partial line it ends with. */
interface Reader {
  fh: FileHandle;
  dev: number;
  ino: number;
  /** Bytes read so far (a partial last line included: `lines` holds it). */
  readTo: number;
  lines: LineSplitter;
  lastGrowth: number;
  /** The bytes before the end of the last complete line when last saved (base64), and that offset. */
  tail: string;
  tailAt: number;
}

export class FileFollower {
  readonly #o: Required<Omit<FileFollowerOptions, 'positions' | 'onLines' | 'onNote'>> & Pick<FileFollowerOptions, 'positions' | 'onLines' | 'onNote'>;
  #current: Reader | null = null;
  /** Rotated-away files still read until their writer has moved on. */
  #draining: Reader[] = [];
  #timer: NodeJS.Timeout | null = null;
  #watcher: FSWatcher | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  #missingNoted = false;
  #lastSaved = '';
  readonly #buf: Buffer;

  constructor(o: FileFollowerOptions) {
    this.#o = { pollMs: 1000, drainMs: 5000, maxLineBytes: 64 * 1024, chunkBytes: 64 * 1024, now: Date.now, ...o };
    this.#buf = Buffer.allocUnsafe(this.#o.chunkBytes);
  }

  /** Opens the file where the saved position says (or at its end) and starts following. */
  async start(): Promise<void> {
    await this.#openInitial();
    try {
      this.#watcher = watch(dirname(this.#o.path), { persistent: false }, (_e, name) => {
        if (name === null || String(name).startsWith(basename(this.#o.path))) this.wake();
      });
      this.#watcher.on('error', () => this.#watcher?.close());
    } catch {
      // No watch (a directory we may not watch): polling alone still follows.
    }
    await this.wake();
    this.#schedule();
  }

  /** Reads what is new now (coalesced with a read under way). */
  wake(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        try {
          await this.#step();
        } catch (err) {
          this.#o.onNote({ what: 'error', path: this.#o.path, err });
        }
      } while (this.#again && !this.#stopped);
      this.#running = null;
    })();
    return this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#watcher?.close();
    await this.#running;
    for (const r of [this.#current, ...this.#draining]) await r?.fh.close().catch(() => undefined);
    this.#current = null;
    this.#draining = [];
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.wake().then(() => this.#schedule());
    }, this.#o.pollMs);
    this.#timer.unref();
  }

  async #openInitial(): Promise<void> {
    const saved = this.#o.positions.load();
    const r = await this.#open(this.#o.path);
    if (!r) {
      // Rotated away and not made again yet: the rest of what we followed is in the old file.
      const old = saved && (await this.#findOld(saved));
      if (old) await this.#readRest(old, saved.offset);
      return;
    }
    const size = (await r.fh.stat()).size;
    if (saved && saved.dev === r.dev && saved.ino === r.ino && saved.offset <= size && (await this.#tailMatches(r.fh, saved))) {
      r.readTo = r.tailAt = saved.offset;
      r.tail = saved.tail;
      this.#o.onNote({ what: 'opened', path: this.#o.path, from: 'saved' });
    } else if (saved) {
      // Rotated or truncated while we were stopped: the rest of the old file may be in a sibling.
      const copy = await this.#findOld(saved);
      if (copy) {
        await this.#readRest(copy, saved.offset);
        this.#o.onNote({ what: 'opened', path: this.#o.path, from: 'rotated-copy' });
      } else this.#o.onNote({ what: 'opened', path: this.#o.path, from: 'start' });
    } else {
      // First run: the past is not ours to judge (its failures are old), the future is.
      r.readTo = size;
      this.#o.onNote({ what: 'opened', path: this.#o.path, from: 'end' });
    }
    this.#current = r;
    await this.#save();
  }

  async #open(path: string): Promise<Reader | null> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      if (!this.#missingNoted) this.#o.onNote({ what: 'missing', path });
      this.#missingNoted = true;
      return null;
    }
    this.#missingNoted = false;
    const st = await fh.stat();
    return { fh, dev: st.dev, ino: st.ino, readTo: 0, lines: this.#splitter(), lastGrowth: this.#o.now(), tail: '', tailAt: 0 };
  }

  async #step(): Promise<void> {
    for (const d of [...this.#draining]) {
      const grew = await this.#read(d);
      if (!grew && this.#o.now() - d.lastGrowth >= this.#o.drainMs) {
        this.#draining.splice(this.#draining.indexOf(d), 1);
        await d.fh.close().catch(() => undefined);
      }
    }
    const cur = this.#current;
    if (!cur) {
      const r = await this.#open(this.#o.path);
      if (r) {
        // Created after we started (or after a rotation left no file): all of it is new.
        this.#current = r;
        this.#o.onNote({ what: 'opened', path: this.#o.path, from: 'start' });
        await this.#read(r);
        await this.#save();
      }
      return;
    }
    const st = await cur.fh.stat();
    if (st.size < cur.readTo || (cur.tailAt > 0 && !(await this.#tailMatches(cur.fh, this.#positionOf(cur))))) {
      await this.#truncated(cur);
    } else {
      await this.#read(cur);
    }
    // Renamed away? The path names another file (or none yet).
    const now = await stat(this.#o.path).catch(() => null);
    if (now === null || now.ino !== cur.ino || now.dev !== cur.dev) {
      const next = now === null ? null : await this.#open(this.#o.path);
      if (now !== null && !next) return;
      this.#draining.push(cur);
      this.#current = next;
      this.#o.onNote({ what: 'rotated', path: this.#o.path });
      if (next) await this.#read(next);
    }
    await this.#save();
  }

  /** Copytruncate: what was written after our last read is in the copy; the file starts over. */
  async #truncated(cur: Reader): Promise<void> {
    this.#o.onNote({ what: 'truncated', path: this.#o.path });
    const copy = await this.#findOld(this.#positionOf(cur), cur.ino);
    if (copy) await this.#readRest(copy, cur.tailAt);
    cur.readTo = cur.tailAt = 0;
    cur.tail = '';
    cur.lines = this.#splitter();
    await this.#read(cur);
  }

  /**
   * The file that now holds what followed `p`: a sibling (auth.log.1, auth.log-20261201, not
   * compressed) that is the same inode (renamed), or another one whose bytes before the offset are
   * ours (copied). `not`: the inode to skip (the truncated file itself).
   */
  async #findOld(p: FilePosition, not?: number): Promise<string | null> {
    const dir = dirname(this.#o.path);
    const base = basename(this.#o.path);
    const names = await readdir(dir).catch(() => [] as string[]);
    const candidates = names.filter((n) => n.startsWith(base) && ROTATED_SUFFIX.test(n.slice(base.length)) && !COMPRESSED.test(n));
    let copied: string | null = null;
    for (const n of candidates) {
      const path = join(dir, n);
      const st = await stat(path).catch(() => null);
      if (!st || !st.isFile() || st.ino === not || st.size < p.offset) continue;
      const fh = await open(path, 'r').catch(() => null);
      if (!fh) continue;
      const matches = await this.#tailMatches(fh, p).finally(() => fh.close());
      if (!matches) continue;
      if (st.ino === p.ino && st.dev === p.dev) return path;
      copied ??= path;
    }
    return copied;
  }

  async #readRest(path: string, from: number): Promise<void> {
    const r = await this.#open(path);
    if (!r) return;
    r.readTo = from;
    await this.#read(r);
    await r.fh.close();
  }

  async #tailMatches(fh: FileHandle, p: FilePosition): Promise<boolean> {
    const want = Buffer.from(p.tail, 'base64');
    if (want.length === 0) return true;
    const got = Buffer.alloc(want.length);
    const { bytesRead } = await fh.read(got, 0, want.length, p.offset - want.length);
    return bytesRead === want.length && got.equals(want);
  }

  /** Reads to the current end; hands on complete lines a chunk at a time. True if anything was read. */
  async #read(r: Reader): Promise<boolean> {
    let any = false;
    for (;;) {
      const { bytesRead } = await r.fh.read(this.#buf, 0, this.#buf.length, r.readTo);
      if (bytesRead === 0) break;
      any = true;
      r.readTo += bytesRead;
      const lines = r.lines.push(this.#buf.subarray(0, bytesRead));
      if (lines.length > 0) this.#o.onLines(lines);
      if (this.#stopped) break;
    }
    if (any) r.lastGrowth = this.#o.now();
    return any;
  }

  #splitter(): LineSplitter {
    return new LineSplitter(this.#o.maxLineBytes, (bytes) => this.#o.onNote({ what: 'skipped-long-line', path: this.#o.path, bytes }));
  }

  /** Where `r` was when last saved: the tail is known for that offset only. */
  #positionOf(r: Reader): FilePosition {
    return { dev: r.dev, ino: r.ino, offset: r.tailAt, tail: r.tail };
  }

  async #save(): Promise<void> {
    const r = this.#current;
    if (!r) return;
    const committed = r.readTo - r.lines.pendingBytes;
    if (r.tailAt !== committed) {
      // From the file itself, not from what we kept: a skipped long line leaves no copy of its bytes.
      const n = Math.min(TAIL_BYTES, committed);
      const b = Buffer.alloc(n);
      const { bytesRead } = await r.fh.read(b, 0, n, committed - n);
      r.tail = b.subarray(0, bytesRead).toString('base64');
      r.tailAt = committed;
    }
    const p = this.#positionOf(r);
    const text = JSON.stringify(p);
    if (text !== this.#lastSaved) this.#o.positions.save(p);
    this.#lastSaved = text;
  }
}
