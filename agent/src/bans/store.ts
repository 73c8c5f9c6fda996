// Bans: who is banned, until when, why; escalation for repeat offenders; the allowlist. The store
// decides; the kernel set enforces (writes are batched, so a flood from many sources costs one
// `ipset restore` per batch, not one process per ban); the state file survives restarts.
//
// Bans and offence histories live in one state table (tables/slot-table.ts), a record per
// address: a hundred thousand bans cost a few megabytes. BanEntry objects are made only for those
// who ask (list, the state file).
import { isIP } from 'node:net';
import type { Family } from '../kernel/names.js';
import { addressKey, addressText, WORDS } from '../tables/address-key.js';
import { ByFamily } from '../tables/by-family.js';
import { SlotTable } from '../tables/slot-table.js';

export interface BanEntry {
  address: string;
  family: Family;
  /** Epoch ms. */
  since: number;
  until: number;
  reason: string;
  by: string;
  /** How many times this source has been banned within the escalation memory (1 = first). */
  offense: number;
}

export interface BanKernel {
  /** Adds the entries, read as they are written to the kernel (a generator makes none in advance). */
  add(entries: Iterable<{ address: string; family: Family; seconds: number }>): Promise<void>;
  del(address: string, family: Family): Promise<void>;
}

/** What the state file holds, one record each: running bans and remembered offenders. */
export type BanRecord = ({ type: 'ban' } & BanEntry) | { type: 'offender'; address: string; count: number; last: number };

export interface BanStateFile {
  /** The records saved last, a batch at a time (none when there is no file). */
  load(): AsyncIterable<readonly unknown[]>;
  save(records: Iterable<BanRecord>): Promise<void>;
}

export interface BanSettings {
  /** Default ban length, ms. */
  duration: number;
  escalation: { factor: number; max: number; memory: number };
  maxEntries: number;
  isAllowlisted(address: string): boolean;
}

/** What the store has done since start, for the status snapshot (and the metrics made from it). */
export interface BanStats {
  /** Bans running now. */
  active: number;
  activeByFamily: { ipv4: number; ipv6: number };
  /** Bans made, by decider ("detector:synFlood", "control", …); restored and adopted ones are not made here. */
  made: Record<string, number>;
  /** Ended by `unban`. */
  lifted: number;
  /** Ran out. */
  expired: number;
  /** Ended early to make room at bans.maxEntries. */
  evicted: number;
  /** The last bans made, newest first (at most RECENT_BANS). */
  recent: BanEntry[];
}

/** How many of the last bans made the status snapshot carries. */
export const RECENT_BANS = 10;

export type BanResult =
  | { kind: 'banned'; entry: BanEntry }
  | { kind: 'already'; entry: BanEntry }
  | { kind: 'allowlisted' };

/** ipset's largest timeout (seconds): longer bans are clamped to it. */
export const MAX_KERNEL_TIMEOUT_S = 2_147_483;

/**
 * The most records (running bans and remembered offenders) each family's table holds: the
 * schema's largest bans.maxEntries. Beyond it the least recently banned source is forgotten.
 */
const TABLE_MAX = 1_000_000;

/** Bans per `ipset restore` while banning: a flood of bans costs a few processes, none huge. */
export const KERNEL_BATCH = 1024;

export function familyOf(address: string): Family {
  return address.includes(':') ? 6 : 4;
}

/**
 * One record per address: its last ban (running while `until` is after now) and how many bans it
 * has had (`offense`, counted while the last one began within the escalation memory). A source
 * stays an offender after its ban ends, until the memory passes: then its record goes.
 */
class BanTable extends SlotTable {
  readonly since = new Float64Array(TABLE_MAX);
  /** 0 once the ban has ended (expired, unbanned or evicted). */
  readonly until = new Float64Array(TABLE_MAX);
  readonly offense = new Uint32Array(TABLE_MAX);
  /** Why and by whom, as indexes into `texts`: reasons repeat (a detector's, a rule's). */
  readonly reason = new Uint16Array(TABLE_MAX);
  readonly by = new Uint16Array(TABLE_MAX);
  readonly #texts: Texts;
  readonly family: Family;
  /** Records whose `until` is not 0: running bans, and those ended since the last sweep. */
  active = 0;

  constructor(family: Family, texts: Texts) {
    super(WORDS[family], TABLE_MAX);
    this.family = family;
    this.#texts = texts;
  }

  entry(s: number): BanEntry {
    return { address: addressText(this.keyOf(s)), family: this.family, since: this.since[s]!, until: this.until[s]!, reason: this.#texts.at(this.reason[s]!), by: this.#texts.at(this.by[s]!), offense: this.offense[s]! };
  }

  /** The record for `key`, made if missing and marked as just used. */
  slot(key: Uint32Array): number {
    const s = this.find(key);
    if (s < 0) return this.insert(key);
    this.touch(s);
    return s;
  }

  set(s: number, e: { since: number; until: number; offense: number; reason: string; by: string }): void {
    this.since[s] = e.since;
    this.until[s] = e.until;
    this.offense[s] = e.offense;
    this.reason[s] = this.#texts.index(e.reason);
    this.by[s] = this.#texts.index(e.by);
  }
}

/**
 * The distinct reasons and deciders of bans, each stored once and named by a 16-bit index. Only
 * manual bans bring new text; past the last index, text is no longer kept (it says so).
 */
class Texts {
  readonly #list = ['(not kept: more distinct reasons than the ban table holds)'];
  readonly #index = new Map<string, number>();

  index(text: string): number {
    let i = this.#index.get(text);
    if (i === undefined) {
      if (this.#list.length > 0xffff) return 0;
      this.#index.set(text, (i = this.#list.push(text) - 1));
    }
    return i;
  }

  at(i: number): string {
    return this.#list[i]!;
  }
}

export class BanStore {
  readonly #texts = new Texts();
  readonly #bans = new ByFamily((family) => new BanTable(family, this.#texts));
  readonly #made = new Map<string, number>();
  #lifted = 0;
  #expired = 0;
  #evicted = 0;
  readonly #recent: BanEntry[] = [];
  readonly #kernel: BanKernel;
  readonly #file: BanStateFile;
  readonly #now: () => number;
  readonly #onError: (err: unknown) => void;
  #settings: BanSettings;
  #pending: Array<{ address: string; family: Family; seconds: number }> = [];
  #flushing: Promise<void> | null = null;
  #saveTimer: NodeJS.Timeout | null = null;

  constructor(deps: { kernel: BanKernel; file: BanStateFile; now: () => number; onError: (err: unknown) => void }, settings: BanSettings) {
    this.#kernel = deps.kernel;
    this.#file = deps.file;
    this.#now = deps.now;
    this.#onError = deps.onError;
    this.#settings = settings;
  }

  updateSettings(settings: BanSettings): void {
    this.#settings = settings;
  }

  /** The escalated length of the next ban for the record at slot `s` (or -1: none), ms. */
  #nextDuration(b: BanTable, s: number, base: number | null, now: number): { ms: number; offense: number } {
    const { factor, max, memory } = this.#settings.escalation;
    const offense = s >= 0 && now - b.since[s]! <= memory ? b.offense[s]! + 1 : 1;
    const ms = Math.min((base ?? this.#settings.duration) * factor ** (offense - 1), Math.max(max, base ?? 0), MAX_KERNEL_TIMEOUT_S * 1000);
    return { ms, offense };
  }

  ban(address: string, opts: { durationMs: number | null; reason: string; by: string; escalate?: boolean }): BanResult {
    if (this.#settings.isAllowlisted(address)) return { kind: 'allowlisted' };
    const now = this.#now();
    const key = addressKey(address);
    const b = this.#bans.of(key);
    const found = b.find(key);
    if (found >= 0 && b.until[found]! > now && opts.escalate !== false) return { kind: 'already', entry: b.entry(found) };
    const { ms, offense } =
      opts.escalate === false
        ? { ms: Math.min(opts.durationMs ?? this.#settings.duration, MAX_KERNEL_TIMEOUT_S * 1000), offense: (found >= 0 ? b.offense[found]! : 0) + 1 }
        : this.#nextDuration(b, found, opts.durationMs, now);
    const counted = found >= 0 && b.until[found] !== 0;
    if (!counted && this.#active() >= this.#settings.maxEntries) this.#evictSoonest(now);
    const s = b.slot(key);
    b.set(s, { since: now, until: now + ms, reason: opts.reason, by: opts.by, offense });
    if (!counted) b.active++;
    const entry = b.entry(s);
    this.#made.set(opts.by, (this.#made.get(opts.by) ?? 0) + 1);
    if (this.#recent.unshift(entry) > RECENT_BANS) this.#recent.pop();
    this.#toKernel(entry, now);
    this.#scheduleSave();
    return { kind: 'banned', entry };
  }

  async unban(address: string): Promise<boolean> {
    const key = addressKey(address);
    const b = this.#bans.of(key);
    const s = b.find(key);
    const had = s >= 0 && b.until[s]! > this.#now();
    // The offence history stays: a source banned again escalates.
    if (s >= 0) this.#end(b, s);
    if (had) this.#lifted++;
    await this.#kernel.del(address, familyOf(address));
    this.#scheduleSave();
    return had;
  }

  /** Running bans, soonest expiry first. */
  list(): BanEntry[] {
    this.sweep();
    const out: BanEntry[] = [];
    for (const b of this.#bans.both) for (const s of b.slots()) if (b.until[s] !== 0) out.push(b.entry(s));
    return out.sort((x, y) => x.until - y.until);
  }

  /** How many bans are running. */
  count(): number {
    this.sweep();
    return this.#active();
  }

  stats(): BanStats {
    this.sweep();
    const { v4, v6 } = this.#bans;
    return { active: v4.active + v6.active, activeByFamily: { ipv4: v4.active, ipv6: v6.active }, made: Object.fromEntries(this.#made), lifted: this.#lifted, expired: this.#expired, evicted: this.#evicted, recent: [...this.#recent] };
  }

  #active(): number {
    return this.#bans.v4.active + this.#bans.v6.active;
  }

  /** Ends bans that have run out (the kernel expired them already) and forgets offenders past the memory. */
  sweep(now = this.#now()): void {
    let changed = false;
    for (const b of this.#bans.both) {
      for (const s of b.slots()) {
        if (b.until[s] !== 0 && b.until[s]! <= now) {
          this.#end(b, s);
          this.#expired++;
          changed = true;
        }
        if (b.until[s] === 0 && now - b.since[s]! > this.#settings.escalation.memory) b.delete(s);
      }
    }
    if (changed) this.#scheduleSave();
  }

  /**
   * At start: bring back the bans still running and the offenders from the state file, then the
   * bans into the kernel in one go, each made as the kernel reads it: no ban waits for the kernel
   * as an object, so a hundred thousand of them leave little for the collector.
   */
  async restore(): Promise<number> {
    const now = this.#now();
    // A ban that has ended since the save, or an offender record: history only. A running ban
    // of the same address (read before or after) says more.
    const remember = (address: string, since: number, offense: number) => {
      const key = addressKey(address);
      const b = this.#bans.of(key);
      if (b.find(key) < 0) b.set(b.slot(key), { since, until: 0, offense, reason: '', by: '' });
    };
    for await (const records of this.#file.load()) {
      for (const r of records) {
        if (isOffender(r)) remember(r.address, r.last, r.count);
        else if (!isBan(r) || this.#settings.isAllowlisted(r.address)) continue;
        else if (r.until <= now) remember(r.address, r.since, r.offense);
        else {
          const key = addressKey(r.address);
          const b = this.#bans.of(key);
          const s = b.slot(key);
          if (b.until[s] === 0) b.active++;
          b.set(s, r);
        }
      }
    }
    if (this.#active() > 0) await this.#kernel.add(this.#running(now)).catch(this.#onError);
    return this.#active();
  }

  /**
   * Bans found in the kernel set but not in the store: made just before a crash, after the last
   * save (the set outlives a killed agent). Adopted with the time the kernel has left for them.
   */
  adopt(kernelBans: ReadonlyArray<{ address: string; family: Family; secondsLeft: number }>): number {
    const now = this.#now();
    let adopted = 0;
    for (const k of kernelBans) {
      const key = addressKey(k.address);
      const b = this.#bans.of(key);
      const found = b.find(key);
      if ((found >= 0 && b.until[found]! > now) || k.secondsLeft <= 0) continue;
      const s = b.slot(key);
      if (b.until[s] === 0) b.active++;
      b.set(s, { since: now, until: now + k.secondsLeft * 1000, reason: 'found in the kernel ban set at start', by: 'kernel', offense: found >= 0 ? Math.max(1, b.offense[s]!) : 1 });
      adopted++;
    }
    if (adopted > 0) this.#scheduleSave();
    return adopted;
  }

  /** The running bans as kernel entries, made one at a time. */
  *#running(now: number): Generator<{ address: string; family: Family; seconds: number }> {
    for (const b of this.#bans.both) {
      for (const s of b.slots()) if (b.until[s] !== 0) yield { address: addressText(b.keyOf(s)), family: b.family, seconds: kernelSeconds(b.until[s]!, now) };
    }
  }

  /** Resolves when every ban so far is in the kernel. */
  async flushed(): Promise<void> {
    while (this.#flushing) await this.#flushing;
  }

  async save(): Promise<void> {
    if (this.#saveTimer) clearTimeout(this.#saveTimer);
    this.#saveTimer = null;
    this.sweep();
    await this.#file.save(this.#snapshot());
  }

  /**
   * The records as they are now, made one at a time while the file is written: the columns are
   * copied first (the table changes while the write awaits), the objects and strings come later.
   */
  #snapshot(): Iterable<BanRecord> {
    const copies = this.#bans.both.map((b) => {
      const slots = Int32Array.from(b.slots());
      const keys = new Uint32Array(slots.length * b.width);
      slots.forEach((slot, i) => keys.set(b.keyOf(slot), i * b.width));
      const pick = <T>(column: ArrayLike<T>) => Array.from(slots, (slot) => column[slot]!);
      return { family: b.family, width: b.width, keys, since: pick(b.since), until: pick(b.until), offense: pick(b.offense), reason: pick(b.reason), by: pick(b.by) };
    });
    const text = (i: number) => this.#texts.at(i);
    return (function* (): Generator<BanRecord> {
      for (const c of copies) {
        for (let i = 0; i < c.since.length; i++) {
          const address = addressText(c.keys.subarray(i * c.width, (i + 1) * c.width));
          if (c.until[i] === 0) yield { type: 'offender', address, count: c.offense[i]!, last: c.since[i]! };
          else yield { type: 'ban', address, family: c.family, since: c.since[i]!, until: c.until[i]!, reason: text(c.reason[i]!), by: text(c.by[i]!), offense: c.offense[i]! };
        }
      }
    })();
  }

  /** A ban ends; the record stays as an offender's. */
  #end(b: BanTable, s: number): void {
    if (b.until[s] === 0) return;
    b.until[s] = 0;
    b.active--;
  }

  #evictSoonest(now: number): void {
    let soonest: { b: BanTable; s: number } | null = null;
    for (const b of this.#bans.both) {
      for (const s of b.slots()) if (b.until[s]! > now && (soonest === null || b.until[s]! < soonest.b.until[soonest.s]!)) soonest = { b, s };
    }
    if (soonest === null) return;
    const { address, family } = soonest.b.entry(soonest.s);
    this.#end(soonest.b, soonest.s);
    this.#evicted++;
    this.#kernel.del(address, family).catch(this.#onError);
  }

  #toKernel(e: BanEntry, now: number): void {
    this.#pending.push({ address: e.address, family: e.family, seconds: kernelSeconds(e.until, now) });
    if (!this.#flushing) this.#flushing = this.#flush();
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, KERNEL_BATCH);
      await this.#kernel.add(batch).catch(this.#onError);
    }
    this.#flushing = null;
  }

  #scheduleSave(): void {
    // Coalesced: under a flood of bans the file is written at most once a second.
    this.#saveTimer ??= setTimeout(() => {
      this.#saveTimer = null;
      this.save().catch(this.#onError);
    }, 1000).unref();
  }
}

const kernelSeconds = (until: number, now: number) => Math.max(1, Math.ceil((until - now) / 1000));

const isAddress = (a: unknown): a is string => typeof a === 'string' && (isIP(a) !== 0);

function isBan(r: unknown): r is BanEntry {
  const e = r as BanEntry & { type?: unknown };
  return !!e && e.type === 'ban' && isAddress(e.address) && Number.isFinite(e.until) && Number.isFinite(e.since) && Number.isSafeInteger(e.offense) && typeof e.reason === 'string' && typeof e.by === 'string';
}

function isOffender(r: unknown): r is { address: string; count: number; last: number } {
  const o = r as { type?: unknown; address?: unknown; count?: unknown; last?: unknown };
  return !!o && o.type === 'offender' && isAddress(o.address) && Number.isSafeInteger(o.count) && Number.isFinite(o.last);
}
