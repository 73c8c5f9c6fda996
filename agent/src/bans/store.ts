// Bans: who is banned, until when, why; escalation for repeat offenders; the allowlist. The store
// decides; the kernel set enforces (writes are batched, so a flood from many sources costs one
// `ipset restore` per batch, not one process per ban); the state file survives restarts.
//
// Bans and offenders live in two state tables (tables/slot-table.ts): a hundred thousand bans
// cost a few megabytes. BanEntry objects are made only for those who ask (list, the state file).
import { isIP } from 'node:net';
import type { Family } from '../kernel/names.js';
import { ADDRESS_WORDS, addressKey, addressText, familyOfKey } from '../tables/address-key.js';
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
  add(entries: ReadonlyArray<{ address: string; family: Family; seconds: number }>): Promise<void>;
  del(address: string, family: Family): Promise<void>;
}

/** What the state file holds, one record each: running bans and remembered offenders. */
export type BanRecord = ({ type: 'ban' } & BanEntry) | { type: 'offender'; address: string; count: number; last: number };

export interface BanStateFile {
  /** The records saved last (none when there is no file). */
  load(): AsyncIterable<unknown>;
  save(records: Iterable<BanRecord>): Promise<void>;
}

export interface BanSettings {
  /** Default ban length, ms. */
  duration: number;
  escalation: { factor: number; max: number; memory: number };
  maxEntries: number;
  isAllowlisted(address: string): boolean;
}

export type BanResult =
  | { kind: 'banned'; entry: BanEntry }
  | { kind: 'already'; entry: BanEntry }
  | { kind: 'allowlisted' };

/** ipset's largest timeout (seconds): longer bans are clamped to it. */
export const MAX_KERNEL_TIMEOUT_S = 2_147_483;

/** The most bans and offenders the tables ever hold (the schema's largest bans.maxEntries). */
const TABLE_MAX = 1_000_000;

export function familyOf(address: string): Family {
  return address.includes(':') ? 6 : 4;
}

class BanTable extends SlotTable {
  readonly since = new Float64Array(TABLE_MAX);
  readonly until = new Float64Array(TABLE_MAX);
  readonly offense = new Uint32Array(TABLE_MAX);
  // Shared strings (a detector's reason, a rule's name): a pointer each.
  readonly reason: string[] = [];
  readonly by: string[] = [];

  constructor() {
    super(ADDRESS_WORDS, TABLE_MAX);
  }

  entry(s: number): BanEntry {
    const key = this.keyOf(s);
    return { address: addressText(key), family: familyOfKey(key), since: this.since[s]!, until: this.until[s]!, reason: this.reason[s]!, by: this.by[s]!, offense: this.offense[s]! };
  }

  set(key: Uint32Array, e: Omit<BanEntry, 'address' | 'family'>): number {
    let s = this.find(key);
    if (s < 0) s = this.insert(key);
    this.since[s] = e.since;
    this.until[s] = e.until;
    this.offense[s] = e.offense;
    this.reason[s] = e.reason;
    this.by[s] = e.by;
    return s;
  }
}

class OffenderTable extends SlotTable {
  readonly count = new Uint32Array(TABLE_MAX);
  readonly last = new Float64Array(TABLE_MAX);

  constructor() {
    super(ADDRESS_WORDS, TABLE_MAX);
  }

  set(key: Uint32Array, count: number, last: number): void {
    let s = this.find(key);
    if (s < 0) s = this.insert(key);
    else this.touch(s);
    this.count[s] = count;
    this.last[s] = last;
  }
}

export class BanStore {
  readonly #bans = new BanTable();
  readonly #offenders = new OffenderTable();
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

  /** The escalated length of the next ban for this address, ms. */
  nextDuration(address: string, base: number | null, now = this.#now()): { ms: number; offense: number } {
    return this.#nextDuration(addressKey(address), base, now);
  }

  #nextDuration(key: Uint32Array, base: number | null, now: number): { ms: number; offense: number } {
    const { factor, max, memory } = this.#settings.escalation;
    const o = this.#offenders.find(key);
    const offense = o >= 0 && now - this.#offenders.last[o]! <= memory ? this.#offenders.count[o]! + 1 : 1;
    const ms = Math.min((base ?? this.#settings.duration) * factor ** (offense - 1), Math.max(max, base ?? 0), MAX_KERNEL_TIMEOUT_S * 1000);
    return { ms, offense };
  }

  ban(address: string, opts: { durationMs: number | null; reason: string; by: string; escalate?: boolean }): BanResult {
    if (this.#settings.isAllowlisted(address)) return { kind: 'allowlisted' };
    const now = this.#now();
    const key = addressKey(address);
    const b = this.#bans;
    const current = b.find(key);
    if (current >= 0 && b.until[current]! > now && opts.escalate !== false) return { kind: 'already', entry: b.entry(current) };
    let ms: number;
    let offense: number;
    if (opts.escalate === false) {
      const o = this.#offenders.find(key);
      ms = Math.min(opts.durationMs ?? this.#settings.duration, MAX_KERNEL_TIMEOUT_S * 1000);
      offense = (o >= 0 ? this.#offenders.count[o]! : 0) + 1;
    } else {
      ({ ms, offense } = this.#nextDuration(key, opts.durationMs, now));
    }
    if (current < 0 && b.size >= this.#settings.maxEntries) this.#evictSoonest();
    const s = b.set(key, { since: now, until: now + ms, reason: opts.reason, by: opts.by, offense });
    this.#offenders.set(key, offense, now);
    const entry = b.entry(s);
    this.#toKernel(entry, now);
    this.#scheduleSave();
    return { kind: 'banned', entry };
  }

  async unban(address: string): Promise<boolean> {
    const s = this.#bans.find(addressKey(address));
    if (s >= 0) this.#bans.delete(s);
    await this.#kernel.del(address, familyOf(address));
    this.#scheduleSave();
    return s >= 0;
  }

  /** Live bans, soonest expiry first; expired ones are dropped (the kernel expired them already). */
  list(): BanEntry[] {
    this.sweep();
    return [...this.#bans.slots()].map((s) => this.#bans.entry(s)).sort((a, b) => a.until - b.until);
  }

  /** How many bans are running. */
  count(): number {
    this.sweep();
    return this.#bans.size;
  }

  get size(): number {
    return this.#bans.size;
  }

  sweep(now = this.#now()): void {
    let changed = false;
    const b = this.#bans;
    for (const s of b.slots()) {
      if (b.until[s]! <= now) {
        b.delete(s);
        changed = true;
      }
    }
    const o = this.#offenders;
    for (const s of o.slots()) if (now - o.last[s]! > this.#settings.escalation.memory) o.delete(s);
    if (changed) this.#scheduleSave();
  }

  /** At start: bring back the bans still running from the state file, into the kernel too. */
  async restore(): Promise<number> {
    const now = this.#now();
    for await (const r of this.#file.load()) {
      if (isOffender(r)) this.#offenders.set(addressKey(r.address), r.count, r.last);
      else if (isBan(r) && r.until > now && !this.#settings.isAllowlisted(r.address)) this.#toKernel(this.#bans.entry(this.#bans.set(addressKey(r.address), r)), now);
    }
    await this.flushed();
    return this.#bans.size;
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
      if (this.#bans.find(key) >= 0 || k.secondsLeft <= 0) continue;
      const o = this.#offenders.find(key);
      this.#bans.set(key, { since: now, until: now + k.secondsLeft * 1000, reason: 'found in the kernel ban set at start', by: 'kernel', offense: o >= 0 ? this.#offenders.count[o]! : 1 });
      adopted++;
    }
    if (adopted > 0) this.#scheduleSave();
    return adopted;
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
   * copied first (the tables change while the write awaits), the objects and strings come later.
   */
  #snapshot(): Iterable<BanRecord> {
    const b = this.#bans;
    const o = this.#offenders;
    const bans = Int32Array.from(b.slots());
    const offenders = Int32Array.from(o.slots());
    const keys = new Uint32Array((bans.length + offenders.length) * ADDRESS_WORDS);
    [...bans, ...offenders].forEach((slot, i) => keys.set((i < bans.length ? b : o).keyOf(slot), i * ADDRESS_WORDS));
    const pick = <T>(column: ArrayLike<T>, slots: Int32Array) => Array.from(slots, (slot) => column[slot]!);
    const [since, until, offense, reason, by] = [pick(b.since, bans), pick(b.until, bans), pick(b.offense, bans), pick(b.reason, bans), pick(b.by, bans)];
    const [count, last] = [pick(o.count, offenders), pick(o.last, offenders)];
    return (function* (): Generator<BanRecord> {
      for (let i = 0; i < bans.length; i++) {
        const at = i * ADDRESS_WORDS;
        yield { type: 'ban', address: addressText(keys, at), family: familyOfKey(keys, at), since: since[i]!, until: until[i]!, reason: reason[i]!, by: by[i]!, offense: offense[i]! };
      }
      for (let i = 0; i < offenders.length; i++) yield { type: 'offender', address: addressText(keys, (bans.length + i) * ADDRESS_WORDS), count: count[i]!, last: last[i]! };
    })();
  }

  #evictSoonest(): void {
    const b = this.#bans;
    let soonest = -1;
    for (const s of b.slots()) if (soonest < 0 || b.until[s]! < b.until[soonest]!) soonest = s;
    if (soonest < 0) return;
    const { address, family } = b.entry(soonest);
    b.delete(soonest);
    this.#kernel.del(address, family).catch(this.#onError);
  }

  #toKernel(e: BanEntry, now: number): void {
    this.#pending.push({ address: e.address, family: e.family, seconds: Math.max(1, Math.ceil((e.until - now) / 1000)) });
    if (!this.#flushing) this.#flushing = this.#flush();
  }

  async #flush(): Promise<void> {
    while (this.#pending.length > 0) {
      const batch = this.#pending;
      this.#pending = [];
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

const isAddress = (a: unknown): a is string => typeof a === 'string' && (isIP(a) !== 0);

function isBan(r: unknown): r is BanEntry {
  const e = r as BanEntry & { type?: unknown };
  return !!e && e.type === 'ban' && isAddress(e.address) && Number.isFinite(e.until) && Number.isFinite(e.since) && Number.isSafeInteger(e.offense) && typeof e.reason === 'string' && typeof e.by === 'string';
}

function isOffender(r: unknown): r is { address: string; count: number; last: number } {
  const o = r as { type?: unknown; address?: unknown; count?: unknown; last?: unknown };
  return !!o && o.type === 'offender' && isAddress(o.address) && Number.isSafeInteger(o.count) && Number.isFinite(o.last);
}
